// The pure parts of the queue monitor and the memory guard: decoding a queued set's time, the
// eviction policies, queue numbers from keys, and the guard's hysteresis and between-sample estimate.
#include <catch2/catch.hpp>

#include "queue/compressor.hpp"
#include "queue/memory_guard.hpp"
#include "queue/queue_monitor.hpp"
#include "queue/request_set.hpp"

#include <string>
#include <thread>
#include <vector>

using namespace mgw::queue;

namespace {

std::string value_at(std::int64_t time, int level, std::size_t padding = 0) {
    RequestSet set;
    boost::json::object hit;
    hit["idsite"] = "1";
    hit["action_name"] = std::string(padding, 'p');
    set.requests.emplace_back(std::move(hit));
    set.server = {{"REMOTE_ADDR", "192.0.2.1"}};
    set.time = time;
    return compress_value(encode_json(set), level);
}

struct LogLines {
    std::vector<std::string> events;
    WriterLog fn() {
        return [this](std::string_view, std::string_view event, std::string_view) { events.emplace_back(event); };
    }
};

}  // namespace

TEST_CASE("queue monitor: the time of a queued set, compressed or plain, of any size") {
    CHECK(request_set_time(value_at(1700000000, 1)) == 1700000000);
    CHECK(request_set_time(value_at(1700000001, 9)) == 1700000001);
    CHECK(request_set_time(value_at(1700000002, 0)) == 1700000002);
    // Larger than the first decompression buffer (and highly compressible): the buffer grows.
    const std::string big = value_at(1700000003, 1, 1u << 20);
    REQUIRE(big.size() < std::size_t{64} * 1024);
    CHECK(request_set_time(big) == 1700000003);
    // PHP may write the time as a numeric string.
    CHECK(request_set_time(R"({"requests":[],"time":"1700000004"})") == 1700000004);
    // Not a request set: no time, no crash.
    CHECK_FALSE(request_set_time(""));
    CHECK_FALSE(request_set_time("set"));
    CHECK_FALSE(request_set_time("{not json"));
    CHECK_FALSE(request_set_time(R"({"requests":[]})"));
    CHECK_FALSE(request_set_time(R"({"time":"soon"})"));
    std::string truncated = value_at(1700000005, 1);
    truncated.resize(truncated.size() / 2);
    CHECK_FALSE(request_set_time(truncated));
}

TEST_CASE("queue monitor: which maxmemory policies can evict queues or worker locks") {
    for (const char* p : {"allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu",
                          "volatile-random", "volatile-ttl"})
        CHECK(policy_can_evict(p));
    CHECK_FALSE(policy_can_evict("noeviction"));
    CHECK_FALSE(policy_can_evict(""));
}

TEST_CASE("memory guard: queue numbers of QueuedTracking keys") {
    CHECK(queue_of_key("trackingQueueV1") == 0);
    CHECK(queue_of_key("trackingQueueV1_1") == 1);
    CHECK(queue_of_key("trackingQueueV1_4095") == 4095);
    CHECK(queue_of_key("trackingQueueV1_") == -1);
    CHECK(queue_of_key("trackingQueueV1_x") == -1);
    CHECK(queue_of_key("trackingQueueV1_1x") == -1);
    CHECK(queue_of_key("trackingQueueV2") == -1);
    CHECK(queue_of_key("QueuedTrackingLock1") == -1);
}

TEST_CASE("memory guard: pauses at the high-water mark, resumes only below the low-water mark") {
    LogLines log;
    MemoryGuard guard({0.9, 0.8}, nullptr, log.fn());
    guard.sampled(850, 1000, guard.mark());
    CHECK_FALSE(guard.paused());
    guard.sampled(900, 1000, guard.mark());
    CHECK(guard.paused());
    guard.sampled(850, 1000, guard.mark());  // between the marks: stays paused
    CHECK(guard.paused());
    guard.sampled(799, 1000, guard.mark());
    CHECK_FALSE(guard.paused());
    guard.sampled(0, 0, guard.mark());  // no maxmemory: never paused
    CHECK_FALSE(guard.paused());
    CHECK(log.events == std::vector<std::string>{"redis_memory_high_water", "redis_memory_below_low_water"});
}

TEST_CASE("memory guard: bytes handed to Redis after a sample count on top of it") {
    MemoryGuard guard({0.9, 0.8}, nullptr, {});
    guard.sampled(10000, 100000, guard.mark());
    // Sets of 800 bytes (864 with the per-set overhead) until the estimate reaches 90% of 100,000.
    int handed = 0;
    while (!guard.paused() && handed < 100) {
        guard.handed(800);
        ++handed;
    }
    CHECK(guard.paused());
    CHECK(handed == 93);  // 10,000 + 93 x 864 = 90,352 >= 90,000; 92 sets give 89,488
    // Sets still unanswered when the next sample is requested keep counting: the mark excludes them.
    const auto mark = guard.mark();
    guard.sampled(10000, 100000, mark);
    CHECK(guard.estimate() == 10000 + 93 * (800 + MemoryGuard::kPerSetOverhead));
    for (int i = 0; i < handed; ++i) guard.answered(800);
    guard.sampled(10000, 100000, guard.mark());
    CHECK(guard.estimate() == 10000);
    CHECK_FALSE(guard.paused());
    // Off: never pauses.
    MemoryGuard off({0, 0.8}, nullptr, {});
    off.sampled(999, 1000, off.mark());
    CHECK_FALSE(off.paused());
}

TEST_CASE("memory guard: sets handed on several threads and answered on another are all counted") {
    MemoryGuard guard({0.9, 0.8}, nullptr, {});
    guard.sampled(1000, 10'000'000, guard.mark());
    constexpr std::uint64_t kThreads = 3, kSets = 500;
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (std::uint64_t t = 0; t < kThreads; ++t)
        threads.emplace_back([&guard] {
            for (std::uint64_t i = 0; i < kSets; ++i) guard.handed(100);
        });
    for (auto& t : threads) t.join();
    constexpr std::uint64_t kEach = 100 + MemoryGuard::kPerSetOverhead;
    CHECK(guard.estimate() == 1000 + kThreads * kSets * kEach);
    // Answered here, on a thread that handed nothing: the unanswered bytes leave the mark.
    for (std::uint64_t i = 0; i < kThreads * kSets - 10; ++i) guard.answered(100);
    guard.sampled(1000, 10'000'000, guard.mark());
    CHECK(guard.estimate() == 1000 + 10 * kEach);
    CHECK_FALSE(guard.paused());
}
