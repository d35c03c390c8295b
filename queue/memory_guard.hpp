// Keeps the gateway's own writes from filling Redis (issue: Redis OOM loses hits or, with an
// evicting policy, queue lists and worker locks). The queue monitor samples used_memory and
// maxmemory; between samples the guard adds every byte handed to Redis since the sample was taken,
// so a burst of writes trips it without waiting for the next sample. Above the high-water mark
// (a fraction of maxmemory) the guarded sink reports not-ready and refuses sets: the durable sink
// spools them (--ack=redis answers 503) and replay waits. Below the low-water mark writes resume.
#pragma once

#include "metrics/sharded.hpp"
#include "queue/sink.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace mgw::metrics {
class Metrics;
}

namespace mgw::queue {

struct MemoryGuardOptions {
    double high_water = 0.9;  // fraction of maxmemory; 0 turns the guard off
    double low_water = 0.8;   // resume below this fraction
};

class MemoryGuard {
public:
    MemoryGuard(MemoryGuardOptions opts, metrics::Metrics* metrics, WriterLog log);

    // The monitor calls mark() just before it sends INFO, and sampled() with INFO's answer and the
    // mark. Sets handed to Redis after the mark, or still unanswered at it, count on top of `used`.
    std::uint64_t mark() const;
    void sampled(std::uint64_t used, std::uint64_t max, std::uint64_t mark);

    // The guarded sink's accounting: a set of `bytes` handed to Redis, and its answer.
    void handed(std::size_t bytes);
    void answered(std::size_t bytes);

    // What one stored set costs Redis beyond its key and value bytes (list entry header, allocator
    // rounding, the command in the client's query buffer), rounded up.
    static constexpr std::size_t kPerSetOverhead = 64;

    bool paused() const { return paused_.load(std::memory_order_relaxed); }
    const MemoryGuardOptions& options() const { return opts_; }

    // What Redis holds now, as far as the guard can tell: the last sample plus what was written since.
    std::uint64_t estimate() const;

private:
    void set_paused(bool paused, std::uint64_t estimate, std::uint64_t max);
    std::uint64_t written() const;

    MemoryGuardOptions opts_;
    metrics::Metrics* metrics_;
    WriterLog log_;
    // The accounting, per thread shard (metrics::this_thread_shard()): each thread adds to its own
    // cache line, so the I/O threads do not pass one counter's line around on every hit. A total is
    // the sum over the shards.
    struct alignas(64) Shard {
        std::atomic<std::uint64_t> written{0};    // bytes handed to Redis on this shard's threads
        std::atomic<std::uint64_t> answered{0};   // bytes whose answer came on them
        std::atomic<std::uint64_t> unchecked{0};  // handed since this shard last compared the estimate
        std::atomic<std::uint64_t> budget{0};     // how much it may hand before it compares again
    };
    std::array<Shard, metrics::kShards> shards_{};
    std::atomic<std::uint64_t> used_{0};  // used_memory at the last sample
    std::atomic<std::uint64_t> max_{0};   // maxmemory at the last sample (0: no limit)
    std::atomic<std::uint64_t> mark_{0};
    std::atomic<bool> paused_{false};
    std::mutex change_mu_;  // one state change (and its log line) at a time
};

// The Redis sink as the durable sink sees it: not ready while the guard is paused, and each set
// stored counted in its queue's matomo_gateway_queue_sets_pushed_total.
class GuardedSink final : public QueueSink {
public:
    GuardedSink(QueueSink& inner, MemoryGuard& guard, metrics::Metrics* metrics);

    void start() override { inner_.start(); }
    void submit(std::string key, std::string value, WriteAck ack) override;
    void submit_or_return(std::string key, std::string value, ReturnAck ack) override;
    void stop(std::function<void()> done) override { inner_.stop(std::move(done)); }
    bool ready() const override { return !guard_.paused() && inner_.ready(); }

private:
    template <class Ack>
    auto tracked(std::string_view key, std::size_t bytes, Ack ack);

    QueueSink& inner_;
    MemoryGuard& guard_;
    metrics::Metrics* metrics_;
};

// The queue number of a QueuedTracking list key: trackingQueueV1 is 0, trackingQueueV1_N is N;
// -1 for any other key.
long queue_of_key(std::string_view key);

}  // namespace mgw::queue
