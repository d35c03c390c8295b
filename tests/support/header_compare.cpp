// Comparing response headers with a fixture's: see header_compare.hpp.
#include "support/header_compare.hpp"

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <cctype>

namespace mgw::test {
namespace {

bool ignored(const std::pair<std::string, std::string>& header) {
  using boost::beast::iequals;
  const auto& [name, value] = header;
  return iequals(name, "Date") || iequals(name, "Server") || iequals(name, "Connection") ||
         (iequals(name, "Content-Encoding") && iequals(value, "none"));
}

// Lower-cased "name: value" strings of the compared headers, sorted.
std::vector<std::string> normalised(const HeaderList& headers) {
  std::vector<std::string> out;
  for (const auto& header : headers) {
    if (ignored(header)) continue;
    std::string name = header.first;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    out.push_back(name + ": " + header.second);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::vector<std::string> response_header_differences(const HeaderList& expected, const HeaderList& actual) {
  auto want = normalised(expected), got = normalised(actual);
  std::vector<std::string> missing, unexpected, out;
  std::set_difference(want.begin(), want.end(), got.begin(), got.end(), std::back_inserter(missing));
  std::set_difference(got.begin(), got.end(), want.begin(), want.end(), std::back_inserter(unexpected));
  for (const auto& h : missing) out.push_back("missing: " + h);
  for (const auto& h : unexpected) out.push_back("unexpected: " + h);
  return out;
}

}  // namespace mgw::test
