#include "metrics/sharded.hpp"

#include <algorithm>

namespace mgw::metrics {

std::size_t this_thread_shard() {
    static std::atomic<std::size_t> next{0};
    thread_local const std::size_t mine = next.fetch_add(1, std::memory_order_relaxed) % kShards;
    return mine;
}

ShardedHistogram::ShardedHistogram(prometheus::Histogram& target, std::vector<double> bounds)
    : target_(target), bounds_(std::move(bounds)), lines_per_shard_((bounds_.size() + 1 + 7) / 8),
      lines_(std::make_unique<Line[]>(kShards * lines_per_shard_)) {}

void ShardedHistogram::observe(double value) {
    // The bucket prometheus-cpp would choose: the first boundary at or above the value, else +Inf.
    const auto bucket = static_cast<std::size_t>(
        std::find_if(bounds_.begin(), bounds_.end(), [value](double b) { return b >= value; }) - bounds_.begin());
    const std::size_t shard = this_thread_shard();
    count(shard, bucket).fetch_add(1, std::memory_order_relaxed);
    sums_[shard].sum.fetch_add(value, std::memory_order_relaxed);
}

void ShardedHistogram::flush() {
    std::vector<double> increments(bounds_.size() + 1, 0.0);
    double sum = 0;
    bool any = false;
    for (std::size_t shard = 0; shard < kShards; ++shard) {
        for (std::size_t i = 0; i <= bounds_.size(); ++i) {
            const std::uint64_t n = count(shard, i).exchange(0, std::memory_order_relaxed);
            increments[i] += static_cast<double>(n);
            any = any || n != 0;
        }
        sum += sums_[shard].sum.exchange(0.0, std::memory_order_relaxed);
    }
    if (any) target_.ObserveMultiple(increments, sum);
}

}  // namespace mgw::metrics
