// Latency histogram for the load generator: log-linear buckets in the style of HdrHistogram.
// Values are nanoseconds; every power of two is split into 512 linear sub-buckets, so a recorded
// value is known to within 0.2% at any magnitude, with a fixed 224 KiB of counters and O(1) record.
// Each worker thread owns one; they are merged after the run.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <limits>

namespace mgw::bench {

class LatencyHistogram {
public:
    static constexpr unsigned kSubBits = 9;  // 512 sub-buckets per octave
    static constexpr std::uint64_t kSub = 1u << kSubBits;
    static constexpr unsigned kOctaves = 64 - kSubBits;  // covers the whole uint64 range
    static constexpr std::size_t kBuckets = (kOctaves + 1) * kSub;

    void record(std::uint64_t ns) {
        ++counts_[index_of(ns)];
        ++count_;
        sum_ += ns;
        min_ = std::min(min_, ns);
        max_ = std::max(max_, ns);
    }

    void merge(const LatencyHistogram& o) {
        for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
        count_ += o.count_;
        sum_ += o.sum_;
        min_ = std::min(min_, o.min_);
        max_ = std::max(max_, o.max_);
    }

    std::uint64_t count() const { return count_; }
    std::uint64_t max() const { return count_ ? max_ : 0; }
    std::uint64_t min() const { return count_ ? min_ : 0; }
    double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }

    // The value at quantile q (0..1): the highest value equivalent to the bucket holding the
    // ceil(q * count)-th smallest sample, clamped to the exact maximum (HdrHistogram's convention).
    std::uint64_t quantile(double q) const {
        if (count_ == 0) return 0;
        auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_) + 0.999999);
        rank = std::clamp<std::uint64_t>(rank, 1, count_);
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < kBuckets; ++i) {
            seen += counts_[i];
            if (seen >= rank) return std::min(highest_in(i), max_);
        }
        return max_;
    }

private:
    static std::size_t index_of(std::uint64_t v) {
        if (v < 2 * kSub) return static_cast<std::size_t>(v);  // exact below 1024 ns
        const unsigned shift = static_cast<unsigned>(std::bit_width(v)) - 1 - kSubBits;
        return static_cast<std::size_t>((shift + 1) * kSub + ((v >> shift) - kSub));
    }

    static std::uint64_t highest_in(std::size_t i) {
        if (i < 2 * kSub) return i;
        const std::uint64_t shift = i / kSub - 1;
        const std::uint64_t sub = i % kSub + kSub;
        return ((sub + 1) << shift) - 1;
    }

    std::array<std::uint64_t, kBuckets> counts_{};
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t max_ = 0;
};

}  // namespace mgw::bench
