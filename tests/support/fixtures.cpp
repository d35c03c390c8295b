// The recorded QueuedTracking reference fixtures: see fixtures.hpp.
#include "support/fixtures.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/base64.hpp"

#ifndef MGW_FIXTURES_DIR
#error "MGW_FIXTURES_DIR must be defined (tests/CMakeLists.txt does it)"
#endif

namespace mgw::test {
namespace {

namespace json = boost::json;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read fixture " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string str(const json::value& value) { return std::string(value.as_string()); }

HeaderList header_pairs(const json::value& value) {
  HeaderList out;
  for (const auto& pair : value.as_array()) out.emplace_back(str(pair.at(0)), str(pair.at(1)));
  return out;
}

// "HTTP/1.1 204 No Response" -> "No Response"
std::string reason_of(std::string_view status_line) {
  auto first = status_line.find(' ');
  auto second = first == std::string_view::npos ? first : status_line.find(' ', first + 1);
  return second == std::string_view::npos ? std::string() : std::string(status_line.substr(second + 1));
}

}  // namespace

std::filesystem::path fixtures_dir() {
  if (const char* dir = std::getenv("MGW_FIXTURES_DIR"); dir && *dir) return dir;
  return MGW_FIXTURES_DIR;
}

std::vector<std::string> fixture_names() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(fixtures_dir())) {
    const auto file = entry.path().filename().string();
    if (entry.path().extension() == ".json" && file.size() > 3 && std::isdigit(static_cast<unsigned char>(file[0])) &&
        std::isdigit(static_cast<unsigned char>(file[1])) && file[2] == '_')
      names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

Fixture load_fixture(std::string_view name_or_number) {
  std::string name;
  for (const auto& candidate : fixture_names()) {
    if (candidate == name_or_number || candidate.substr(0, 3) == std::string(name_or_number) + "_") name = candidate;
  }
  if (name.empty())
    throw std::runtime_error("no fixture " + std::string(name_or_number) + " in " + fixtures_dir().string());

  Fixture fixture;
  fixture.name = name;
  fixture.document = json::parse(read_file(fixtures_dir() / (name + ".json"))).as_object();
  const auto& doc = fixture.document;

  const auto& request = doc.at("request").as_object();
  fixture.method = str(request.at("method"));
  fixture.target = str(request.at("target"));
  fixture.request_headers = header_pairs(request.at("headers"));
  fixture.request_raw = base64_decode(request.at("raw_base64").as_string());

  const auto& response = doc.at("response").as_object();
  fixture.status = static_cast<int>(response.at("status").to_number<int>());
  fixture.reason = reason_of(response.at("status_line").as_string());
  fixture.response_headers = header_pairs(response.at("headers"));
  fixture.response_body = base64_decode(response.at("body").at("base64").as_string());

  for (const auto& entry : doc.at("redis").at("new_entries").as_array()) {
    fixture.new_entries.push_back(
        {str(entry.at("key")), str(entry.at("decompressed_text")), entry.at("decoded").as_object()});
  }
  return fixture;
}

}  // namespace mgw::test
