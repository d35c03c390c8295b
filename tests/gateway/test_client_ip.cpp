// Client IP resolution (docs/wire-format.md "Client IP", checklist items 12 and 20): canonical text, the trusted
// proxy list, and the right-to-left walk over Forwarded / X-Forwarded-For / X-Real-IP.
#include "gateway/client_ip.hpp"

#include <catch2/catch.hpp>

#include <strings.h>

#include <utility>
#include <vector>

using namespace mgw::gateway;

namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

// What the session builds from a Beast request: every value of a name, in order, name case-insensitive.
HeaderValues lookup(const Fields& fields) {
    return [&fields](std::string_view name) {
        std::vector<std::string_view> out;
        for (const auto& [n, v] : fields)
            if (n.size() == name.size() && strncasecmp(n.data(), name.data(), n.size()) == 0) out.push_back(v);
        return out;
    };
}

TrustedProxies trust(std::string_view list) {
    std::string error;
    auto t = TrustedProxies::parse(list, error);
    INFO(error);
    REQUIRE(t);
    return *t;
}

std::string resolve(std::string_view peer, const Fields& fields, std::string_view trusted,
                    const ClientIpOptions& opts = {}) {
    return resolve_client_ip(peer, lookup(fields), trust(trusted), opts).ip;
}

}  // namespace

TEST_CASE("item 12: REMOTE_ADDR text is canonical (inet_ntop style)") {
    CHECK(canonical_ip("2001:DB8:0:0::1") == "2001:db8::1");
    CHECK(canonical_ip("2001:0db8:0000:0000:0000:0000:0000:0001") == "2001:db8::1");
    CHECK(canonical_ip("::ffff:192.0.2.1") == "192.0.2.1");
    CHECK(canonical_ip("::FFFF:c000:0201") == "192.0.2.1");
    CHECK(canonical_ip("fe80::1%eth0") == "fe80::1");
    CHECK(canonical_ip("203.0.113.5") == "203.0.113.5");
    CHECK(canonical_ip("64:ff9b::192.0.2.1") == "64:ff9b::c000:201");  // NAT64 stays IPv6
}

TEST_CASE("client ip: text that is not an address is refused") {
    for (std::string_view bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4:80", "[::1]", "abc", "unknown",
                                 " 1.2.3.4", "2001:db8::1%", "::1::2", "0x7f.1.1.1"}) {
        INFO(bad);
        CHECK_FALSE(canonical_ip(bad));
    }
    CHECK_FALSE(canonical_ip(std::string_view("192.0.2.1\0junk", 14)));  // inet_pton would stop at the NUL
}

TEST_CASE("client ip: trusted proxies parse CIDR lists and single addresses") {
    auto t = trust("10.0.0.0/8, 192.0.2.7 2001:db8:ffff::/48\n::1,[2001:db8::5]");
    CHECK(t.size() == 5);
    CHECK(t.contains("10.200.0.1"));
    CHECK(t.contains("192.0.2.7"));
    CHECK_FALSE(t.contains("192.0.2.8"));
    CHECK(t.contains("2001:db8:ffff:1::9"));
    CHECK_FALSE(t.contains("2001:db8:fffe::9"));
    CHECK(t.contains("::1"));
    CHECK(t.contains("2001:db8::5"));
    CHECK_FALSE(t.contains("not an ip"));
    CHECK_FALSE(t.contains("11.0.0.1"));
}

TEST_CASE("client ip: IPv4-mapped peers count as IPv4") {
    auto t = trust("10.0.0.0/8");
    CHECK(t.contains("::ffff:10.1.2.3"));
    auto mapped_block = trust("::ffff:10.0.0.0/104");  // = 10.0.0.0/8
    CHECK(mapped_block.contains("10.9.9.9"));
    CHECK(mapped_block.contains("::ffff:10.9.9.9"));
    CHECK_FALSE(mapped_block.contains("11.0.0.1"));
}

TEST_CASE("client ip: host bits below the prefix are ignored") {
    auto t = trust("10.1.2.3/8, 2001:db8:ffff:1::1/48");
    CHECK(t.contains("10.250.0.1"));
    CHECK(t.contains("2001:db8:ffff:2::1"));
    auto everyone = trust("0.0.0.0/0, ::/0");
    CHECK(everyone.contains("198.51.100.1"));
    CHECK(everyone.contains("2001:db8::1"));
}

