// The queues in view and protected (README "Queue backlog and Redis memory"): per-queue lengths and
// oldest-set ages sampled from a real redis-server, the memory guard that sends sets to the spool
// before Redis runs out of memory, and the warnings about eviction policies and unprocessed queues.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <set>
#include <thread>

#include "queue/compressor.hpp"
#include "queue/request_set.hpp"
#include "support/gateway_process.hpp"
#include "support/http.hpp"
#include "support/metrics_text.hpp"
#include "support/poll.hpp"
#include "support/redis_server.hpp"

namespace {

using namespace mgw::test;
using namespace std::chrono_literals;

constexpr int kIntervalMs = 200;

// A request set as the gateway (or stock matomo.php) queues it, enqueued at `time`.
std::string queued_value(std::int64_t time, int level, const std::string& marker) {
    mgw::queue::RequestSet set;
    boost::json::object hit;
    hit["idsite"] = "1";
    hit["rec"] = "1";
    hit["action_name"] = marker;
    set.requests.emplace_back(std::move(hit));
    set.server = {{"REMOTE_ADDR", "192.0.2.1"}};
    set.time = time;
    return mgw::queue::compress_value(mgw::queue::encode_json(set), level);
}

std::string queue_series(const char* metric, unsigned q) {
    return std::string(metric) + "{queue=\"" + std::to_string(q) + "\"}";
}

bool wait_metric(const GatewayProcess& g, const std::string& series, double want, std::chrono::seconds limit = 20s) {
    return poll_until(Clock::now() + limit, [&] { return scrape_metric(g.admin_port(), series) == want; });
}

int get_hit(const GatewayProcess& g, int i) {
    const std::string target = "/matomo.php?idsite=1&rec=1&action_name=qv" + std::to_string(i) +
                               "&_id=" + std::string(16 - std::to_string(i % 10000).size(), 'a') +
                               std::to_string(i % 10000);
    return send_request(g.tracking_port(),
                        build_request("GET", target, {{"Host", "127.0.0.1"}, {"Connection", "close"}}))
        .status;
}

long long info_number(RedisServer& redis, const std::string& section, const std::string& field) {
    const auto info = redis.command({"INFO", section}).str;
    const auto pos = info.find(field + ":");
    return pos == std::string::npos ? -1 : std::stoll(info.substr(pos + field.size() + 1));
}

long long total_sets(RedisServer& redis) {
    long long n = 0;
    for (const auto& key : redis.queue_keys()) n += redis.command({"LLEN", key}).integer;
    return n;
}

}  // namespace

