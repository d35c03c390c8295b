// PROXY protocol v1/v2 parsing, after haproxy's doc/proxy-protocol.txt. Every length is checked
// before it is read: the input comes straight from the network.
#include "gateway/proxy_protocol.hpp"

#include "gateway/client_ip.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <vector>

namespace mgw::gateway {

namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr std::string_view kV2Signature{"\r\n\r\n\0\r\nQUIT\n", 12};

ProxyHeaderResult invalid(int version, std::string_view reason) {
    ProxyHeaderResult r;
    r.status = ProxyParseStatus::invalid;
    r.version = version;
    r.reason = reason;
    return r;
}

// True when `bytes` is a (possibly partial) prefix of `sig`, or starts with all of it.
bool matches_prefix(std::string_view bytes, std::string_view sig) {
    auto n = std::min(bytes.size(), sig.size());
    return bytes.substr(0, n) == sig.substr(0, n);
}

std::optional<std::uint16_t> parse_port(std::string_view s) {
    if (s.empty() || s.size() > 5) return std::nullopt;
    unsigned v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

// An address of exactly the announced family (v1 says TCP4 or TCP6 and must mean it).
std::optional<IpAddress> parse_family(std::string_view s, bool v6) {
    if (s.empty() || s.size() > 45) return std::nullopt;
    char buf[46];
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = '\0';
    std::uint8_t raw[16];
    if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, raw) != 1) return std::nullopt;
    return parse_ip(s);  // folds IPv4-mapped IPv6 into IPv4, like every other address we print
}

std::vector<std::string_view> split_spaces(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || s[i] == ' ') {
            out.push_back(s.substr(start, i - start));  // empty pieces (double spaces) are kept: invalid
            start = i + 1;
        }
    }
    return out;
}

ProxyHeaderResult parse_v1(std::string_view bytes) {
    const auto window = bytes.substr(0, proxy_v1_max_bytes);
    const auto lf = window.find('\n');
    if (lf == std::string_view::npos)
        return bytes.size() >= proxy_v1_max_bytes ? invalid(1, "proxy_v1_too_long") : ProxyHeaderResult{};
    if (lf == 0 || window[lf - 1] != '\r') return invalid(1, "proxy_v1_bad_line_end");
    const auto line = window.substr(kV1Prefix.size(), lf - 1 - kV1Prefix.size());
    for (char c : line)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E)
            return invalid(1, "proxy_v1_bad_character");

    ProxyHeaderResult r;
    r.version = 1;
    r.consumed = lf + 1;
    const auto fields = split_spaces(line);
    if (fields[0] == "UNKNOWN") {  // the sender could not tell: anything may follow, use the real peer
        r.status = ProxyParseStatus::ok;
        r.is_local = true;
        return r;
    }
    if (fields[0] != "TCP4" && fields[0] != "TCP6") return invalid(1, "proxy_v1_bad_protocol");
    if (fields.size() != 5) return invalid(1, "proxy_v1_bad_fields");
    const bool v6 = fields[0] == "TCP6";
    auto src = parse_family(fields[1], v6);
    auto dst = parse_family(fields[2], v6);
    auto sport = parse_port(fields[3]);
    auto dport = parse_port(fields[4]);
    if (!src || !dst) return invalid(1, "proxy_v1_bad_address");
    if (!sport || !dport) return invalid(1, "proxy_v1_bad_port");
    r.status = ProxyParseStatus::ok;
    r.source_address = to_string(*src);
    r.source_port = sport;
    return r;
}

std::uint16_t be16(std::string_view b, std::size_t at) {
    return static_cast<std::uint16_t>((static_cast<unsigned char>(b[at]) << 8) | static_cast<unsigned char>(b[at + 1]));
}

ProxyHeaderResult parse_v2(std::string_view bytes) {
    if (bytes.size() < 16) return {};
    const auto ver_cmd = static_cast<unsigned char>(bytes[12]);
    const auto fam = static_cast<unsigned char>(bytes[13]);
    const std::size_t len = be16(bytes, 14);
    if ((ver_cmd >> 4) != 2) return invalid(2, "proxy_v2_bad_version");
    const unsigned command = ver_cmd & 0x0F;
    if (command > 1) return invalid(2, "proxy_v2_bad_command");
    if (len > proxy_v2_max_payload) return invalid(2, "proxy_v2_too_long");
    if (bytes.size() < 16 + len) return {};

    ProxyHeaderResult r;
    r.version = 2;
    r.status = ProxyParseStatus::ok;
    r.consumed = 16 + len;
    const unsigned family = fam >> 4, transport = fam & 0x0F;
    // LOCAL: health checks from the proxy itself. UNSPEC/UNIX or an unspecified transport: the
    // protocol lets the receiver fall back to the real endpoints, which is what we do.
    if (command != 0 && family > 3) return invalid(2, "proxy_v2_bad_family");
    if (command == 0 || family == 0 || family == 3 || transport == 0) {
        r.is_local = true;
        return r;
    }
    if (transport != 1) return invalid(2, "proxy_v2_not_stream");

    const auto payload = bytes.substr(16, len);
    IpAddress src;
    std::size_t port_at = 0;
    if (family == 1) {  // src(4) dst(4) sport(2) dport(2), then TLVs we skip
        if (len < 12) return invalid(2, "proxy_v2_short_address");
        src.v4 = true;
        std::memcpy(src.bytes.data(), payload.data(), 4);
        port_at = 8;
    } else {  // src(16) dst(16) sport(2) dport(2)
        if (len < 36) return invalid(2, "proxy_v2_short_address");
        std::memcpy(src.bytes.data(), payload.data(), 16);
        port_at = 32;
    }
    r.source_address = canonical_ip(to_string(src)).value_or(std::string{});  // folds IPv4-mapped
    r.source_port = be16(payload, port_at);
    return r;
}

}  // namespace

ProxyHeaderResult parse_proxy_header(std::string_view bytes) {
    if (bytes.empty()) return {};
    if (matches_prefix(bytes, kV1Prefix))
        return bytes.size() < kV1Prefix.size() ? ProxyHeaderResult{} : parse_v1(bytes);
    if (matches_prefix(bytes, kV2Signature))
        return bytes.size() < kV2Signature.size() ? ProxyHeaderResult{} : parse_v2(bytes);
    return invalid(0, "proxy_header_missing");
}

}  // namespace mgw::gateway
