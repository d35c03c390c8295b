// tests/php/sanitize_test.cpp — literal expectations for matomo_sanitize (Matomo's
// Common::sanitizeInputValue on a string), each checked against PHP 8.2 running Matomo's steps.
#include "php/php.hpp"

#include <catch2/catch.hpp>

#include <string>

using mgw::php::matomo_sanitize;
using namespace std::string_view_literals;

TEST_CASE("matomo_sanitize: plain ids pass through unchanged") {
    CHECK(matomo_sanitize("").empty());
    CHECK(matomo_sanitize("1234567890abcdef") == "1234567890abcdef");
    CHECK(matomo_sanitize("user@example.com") == "user@example.com");
    CHECK(matomo_sanitize("caf\xC3\xA9 \xE2\x82\xAC") == "caf\xC3\xA9 \xE2\x82\xAC");
}

TEST_CASE("sanitize_keeps: true exactly when matomo_sanitize returns its input") {
    using mgw::php::sanitize_keeps;
    const std::string inputs[] = {
        "",     "1234567890abcdef",     "user@example.com", "caf\xC3\xA9", "a&b", "a<b", "a>b", "a\"b", "a'b", "a\nb",
        "a\rb", std::string("a\0b", 3), "caf\xE9",          "\xC3"};
    std::size_t checked = 0;
    for (const auto& in : inputs) {
        INFO(in);
        CHECK(sanitize_keeps(in) == (matomo_sanitize(in) == in));
        ++checked;
    }
    CHECK(checked == 14);
    CHECK(sanitize_keeps("1234567890abcdef"));
    CHECK_FALSE(sanitize_keeps("a&b"));
}

TEST_CASE("matomo_sanitize: the five HTML special characters are escaped with ENT_QUOTES, the apostrophe numerically") {
    CHECK(matomo_sanitize("O'Brien \"x\" <y> & z") == "O&#039;Brien &quot;x&quot; &lt;y&gt; &amp; z");
}

TEST_CASE("matomo_sanitize: entities are decoded first, so already-escaped input is not double-escaped") {
    CHECK(matomo_sanitize("john&amp;doe") == "john&amp;doe");
    CHECK(matomo_sanitize("&#39;&#039;&#x27;&quot;&lt;b&gt;") == "&#039;&#039;&#039;&quot;&lt;b&gt;");
    CHECK(matomo_sanitize("&amp;amp;") == "&amp;amp;");  // decoded once only
    CHECK(matomo_sanitize("&nbsp;&euro;&hellip;&#233;") == "\xC2\xA0\xE2\x82\xAC\xE2\x80\xA6\xC3\xA9");
}

TEST_CASE("matomo_sanitize: HTML 4.01 decoding rules (no apos entity, case-sensitive names, strtol quirks)") {
    CHECK(matomo_sanitize("&apos;") == "&amp;apos;");  // &apos; is not an HTML 4.01 entity
    CHECK(matomo_sanitize("&LT;&Lt;&lt") == "&amp;LT;&amp;Lt;&amp;lt");
    CHECK(matomo_sanitize("&#x0x41;&#0x41;") == "A&amp;#0x41;");  // strtol(…, 16) takes a 0x prefix
    CHECK(matomo_sanitize("&#65&#;&#x;&;") == "&amp;#65&amp;#;&amp;#x;&amp;;");
    CHECK(matomo_sanitize("&#127;&#128;&#55296;&#x110000;&#99999999999999999999;") ==
          "&amp;#127;&amp;#128;&amp;#55296;&amp;#x110000;&amp;#99999999999999999999;");
}

TEST_CASE("matomo_sanitize: line breaks are removed before decoding, NUL bytes after it") {
    CHECK(matomo_sanitize("a\nb\r\nc") == "abc");
    CHECK(matomo_sanitize("a&#10;b&#13;c&#9;d") == "a\nb\rc\td");
    CHECK(matomo_sanitize("a\0b"sv) == "ab");
    CHECK(matomo_sanitize("&#0;") == "&amp;#0;");
    CHECK(matomo_sanitize("&\nlt;") == "&lt;");
}

TEST_CASE("matomo_sanitize: invalid UTF-8 is re-read as Latin-1 (the utf8_encode fallback of Matomo)") {
    CHECK(matomo_sanitize("caf\xE9 <b>") == "caf\xC3\xA9 &lt;b&gt;");
    CHECK(matomo_sanitize("\xC3\xA9\xFF") == "\xC3\x83\xC2\xA9\xC3\xBF");
}
