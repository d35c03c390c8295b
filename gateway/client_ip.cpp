// Client IP resolution (docs/wire-format.md, "Client IP"): address parsing, the trusted-proxy list and the
// right-to-left walk over Forwarded / X-Forwarded-For / X-Real-IP.
#include "gateway/client_ip.hpp"

#include "gateway/ascii.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace mgw::gateway {

namespace {

constexpr std::string_view kSpace = " \t\r\n";

std::string_view trim(std::string_view s) {
    auto b = s.find_first_not_of(kSpace);
    if (b == std::string_view::npos) return {};
    return s.substr(b, s.find_last_not_of(kSpace) - b + 1);
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

bool prefix_equal(const IpAddress& a, const IpAddress& b, unsigned bits) {
    const unsigned full = bits / 8, rest = bits % 8;
    if (std::memcmp(a.bytes.data(), b.bytes.data(), full) != 0) return false;
    if (rest == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
    return (a.bytes[full] & mask) == (b.bytes[full] & mask);
}

void mask_host_bits(IpAddress& ip, unsigned prefix) {
    const unsigned total = ip.v4 ? 32 : 128;
    for (unsigned bit = prefix; bit < total; ++bit)
        ip.bytes[bit / 8] = static_cast<std::uint8_t>(ip.bytes[bit / 8] & ~(0x80 >> (bit % 8)));
}

// Splits on any of `seps`, dropping empty pieces.
std::vector<std::string_view> split_any(std::string_view s, std::string_view seps) {
    std::vector<std::string_view> out;
    while (!s.empty()) {
        auto end = s.find_first_of(seps);
        auto piece = s.substr(0, end);
        if (!piece.empty()) out.push_back(piece);
        if (end == std::string_view::npos) break;
        s.remove_prefix(end + 1);
    }
    return out;
}

// Splits at `sep` outside RFC 7230 quoted-strings (Forwarded values may be quoted).
std::vector<std::string_view> split_unquoted(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    bool quoted = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (quoted && s[i] == '\\') {
            ++i;
        } else if (s[i] == '"') {
            quoted = !quoted;
        } else if (!quoted && s[i] == sep) {
            out.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    out.push_back(s.substr(start));
    return out;
}

// token or quoted-string; nullopt when a quote is unterminated.
std::optional<std::string> unquote(std::string_view v) {
    if (v.empty() || v.front() != '"') return std::string(v);
    std::string out;
    for (std::size_t i = 1; i < v.size(); ++i) {
        if (v[i] == '\\' && i + 1 < v.size()) {
            out += v[++i];
        } else if (v[i] == '"') {
            return i + 1 == v.size() ? std::optional<std::string>(out) : std::nullopt;
        } else {
            out += v[i];
        }
    }
    return std::nullopt;
}

// One hop as proxies write it, cleaned the way Matomo's sanitizeIp does: a /prefix, [brackets]
// and :port are removed. Anything else that is not an address is garbage (nullopt).
std::optional<IpAddress> parse_hop(std::string_view s) {
    s = trim(s);
    if (auto slash = s.rfind('/'); slash != std::string_view::npos) s = s.substr(0, slash);
    if (!s.empty() && s.front() == '[') {
        auto close = s.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        auto rest = s.substr(close + 1);
        if (!rest.empty() && !(rest.front() == ':' && all_digits(rest.substr(1)))) return std::nullopt;
        return parse_ip(s.substr(1, close - 1));
    }
    auto last_colon = s.rfind(':');
    if (last_colon != std::string_view::npos) {
        auto last_dot = s.rfind('.');
        bool v4_port = last_dot != std::string_view::npos && last_colon > last_dot;        // 192.0.2.1:80
        bool one_colon = last_dot == std::string_view::npos && s.find(':') == last_colon;  // host:port
        if (v4_port || one_colon) s = s.substr(0, last_colon);
    }
    return parse_ip(s);
}

// The for= node of one RFC 7239 element. Elements without for=, "unknown" and obfuscated identifiers
// (_hidden) name no address: nullopt, which stops the walk.
std::optional<IpAddress> forwarded_for(std::string_view element) {
    std::optional<std::string> node;
    for (auto pair : split_unquoted(element, ';')) {
        pair = trim(pair);
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        if (eq == std::string_view::npos) return std::nullopt;
        if (!iequals(trim(pair.substr(0, eq)), "for")) continue;
        if (node) return std::nullopt;  // two for= in one element: which one would the proxy mean?
        node = unquote(trim(pair.substr(eq + 1)));
        if (!node) return std::nullopt;
    }
    if (!node || node->empty() || (*node)[0] == '_' || iequals(*node, "unknown")) return std::nullopt;
    return parse_hop(*node);
}

ClientIpSource source_of(ProxyHeader h) {
    switch (h) {
        case ProxyHeader::forwarded: return ClientIpSource::forwarded;
        case ProxyHeader::x_forwarded_for: return ClientIpSource::x_forwarded_for;
        case ProxyHeader::x_real_ip: return ClientIpSource::x_real_ip;
    }
    return ClientIpSource::peer;
}

}  // namespace

std::optional<IpAddress> parse_ip(std::string_view text) {
    // inet_pton stops at a NUL, so "192.0.2.1\0junk" must be refused here.
    if (text.empty() || text.size() > 63 || text.find('\0') != std::string_view::npos) return std::nullopt;
    const bool v6 = text.find(':') != std::string_view::npos;
    if (v6) {
        if (auto pct = text.find('%'); pct != std::string_view::npos) {
            if (pct + 1 == text.size()) return std::nullopt;
            text = text.substr(0, pct);
        }
    }
    char buf[64];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    IpAddress ip;
    if (!v6) {
        if (inet_pton(AF_INET, buf, ip.bytes.data()) != 1) return std::nullopt;
        ip.v4 = true;
        return ip;
    }
    if (inet_pton(AF_INET6, buf, ip.bytes.data()) != 1) return std::nullopt;
    static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (std::memcmp(ip.bytes.data(), mapped, sizeof mapped) == 0) {
        std::memmove(ip.bytes.data(), ip.bytes.data() + 12, 4);
        std::fill(ip.bytes.begin() + 4, ip.bytes.end(), 0);
        ip.v4 = true;
    }
    return ip;
}

std::string to_string(const IpAddress& ip) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(ip.v4 ? AF_INET : AF_INET6, ip.bytes.data(), buf, sizeof buf);
    return buf;
}

std::optional<std::string> canonical_ip(std::string_view address) {
    auto ip = parse_ip(address);
    if (!ip) return std::nullopt;
    return to_string(*ip);
}

std::optional<TrustedProxies> TrustedProxies::parse(std::string_view list, std::string& error) {
    std::vector<std::string> entries;
    for (auto e : split_any(list, ", \t\r\n")) entries.emplace_back(e);
    return parse(entries, error);
}

std::optional<TrustedProxies> TrustedProxies::parse(const std::vector<std::string>& entries, std::string& error) {
    TrustedProxies out;
    for (const auto& raw : entries) {
        std::string_view entry = trim(raw);
        if (entry.empty()) continue;
        auto fail = [&](std::string_view why) {
            error = "invalid --trusted-proxies entry \"" + std::string(entry.substr(0, 80)) + "\": " + std::string(why);
            return std::nullopt;
        };
        auto slash = entry.find('/');
        auto addr_text = entry.substr(0, slash);
        if (addr_text.size() > 2 && addr_text.front() == '[' && addr_text.back() == ']')
            addr_text = addr_text.substr(1, addr_text.size() - 2);
        auto ip = parse_ip(addr_text);
        if (!ip) return fail("not an IP address or CIDR block");
        const bool written_as_v6 = addr_text.find(':') != std::string_view::npos;
        unsigned prefix = ip->v4 ? 32 : 128;
        if (slash != std::string_view::npos) {
            auto p = entry.substr(slash + 1);
            if (!all_digits(p) || p.size() > 3) return fail("prefix length is not a number");
            prefix = static_cast<unsigned>(std::stoul(std::string(p)));
            // ::ffff:10.0.0.0/104 is 10.0.0.0/8, since mapped addresses are stored as IPv4.
            if (ip->v4 && written_as_v6) {
                if (prefix < 96 || prefix > 128) return fail("prefix of an IPv4-mapped block must be 96..128");
                prefix -= 96;
            }
            if (prefix > (ip->v4 ? 32u : 128u)) return fail("prefix length too large for the address family");
        }
        mask_host_bits(*ip, prefix);
        out.blocks_.push_back({*ip, prefix});
    }
    return out;
}

bool TrustedProxies::contains(const IpAddress& ip) const {
    return std::any_of(blocks_.begin(), blocks_.end(),
                       [&](const Block& b) { return b.network.v4 == ip.v4 && prefix_equal(b.network, ip, b.prefix); });
}

bool TrustedProxies::contains(std::string_view address) const {
    auto ip = parse_ip(trim(address));
    return ip && contains(*ip);
}

std::string_view header_name(ProxyHeader h) {
    switch (h) {
        case ProxyHeader::forwarded: return "Forwarded";
        case ProxyHeader::x_forwarded_for: return "X-Forwarded-For";
        case ProxyHeader::x_real_ip: return "X-Real-IP";
    }
    return {};
}

std::optional<std::vector<ProxyHeader>> parse_proxy_headers(std::string_view list, std::string& error) {
    std::vector<ProxyHeader> out;
    for (auto name : split_any(list, ", \t\r\n")) {
        std::optional<ProxyHeader> found;
        for (auto h : {ProxyHeader::forwarded, ProxyHeader::x_forwarded_for, ProxyHeader::x_real_ip})
            if (iequals(name, header_name(h))) found = h;
        if (!found) {
            error = "unknown proxy header \"" + std::string(name.substr(0, 80)) +
                    "\" (expected Forwarded, X-Forwarded-For or X-Real-IP)";
            return std::nullopt;
        }
        if (std::find(out.begin(), out.end(), *found) == out.end()) out.push_back(*found);
    }
    return out;
}

ClientIpResult resolve_client_ip(std::string_view peer, const HeaderValues& headers, const TrustedProxies& trusted,
                                 const ClientIpOptions& options) {
    auto peer_ip = parse_ip(trim(peer));
    if (!peer_ip) return {"0.0.0.0", ClientIpSource::peer, true};
    ClientIpResult result{to_string(*peer_ip)};
    if (!headers || !trusted.contains(*peer_ip)) return result;

    for (ProxyHeader h : options.headers) {
        // Several header lines count as one comma-joined list, in the order received (RFC 7230 3.2.2).
        std::vector<std::optional<IpAddress>> hops;
        for (auto line : headers(header_name(h))) {
            auto elements = h == ProxyHeader::forwarded ? split_unquoted(line, ',') : split_any(line, ",");
            for (auto e : elements) {
                if (trim(e).empty()) continue;  // "a,,b" and blank lines carry no hop
                hops.push_back(h == ProxyHeader::forwarded ? forwarded_for(e) : parse_hop(e));
            }
        }
        if (hops.empty()) continue;  // not sent: the next honoured header may decide

        // Right to left: every hop we pass was vouched for by the trusted hop to its right.
        IpAddress winner = *peer_ip;
        bool from_header = false;
        for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
            if (!*it) {
                result.malformed = true;
                break;
            }
            winner = **it;
            from_header = true;
            if (!trusted.contains(winner)) break;
        }
        result.ip = to_string(winner);
        if (from_header) result.source = source_of(h);
        return result;
    }
    return result;
}

}  // namespace mgw::gateway
