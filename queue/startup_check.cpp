// One synchronous hiredis connection at start-up, before any hit is served; Sentinel setups are
// skipped (the master is only known once the writer asked the sentinels).
#include "queue/startup_check.hpp"

#include <hiredis/hiredis.h>

#include <charconv>
#include <memory>

namespace mgw::queue {

std::vector<std::string> queues_beyond(const RedisOptions& opts, unsigned queues, std::string& error) {
    std::vector<std::string> out;
    if (opts.sentinel) return out;
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
    auto r = command({"KEYS", "trackingQueueV1_*"});
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        error = r && r->type == REDIS_REPLY_ERROR ? std::string(r->str, r->len) : "KEYS failed";
        return out;
    }
    constexpr std::string_view prefix = "trackingQueueV1_";
    for (std::size_t i = 0; i < r->elements; ++i) {
        std::string_view key(r->element[i]->str, r->element[i]->len);
        unsigned n = 0;
        auto suffix = key.substr(prefix.size());
        auto [p, ec] = std::from_chars(suffix.data(), suffix.data() + suffix.size(), n);
        if (ec == std::errc() && p == suffix.data() + suffix.size() && n >= queues) out.emplace_back(key);
    }
    return out;
}

}  // namespace mgw::queue
