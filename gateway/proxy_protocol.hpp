// HAProxy PROXY protocol v1 (text) and v2 (binary) header parser (HAProxy `send-proxy`,
// `send-proxy-v2`): the client address a load balancer puts in front of the first HTTP byte.
// Pure: bytes in, a result out; the session reads, calls it, and hands the rest to the HTTP parser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mgw::gateway {

// v1: "PROXY ... \r\n" is at most 107 bytes (the protocol's own limit).
inline constexpr std::size_t proxy_v1_max_bytes = 107;
// v2: 16-byte fixed part plus a length field we cap; real headers (addresses + a few TLVs) are far smaller.
inline constexpr std::size_t proxy_v2_max_payload = 4096;
// The most the session ever has to buffer before the parser can decide.
inline constexpr std::size_t proxy_header_max_bytes = 16 + proxy_v2_max_payload;

enum class ProxyParseStatus {
    need_more,  // a valid prefix so far: read more and call again with the whole buffer
    invalid,    // not a PROXY header or a broken one: close the connection (reason says why)
    ok,         // `consumed` bytes are the header; anything after them is the HTTP request
};

struct ProxyHeaderResult {
    ProxyParseStatus status = ProxyParseStatus::need_more;
    std::size_t consumed = 0;
    int version = 0;             // 1 or 2 once recognised
    bool is_local = false;       // v2 LOCAL, UNSPEC/UNIX family, v1 UNKNOWN: use the socket peer
    std::string source_address;  // canonical text (IPv4-mapped shown as IPv4); empty when is_local
    std::optional<std::uint16_t> source_port;
    std::string_view reason;  // bounded label for logs and metrics when invalid
};

// Parses the header at the start of `bytes` (which may also hold the request that follows).
ProxyHeaderResult parse_proxy_header(std::string_view bytes);

}  // namespace mgw::gateway
