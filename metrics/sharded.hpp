// Metrics for the hot path: updates go to per-thread shards (relaxed atomics, no lock, no cache line
// shared between threads) and reach their prometheus-cpp metric when /metrics is scraped.
// prometheus-cpp's Histogram::Observe takes a mutex on every call, and its Counter and Gauge are one
// atomic double each, updated by compare-and-swap: every I/O thread and the writer met on them.
#pragma once

#include <prometheus/histogram.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace mgw::metrics {

// Shards per metric. More threads than shards share them, still correctly (atomic adds).
inline constexpr std::size_t kShards = 16;

// The shard this thread keeps to (handed out in turn).
std::size_t this_thread_shard();

// One shard's running sum, on a cache line of its own.
struct alignas(64) ShardSum {
    std::atomic<double> sum{0.0};
};

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
    // A shard's bucket counts take whole cache lines of their own: allocated one shard after the
    // other, unpadded, two threads' counts would share the line between them.
    struct alignas(64) Line {
        std::array<std::atomic<std::uint64_t>, 8> counts{};
    };
    std::atomic<std::uint64_t>& count(std::size_t shard, std::size_t bucket) {
        return lines_[shard * lines_per_shard_ + bucket / 8].counts[bucket % 8];
    }
    prometheus::Histogram& target_;
    std::vector<double> bounds_;
    std::size_t lines_per_shard_;
    std::unique_ptr<Line[]> lines_;  // kShards * lines_per_shard_; a bucket per count, +Inf last
    std::array<ShardSum, kShards> sums_{};
};

// A counter or gauge whose additions are sharded per thread; `Target` is prometheus::Counter or
// prometheus::Gauge, which gets the sum of the additions since the last flush().
template <class Target>
class ShardedAdd {
public:
    explicit ShardedAdd(Target& target) : target_(target) {}
    ShardedAdd(const ShardedAdd&) = delete;
    ShardedAdd& operator=(const ShardedAdd&) = delete;

    // Thread-safe, lock-free; the value is in `target` after the next flush().
    void add(double value) { sums_[this_thread_shard()].sum.fetch_add(value, std::memory_order_relaxed); }
    void flush() {
        double sum = 0;
        for (auto& s : sums_) sum += s.sum.exchange(0.0, std::memory_order_relaxed);
        if (sum != 0) target_.Increment(sum);
    }

private:
    Target& target_;
    std::array<ShardSum, kShards> sums_{};
};

}  // namespace mgw::metrics