TEST_CASE("queue view 1: three queues of known lengths: /metrics shows each length exactly and each oldest age") {
    RedisServer redis;
    GatewayProcess gateway({"--redis", redis.url(), "--queues", "3", "--access-log", "false",
                            "--queue-sample-interval-ms", std::to_string(kIntervalMs)});
    gateway.wait_until_ready();
    // Queue 0 and 1 zlib-compressed as the gateway writes them, queue 2 plain JSON (level 0), as
    // both reach the workers. Each head set is older than the ones behind it.
    const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    const std::int64_t head_age[3] = {100, 200, 300};
    const long long lengths[3] = {5, 12, 30};
    const auto filled = Clock::now();
    for (unsigned q = 0; q < 3; ++q) {
        const std::string key = q == 0 ? "trackingQueueV1" : "trackingQueueV1_" + std::to_string(q);
        for (long long i = 0; i < lengths[q]; ++i)
            REQUIRE(redis.command({"RPUSH", key, queued_value(now - head_age[q] + i, q == 2 ? 0 : 1, "m")}).integer ==
                    i + 1);
    }
    for (unsigned q = 0; q < 3; ++q) {
        INFO("queue " << q);
        CHECK(wait_metric(gateway, queue_series("matomo_gateway_queue_length", q), static_cast<double>(lengths[q])));
        const double age =
            scrape_metric(gateway.admin_port(), queue_series("matomo_gateway_queue_oldest_age_seconds", q))
                .value_or(-1);
        // The age is computed from the set's whole-second time when scraped: at least the age it
        // was written with, at most that plus the time since (and the second being truncated).
        const double since = std::chrono::duration<double>(Clock::now() - filled).count();
        CHECK(age >= static_cast<double>(head_age[q]));
        CHECK(age <= static_cast<double>(head_age[q]) + since + 1);
    }
    CHECK(scrape_metric(gateway.admin_port(), "matomo_gateway_queue_samples_total{outcome=\"failed\"}") == 0);

    // Hits through the gateway: counted per queue, and the lengths grow by exactly as many sets.
    constexpr int hits = 40;
    for (int i = 0; i < hits; ++i) REQUIRE(get_hit(gateway, i) == 200);
    double pushed = 0;
    for (unsigned q = 0; q < 3; ++q)
        pushed +=
            scrape_metric(gateway.admin_port(), queue_series("matomo_gateway_queue_sets_pushed_total", q)).value_or(0);
    CHECK(pushed == hits);
    for (unsigned q = 0; q < 3; ++q) {
        const std::string key = q == 0 ? "trackingQueueV1" : "trackingQueueV1_" + std::to_string(q);
        const auto llen = redis.command({"LLEN", key}).integer;
        CHECK(scrape_metric(gateway.admin_port(), queue_series("matomo_gateway_queue_sets_pushed_total", q)) ==
              static_cast<double>(llen - lengths[q]));
        CHECK(wait_metric(gateway, queue_series("matomo_gateway_queue_length", q), static_cast<double>(llen)));
    }

    // A worker takes queue 1's lock and empties queue 0: the lock shows, queue 0 reads empty.
    REQUIRE(redis.command({"SET", "QueuedTrackingLock1", "abcdefghijkl", "EX", "60"}).type == RedisReply::Type::status);
    REQUIRE(redis.command({"DEL", "trackingQueueV1"}).integer == 1);
    CHECK(wait_metric(gateway, queue_series("matomo_gateway_queue_worker_lock", 1), 1));
    CHECK(scrape_metric(gateway.admin_port(), queue_series("matomo_gateway_queue_worker_lock", 2)) == 0);
    CHECK(wait_metric(gateway, queue_series("matomo_gateway_queue_length", 0), 0));
    CHECK(scrape_metric(gateway.admin_port(), queue_series("matomo_gateway_queue_oldest_age_seconds", 0)) == 0);
    // The monitor only reads: the lock is the worker's, untouched.
    CHECK(redis.command({"GET", "QueuedTrackingLock1"}).str == "abcdefghijkl");
}

