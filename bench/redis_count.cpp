// Counting queued hits in Redis (see redis_count.hpp). Synchronous hiredis is enough here: it runs
// once, after the load has stopped. Values are decoded with libdeflate (the gateway's own library)
// and parsed with Boost.JSON, independently of the gateway's encoder.
#include "bench/redis_count.hpp"

#include <hiredis/hiredis.h>
#include <libdeflate.h>
#include <boost/asio/ip/address.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <memory>
#include <set>
#include <vector>

namespace mgw::bench {
namespace {

struct ReplyFree {
    void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

struct ContextFree {
    void operator()(redisContext* c) const { redisFree(c); }
};

Reply command(redisContext* c, const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    return Reply(
        static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data())));
}

bool is_loopback_host(const std::string& host) {
    if (host == "localhost") return true;
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(host, ec);
    return !ec && addr.is_loopback();
}

bool parse_int(std::string_view s, int& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size();
}

// The number after `name` (e.g. "used_memory:") in an INFO reply; 0 when absent.
double info_field(std::string_view text, std::string_view name) {
    const auto p = text.find(name);
    if (p == std::string_view::npos) return 0;
    const auto v = text.substr(p + name.size());
    double out = 0;
    std::from_chars(v.data(), v.data() + v.size(), out);
    return out;
}

// Number of hits in one queue value, or -1 when it cannot be decoded.
long long hits_in_value(std::string_view v, libdeflate_decompressor* d, std::string& scratch) {
    std::string_view json = v;
    if (!v.empty() && v.front() != '{') {  // zlib stream (gzcompress); level 0 values are plain JSON
        std::size_t cap = std::max<std::size_t>(4096, v.size() * 8);
        for (;;) {
            scratch.resize(cap);
            std::size_t n = 0;
            auto r = libdeflate_zlib_decompress(d, v.data(), v.size(), scratch.data(), cap, &n);
            if (r == LIBDEFLATE_SUCCESS) {
                json = std::string_view(scratch.data(), n);
                break;
            }
            if (r != LIBDEFLATE_INSUFFICIENT_SPACE || cap >= (std::size_t{256} << 20)) return -1;
            cap *= 4;
        }
    }
    boost::system::error_code ec;
    auto doc = boost::json::parse(json, ec);
    if (ec || !doc.is_object()) return -1;
    auto* req = doc.as_object().if_contains("requests");
    if (!req || !req->is_array()) return -1;
    return static_cast<long long>(req->as_array().size());
}

}  // namespace

std::optional<RedisTarget> parse_redis_url(std::string_view url, std::string& error) {
    RedisTarget t;
    if (url.starts_with("unix://")) {
        auto rest = url.substr(7);
        auto q = rest.find('?');
        t.unix_path = std::string(rest.substr(0, q));
        if (q != std::string_view::npos) {
            auto query = rest.substr(q + 1);
            if (!query.starts_with("db=") || !parse_int(query.substr(3), t.db)) {
                error = "unix URL query must be db=N";
                return std::nullopt;
            }
        }
        if (t.unix_path.empty()) {
            error = "unix URL without a path";
            return std::nullopt;
        }
        return t;
    }
    if (!url.starts_with("redis://")) {
        error = "expected redis://host:port/db or unix:///path?db=N";
        return std::nullopt;
    }
    auto rest = url.substr(8);
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        auto cred = rest.substr(0, at);
        rest = rest.substr(at + 1);
        auto colon = cred.find(':');
        if (colon == std::string_view::npos) {
            t.password = std::string(cred);
        } else {
            t.user = std::string(cred.substr(0, colon));
            t.password = std::string(cred.substr(colon + 1));
        }
    }
    auto slash = rest.find('/');
    auto hostport = rest.substr(0, slash);
    if (slash != std::string_view::npos && slash + 1 < rest.size() && !parse_int(rest.substr(slash + 1), t.db)) {
        error = "bad database number";
        return std::nullopt;
    }
    if (hostport.starts_with('[')) {
        auto close = hostport.find(']');
        if (close == std::string_view::npos) {
            error = "bad IPv6 host";
            return std::nullopt;
        }
        t.host = std::string(hostport.substr(1, close - 1));
        hostport = hostport.substr(close + 1);
        if (hostport.starts_with(':') && !parse_int(hostport.substr(1), t.port)) {
            error = "bad port";
            return std::nullopt;
        }
    } else {
        auto colon = hostport.rfind(':');
        t.host = std::string(hostport.substr(0, colon));
        if (colon != std::string_view::npos && !parse_int(hostport.substr(colon + 1), t.port)) {
            error = "bad port";
            return std::nullopt;
        }
    }
    if (!is_loopback_host(t.host)) {
        error = "Redis host '" + t.host + "' is not a loopback address (the load generator stays on this machine)";
        return std::nullopt;
    }
    if (t.host == "localhost") t.host = "127.0.0.1";
    return t;
}

