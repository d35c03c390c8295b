// The recorded QueuedTracking reference fixtures (tests/fixtures/queuedtracking/NN_<name>.json, described
// in the README there): exact request bytes, Apache/Matomo's response, and every value the request
// appended to Redis.
//
// The folder is MGW_FIXTURES_DIR (compile definition), overridable with the environment variable
// of the same name.
#pragma once

#include <boost/json/object.hpp>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "support/http.hpp"

namespace mgw::test {

struct FixtureEntry {
  std::string key;                // the Redis list, e.g. "trackingQueueV1_2"
  std::string decompressed_text;  // the exact JSON text stock wrote
  boost::json::object decoded;    // the same, parsed
};

struct Fixture {
  std::string name;    // "01_get_pageview_with_id"
  std::string method;  // request.method
  std::string target;  // request.target
  HeaderList request_headers;
  std::string request_raw;  // request.raw_base64, decoded: the exact bytes sent

  int status = 0;      // response.status
  std::string reason;  // from response.status_line, e.g. "No Response" for 204
  HeaderList response_headers;
  std::string response_body;  // response.body.base64, decoded

  std::vector<FixtureEntry> new_entries;  // redis.new_entries, in push order
  boost::json::object document;           // the whole file
};

std::filesystem::path fixtures_dir();

// All fixture names (file names without ".json") in order.
std::vector<std::string> fixture_names();

// Loads a fixture by full name ("01_get_pageview_with_id") or by its number prefix ("01").
Fixture load_fixture(std::string_view name_or_number);

}  // namespace mgw::test
