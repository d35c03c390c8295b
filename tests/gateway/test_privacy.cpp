// Privacy at the edge: Matomo's IP anonymisation (docs/wire-format.md, "Client IP"), query-parameter removal from
// url/urlref, and the worker's Do-Not-Track rule ("Other details" there).
#include "gateway/privacy.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using mgw::gateway::anonymize_ip;
using mgw::gateway::dnt_requested;
using mgw::gateway::strip_query_params;

TEST_CASE("anonymisation: IPv4 anonymisation zeroes the last N bytes") {
    CHECK(anonymize_ip("203.0.113.6", 0, 2) == "203.0.113.6");
    CHECK(anonymize_ip("203.0.113.6", 1, 2) == "203.0.113.0");
    CHECK(anonymize_ip("203.0.113.6", 2, 2) == "203.0.0.0");  // the [LAB] row
}

TEST_CASE("anonymisation: IPv4 anonymisation with three bytes keeps the first byte only") {
    CHECK(anonymize_ip("203.0.113.6", 3, 0) == "203.0.0.0");
    CHECK(anonymize_ip("198.51.100.7", 3, 0) == "198.0.0.0");
    CHECK(anonymize_ip("198.51.100.7", 9, 0) == "198.0.0.0");  // clamped to 3
    CHECK(anonymize_ip("198.51.100.7", -1, 0) == "198.51.100.7");
}

TEST_CASE("anonymisation: IPv6 anonymisation keeps /64, /48 or /24") {
    const std::string ip = "2001:db8:1:2:3:4:5:6";
    CHECK(anonymize_ip(ip, 2, 0) == ip);
    CHECK(anonymize_ip(ip, 2, 1) == "2001:db8:1:2::");
    CHECK(anonymize_ip(ip, 2, 2) == "2001:db8:1::");
    CHECK(anonymize_ip(ip, 2, 3) == "2001:d00::");
    CHECK(anonymize_ip(ip, 2, 7) == "2001:d00::");                 // clamped to 3
    CHECK(anonymize_ip("2001:db8:0:0::1", 2, 2) == "2001:db8::");  // the [LAB] row
}

TEST_CASE("anonymisation: IPv4-mapped IPv6 is anonymised as IPv4 and printed as IPv4") {
    CHECK(anonymize_ip("::ffff:203.0.113.6", 2, 3) == "203.0.0.0");
    CHECK(anonymize_ip("::ffff:203.0.113.6", 0, 3) == "203.0.113.6");
}

TEST_CASE("anonymisation: the anonymised text never contains the raw address") {
    for (const char* raw : {"203.0.113.6", "198.51.100.77", "2001:db8:1:2:3:4:5:6", "2001:db8:abcd:12::99"}) {
        for (int level = 1; level <= 3; ++level) {
            auto anon = anonymize_ip(raw, level, level);
            INFO(raw << " level " << level << " -> " << anon);
            CHECK(anon.find(raw) == std::string::npos);
            CHECK(anon != raw);
        }
    }
}

TEST_CASE("privacy: anonymise output is canonical and non-addresses become 0.0.0.0") {
    CHECK(anonymize_ip("2001:DB8:0:0:1::1", 0, 0) == "2001:db8::1:0:0:1");
    CHECK(anonymize_ip("not an ip", 2, 2) == "0.0.0.0");
    CHECK(anonymize_ip("", 2, 2) == "0.0.0.0");
}

TEST_CASE("privacy: strip_query_params removes only the named parameters") {
    const std::vector<std::string> names = {"email", "token"};
    CHECK(strip_query_params("https://example.com/a?x=1&email=me%40example.com&y=2", names) ==
          "https://example.com/a?x=1&y=2");
    CHECK(strip_query_params("https://example.com/a?email=me&token=t", names) == "https://example.com/a");
    CHECK(strip_query_params("https://example.com/a?email=me#top", names) == "https://example.com/a#top");
    CHECK(strip_query_params("https://example.com/a?q=1&token=t#frag?email=x", names) ==
          "https://example.com/a?q=1#frag?email=x");
    CHECK(strip_query_params("https://example.com/a?email", names) == "https://example.com/a");
    CHECK(strip_query_params("https://example.com/a?email=&b", names) == "https://example.com/a?b");
}

TEST_CASE("privacy: strip_query_params keeps everything else byte-identical") {
    const std::vector<std::string> names = {"email"};
    for (std::string url :
         {"https://example.com/a?b=%20c+d&e[]=1&&f=;g#h", "https://example.com/a", "https://example.com/a?",
          "https://example.com/a#email=x", "/relative?x=%zz", "https://example.com/a?emailx=1&xemail=2&mail=3", ""}) {
        INFO(url);
        CHECK(strip_query_params(url, names) == url);
    }
    CHECK(strip_query_params("https://example.com/a?email=x", {}) == "https://example.com/a?email=x");
}

TEST_CASE("privacy: strip_query_params matches names as PHP would decode them") {
    const std::vector<std::string> names = {"email"};
    CHECK(strip_query_params("/p?e%6Dail=x&k=v", names) == "/p?k=v");
    CHECK(strip_query_params("/p?EMAIL=x&k=v", names) == "/p?k=v");
    CHECK(strip_query_params("/p?email[]=x&email[1]=y&k=v", names) == "/p?k=v");
    CHECK(strip_query_params("/p?k=v&email=a&email=b", names) == "/p?k=v");
    const std::vector<std::string> spaced = {"e mail"};
    CHECK(strip_query_params("/p?e+mail=x&k=v", spaced) == "/p?k=v");
}

TEST_CASE("DNT: Do-Not-Track follows the worker's rule") {
    CHECK(dnt_requested("1", ""));
    CHECK(dnt_requested("1, 1", ""));  // DNT only has to start with 1
    CHECK_FALSE(dnt_requested("0", ""));
    CHECK_FALSE(dnt_requested("", ""));
    CHECK_FALSE(dnt_requested(" 1", ""));
    CHECK(dnt_requested("", "1"));
    CHECK_FALSE(dnt_requested("", "1 "));  // X-Do-Not-Track must be exactly "1"
    CHECK_FALSE(dnt_requested("", "yes"));
    CHECK(dnt_requested("0", "1"));
}