TEST_CASE("client ip: a bad trusted-proxies entry is named in the error") {
    for (std::string_view bad :
         {"10.0.0.0/33", "2001:db8::/129", "10.0.0.0/x", "proxy.example.com", "10.0.0.0/", "::ffff:10.0.0.0/8"}) {
        std::string error;
        auto t = TrustedProxies::parse(std::string("192.0.2.1, ") + std::string(bad), error);
        INFO(bad);
        CHECK_FALSE(t);
        CHECK(error.find(std::string(bad)) != std::string::npos);
    }
    std::string error;
    auto empty = TrustedProxies::parse(" , ", error);
    REQUIRE(empty);
    CHECK(empty->empty());
}

TEST_CASE("client ip: a forged proxy header from an untrusted peer never changes REMOTE_ADDR") {
    const Fields forged = {{"X-Forwarded-For", "1.2.3.4"},
                           {"Forwarded", "for=1.2.3.4"},
                           {"X-Real-IP", "1.2.3.4"},
                           {"Client-IP", "1.2.3.4"}};
    CHECK(resolve("198.51.100.20", forged, "") == "198.51.100.20");            // default: trust nobody
    CHECK(resolve("198.51.100.20", forged, "10.0.0.0/8") == "198.51.100.20");  // peer not in the list
    CHECK(resolve("2001:db8:1::20", forged, "10.0.0.0/8, 2001:db8:ffff::/48") == "2001:db8:1::20");
    auto r = resolve_client_ip("198.51.100.20", lookup(forged), trust("10.0.0.0/8"));
    CHECK(r.source == ClientIpSource::peer);
    CHECK_FALSE(r.malformed);
}

TEST_CASE("client ip: trusted IPv4 chains resolve to the right-most untrusted hop") {
    // What Matomo itself resolves for these chains with proxy_ips = 10.0.0.0/8 and read-last.
    CHECK(resolve("10.0.0.1", {{"X-Forwarded-For", "198.51.100.7, 10.0.0.2"}}, "10.0.0.0/8") == "198.51.100.7");
    CHECK(resolve("10.0.0.1", {{"X-Forwarded-For", "203.0.113.9, 198.51.100.7, 10.0.0.2"}}, "10.0.0.0/8") ==
          "198.51.100.7");
    // A client-supplied left part is ignored once an untrusted hop is found.
    CHECK(resolve("10.0.0.1", {{"X-Forwarded-For", "10.0.0.99, 203.0.113.9"}}, "10.0.0.0/8") == "203.0.113.9");
    auto r = resolve_client_ip("10.0.0.1", lookup({{"X-Forwarded-For", "198.51.100.7"}}), trust("10.0.0.0/8"));
    CHECK(r.ip == "198.51.100.7");
    CHECK(r.source == ClientIpSource::x_forwarded_for);
}

TEST_CASE("client ip: trusted IPv6 and mixed chains") {
    CHECK(resolve("2001:db8:ffff::1", {{"X-Forwarded-For", "2001:db8:1::5, 2001:db8:ffff::2"}}, "2001:db8:ffff::/48") ==
          "2001:db8:1::5");
    // IPv4 proxy in front of an IPv6 client, peer seen on a dual-stack socket as IPv4-mapped.
    CHECK(resolve("::ffff:10.0.0.1", {{"X-Forwarded-For", "[2001:DB8:1:0::5]:4711, 10.0.0.2"}}, "10.0.0.0/8") ==
          "2001:db8:1::5");
    // IPv6 proxies in front of an IPv4 client.
    CHECK(resolve("2001:db8:ffff::1", {{"X-Forwarded-For", "198.51.100.7:5555, 2001:db8:ffff::2"}},
                  "2001:db8:ffff::/48") == "198.51.100.7");
    CHECK(resolve("10.0.0.1", {{"X-Forwarded-For", "::ffff:198.51.100.7"}}, "10.0.0.0/8") == "198.51.100.7");
}

TEST_CASE("client ip: when every hop is trusted the left-most one wins") {
    CHECK(resolve("10.0.0.1", {{"X-Forwarded-For", "10.0.0.3, 10.0.0.2"}}, "10.0.0.0/8") == "10.0.0.3");
    CHECK(resolve("10.0.0.1", {{"X-Forwarded-For", "10.0.0.2"}}, "10.0.0.0/8") == "10.0.0.2");
}