bool count_queued(const RedisTarget& target, QueueCount& out, std::string& error) {
    out = {};
    const timeval tv{5, 0};
    std::unique_ptr<redisContext, ContextFree> ctx(target.unix_path.empty()
                                                       ? redisConnectWithTimeout(target.host.c_str(), target.port, tv)
                                                       : redisConnectUnixWithTimeout(target.unix_path.c_str(), tv));
    if (!ctx || ctx->err) {
        error = ctx ? ctx->errstr : "cannot allocate a Redis context";
        return false;
    }
    redisSetTimeout(ctx.get(), timeval{30, 0});
    auto check = [&](const Reply& r, const char* what) {
        if (r && r->type != REDIS_REPLY_ERROR) return true;
        error = std::string(what) + ": " + (r ? std::string(r->str, r->len) : std::string(ctx->errstr));
        return false;
    };
    if (!target.password.empty()) {
        auto r = target.user.empty() ? command(ctx.get(), {"AUTH", target.password})
                                     : command(ctx.get(), {"AUTH", target.user, target.password});
        if (!check(r, "AUTH")) return false;
    }
    if (!check(command(ctx.get(), {"SELECT", std::to_string(target.db)}), "SELECT")) return false;

    // Redis's own CPU time, read before the LRANGEs below add theirs.
    if (auto cpu = command(ctx.get(), {"INFO", "cpu"}); cpu && cpu->type == REDIS_REPLY_STRING) {
        const std::string_view text(cpu->str, cpu->len);
        out.cpu_seconds = info_field(text, "used_cpu_user:") + info_field(text, "used_cpu_sys:");
    }

    std::set<std::string> keys;  // SCAN may return a key more than once
    std::string cursor = "0";
    do {
        auto r = command(ctx.get(), {"SCAN", cursor, "MATCH", "trackingQueueV1*", "COUNT", "1000"});
        if (!check(r, "SCAN")) return false;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            error = "SCAN: unexpected reply";
            return false;
        }
        cursor.assign(r->element[0]->str, r->element[0]->len);
        for (std::size_t i = 0; i < r->element[1]->elements; ++i)
            keys.emplace(r->element[1]->element[i]->str, r->element[1]->element[i]->len);
    } while (cursor != "0");

    std::unique_ptr<libdeflate_decompressor, void (*)(libdeflate_decompressor*)> d(libdeflate_alloc_decompressor(),
                                                                                   libdeflate_free_decompressor);
    std::string scratch;
    constexpr long long kChunk = 1000;
    for (const auto& key : keys) {
        auto type = command(ctx.get(), {"TYPE", key});
        if (!check(type, "TYPE")) return false;
        if (std::string_view(type->str, type->len) != "list") continue;  // e.g. a lock key
        ++out.lists;
        for (long long start = 0;; start += kChunk) {
            auto r = command(ctx.get(), {"LRANGE", key, std::to_string(start), std::to_string(start + kChunk - 1)});
            if (!check(r, "LRANGE")) return false;
            if (r->type != REDIS_REPLY_ARRAY) {
                error = "LRANGE: unexpected reply";
                return false;
            }
            for (std::size_t i = 0; i < r->elements; ++i) {
                std::string_view v(r->element[i]->str, r->element[i]->len);
                ++out.values;
                out.value_bytes += v.size();
                const auto n = hits_in_value(v, d.get(), scratch);
                if (n < 0) ++out.undecodable;
                else out.hits += static_cast<std::uint64_t>(n);
            }
            if (r->elements < static_cast<std::size_t>(kChunk)) break;
        }
    }

    if (auto info = command(ctx.get(), {"INFO", "memory"}); info && info->type == REDIS_REPLY_STRING)
        out.used_memory =
            static_cast<std::uint64_t>(info_field(std::string_view(info->str, info->len), "used_memory:"));
    return true;
}

}  // namespace mgw::bench
