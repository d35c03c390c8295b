// PROXY protocol v1/v2 header parsing (HAProxy's send-proxy, an option), after haproxy's
// doc/proxy-protocol.txt: addresses, LOCAL/UNKNOWN, partial input, bounds and broken headers.
#include "gateway/proxy_protocol.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>

using namespace mgw::gateway;

namespace {

const std::string kSig("\r\n\r\n\0\r\nQUIT\n", 12);

std::string v2(std::uint8_t ver_cmd, std::uint8_t fam, const std::string& payload) {
    std::string h = kSig;
    h += static_cast<char>(ver_cmd);
    h += static_cast<char>(fam);
    h += static_cast<char>((payload.size() >> 8) & 0xFF);
    h += static_cast<char>(payload.size() & 0xFF);
    return h + payload;
}

std::string bytes(std::initializer_list<int> b) {
    std::string s;
    for (int x : b) s += static_cast<char>(x);
    return s;
}

// TCP over IPv4: 203.0.113.5:51234 -> 10.0.0.10:80, then a TLV (PP2_TYPE_AUTHORITY "a.b").
std::string v2_tcp4_with_tlv() {
    return v2(0x21, 0x11, bytes({203, 0, 113, 5, 10, 0, 0, 10, 0xC8, 0x22, 0, 80}) + bytes({0x02, 0x00, 0x03}) + "a.b");
}

}  // namespace

TEST_CASE("proxy protocol: v1 TCP4 gives the source address and port") {
    const std::string h = "PROXY TCP4 203.0.113.5 10.0.0.10 51234 80\r\n";
    auto r = parse_proxy_header(h + "GET /matomo.php HTTP/1.1\r\n");
    REQUIRE(r.status == ProxyParseStatus::ok);
    CHECK(r.version == 1);
    CHECK(r.consumed == h.size());
    CHECK(r.source_address == "203.0.113.5");
    CHECK(r.source_port == 51234);
    CHECK_FALSE(r.is_local);
}

TEST_CASE("proxy protocol: v1 TCP6 source is canonical text") {
    auto r = parse_proxy_header("PROXY TCP6 2001:DB8:0::5 2001:db8::10 4711 443\r\n");
    REQUIRE(r.status == ProxyParseStatus::ok);
    CHECK(r.source_address == "2001:db8::5");
    CHECK(r.source_port == 4711);
    auto mapped = parse_proxy_header("PROXY TCP6 ::ffff:203.0.113.5 ::ffff:10.0.0.10 1 2\r\n");
    REQUIRE(mapped.status == ProxyParseStatus::ok);
    CHECK(mapped.source_address == "203.0.113.5");
}

TEST_CASE("proxy protocol: v1 UNKNOWN means use the socket peer") {
    for (std::string h : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n"}) {
        auto r = parse_proxy_header(h);
        REQUIRE(r.status == ProxyParseStatus::ok);
        CHECK(r.is_local);
        CHECK(r.source_address.empty());
        CHECK(r.consumed == h.size());
    }
}

TEST_CASE("proxy protocol: v1 partial input asks for more") {
    const std::string h = "PROXY TCP4 203.0.113.5 10.0.0.10 51234 80\r\n";
    for (std::size_t n = 0; n < h.size(); ++n) {
        INFO(n);
        CHECK(parse_proxy_header(h.substr(0, n)).status == ProxyParseStatus::need_more);
    }
}

TEST_CASE("proxy protocol: v1 is bounded to 107 bytes") {
    const std::string longest =
        "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
        "65535 65535\r\n";
    REQUIRE(longest.size() == 104);
    CHECK(parse_proxy_header(longest).status == ProxyParseStatus::ok);
    auto r = parse_proxy_header("PROXY TCP4 " + std::string(200, '1'));
    CHECK(r.status == ProxyParseStatus::invalid);
    CHECK(r.reason == "proxy_v1_too_long");
    CHECK(parse_proxy_header("PROXY TCP4 " + std::string(90, '1')).status == ProxyParseStatus::need_more);
}

TEST_CASE("proxy protocol: broken v1 headers are invalid with a reason") {
    struct Case {
        std::string header;
        std::string_view reason;
    };
    for (const auto& c : std::initializer_list<Case>{
             {"PROXY TCP4 203.0.113.5 10.0.0.10 51234 80\n", "proxy_v1_bad_line_end"},
             {"PROXY TCP5 203.0.113.5 10.0.0.10 51234 80\r\n", "proxy_v1_bad_protocol"},
             {"PROXY TCP4 203.0.113.5 10.0.0.10 51234\r\n", "proxy_v1_bad_fields"},
             {"PROXY TCP4  203.0.113.5 10.0.0.10 51234 80\r\n", "proxy_v1_bad_fields"},
             {"PROXY TCP4 2001:db8::5 10.0.0.10 51234 80\r\n", "proxy_v1_bad_address"},
             {"PROXY TCP6 203.0.113.5 2001:db8::10 51234 80\r\n", "proxy_v1_bad_address"},
             {"PROXY TCP4 203.0.113.5 10.0.0.10 65536 80\r\n", "proxy_v1_bad_port"},
             {"PROXY TCP4 203.0.113.5 10.0.0.10 -1 80\r\n", "proxy_v1_bad_port"},
             {"PROXY TCP4 203.0.113.5 10.0.0.10 51234 80 \r\n", "proxy_v1_bad_fields"},
             {std::string("PROXY TCP4 203.0.113.5\0 10.0.0.10 1 80\r\n", 40), "proxy_v1_bad_character"},
         }) {
        INFO(c.header);
        auto r = parse_proxy_header(c.header);
        CHECK(r.status == ProxyParseStatus::invalid);
        CHECK(r.reason == c.reason);
    }
}

