// Blocking hiredis connections for work off the I/O threads (the queue monitor's sampling): connect
// with a deadline, AUTH and SELECT as the writer does, send several commands in one write and read
// their replies (one round trip). Every call is bounded by the connect timeout, so a dead Redis
// holds up only the thread that asked.
#pragma once

#include "queue/redis_options.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

struct redisContext;
struct redisReply;

namespace mgw::queue {

struct ReplyFree {
    void operator()(redisReply* r) const;
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

class SyncRedis {
public:
    // TCP to host:port (or the unix socket of `opts` when host is empty and opts.unix_socket), then
    // AUTH with opts' credentials and, unless `select_db` is false (Cluster), SELECT opts.database.
    static std::unique_ptr<SyncRedis> connect(const RedisOptions& opts, const std::string& host, std::uint16_t port,
                                              bool select_db, std::string& error);
    ~SyncRedis();
    SyncRedis(const SyncRedis&) = delete;
    SyncRedis& operator=(const SyncRedis&) = delete;

    // Sends every command in one write and reads one reply per command. False (and `error`) when the
    // connection broke or timed out: the connection is then unusable. Error replies are returned.
    bool pipeline(const std::vector<std::vector<std::string>>& commands, std::vector<ReplyPtr>& replies,
                  std::string& error);

private:
    explicit SyncRedis(redisContext* c) : c_(c) {}
    redisContext* c_;
};

// QueuedTracking's Sentinel lookup, blocking: the first sentinel that answers
// SENTINEL get-master-addr-by-name names the master. nullopt (and `error`) when none does.
std::optional<std::pair<std::string, std::uint16_t>> sentinel_master(const RedisOptions& opts, std::string& error);

// Reads a CLUSTER SLOTS reply into `owner` (one "host:port" per slot, `owner.size()` slots): each
// range's master, where an empty or "?" address means `host`, the node that answered. Returns how
// many slots it assigned. Shared by the writer's slot map and the queue monitor.
std::size_t read_cluster_slots(const redisReply* r, const std::string& host, std::span<std::string> owner);

// CLUSTER SLOTS from the first seed that answers: the master "host:port" of every slot (empty
// where a slot has none). Empty vector (and `error`) when no seed answers.
std::vector<std::string> cluster_slot_owners(const RedisOptions& opts, std::string& error);

// "host:port" -> (host, port).
std::pair<std::string, std::uint16_t> split_host_port(const std::string& node);

}  // namespace mgw::queue