TEST_CASE("client ip: garbage stops the walk at the last trusted hop") {
    auto r = resolve_client_ip("10.0.0.1", lookup({{"X-Forwarded-For", "198.51.100.7, garbage, 10.0.0.2"}}),
                               trust("10.0.0.0/8"));
    CHECK(r.ip == "10.0.0.2");
    CHECK(r.malformed);
    CHECK(resolve("10.0.0.1", {{"X-Forwarded-For", "198.51.100.7, unknown"}}, "10.0.0.0/8") == "10.0.0.1");
    CHECK(resolve("10.0.0.1", {{"X-Forwarded-For", "198.51.100.7, 1.2.3.4.5"}}, "10.0.0.0/8") == "10.0.0.1");
    CHECK(resolve("10.0.0.1", {{"X-Forwarded-For", "198.51.100.7, [2001:db8::1"}}, "10.0.0.0/8") == "10.0.0.1");
    CHECK(resolve("10.0.0.1", {{"X-Forwarded-For", "198.51.100.7, [2001:db8::1]x"}}, "10.0.0.0/8") == "10.0.0.1");
    // Empty list members carry no hop and are not garbage.
    CHECK(resolve("10.0.0.1", {{"X-Forwarded-For", "198.51.100.7,, 10.0.0.2 ,"}}, "10.0.0.0/8") == "198.51.100.7");
}

TEST_CASE("client ip: ports, brackets and prefixes are stripped like sanitizeIp") {
    CHECK(resolve("10.0.0.1", {{"X-Forwarded-For", "198.51.100.7:5555"}}, "10.0.0.0/8") == "198.51.100.7");
    CHECK(resolve("10.0.0.1", {{"X-Forwarded-For", "[2001:db8::1]:443"}}, "10.0.0.0/8") == "2001:db8::1");
    CHECK(resolve("10.0.0.1", {{"X-Forwarded-For", "[2001:db8::1]"}}, "10.0.0.0/8") == "2001:db8::1");
    CHECK(resolve("10.0.0.1", {{"X-Forwarded-For", "2001:db8::1"}}, "10.0.0.0/8") == "2001:db8::1");
    CHECK(resolve("10.0.0.1", {{"X-Forwarded-For", "198.51.100.7/32"}}, "10.0.0.0/8") == "198.51.100.7");
    CHECK(resolve("10.0.0.1", {{"X-Forwarded-For", " \t198.51.100.7 "}}, "10.0.0.0/8") == "198.51.100.7");
}

TEST_CASE("client ip: several header lines are one list in the order received") {
    const Fields two_lines = {{"X-Forwarded-For", "203.0.113.9"}, {"X-Forwarded-For", "198.51.100.7, 10.0.0.2"}};
    CHECK(resolve("10.0.0.1", two_lines, "10.0.0.0/8") == "198.51.100.7");
    CHECK(resolve("10.0.0.1", two_lines, "10.0.0.0/8, 198.51.100.0/24") == "203.0.113.9");
}

TEST_CASE("client ip: RFC 7239 Forwarded for= values") {
    auto via = [](std::string forwarded, std::string_view trusted = "10.0.0.0/8") {
        return resolve("10.0.0.1", {{"Forwarded", std::move(forwarded)}}, trusted);
    };
    CHECK(via("for=192.0.2.60;proto=http;by=203.0.113.43") == "192.0.2.60");
    CHECK(via("for=192.0.2.43, for=\"[2001:db8:cafe::17]:4711\"") == "2001:db8:cafe::17");
    CHECK(via("for=\"[2001:db8:cafe::17]\"") == "2001:db8:cafe::17");
    CHECK(via("FOR=\"192.0.2.60:8080\"") == "192.0.2.60");
    CHECK(via("proto=https; for=198.51.100.7 ;by=10.0.0.1, for=10.0.0.2") == "198.51.100.7");
    // A comma inside a quoted value of another parameter does not split elements.
    CHECK(via("for=198.51.100.7;host=\"a,b\", for=10.0.0.2") == "198.51.100.7");
    // Obfuscated and unknown nodes are not addresses: stop at the last trusted hop.
    CHECK(via("for=198.51.100.7, for=_gazonk, for=10.0.0.2") == "10.0.0.2");
    CHECK(via("for=198.51.100.7, for=\"_gazonk\"") == "10.0.0.1");
    CHECK(via("for=198.51.100.7, for=unknown") == "10.0.0.1");
    CHECK(via("for=198.51.100.7, proto=http") == "10.0.0.1");           // an element without for=
    CHECK(via("for=198.51.100.7, for=\"[2001:db8::1]") == "10.0.0.1");  // unterminated quote
    CHECK(via("for=198.51.100.7;for=203.0.113.1") == "10.0.0.1");       // two for= in one element
    CHECK(via("for=198.51.100.7, garbage") == "10.0.0.1");
    auto r = resolve_client_ip("10.0.0.1", lookup({{"Forwarded", "for=192.0.2.60"}}), trust("10.0.0.0/8"));
    CHECK(r.source == ClientIpSource::forwarded);
}

