// Comparing a gateway response's headers with a recorded fixture's: names case-insensitive, order
// ignored, values exact. Ignored on both sides: Date and Server (vary per run and server),
// Connection (hop-by-hop; stock sends "close", the gateway may keep the connection alive) and
// "Content-Encoding: none" (deviation D4 in docs/wire-format.md).
#pragma once

#include <string>
#include <vector>

#include "support/http.hpp"

namespace mgw::test {

// Human-readable differences, empty when the headers match, e.g.
// "missing: Cache-Control: no-store" or "unexpected: X-Powered-By: PHP/8.2".
std::vector<std::string> response_header_differences(const HeaderList& expected, const HeaderList& actual);

}  // namespace mgw::test
