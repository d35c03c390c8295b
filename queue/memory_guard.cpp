#include "queue/memory_guard.hpp"

#include "metrics/metrics.hpp"

#include <charconv>
#include <cstdio>

namespace mgw::queue {
namespace {

std::string describe(std::uint64_t estimate, std::uint64_t max) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "about %llu of maxmemory %llu bytes (%.1f%%)",
                  static_cast<unsigned long long>(estimate), static_cast<unsigned long long>(max),
                  max ? 100.0 * static_cast<double>(estimate) / static_cast<double>(max) : 0.0);
    return buf;
}

}  // namespace

MemoryGuard::MemoryGuard(MemoryGuardOptions opts, metrics::Metrics* metrics, WriterLog log)
    : opts_(opts), metrics_(metrics), log_(std::move(log)) {
    if (metrics_) metrics_->memory_guard_levels(opts_.high_water, opts_.low_water);
}

std::uint64_t MemoryGuard::written() const {
    std::uint64_t sum = 0;
    for (const auto& s : shards_) sum += s.written.load(std::memory_order_relaxed);
    return sum;
}

// Written minus still unanswered is what has been answered.
std::uint64_t MemoryGuard::mark() const {
    std::uint64_t sum = 0;
    for (const auto& s : shards_) sum += s.answered.load(std::memory_order_relaxed);
    return sum;
}

std::uint64_t MemoryGuard::estimate() const {
    const std::uint64_t written = this->written();
    const std::uint64_t mark = mark_.load();
    return used_.load() + (written > mark ? written - mark : 0);
}

void MemoryGuard::sampled(std::uint64_t used, std::uint64_t max, std::uint64_t mark) {
    used_ = used;
    max_ = max;
    mark_ = mark;
    // The headroom changed: every shard compares again on its next set.
    for (auto& s : shards_) s.budget.store(0, std::memory_order_relaxed);
    const std::uint64_t est = estimate();
    const auto m = static_cast<double>(max);
    const bool off = opts_.high_water <= 0 || max == 0;
    if (!off && static_cast<double>(est) >= opts_.high_water * m) set_paused(true, est, max);
    else if (off || static_cast<double>(est) < opts_.low_water * m) set_paused(false, est, max);
}

// The estimate sums every shard, so a shard compares it only once it has handed its budget: a
// share of the headroom left at its last comparison. The share shrinks as the estimate nears the
// high-water mark, down to comparing at every set, so (on one thread exactly) the set that crosses
// the mark is the one that trips the guard.
void MemoryGuard::handed(std::size_t bytes) {
    bytes += kPerSetOverhead;
    Shard& s = shards_[metrics::this_thread_shard()];
    s.written.fetch_add(bytes, std::memory_order_relaxed);
    const std::uint64_t max = max_.load(std::memory_order_relaxed);
    if (opts_.high_water <= 0 || max == 0 || paused()) return;
    if (s.unchecked.fetch_add(bytes, std::memory_order_relaxed) + bytes < s.budget.load(std::memory_order_relaxed))
        return;
    s.unchecked.store(0, std::memory_order_relaxed);
    const std::uint64_t est = estimate();
    const double high = opts_.high_water * static_cast<double>(max);
    if (static_cast<double>(est) >= high) return set_paused(true, est, max);
    s.budget.store(static_cast<std::uint64_t>((high - static_cast<double>(est)) / metrics::kShards),
                   std::memory_order_relaxed);
}

void MemoryGuard::answered(std::size_t bytes) {
    shards_[metrics::this_thread_shard()].answered.fetch_add(bytes + kPerSetOverhead, std::memory_order_relaxed);
}

void MemoryGuard::set_paused(bool paused, std::uint64_t estimate, std::uint64_t max) {
    std::lock_guard lock(change_mu_);
    if (paused_.load() == paused) return;
    paused_ = paused;
    if (metrics_) metrics_->memory_guard_paused(paused);
    if (!log_) return;
    if (paused)
        log_("warn", "redis_memory_high_water",
             describe(estimate, max) + ": writes to Redis paused, sets go to the spool (--ack=redis: 503)");
    else log_("info", "redis_memory_below_low_water", describe(estimate, max) + ": writes to Redis resume");
}

GuardedSink::GuardedSink(QueueSink& inner, MemoryGuard& guard, metrics::Metrics* metrics)
    : inner_(inner), guard_(guard), metrics_(metrics) {}

// The guard's bookkeeping around one set, the same for both kinds of acknowledgement: counted from
// the hand-over to the answer, and a stored set counted for its queue.
template <class Ack>
auto GuardedSink::tracked(std::string_view key, std::size_t bytes, Ack ack) {
    guard_.handed(bytes);
    return [this, bytes, queue = queue_of_key(key), ack = std::move(ack)](WriteStatus s, auto&&... returned) {
        guard_.answered(bytes);
        if (s == WriteStatus::ok && metrics_ && queue >= 0) metrics_->queue_pushed(static_cast<unsigned>(queue));
        ack(s, std::forward<decltype(returned)>(returned)...);
    };
}

void GuardedSink::submit(std::string key, std::string value, WriteAck ack) {
    if (guard_.paused()) return ack(WriteStatus::overloaded);
    const std::size_t bytes = key.size() + value.size();
    auto done = tracked(key, bytes, std::move(ack));
    inner_.submit(std::move(key), std::move(value), std::move(done));
}

void GuardedSink::submit_or_return(std::string key, std::string value, ReturnAck ack) {
    if (guard_.paused()) return ack(WriteStatus::overloaded, std::move(key), std::move(value));
    const std::size_t bytes = key.size() + value.size();
    auto done = tracked(key, bytes, std::move(ack));
    inner_.submit_or_return(std::move(key), std::move(value), std::move(done));
}

long queue_of_key(std::string_view key) {
    constexpr std::string_view prefix = "trackingQueueV1";
    if (!key.starts_with(prefix)) return -1;
    key.remove_prefix(prefix.size());
    if (key.empty()) return 0;
    if (key.front() != '_' || key.size() < 2) return -1;
    key.remove_prefix(1);
    unsigned long n = 0;
    auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), n);
    if (ec != std::errc() || p != key.data() + key.size() || n > 65535) return -1;
    return static_cast<long>(n);
}

}  // namespace mgw::queue
