// Redis connection settings as a plain struct with defaults, and the URL forms the gateway takes:
// redis://[user:password@]host:port/db and unix:///path/to/redis.sock?db=N.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mgw::queue {

struct RedisOptions {
    // QueuedTracking's useWhatRedisBackendType: 1 standalone, 2 Sentinel, 3 Cluster (docs/wire-format.md, "Settings").
    bool sentinel = false;
    std::vector<std::pair<std::string, std::uint16_t>> sentinels;  // tried in order
    std::string sentinel_master = "mymaster";
    std::chrono::milliseconds sentinel_timeout{500};         // per sentinel, as the plugin's client
    std::chrono::milliseconds sentinel_check_interval{250};  // re-ask while connected
    // Cluster (QueuedTracking's Redis Cluster backend): any reachable node serves the slot map.
    bool cluster = false;
    std::vector<std::pair<std::string, std::uint16_t>> cluster_seeds;
    bool unix_socket = false;
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    std::string path;  // unix socket path
    std::string user;  // ACL user; empty: single-argument AUTH like QueuedTracking
    std::string password;
    int database = 0;  // SELECT index (QueuedTracking's redisDatabase)
    std::chrono::milliseconds connect_timeout{1000};
    std::chrono::milliseconds reply_timeout{2000};  // no reply for this long: connection is dead
    std::chrono::milliseconds reconnect_min{50};
    std::chrono::milliseconds reconnect_max{2000};
    std::size_t max_pending_bytes = 64u << 20;  // request sets held waiting for Redis
    std::size_t max_batch_commands = 512;       // RPUSH commands per pipelined write
    std::size_t connections = 1;                // pipelined connections; a queue always uses the same one
    // Acknowledge a set only once this many replicas have it (Redis WAIT after each batch). With
    // Sentinel, 1 closes the window in which a demoted master still accepts writes it will discard.
    int wait_replicas = 0;
    std::chrono::milliseconds wait_timeout{200};
};

// Parses a Redis URL into `out` (fields the URL doesn't name keep their values). Returns an error
// message, or nullopt on success. Percent-escapes in user and password are decoded. Forms:
//   redis://[user:password@]host:port/db
//   unix:///path/to/redis.sock?db=N[&password=...]
//   redis-sentinel://[user:password@]host:port[,host:port...]/db?master=NAME
//   redis-cluster://[user:password@]host:port[,host:port...]   (database 0 only)
// (the password is the data nodes'; sentinels are queried without AUTH, as QueuedTracking does).
std::optional<std::string> parse_redis_url(std::string_view url, RedisOptions& out);

// The URL with the password replaced by "***" (for logs and --check-config).
std::string redact_redis_url(std::string_view url);

// The options of one of `parts` writers that share `opts`' memory budget: an even share of
// max_pending_bytes, at least 4096 bytes (the option's minimum).
RedisOptions share_of(const RedisOptions& opts, std::size_t parts);

}  // namespace mgw::queue