TEST_CASE("queue view 2: the memory guard spools before Redis answers OOM, and resumes once memory is freed") {
    RedisServer redis;
    REQUIRE(redis.command({"CONFIG", "SET", "maxmemory-policy", "noeviction"}).type == RedisReply::Type::status);
    // 16 MB of something else (the way a shared Redis fills up), then maxmemory 20% above what is
    // used: the default high-water mark (0.9) leaves room for a few thousand sets before it.
    // Written as 512 values under 32 KB: one 16 MiB argument would leave a query buffer of its size
    // behind for a while, and used_memory read then would be far above what Redis keeps.
    std::vector<std::string> unrelated = {"DEL"};
    for (int i = 0; i < 512; ++i) {
        unrelated.push_back("unrelated:" + std::to_string(i));
        REQUIRE(redis.command({"SET", unrelated.back(), std::string(32000, 'x')}).type == RedisReply::Type::status);
    }
    const long long used = info_number(redis, "memory", "used_memory");
    REQUIRE(used > 512LL * 32000);
    const long long maxmemory = used * 12 / 10;
    REQUIRE(redis.command({"CONFIG", "SET", "maxmemory", std::to_string(maxmemory)}).type == RedisReply::Type::status);
    GatewayProcess gateway({"--redis", redis.url(), "--queues", "4", "--access-log", "false",
                            "--queue-sample-interval-ms", std::to_string(kIntervalMs), "--spool-replay-rate", "50000"});
    gateway.wait_until_ready();
    REQUIRE(wait_metric(gateway, "matomo_gateway_redis_maxmemory_bytes", static_cast<double>(maxmemory)));

    // Hits from 4 clients until the guard has paused writes and some thousand more were spooled.
    std::atomic<int> next{0}, acknowledged{0}, other{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t)
        clients.emplace_back([&] {
            while (!stop) {
                const int s = get_hit(gateway, next++);
                (s == 200 ? acknowledged : other)++;
            }
        });
    const bool paused = wait_metric(gateway, "matomo_gateway_redis_memory_guard_paused", 1, 120s);
    const bool spooled = poll_until(Clock::now() + 120s, [&] {
        return scrape_metric(gateway.admin_port(), "matomo_gateway_sets_acknowledged_total{via=\"spool\"}") >= 1000;
    });
    stop = true;
    for (auto& c : clients) c.join();
    INFO("gateway stdout:\n" << join_lines(gateway.output_lines()));
    REQUIRE(paused);
    REQUIRE(spooled);
    CHECK(other == 0);
    CHECK(info_number(redis, "memory", "used_memory") < maxmemory);
    // Redis never refused a write: no OOM error in its own statistics, none seen by the writer.
    CHECK(redis.command({"INFO", "errorstats"}).str.find("errorstat_OOM") == std::string::npos);
    CHECK(scrape_metric(gateway.admin_port(), "matomo_gateway_redis_writes_total{outcome=\"error_reply\"}") == 0);
    CHECK(scrape_metric(gateway.admin_port(), "matomo_gateway_redis_memory_guard_pauses_total") >= 1);
    CHECK(gateway.wait_for_line(
        [](std::string_view l) { return l.find("\"event\":\"redis_memory_high_water\"") != std::string_view::npos; }));

    // Memory freed: the guard resumes below the low-water mark, the spool drains into Redis.
    REQUIRE(redis.command(unrelated).integer == 512);
    CHECK(wait_metric(gateway, "matomo_gateway_redis_memory_guard_paused", 0, 60s));
    CHECK(wait_metric(gateway, "matomo_gateway_spool_records", 0, 120s));
    CHECK(gateway.wait_for_line([](std::string_view l) {
        return l.find("\"event\":\"redis_memory_below_low_water\"") != std::string_view::npos;
    }));
    // Every acknowledged hit is one set in Redis (one hit per request), none twice (no reply was lost).
    CHECK(scrape_metric(gateway.admin_port(), "matomo_gateway_spool_possible_duplicates_total") == 0);
    CHECK(total_sets(redis) == acknowledged.load());
    CHECK(redis.command({"INFO", "errorstats"}).str.find("errorstat_OOM") == std::string::npos);
}

TEST_CASE("queue view 3: maxmemory-policy allkeys-lru gives a start-up warning and a metric") {
    RedisServer redis;
    REQUIRE(redis.command({"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"}).type == RedisReply::Type::status);
    GatewayProcess gateway(
        {"--redis", redis.url(), "--access-log", "false", "--queue-sample-interval-ms", std::to_string(kIntervalMs)});
    gateway.wait_until_ready();
    const auto line = gateway.wait_for_line(
        [](std::string_view l) { return l.find("\"event\":\"redis_eviction_policy\"") != std::string_view::npos; });
    REQUIRE(line);
    CHECK(line->find("\"level\":\"warn\"") != std::string::npos);
    CHECK(line->find("allkeys-lru") != std::string::npos);
    CHECK(wait_metric(gateway, "matomo_gateway_redis_eviction_policy_unsafe", 1));
    CHECK(scrape_metric(gateway.admin_port(), "matomo_gateway_redis_maxmemory_policy{policy=\"allkeys-lru\"}") == 1);
    // Fixed in Redis: the metric follows at the next sample, under the new label only.
    REQUIRE(redis.command({"CONFIG", "SET", "maxmemory-policy", "noeviction"}).type == RedisReply::Type::status);
    CHECK(wait_metric(gateway, "matomo_gateway_redis_eviction_policy_unsafe", 0));
    CHECK(scrape_metric(gateway.admin_port(), "matomo_gateway_redis_maxmemory_policy{policy=\"noeviction\"}") == 1);
    CHECK(scrape_metric(gateway.admin_port(), "matomo_gateway_redis_maxmemory_policy{policy=\"allkeys-lru\"}") ==
          std::nullopt);
}

