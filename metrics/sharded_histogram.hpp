// A histogram for the hot path: observations go to per-thread shards (relaxed atomics, no lock) and
// reach the prometheus-cpp Histogram when /metrics is scraped. prometheus-cpp's Histogram::Observe
// takes a mutex on every call, and a hit observes two histograms, so every worker thread met the
// others on those two locks.
#pragma once

#include <prometheus/histogram.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace mgw::metrics {

class ShardedHistogram {
public:
    // `target` keeps the metric's name, labels and buckets; `bounds` are its bucket boundaries.
    ShardedHistogram(prometheus::Histogram& target, std::vector<double> bounds);
    ShardedHistogram(const ShardedHistogram&) = delete;
    ShardedHistogram& operator=(const ShardedHistogram&) = delete;

    // Thread-safe, lock-free; the value is in `target` after the next flush().
    void observe(double value);
    // Moves what the shards hold into `target` (called before every exposition).
    void flush();

private:
    // More threads than shards share them, still correctly (atomic adds).
    static constexpr std::size_t kShards = 16;
    struct alignas(64) Shard {
        std::unique_ptr<std::atomic<std::uint64_t>[]> counts;  // one per bucket, +Inf last
        std::atomic<double> sum{0.0};
    };
    prometheus::Histogram& target_;
    std::vector<double> bounds_;
    std::array<Shard, kShards> shards_;
};

}  // namespace mgw::metrics
