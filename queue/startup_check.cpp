// One synchronous hiredis connection at start-up, before any hit is served, every call bounded by
// the connect timeout; Sentinel and Cluster setups are skipped.
#include "queue/startup_check.hpp"

#include <hiredis/hiredis.h>

#include <charconv>
#include <memory>

namespace mgw::queue {

std::vector<std::string> queues_beyond(const RedisOptions& opts, unsigned queues, std::string& error) {
    std::vector<std::string> out;
    // Sentinel: the master is only known once the writer asked; Cluster: keys live on many nodes.
    if (opts.sentinel || opts.cluster) return out;
    timeval tv{};
    tv.tv_sec = static_cast<long>(opts.connect_timeout.count() / 1000);
    tv.tv_usec = static_cast<long>((opts.connect_timeout.count() % 1000) * 1000);
    std::unique_ptr<redisContext, decltype(&redisFree)> c(
        opts.unix_socket ? redisConnectUnixWithTimeout(opts.path.c_str(), tv)
                         : redisConnectWithTimeout(opts.host.c_str(), opts.port, tv),
        &redisFree);
    if (!c || c->err) {
        error = c ? c->errstr : "cannot connect";
        return out;
    }
    redisSetTimeout(c.get(), tv);
    auto command =
        [&](std::initializer_list<std::string> args) -> std::unique_ptr<redisReply, decltype(&freeReplyObject)> {
        std::vector<const char*> argv;
        std::vector<std::size_t> lens;
        for (const auto& a : args) {
            argv.push_back(a.data());
            lens.push_back(a.size());
        }
        return {static_cast<redisReply*>(
                    redisCommandArgv(c.get(), static_cast<int>(argv.size()), argv.data(), lens.data())),
                &freeReplyObject};
    };
    if (!opts.password.empty()) {
        auto r = opts.user.empty() ? command({"AUTH", opts.password}) : command({"AUTH", opts.user, opts.password});
        if (!r || r->type == REDIS_REPLY_ERROR) {
            error = r ? std::string(r->str, r->len) : "AUTH failed";
            return out;
        }
    }
    if (opts.database != 0) {
        auto r = command({"SELECT", std::to_string(opts.database)});
        if (!r || r->type == REDIS_REPLY_ERROR) {
            error = r ? std::string(r->str, r->len) : "SELECT failed";
            return out;
        }
    }
    // SCAN, not KEYS: KEYS walks the whole keyspace in one command and blocks every other client
    // of a large production Redis for as long as that takes. SCAN walks it in small steps; the
    // number of steps is bounded so a huge keyspace delays the start by a bounded time only.
    constexpr std::string_view prefix = "trackingQueueV1_";
    constexpr int max_steps = 10000;
    std::string cursor = "0";
    int steps = 0;
    do {
        if (++steps > max_steps) {
            error = "SCAN did not finish within " + std::to_string(max_steps) + " steps";
            return out;
        }
        auto r = command({"SCAN", cursor, "MATCH", "trackingQueueV1_*", "COUNT", "1000"});
        // The reply is [next cursor, [keys...]]; anything else is an error to report, not to read.
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[1]->type != REDIS_REPLY_ARRAY) {
            error = r && r->type == REDIS_REPLY_ERROR ? std::string(r->str, r->len)
                    : r                               ? std::string("SCAN answered an unexpected reply")
                                                      : std::string(c->errstr[0] ? c->errstr : "SCAN failed");
            return out;
        }
        cursor.assign(r->element[0]->str, r->element[0]->len);
        const redisReply* keys = r->element[1];
        for (std::size_t i = 0; i < keys->elements; ++i) {
            if (keys->element[i]->type != REDIS_REPLY_STRING) continue;
            std::string_view key(keys->element[i]->str, keys->element[i]->len);
            if (!key.starts_with(prefix)) continue;
            unsigned n = 0;
            auto suffix = key.substr(prefix.size());
            auto [p, ec] = std::from_chars(suffix.data(), suffix.data() + suffix.size(), n);
            if (ec == std::errc() && p == suffix.data() + suffix.size() && n >= queues) out.emplace_back(key);
        }
    } while (cursor != "0");
    return out;
}

}  // namespace mgw::queue
