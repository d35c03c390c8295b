// metrics::ShardedHistogram and ShardedAdd: observations and additions from many threads, without a
// lock, reach the prometheus-cpp histogram, counter or gauge at flush with the values that direct
// updates would give.
#include "metrics/sharded.hpp"

#include <catch2/catch.hpp>

#include <prometheus/registry.h>

#include <thread>
#include <vector>

namespace {

prometheus::ClientMetric::Histogram collect(prometheus::Registry& reg) {
    const auto families = reg.Collect();
    REQUIRE(families.size() == 1);
    REQUIRE(families[0].metric.size() == 1);
    return families[0].metric[0].histogram;
}

}  // namespace

TEST_CASE("sharded histogram: observations from 24 threads reach the histogram at flush") {
    const std::vector<double> bounds{0.001, 0.01, 0.1, 1};
    prometheus::Registry reg;
    auto& target = prometheus::BuildHistogram().Name("t_seconds").Help("t").Register(reg).Add({}, bounds);
    mgw::metrics::ShardedHistogram h(target, bounds);

    // Each thread observes 0.0005 (first bucket), 0.05 (third) and 5 (+Inf), 1000 times each: more
    // threads than shards, so some share one.
    std::vector<std::thread> threads;
    for (int t = 0; t < 24; ++t)
        threads.emplace_back([&h] {
            for (int i = 0; i < 1000; ++i) {
                h.observe(0.0005);
                h.observe(0.05);
                h.observe(5);
            }
        });
    for (auto& t : threads) t.join();
    CHECK(collect(reg).sample_count == 0);  // nothing before the flush

    h.flush();
    auto m = collect(reg);
    CHECK(m.sample_count == 72000);
    CHECK(m.sample_sum == Approx(24000 * (0.0005 + 0.05 + 5)));
    REQUIRE(m.bucket.size() == 5);  // cumulative, +Inf last
    CHECK(m.bucket[0].cumulative_count == 24000);
    CHECK(m.bucket[1].cumulative_count == 24000);
    CHECK(m.bucket[2].cumulative_count == 48000);
    CHECK(m.bucket[3].cumulative_count == 48000);
    CHECK(m.bucket[4].cumulative_count == 72000);

    // A value equal to a boundary belongs to that boundary's bucket, as prometheus-cpp decides.
    h.observe(0.01);
    h.flush();
    h.flush();  // a second flush with nothing new changes nothing
    m = collect(reg);
    CHECK(m.sample_count == 72001);
    CHECK(m.bucket[1].cumulative_count == 24001);
}

TEST_CASE("sharded counter and gauge: additions from 24 threads reach the metric at flush, once") {
    prometheus::Registry reg;
    auto& counter = prometheus::BuildCounter().Name("c_total").Help("c").Register(reg).Add({});
    auto& gauge = prometheus::BuildGauge().Name("g").Help("g").Register(reg).Add({});
    mgw::metrics::ShardedAdd<prometheus::Counter> c(counter);
    mgw::metrics::ShardedAdd<prometheus::Gauge> g(gauge);
    // Each thread counts 1000 and moves the gauge up by 3 and down by 1 a thousand times; the gauge's
    // ups and downs of one hit may happen on different threads (a set answered on another thread).
    std::vector<std::thread> threads;
    for (int t = 0; t < 24; ++t)
        threads.emplace_back([&c, &g, t] {
            for (int i = 0; i < 1000; ++i) {
                c.add(1);
                g.add(t % 2 == 0 ? 3 : -1);
            }
        });
    for (auto& t : threads) t.join();
    CHECK(counter.Value() == 0);  // nothing before the flush
    c.flush();
    g.flush();
    CHECK(counter.Value() == 24000);
    CHECK(gauge.Value() == 12 * 3000 - 12 * 1000);
    c.flush();  // nothing new: nothing changes
    g.add(-24000);
    g.flush();
    CHECK(counter.Value() == 24000);
    CHECK(gauge.Value() == 0);
}
