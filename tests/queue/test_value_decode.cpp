// queue/value_decode: what `matomo-gateway --decode` does with redis-cli's output, on values made by
// compress_value (the writer's own encoder) at every level.
#include "queue/value_decode.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "queue/compressor.hpp"

using mgw::queue::compress_value;
using mgw::queue::decode_redis_cli_output;
using mgw::queue::decode_value;

namespace {

// redis-cli's quoted form of `bytes`, as --no-raw prints it.
std::string quoted(const std::string& bytes) {
    static const char* hex = "0123456789abcdef";
    std::string out = "\"";
    for (unsigned char c : bytes) {
        if (c == '"' || c == '\\') out += '\\', out += static_cast<char>(c);
        else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c == '\a') out += "\\a";
        else if (c == '\b') out += "\\b";
        else if (c < 0x20 || c >= 0x7f) out += "\\x", out += hex[c >> 4], out += hex[c & 15];
        else out += static_cast<char>(c);
    }
    return out + "\"";
}

}  // namespace

TEST_CASE("decode: every compression level round-trips, one value and several in a row") {
    const std::vector<std::string> sets = {
        R"({"requests":[{"idsite":"1","action_name":"M\u00fcnchen \"quoted\" \\ back"}],"env":{"server":{}},"tokenAuth":false,"time":1})",
        R"({"requests":[{"idsite":"2"}],"env":{"server":{"REMOTE_ADDR":"203.0.113.5"},"cookie":[]},"tokenAuth":"","time":2})"};
    for (int level = 0; level <= 9; ++level) {
        INFO("level " << level);
        std::string raw_output, quoted_output;
        for (std::size_t i = 0; i < sets.size(); ++i) {
            const auto value = compress_value(sets[i], level);
            std::string error;
            CHECK(decode_value(value, error) == sets[i]);
            CHECK(error.empty());
            raw_output += value + "\n";
            quoted_output += " " + std::to_string(i + 1) + ") " + quoted(value) + "\n";  // as for 10+ values
        }
        std::string error;
        CHECK(decode_redis_cli_output(raw_output, error) == sets);
        CHECK(error.empty());
        CHECK(decode_redis_cli_output(quoted_output, error) == sets);
        CHECK(error.empty());
    }
}

TEST_CASE("decode: gzip, garbage, a cut-off stream and an empty answer are errors") {
    std::string error;
    CHECK(decode_value(mgw::queue::gzip_compress("{}", 6), error).empty());
    CHECK(error == "neither a zlib stream nor plain JSON");
    const auto value = compress_value(R"({"requests":[]})", 6);
    error.clear();
    CHECK(decode_value(value.substr(0, value.size() - 3), error).empty());
    CHECK(error.find("not a complete zlib stream") != std::string::npos);
    error.clear();
    const auto some = decode_redis_cli_output(value + "\n" + value.substr(0, 5) + "\n", error);
    CHECK(some.size() == 1);
    CHECK(error.rfind("value 2: ", 0) == 0);
    error.clear();
    CHECK(decode_redis_cli_output("\n", error).empty());
    CHECK(error.find("no value") != std::string::npos);
    error.clear();
    CHECK(decode_redis_cli_output("(nil)\n", error).empty());
    CHECK(error.find("no value") != std::string::npos);
}
