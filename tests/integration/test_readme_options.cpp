// The README's configuration table is the binary's own option table, word for word.
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

TEST_CASE("README configuration table lists every option with its default (matches --options-table)") {
    std::ifstream readme(std::string(MGW_SOURCE_DIR) + "/README.md");
    std::stringstream buf;
    buf << readme.rdbuf();
    const std::string text = buf.str();
    const std::string start = "<!-- options-table:start -->\n";
    const std::string end = "<!-- options-table:end -->";
    auto a = text.find(start);
    auto b = text.find(end);
    REQUIRE(a != std::string::npos);
    REQUIRE(b != std::string::npos);
    const std::string in_readme = text.substr(a + start.size(), b - a - start.size());
    auto result = mgw::test::run_command({MGW_GATEWAY_BINARY, "--options-table"}, "");
    REQUIRE(result.status == 0);
    CHECK(in_readme == result.out);
}
