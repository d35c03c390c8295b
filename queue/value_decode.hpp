// Reading queue values back as JSON (`matomo-gateway --decode`): the inverse of compress_value, done
// the way the QueuedTracking worker reads a value (zlib stream, else the bytes as they are), for
// operators who want to see what a queue holds.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mgw::queue {

// One stored value -> its JSON text. A zlib stream (RFC 1950, what the gateway and PHP's gzcompress
// write) is inflated; a value starting with '{' is plain JSON (compression level 0) and returned as
// is. Anything else sets `error` and returns "".
std::string decode_value(std::string_view value, std::string& error);

// What `redis-cli` prints for LINDEX / LRANGE, as the values' JSON texts in order:
//  - its raw output (the default when stdout is not a terminal, or --raw): each value's bytes followed
//    by a newline. zlib streams know their own length, so binary values that contain newline bytes
//    are still split correctly;
//  - its quoted output (a terminal, or --no-raw): one "..." string per line with \xHH, \n, \r, \t,
//    \a, \b, \" and \\ escapes, each optionally preceded by an "N) " list index (right-aligned).
// Stops at the first value it cannot decode and sets `error` (the values before it are returned).
std::vector<std::string> decode_redis_cli_output(std::string_view output, std::string& error);

}  // namespace mgw::queue
