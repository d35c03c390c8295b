// Decodes raw Redis queue values exactly the way the QueuedTracking worker reads them, using the
// real php CLI: gzuncompress(), falling back to the raw bytes when that fails or yields a
// PHP-empty string, then json_decode($x, true). The decoded PHP value is re-encoded with
// JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION and parsed with
// boost::json here, so tests compare what the worker would actually see (e.g. an empty JSON
// object comes back as [] because PHP decodes it to an empty array).
//
// One php process decodes a whole batch. A missing php binary throws, so tests fail, not skip.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <vector>

namespace mgw::test {

// One result per input value, in order; json null for a value the worker could not decode.
std::vector<boost::json::value> php_decode_queue_values(const std::vector<std::string>& raw_values);

boost::json::value php_decode_queue_value(const std::string& raw_value);

}  // namespace mgw::test
