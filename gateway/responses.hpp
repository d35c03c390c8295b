// The responses matomo.php gives in queued mode (answers R1-R6 of docs/wire-format.md), built into one reusable
// response object per connection. Bodies are static, so no per-hit body allocation.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace mgw::gateway {

using Response = boost::beast::http::response<boost::beast::http::span_body<char const>>;
using Request = boost::beast::http::request<boost::beast::http::string_body>;

// The 43-byte transparent GIF of core/Tracker/Response.php.
std::string_view tracking_gif();

struct ResponseContext {
    const Request& req;
    bool is_get;  // GET (Cache-Control: no-store); HEAD differs only by it and the body
    bool is_head;
    const std::vector<std::string>* cors_domains = nullptr;  // Matomo's [General] cors_domains[]
};

void respond_gif(Response& res, const ResponseContext& c, unsigned status = 200);  // R5 (and errors with a GIF)
void respond_no_content(Response& res, const ResponseContext& c);                  // R4: 204 No Response
void respond_no_hits(Response& res, const ResponseContext& c);                     // R2
void respond_preflight(Response& res, const ResponseContext& c);                   // R1
// A plain-text error (400/404/405/408/413/431/503) with a one-line reason.
void respond_error(Response& res, const ResponseContext& c, unsigned status, std::string_view reason_text);
// Tracking failure: status (e.g. 503) with GIF body unless send_image=0, plus Retry-After for 503.
void respond_tracking_failure(Response& res, const ResponseContext& c, unsigned status, bool send_image,
                              unsigned retry_after_seconds);

// The whole bytes (header and body) of respond_gif (gif) or respond_no_content for a keep-alive
// HTTP/1.1 GET when no cors_domains are configured: the answer to almost every hit. Built with the
// functions above once per second and thread (the Date changes), so they are the same bytes.
std::string_view fixed_tracking_response(bool gif);

// The cached Date header value (refreshed at most once a second per thread).
std::string_view http_date();

}  // namespace mgw::gateway
