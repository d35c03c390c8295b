// A response's bytes as HTTP/1.x puts them on the wire, written into a buffer the session keeps.
// Beast's generic serializer costs about 21,000 instructions for a 200 + 43-byte GIF (a buffer
// sequence of views over the fields, walked one buffer at a time); our responses are small, fully
// built in memory and have a Content-Length, so one pass of appends into a reused string does.
#pragma once

#include "gateway/responses.hpp"

#include <string>

namespace mgw::gateway {

// Replaces `out` with the status line, the fields in their order and the blank line: what Beast's
// serializer writes before the body of the same message (no chunked bodies here). The body (res.body())
// goes on the wire as it is, after these bytes.
void serialize_header(const Response& res, std::string& out);

}  // namespace mgw::gateway