TEST_CASE("proxy protocol: a request without a header is invalid") {
    auto r = parse_proxy_header("GET /matomo.php HTTP/1.1\r\n");
    CHECK(r.status == ProxyParseStatus::invalid);
    CHECK(r.reason == "proxy_header_missing");
    CHECK(parse_proxy_header("PROXZ").status == ProxyParseStatus::invalid);
    CHECK(parse_proxy_header("").status == ProxyParseStatus::need_more);
}

TEST_CASE("proxy protocol: v2 TCP4 skips TLVs") {
    const auto h = v2_tcp4_with_tlv();
    auto r = parse_proxy_header(h + "GET / HTTP/1.1\r\n");
    REQUIRE(r.status == ProxyParseStatus::ok);
    CHECK(r.version == 2);
    CHECK(r.consumed == h.size());
    CHECK(r.source_address == "203.0.113.5");
    CHECK(r.source_port == 51234);
    CHECK_FALSE(r.is_local);
}

TEST_CASE("proxy protocol: v2 TCP6 and IPv4-mapped sources") {
    std::string src = bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5});
    std::string dst(16, '\0');
    auto r = parse_proxy_header(v2(0x21, 0x21, src + dst + bytes({0x12, 0x67, 0x01, 0xBB})));
    REQUIRE(r.status == ProxyParseStatus::ok);
    CHECK(r.source_address == "2001:db8::5");
    CHECK(r.source_port == 4711);
    std::string mapped = bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 198, 51, 100, 7});
    auto m = parse_proxy_header(v2(0x21, 0x21, mapped + dst + bytes({0, 1, 0, 2})));
    REQUIRE(m.status == ProxyParseStatus::ok);
    CHECK(m.source_address == "198.51.100.7");
}

TEST_CASE("proxy protocol: v2 LOCAL, UNSPEC and UNIX mean use the socket peer") {
    for (const auto& h :
         {v2(0x20, 0x00, ""), v2(0x20, 0x11, bytes({1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2})), v2(0x21, 0x00, ""),
          v2(0x21, 0x31, std::string(216, '\0')), v2(0x21, 0x10, std::string(12, 'x'))}) {
        auto r = parse_proxy_header(h);
        REQUIRE(r.status == ProxyParseStatus::ok);
        CHECK(r.is_local);
        CHECK(r.source_address.empty());
        CHECK(r.consumed == h.size());
    }
}

TEST_CASE("proxy protocol: v2 partial input asks for more") {
    const auto h = v2_tcp4_with_tlv();
    for (std::size_t n = 0; n < h.size(); ++n) {
        INFO(n);
        CHECK(parse_proxy_header(h.substr(0, n)).status == ProxyParseStatus::need_more);
    }
}

TEST_CASE("proxy protocol: broken v2 headers are invalid with a reason") {
    struct Case {
        std::string header;
        std::string_view reason;
    };
    for (const auto& c : std::initializer_list<Case>{
             {v2(0x11, 0x11, std::string(12, '\0')), "proxy_v2_bad_version"},
             {v2(0x22, 0x11, std::string(12, '\0')), "proxy_v2_bad_command"},
             {v2(0x21, 0x41, std::string(12, '\0')), "proxy_v2_bad_family"},
             {v2(0x21, 0x12, std::string(12, '\0')), "proxy_v2_not_stream"},
             {v2(0x21, 0x11, std::string(11, '\0')), "proxy_v2_short_address"},
             {v2(0x21, 0x21, std::string(35, '\0')), "proxy_v2_short_address"},
         }) {
        auto r = parse_proxy_header(c.header);
        CHECK(r.status == ProxyParseStatus::invalid);
        CHECK(r.reason == c.reason);
    }
}

TEST_CASE("proxy protocol: the v2 length field is capped before waiting for the payload") {
    std::string h = kSig + bytes({0x21, 0x11, 0x10, 0x01});  // 4097 bytes announced
    auto r = parse_proxy_header(h);
    CHECK(r.status == ProxyParseStatus::invalid);
    CHECK(r.reason == "proxy_v2_too_long");
    auto max = parse_proxy_header(v2(
        0x21, 0x11, bytes({203, 0, 113, 5, 10, 0, 0, 10, 0, 1, 0, 2}) + std::string(proxy_v2_max_payload - 12, '\0')));
    CHECK(max.status == ProxyParseStatus::ok);
    CHECK(max.consumed == proxy_header_max_bytes);
}
