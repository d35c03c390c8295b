// The queues as Redis holds them, sampled on a timer (never per hit, never KEYS): for every queue
// its length (LLEN), the time of the set at its head (LINDEX 0, decoded), and whether a worker
// holds its QueuedTrackingLock<N>; and Redis's INFO memory (used_memory, maxmemory,
// maxmemory-policy), which feeds the memory guard. One pipelined round trip per node and interval,
// on a connection and thread of its own, so the writer's pipelines and ordering are untouched.
// Standalone and Sentinel (the master is asked for at every sample) use one node; Cluster sends
// each key to its slot's master and INFO to every master (the memory figures are the fullest one's).
#pragma once

#include "queue/memory_guard.hpp"
#include "queue/redis_options.hpp"
#include "queue/sink.hpp"

#include <chrono>
#include <memory>

namespace mgw::metrics {
class Metrics;
}

namespace mgw::queue {

struct MonitorOptions {
    std::chrono::milliseconds interval{5000};  // between samples; 0 turns sampling (and the guard) off
    std::chrono::seconds stale_after{3600};    // first sample: warn about queues whose head is older
    MemoryGuardOptions guard;
};

// True for maxmemory policies that may evict the queue lists (allkeys-*) or the workers' lock
// keys, which carry a TTL (volatile-*).
bool policy_can_evict(std::string_view policy);

// The `time` field of a queued value (zlib-compressed or plain request-set JSON); nullopt when
// the value is not a request set.
std::optional<std::int64_t> request_set_time(std::string_view value);

class QueueMonitor {
public:
    // `guard` may be null (no memory guard); it and `metrics` outlive the monitor.
    QueueMonitor(RedisOptions redis, unsigned queues, MonitorOptions opts, MemoryGuard* guard,
                 metrics::Metrics* metrics, WriterLog log);
    ~QueueMonitor();
    QueueMonitor(const QueueMonitor&) = delete;
    QueueMonitor& operator=(const QueueMonitor&) = delete;

    void start();
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace mgw::queue