TEST_CASE("queue view 4: with --ack=redis the guard answers 503 above the high-water mark and 200 below the low one") {
    RedisServer redis;
    const long long used = info_number(redis, "memory", "used_memory");
    // maxmemory just above what is used: already over the high-water mark (0.9), not yet full.
    REQUIRE(redis.command({"CONFIG", "SET", "maxmemory", std::to_string(used * 105 / 100)}).type ==
            RedisReply::Type::status);
    GatewayProcess gateway(
        {"--redis", redis.url(), "--ack", "redis", "--queue-sample-interval-ms", std::to_string(kIntervalMs)});
    REQUIRE(wait_metric(gateway, "matomo_gateway_redis_memory_guard_paused", 1));
    const auto readyz = send_request(gateway.admin_port(),
                                     build_request("GET", "/readyz", {{"Host", "127.0.0.1"}, {"Connection", "close"}}));
    CHECK(readyz.status == 503);
    CHECK(readyz.body.find("redis memory above high-water mark") != std::string::npos);
    CHECK(get_hit(gateway, 1) == 503);
    CHECK(gateway.wait_for_line([](std::string_view l) {
        return l.find("\"event\":\"access\"") != std::string_view::npos &&
               l.find("\"reason\":\"redis_memory_high_water\"") != std::string_view::npos;
    }));
    CHECK(total_sets(redis) == 0);
    REQUIRE(redis.command({"CONFIG", "SET", "maxmemory", "0"}).type == RedisReply::Type::status);
    CHECK(wait_metric(gateway, "matomo_gateway_redis_memory_guard_paused", 0));
    gateway.wait_until_ready();
    CHECK(get_hit(gateway, 2) == 200);
    CHECK(total_sets(redis) == 1);
}

TEST_CASE("queue view 5: at start-up, configured queues whose sets wait for longer than an hour are reported") {
    RedisServer redis;
    const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    REQUIRE(redis.command({"RPUSH", "trackingQueueV1", queued_value(now - 10, 1, "fresh")}).integer == 1);
    REQUIRE(redis.command({"RPUSH", "trackingQueueV1_1", queued_value(now - 7200, 1, "stale")}).integer == 1);
    REQUIRE(redis.command({"RPUSH", "trackingQueueV1_2", queued_value(now - 7200, 1, "locked")}).integer == 1);
    REQUIRE(redis.command({"SET", "QueuedTrackingLock2", "abcdefghijkl", "EX", "60"}).type == RedisReply::Type::status);
    GatewayProcess gateway({"--redis", redis.url(), "--queues", "3", "--access-log", "false",
                            "--queue-sample-interval-ms", std::to_string(kIntervalMs), "--queue-stale-after-s",
                            "3600"});
    const auto line = gateway.wait_for_line(
        [](std::string_view l) { return l.find("\"event\":\"queue_unprocessed\"") != std::string_view::npos; });
    REQUIRE(line);
    CHECK(line->find("trackingQueueV1_1 (1 sets") != std::string::npos);
    CHECK(line->find("1 queue(s)") != std::string::npos);  // queue 0 is fresh, queue 2 has its worker
}
