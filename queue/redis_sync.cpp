#include "queue/redis_sync.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>

namespace mgw::queue {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
    return timeval{static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

// "host:port: what".
std::string at(const std::string& host, std::uint16_t port, std::string_view what) {
    std::string out = host;
    out += ':';
    out += std::to_string(port);
    out += ": ";
    out += what;
    return out;
}

std::string reply_error(const redisReply* r, std::string_view what) {
    if (r && r->type == REDIS_REPLY_ERROR) return std::string(what) + ": " + std::string(r->str, r->len);
    return std::string(what) + " failed";
}

}  // namespace

void ReplyFree::operator()(redisReply* r) const { freeReplyObject(r); }

std::unique_ptr<SyncRedis> SyncRedis::connect(const RedisOptions& opts, const std::string& host, std::uint16_t port,
                                              bool select_db, std::string& error) {
    const timeval tv = to_timeval(opts.connect_timeout);
    redisContext* c = host.empty() && opts.unix_socket ? redisConnectUnixWithTimeout(opts.path.c_str(), tv)
                                                       : redisConnectWithTimeout(host.c_str(), port, tv);
    if (!c || c->err) {
        error = c ? c->errstr : "cannot connect";
        if (c) redisFree(c);
        return nullptr;
    }
    redisSetTimeout(c, tv);
    std::unique_ptr<SyncRedis> conn(new SyncRedis(c));
    std::vector<std::vector<std::string>> handshake;
    if (!opts.password.empty()) {
        if (opts.user.empty()) handshake.push_back({"AUTH", opts.password});
        else handshake.push_back({"AUTH", opts.user, opts.password});
    }
    if (select_db && opts.database != 0) handshake.push_back({"SELECT", std::to_string(opts.database)});
    if (handshake.empty()) return conn;
    std::vector<ReplyPtr> replies;
    if (!conn->pipeline(handshake, replies, error)) return nullptr;
    for (std::size_t i = 0; i < replies.size(); ++i) {
        if (replies[i]->type == REDIS_REPLY_ERROR) {
            error = reply_error(replies[i].get(), handshake[i][0]);
            return nullptr;
        }
    }
    return conn;
}

SyncRedis::~SyncRedis() { redisFree(c_); }

bool SyncRedis::pipeline(const std::vector<std::vector<std::string>>& commands, std::vector<ReplyPtr>& replies,
                         std::string& error) {
    replies.clear();
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& cmd : commands) {
        argv.clear();
        lens.clear();
        for (const auto& a : cmd) {
            argv.push_back(a.data());
            lens.push_back(a.size());
        }
        if (redisAppendCommandArgv(c_, static_cast<int>(argv.size()), argv.data(), lens.data()) != REDIS_OK) {
            error = c_->errstr;
            return false;
        }
    }
    for (std::size_t i = 0; i < commands.size(); ++i) {
        void* r = nullptr;
        if (redisGetReply(c_, &r) != REDIS_OK || !r) {
            error = c_->err ? c_->errstr : "no reply";
            return false;
        }
        replies.emplace_back(static_cast<redisReply*>(r));
    }
    return true;
}

std::pair<std::string, std::uint16_t> split_host_port(const std::string& node) {
    const auto colon = node.rfind(':');
    if (colon == std::string::npos) return {node, 0};
    std::uint16_t port = 0;
    std::from_chars(node.data() + colon + 1, node.data() + node.size(), port);
    return {node.substr(0, colon), port};
}

std::optional<std::pair<std::string, std::uint16_t>> sentinel_master(const RedisOptions& opts, std::string& error) {
    // Sentinels are asked without AUTH and with their own short timeout, as the plugin's client does.
    RedisOptions plain = opts;
    plain.password.clear();
    plain.user.clear();
    plain.unix_socket = false;
    plain.connect_timeout = opts.sentinel_timeout;
    for (const auto& [host, port] : opts.sentinels) {
        std::string err;
        auto conn = SyncRedis::connect(plain, host, port, false, err);
        std::vector<ReplyPtr> replies;
        if (!conn || !conn->pipeline({{"SENTINEL", "get-master-addr-by-name", opts.sentinel_master}}, replies, err)) {
            error = at(host, port, err);
            continue;
        }
        const redisReply* r = replies[0].get();
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_STRING &&
            r->element[1]->type == REDIS_REPLY_STRING) {
            std::uint16_t p = 0;
            const char* first = r->element[1]->str;
            const char* last = first + r->element[1]->len;
            auto [end, ec] = std::from_chars(first, last, p);
            if (ec == std::errc{} && end == last && p != 0)
                return std::make_pair(std::string(r->element[0]->str, r->element[0]->len), p);
        }
        error = at(host, port, "no master named " + opts.sentinel_master);
    }
    return std::nullopt;
}

std::size_t read_cluster_slots(const redisReply* r, const std::string& host, std::span<std::string> owner) {
    std::size_t assigned = 0;
    if (!r || r->type != REDIS_REPLY_ARRAY) return 0;
    const auto slots = static_cast<long long>(owner.size());
    for (std::size_t i = 0; i < r->elements; ++i) {
        const redisReply* range = r->element[i];
        if (range->type != REDIS_REPLY_ARRAY || range->elements < 3) continue;
        const redisReply* master = range->element[2];
        if (master->type != REDIS_REPLY_ARRAY || master->elements < 2) continue;
        // An empty or "?" host means "the address you reached me at".
        std::string mhost(master->element[0]->str ? master->element[0]->str : "", master->element[0]->len);
        if (mhost.empty() || mhost == "?") mhost = host;
        const std::string node = mhost + ":" + std::to_string(master->element[1]->integer);
        for (long long s = std::max(0LL, range->element[0]->integer); s <= range->element[1]->integer && s < slots;
             ++s) {
            owner[static_cast<std::size_t>(s)] = node;
            ++assigned;
        }
    }
    return assigned;
}

std::vector<std::string> cluster_slot_owners(const RedisOptions& opts, std::string& error) {
    constexpr std::size_t slots = 16384;
    for (const auto& [host, port] : opts.cluster_seeds) {
        std::string err;
        auto conn = SyncRedis::connect(opts, host, port, false, err);
        std::vector<ReplyPtr> replies;
        if (!conn || !conn->pipeline({{"CLUSTER", "SLOTS"}}, replies, err)) {
            error = at(host, port, err);
            continue;
        }
        const redisReply* r = replies[0].get();
        if (r->type != REDIS_REPLY_ARRAY) {
            error = at(host, port, reply_error(r, "CLUSTER SLOTS"));
            continue;
        }
        std::vector<std::string> owner(slots);
        read_cluster_slots(r, host, owner);
        return owner;
    }
    return {};
}

}  // namespace mgw::queue
