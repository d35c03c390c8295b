// Decoding queue values with the php CLI: see php.hpp.
#include "support/php.hpp"

#include <boost/json/parse.hpp>
#include <stdexcept>

#include "support/base64.hpp"
#include "support/process.hpp"

namespace mgw::test {
namespace {

// Input: one base64 value per line. Output: one JSON document per line, `null` when undecodable.
constexpr const char* decode_script = R"php(
while (($line = fgets(STDIN)) !== false) {
    $raw = base64_decode(rtrim($line, "\r\n"), true);
    if ($raw === false) { echo "null\n"; continue; }
    $text = @gzuncompress($raw);
    if ($text === false || empty($text)) { $text = $raw; }
    $decoded = json_decode($text, true);
    $out = $decoded === null ? false
        : json_encode($decoded, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION);
    echo ($out === false ? "null" : $out), "\n";
}
)php";

}  // namespace

std::vector<boost::json::value> php_decode_queue_values(const std::vector<std::string>& raw_values) {
  if (raw_values.empty()) return {};
  std::string input;
  for (const auto& value : raw_values) input += base64_encode(value) + "\n";

  auto result = run_command({"php", "-d", "display_errors=stderr", "-r", decode_script}, input);
  if (result.status != 0)
    throw std::runtime_error("php decode failed (" + describe_exit_status(result.status) + "): " + result.err);

  std::vector<boost::json::value> decoded;
  std::size_t start = 0;
  while (start < result.out.size()) {
    std::size_t end = result.out.find('\n', start);
    if (end == std::string::npos) end = result.out.size();
    decoded.push_back(boost::json::parse(std::string_view(result.out).substr(start, end - start)));
    start = end + 1;
  }
  if (decoded.size() != raw_values.size())
    throw std::runtime_error("php decode returned " + std::to_string(decoded.size()) + " results for " +
                             std::to_string(raw_values.size()) + " values; stderr: " + result.err);
  return decoded;
}

boost::json::value php_decode_queue_value(const std::string& raw_value) {
  return php_decode_queue_values({raw_value}).at(0);
}

}  // namespace mgw::test