TEST_CASE("client ip: the first honoured header present decides") {
    const Fields both = {
        {"X-Forwarded-For", "203.0.113.9"}, {"Forwarded", "for=198.51.100.7"}, {"X-Real-IP", "192.0.2.1"}};
    CHECK(resolve("10.0.0.1", both, "10.0.0.0/8") == "198.51.100.7");  // default order: Forwarded first
    ClientIpOptions xff_only;
    xff_only.headers = {ProxyHeader::x_forwarded_for};
    CHECK(resolve("10.0.0.1", both, "10.0.0.0/8", xff_only) == "203.0.113.9");
    ClientIpOptions real_ip;
    real_ip.headers = {ProxyHeader::x_real_ip};
    CHECK(resolve("10.0.0.1", both, "10.0.0.0/8", real_ip) == "192.0.2.1");
    ClientIpOptions none;
    none.headers = {};
    CHECK(resolve("10.0.0.1", both, "10.0.0.0/8", none) == "10.0.0.1");
    // Absent or blank headers fall through to the next honoured one.
    CHECK(resolve("10.0.0.1", {{"Forwarded", " "}, {"X-Real-IP", "192.0.2.1"}}, "10.0.0.0/8") == "192.0.2.1");
    // Garbage in the deciding header does not fall through (that would let a client pick a header).
    CHECK(resolve("10.0.0.1", {{"Forwarded", "for=unknown"}, {"X-Forwarded-For", "203.0.113.9"}}, "10.0.0.0/8") ==
          "10.0.0.1");
}

TEST_CASE("client ip: proxy header names parse for the config") {
    std::string error;
    auto h = parse_proxy_headers("x-forwarded-for, Forwarded X-REAL-IP,forwarded", error);
    REQUIRE(h);
    CHECK(*h == std::vector<ProxyHeader>{ProxyHeader::x_forwarded_for, ProxyHeader::forwarded, ProxyHeader::x_real_ip});
    CHECK_FALSE(parse_proxy_headers("X-Forwarded-For, CF-Connecting-IP", error));
    CHECK(error.find("CF-Connecting-IP") != std::string::npos);
}

TEST_CASE("item 20: the queue-choice IP is the canonical peer text") {
    // The queue choice hashes exactly the REMOTE_ADDR string (docs/wire-format.md); a dual-stack peer
    // must hash as 203.0.113.5.
    auto r = resolve_client_ip("::ffff:203.0.113.5", lookup({}), trust(""));
    CHECK(r.ip == "203.0.113.5");
    CHECK(resolve_client_ip("2001:DB8::0:5", lookup({}), trust("")).ip == "2001:db8::5");
    CHECK(resolve_client_ip("fe80::1%2", lookup({}), trust("")).ip == "fe80::1");
}

TEST_CASE("client ip: an unparsable peer becomes 0.0.0.0, flagged") {
    auto r = resolve_client_ip("not-an-ip", lookup({{"X-Forwarded-For", "198.51.100.7"}}), trust("0.0.0.0/0"));
    CHECK(r.ip == "0.0.0.0");
    CHECK(r.malformed);
    CHECK(resolve_client_ip("10.0.0.1", nullptr, trust("10.0.0.0/8")).ip == "10.0.0.1");
}
