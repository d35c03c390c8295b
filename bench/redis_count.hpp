// Counts what actually reached Redis, so a load run verifies instead of assuming: every value of every
// `trackingQueueV1*` list is decoded (zlib stream, or plain JSON at compression level 0) and the
// entries of its `requests` array are added up.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mgw::bench {

struct RedisTarget {
    std::string host;  // loopback address, or empty with unix_path set
    int port = 6379;
    std::string unix_path;
    int db = 0;
    std::string user;
    std::string password;
};

// redis://[[user]:password@]host:port/db (host must be loopback) or unix:///path?db=N.
std::optional<RedisTarget> parse_redis_url(std::string_view url, std::string& error);

struct QueueCount {
    std::uint64_t lists = 0;        // trackingQueueV1* keys holding a list
    std::uint64_t values = 0;       // request sets (one RPUSH each)
    std::uint64_t hits = 0;         // entries of the request sets' `requests` arrays
    std::uint64_t value_bytes = 0;  // stored bytes of the values (what STRLEN would sum)
    std::uint64_t undecodable = 0;  // values that were neither zlib nor JSON with `requests`
    std::uint64_t used_memory = 0;  // INFO memory used_memory when the count was taken
    double cpu_seconds = 0;         // INFO cpu used_cpu_user + used_cpu_sys, read before the lists
};

// Reads every queue list; false with `error` set when Redis could not be read.
bool count_queued(const RedisTarget& target, QueueCount& out, std::string& error);

}  // namespace mgw::bench
