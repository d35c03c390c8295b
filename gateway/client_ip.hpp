// The client IP of a hit (docs/wire-format.md, "Client IP"): the socket peer, or the right-most untrusted hop of a
// proxy header when the peer is a trusted proxy. Pure: text in, canonical text out, no sockets,
// no exceptions on anything a client sends.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mgw::gateway {

// A parsed address. IPv4-mapped IPv6 (::ffff:a.b.c.d) is stored as IPv4, so a dual-stack
// listener's peers, proxy lists and the text written to REMOTE_ADDR all agree on one form.
struct IpAddress {
    std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4
    bool v4 = false;
    friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// Strict numeric parse (inet_pton rules, no ports, no brackets); an IPv6 zone id (%eth0) is dropped.
std::optional<IpAddress> parse_ip(std::string_view text);

// inet_ntop text: lower-case, compressed IPv6, dotted IPv4 (also for IPv4-mapped IPv6).
std::string to_string(const IpAddress& ip);

// parse_ip + to_string; nullopt when `address` is not an IP address.
std::optional<std::string> canonical_ip(std::string_view address);

// The --trusted-proxies list: CIDR blocks and single addresses, IPv4 and IPv6. Empty = trust nobody.
class TrustedProxies {
public:
    // `list` is separated by commas and/or whitespace. On a bad entry returns nullopt and sets `error`
    // to a message naming it. Host bits below the prefix are ignored (10.1.2.3/8 = 10.0.0.0/8).
    static std::optional<TrustedProxies> parse(std::string_view list, std::string& error);
    static std::optional<TrustedProxies> parse(const std::vector<std::string>& entries, std::string& error);

    bool contains(const IpAddress& ip) const;
    bool contains(std::string_view address) const;  // false for anything that is not an address
    bool empty() const { return blocks_.empty(); }
    std::size_t size() const { return blocks_.size(); }

private:
    struct Block {
        IpAddress network;
        unsigned prefix = 0;
    };
    std::vector<Block> blocks_;
};

enum class ProxyHeader { forwarded, x_forwarded_for, x_real_ip };

// Header field name as sent on the wire ("Forwarded", "X-Forwarded-For", "X-Real-IP").
std::string_view header_name(ProxyHeader h);

// "forwarded,x-forwarded-for,x-real-ip" (case-insensitive, commas/whitespace) for the config;
// nullopt and `error` on an unknown name.
std::optional<std::vector<ProxyHeader>> parse_proxy_headers(std::string_view list, std::string& error);

struct ClientIpOptions {
    // Honoured headers in order of preference: the first one present decides, the rest are ignored.
    // Operators should list only the header their proxy actually (over)writes: a proxy that
    // appends X-Forwarded-For but passes a client's Forwarded untouched would let that client choose
    // its address if Forwarded is honoured too.
    std::vector<ProxyHeader> headers = {ProxyHeader::forwarded, ProxyHeader::x_forwarded_for, ProxyHeader::x_real_ip};
};

// All values of one header field, in the order received (case-insensitive name). With Beast:
//   [&req](std::string_view n) { std::vector<std::string_view> v;
//       for (auto [it, end] = req.equal_range(n); it != end; ++it) v.push_back(it->value());
//       return v; }
using HeaderValues = std::function<std::vector<std::string_view>(std::string_view name)>;

enum class ClientIpSource { peer, forwarded, x_forwarded_for, x_real_ip };

struct ClientIpResult {
    std::string ip;  // canonical text: REMOTE_ADDR and the queue md5 use it
    ClientIpSource source = ClientIpSource::peer;
    bool malformed = false;  // an entry that is no address stopped the walk
};

// Untrusted (or unparsable) peer: the peer. Trusted peer: walk the first honoured header present from
// the right, skipping trusted hops; the first untrusted address wins; all trusted: the left-most;
// an entry that is no address (garbage, "unknown", an obfuscated Forwarded node) stops the walk and
// the last trusted hop wins, so nothing left of it is believed. An unparsable peer gives "0.0.0.0"
// (what stock's inet_pton makes of it) with `malformed` set.
ClientIpResult resolve_client_ip(std::string_view peer, const HeaderValues& headers, const TrustedProxies& trusted,
                                 const ClientIpOptions& options = {});

}  // namespace mgw::gateway
