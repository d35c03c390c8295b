// Redis URL parsing. Hand-written rather than Boost.URL: two fixed shapes, and the unix form's
// path/query split is simpler to state than to configure a generic parser for.
#include "queue/redis_options.hpp"

#include <algorithm>
#include <charconv>

namespace mgw::queue {
namespace {

std::string pct_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        auto hex = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        };
        if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

template <class T>
bool parse_number(std::string_view s, T& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::optional<std::string> parse_redis_url(std::string_view url, RedisOptions& out) {
    constexpr std::string_view tcp_scheme = "redis://";
    constexpr std::string_view unix_scheme = "unix://";
    if (url.starts_with(unix_scheme)) {
        std::string_view rest = url.substr(unix_scheme.size());
        std::string_view query;
        if (auto q = rest.find('?'); q != std::string_view::npos) {
            query = rest.substr(q + 1);
            rest = rest.substr(0, q);
        }
        if (rest.empty() || rest.front() != '/') return "unix URL needs an absolute socket path: unix:///path?db=N";
        out.unix_socket = true;
        out.path = pct_decode(rest);
        while (!query.empty()) {
            auto amp = query.find('&');
            std::string_view kv = query.substr(0, amp);
            query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
            auto eq = kv.find('=');
            std::string_view k = kv.substr(0, eq);
            std::string_view v = eq == std::string_view::npos ? std::string_view{} : kv.substr(eq + 1);
            if (k == "db") {
                if (!parse_number(v, out.database) || out.database < 0) return "bad database number in unix URL";
            } else if (k == "password") {
                out.password = pct_decode(v);
            } else if (k == "user") {
                out.user = pct_decode(v);
            } else {
                return "unknown parameter '" + std::string(k) + "' in unix URL";
            }
        }
        return std::nullopt;
    }
    constexpr std::string_view sentinel_scheme = "redis-sentinel://";
    constexpr std::string_view cluster_scheme = "redis-cluster://";
    const bool sentinel = url.starts_with(sentinel_scheme);
    const bool cluster = url.starts_with(cluster_scheme);
    if (!url.starts_with(tcp_scheme) && !sentinel && !cluster)
        return "Redis URL must start with redis://, unix://, redis-sentinel:// or redis-cluster://";
    std::string_view rest = url.substr(sentinel  ? sentinel_scheme.size()
                                       : cluster ? cluster_scheme.size()
                                                 : tcp_scheme.size());
    std::string_view path;
    std::string_view query;
    if (auto q = rest.find('?'); q != std::string_view::npos) {
        query = rest.substr(q + 1);
        rest = rest.substr(0, q);
    }
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
        path = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
    }
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        std::string_view cred = rest.substr(0, at);
        rest = rest.substr(at + 1);
        if (auto colon = cred.find(':'); colon != std::string_view::npos) {
            out.user = pct_decode(cred.substr(0, colon));
            out.password = pct_decode(cred.substr(colon + 1));
        } else {
            out.password = pct_decode(cred);
        }
    }
    if (sentinel || cluster) {
        out.sentinel = sentinel;
        out.cluster = cluster;
        out.unix_socket = false;
        auto& list = sentinel ? out.sentinels : out.cluster_seeds;
        list.clear();
        while (!rest.empty()) {
            auto comma = rest.find(',');
            std::string_view item = rest.substr(0, comma);
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
            std::uint16_t p = sentinel ? 26379 : 6379;
            std::string_view port_text;
            if (item.starts_with('[')) {  // [IPv6] or [IPv6]:port
                auto close = item.find(']');
                if (close == std::string_view::npos) return "unterminated [IPv6] host in Redis URL";
                if (close + 1 < item.size()) {
                    if (item[close + 1] != ':') return "bad port in Redis URL";
                    port_text = item.substr(close + 2);
                    if (port_text.empty()) return "bad port in Redis URL";
                }
                item = item.substr(1, close - 1);
            } else if (auto colon = item.find(':'); colon != std::string_view::npos) {
                if (item.find(':', colon + 1) != std::string_view::npos)
                    return "an IPv6 address in a Redis URL goes in brackets: [address]:port";
                port_text = item.substr(colon + 1);
                item = item.substr(0, colon);
                if (port_text.empty()) return "bad port in Redis URL";
            }
            if (!port_text.empty() && (!parse_number(port_text, p) || p == 0)) return "bad port in Redis URL";
            if (item.empty()) return "empty host in Redis URL";
            list.emplace_back(std::string(item), p);
        }
        if (list.empty()) return sentinel ? "redis-sentinel URL names no sentinel" : "redis-cluster URL names no node";
        if (cluster) {
            // A cluster has only database 0 (docs/wire-format.md, "Settings": no SELECT).
            if (!query.empty()) return "unexpected query in redis-cluster URL";
            int db = 0;
            if (!path.empty() && (!parse_number(path, db) || db != 0)) return "a Redis Cluster has only database 0";
            out.database = 0;
            return std::nullopt;
        }
        while (!query.empty()) {
            auto amp = query.find('&');
            std::string_view kv = query.substr(0, amp);
            query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
            if (kv.starts_with("master=")) out.sentinel_master = pct_decode(kv.substr(7));
            else return "unknown parameter '" + std::string(kv.substr(0, kv.find('='))) + "' in redis-sentinel URL";
        }
        if (out.sentinel_master.empty()) return "redis-sentinel URL needs master=NAME";
        if (!path.empty() && (!parse_number(path, out.database) || out.database < 0))
            return "bad database number in Redis URL";
        return std::nullopt;
    }
    if (!query.empty()) return "unexpected query in redis:// URL";
    std::string_view host = rest;
    std::string_view port;
    if (rest.starts_with('[')) {
        auto close = rest.find(']');
        if (close == std::string_view::npos) return "unterminated [IPv6] host in Redis URL";
        host = rest.substr(1, close - 1);
        if (close + 1 < rest.size()) {
            if (rest[close + 1] != ':') return "bad port in Redis URL";
            port = rest.substr(close + 2);
        }
    } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
    }
    if (host.empty()) return "Redis URL has no host";
    out.unix_socket = false;
    out.host = std::string(host);
    if (!port.empty() && (!parse_number(port, out.port) || out.port == 0)) return "bad port in Redis URL";
    if (!path.empty() && (!parse_number(path, out.database) || out.database < 0))
        return "bad database number in Redis URL";
    return std::nullopt;
}

std::string redact_redis_url(std::string_view url) {
    std::string s(url);
    if (auto scheme = s.find("://"); scheme != std::string::npos) {
        auto at = s.find('@', scheme);
        auto slash = s.find('/', scheme + 3);
        if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
            auto colon = s.find(':', scheme + 3);
            auto start = (colon != std::string::npos && colon < at) ? colon + 1 : scheme + 3;
            s.replace(start, at - start, "***");
        }
    }
    if (auto pw = s.find("password="); pw != std::string::npos) {
        auto end = s.find('&', pw);
        s.replace(pw + 9, (end == std::string::npos ? s.size() : end) - pw - 9, "***");
    }
    return s;
}

RedisOptions share_of(const RedisOptions& opts, std::size_t parts) {
    RedisOptions each = opts;
    each.max_pending_bytes = std::max<std::size_t>(opts.max_pending_bytes / parts, 4096);
    return each;
}

}  // namespace mgw::queue
