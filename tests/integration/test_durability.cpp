// The durability promise (README "Guarantees"), under faults injected into real processes: a hit
// answered 2xx is in Redis, or in the fsync'ed spool that reaches Redis later. Each case drives a
// load of uniquely marked hits, injects the fault, recovers, waits for the spool to drain, and
// counts the answers against what Redis holds, decoded by php as the QueuedTracking worker does.
//
// Delivery is at least once: a set whose Redis reply was lost is spooled (or replayed) again and
// may be stored twice. Every such set is counted in matomo_gateway_spool_possible_duplicates_total,
// and each case checks that the extra copies in Redis stay within that count.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>
#include <csignal>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "spool/record.hpp"
#include "support/gateway_process.hpp"
#include "support/http.hpp"
#include "support/metrics_text.hpp"
#include "support/php.hpp"
#include "support/poll.hpp"
#include "support/redis_server.hpp"

namespace {

using namespace mgw::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// One sample of the gateway's /metrics, e.g. "matomo_gateway_spool_records" or
// "matomo_gateway_sets_acknowledged_total{via=\"spool\"}"; -1 when absent or unreachable.
double metric(const GatewayProcess& gateway, const std::string& series) {
    return scrape_metric(gateway.admin_port(), series).value_or(-1);
}

int readyz(const GatewayProcess& gateway, std::string* body = nullptr) {
    const auto r = send_request(gateway.admin_port(),
                                build_request("GET", "/readyz", {{"Host", "127.0.0.1"}, {"Connection", "close"}}), 10s);
    if (body) *body = r.body;
    return r.status;
}

// Waits until Redis is connected (a thread whose own writer is still reconnecting lends another's)
// and the spool is empty: everything spooled has been replayed.
void wait_for_drained_spool(const GatewayProcess& gateway, std::chrono::seconds limit = 120s) {
    double left = -1;
    const bool drained = poll_until(Clock::now() + limit, [&] {
        left = metric(gateway, "matomo_gateway_spool_records");
        return left == 0 && metric(gateway, "matomo_gateway_redis_up") >= 1;
    });
    INFO("gateway stdout:\n" << join_lines(gateway.output_lines()));
    if (!drained) FAIL("the spool still holds " << left << " sets after " << limit.count() << " s");
}

// Hits from several keep-alive connections, each with a unique mk= marker (and visitor id),
// sorted by how the gateway answered: 2xx (acknowledged), 503 (refused, must carry Retry-After),
// not taken (connection refused, or closed before any answer: the client may retry), and lost in
// flight (a request written on an open connection that timed out unanswered).
class Load {
public:
    Load(std::uint16_t port, int connections, int total) : port_(port), total_(total) {
        for (int t = 0; t < connections; ++t) threads_.emplace_back([this, t] { run(t); });
    }
    ~Load() { join(); }

    void join() {
        stop_ = true;
        for (auto& t : threads_)
            if (t.joinable()) t.join();
    }
    // Lets the load run to its total, then joins.
    void finish() {
        for (auto& t : threads_)
            if (t.joinable()) t.join();
    }
    // Waits (bounded) until `n` hits have been acknowledged in all.
    bool wait_acknowledged(long n, std::chrono::seconds limit = 120s) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, limit, [&] {
            return static_cast<long>(acknowledged_.size()) >= n || done_ == threads_.size();
        }) && static_cast<long>(acknowledged_.size()) >= n;
    }
    long acknowledged_count() {
        std::lock_guard lock(mu_);
        return static_cast<long>(acknowledged_.size());
    }

    std::set<std::string> acknowledged() {
        std::lock_guard lock(mu_);
        return acknowledged_;
    }
    std::set<std::string> sent() {
        std::lock_guard lock(mu_);
        return sent_;
    }
    long refused = 0, refused_without_retry_after = 0, not_taken = 0, lost_in_flight = 0, other_status = 0;
    std::map<std::string, std::string> not_taken_reasons;  // marker -> what the client saw

private:
    void run(int t) {
        std::unique_ptr<Connection> conn;
        for (;;) {
            const int i = next_.fetch_add(1);
            if (i >= total_ || stop_) break;
            const std::string marker = "h" + std::to_string(i);
            char id[17];
            std::snprintf(id, sizeof id, "%016x", i);
            int status = 0;
            bool timed_out = false;
            bool retry_after = false;
            std::string error;
            try {
                if (!conn) conn = std::make_unique<Connection>(port_, 30s);
                {
                    std::lock_guard lock(mu_);
                    sent_.insert(marker);
                }
                auto r = conn->send(build_request(
                    "GET", "/matomo.php?idsite=1&rec=1&send_image=0&_id=" + std::string(id) + "&mk=" + marker,
                    {{"Host", "127.0.0.1"}, {"Connection", "keep-alive"}}));
                status = r.status;
                retry_after = r.header("Retry-After").has_value();
                if (!r.keep_alive) conn.reset();
            } catch (const std::exception& e) {
                error = e.what();
                timed_out = std::string_view(e.what()).find("timed out") != std::string_view::npos;
                conn.reset();
            }
            std::lock_guard lock(mu_);
            if (status >= 200 && status < 300) acknowledged_.insert(marker);
            else if (status == 503) ++refused, refused_without_retry_after += !retry_after;
            else if (status != 0) ++other_status;
            else if (timed_out) ++lost_in_flight;
            else ++not_taken, not_taken_reasons[marker] = error;
            cv_.notify_all();
        }
        std::lock_guard lock(mu_);
        ++done_;
        cv_.notify_all();
        (void)t;
    }

    std::uint16_t port_;
    int total_;
    std::atomic<int> next_{0};
    std::atomic<bool> stop_{false};
    std::vector<std::thread> threads_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::size_t done_ = 0;
    std::set<std::string> acknowledged_;
    std::set<std::string> sent_;
};

// What Redis holds, hit by hit, by marker.
struct Stored {
    std::map<std::string, int> times;
    long hits = 0;
    long undecodable = 0;
};

Stored stored_hits(RedisServer& redis) {
    Stored out;
    for (const auto& key : redis.queue_keys()) {
        for (const auto& set : php_decode_queue_values(redis.lrange_all(key))) {
            if (!set.is_object() || !set.as_object().contains("requests")) {
                ++out.undecodable;
                continue;
            }
            for (const auto& hit : set.at("requests").as_array()) {
                ++out.hits;
                ++out.times[std::string(hit.at("mk").as_string())];
            }
        }
    }
    return out;
}

// The promise, checked: nothing acknowledged is missing, nothing stored was never sent, and extra
// copies stay within what the gateway counted as possible duplicates.
void check_promise(const std::set<std::string>& acknowledged, const std::set<std::string>& sent, const Stored& stored,
                   double possible_duplicates) {
    std::vector<std::string> lost, unknown;
    long extra_copies = 0;
    for (const auto& m : acknowledged)
        if (!stored.times.contains(m)) lost.push_back(m);
    for (const auto& [m, n] : stored.times) {
        extra_copies += n - 1;
        if (!sent.contains(m)) unknown.push_back(m);
    }
    INFO("acknowledged " << acknowledged.size() << ", stored hits " << stored.hits << " (" << stored.times.size()
                         << " distinct), extra copies " << extra_copies << ", possible duplicates counted "
                         << possible_duplicates);
    // One line per case in the test output: what docs/operations.md quotes.
    std::printf(
        "durability: acknowledged %zu, stored %ld hits (%zu distinct), extra copies %ld, possible duplicates counted "
        "%.0f\n",
        acknowledged.size(), stored.hits, stored.times.size(), extra_copies, possible_duplicates);
    INFO("lost: " << lost.size() << (lost.empty() ? "" : " first " + lost.front()));
    CHECK(stored.undecodable == 0);
    CHECK(lost.empty());
    CHECK(unknown.empty());
    CHECK(extra_copies <= static_cast<long>(possible_duplicates));
}

// The fault's duration is part of the scenario ("restarted 5 s later"), not a synchronisation:
// the load keeps running meanwhile and every check afterwards waits for observable state.
void hold_fault_for(std::chrono::seconds d) { std::this_thread::sleep_for(d); }

std::vector<std::string> gateway_args(const RedisServer& redis, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {
        "--redis", redis.url(),           "--queues", "4", "--access-log", "false", "--redis-reply-timeout-ms",
        "1000",    "--spool-replay-rate", "50000"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

}  // namespace

TEST_CASE(
    "durability 1: redis-server SIGKILLed during a 20,000-hit load and restarted 5 s later, every acknowledged hit is "
    "in Redis") {
    RedisServer redis({.append_only = true});
    GatewayProcess gateway(gateway_args(redis));
    gateway.wait_until_ready();
    Load load(gateway.tracking_port(), 8, 20000);
    REQUIRE(load.wait_acknowledged(4000));
    redis.kill();
    hold_fault_for(5s);
    redis.restart();
    load.finish();
    wait_for_drained_spool(gateway);
    INFO("gateway stdout:\n" << join_lines(gateway.output_lines()));
    INFO("refused " << load.refused << ", not taken " << load.not_taken << ", lost in flight " << load.lost_in_flight
                    << ", other status " << load.other_status);
    // With the spool, Redis being away costs no answer: every one of the 20,000 hits was acknowledged.
    CHECK(load.acknowledged_count() == 20000);
    CHECK(metric(gateway, "matomo_gateway_sets_acknowledged_total{via=\"spool\"}") > 0);
    CHECK(load.lost_in_flight == 0);
    CHECK(load.refused == 0);
    check_promise(load.acknowledged(), load.sent(), stored_hits(redis),
                  metric(gateway, "matomo_gateway_spool_possible_duplicates_total"));
}

TEST_CASE(
    "durability 2: Redis paused with SIGSTOP for 10 s during load and resumed, every acknowledged hit is in Redis") {
    RedisServer redis;
    GatewayProcess gateway(gateway_args(redis));
    gateway.wait_until_ready();
    Load load(gateway.tracking_port(), 8, 20000);
    REQUIRE(load.wait_acknowledged(4000));
    redis.pause();
    hold_fault_for(10s);
    redis.resume();
    load.finish();
    wait_for_drained_spool(gateway);
    INFO("gateway stdout:\n" << join_lines(gateway.output_lines()));
    CHECK(metric(gateway, "matomo_gateway_sets_acknowledged_total{via=\"spool\"}") > 0);
    CHECK(load.lost_in_flight == 0);
    CHECK(load.refused == 0);
    check_promise(load.acknowledged(), load.sent(), stored_hits(redis),
                  metric(gateway, "matomo_gateway_spool_possible_duplicates_total"));
}

TEST_CASE(
    "durability 3: Redis at maxmemory with noeviction refuses writes, hits go to the spool and are replayed once "
    "memory is freed") {
    RedisServer redis;
    // The memory guard off: this case is about Redis refusing writes (the guard: queue view 2).
    GatewayProcess gateway(gateway_args(redis, {"--redis-memory-high-water", "0"}));
    gateway.wait_until_ready();
    Load load(gateway.tracking_port(), 8, 8000);
    REQUIRE(load.wait_acknowledged(1000));
    // Redis refuses every write from here on: OOM command not allowed when used memory > 'maxmemory'.
    REQUIRE(redis.command({"CONFIG", "SET", "maxmemory-policy", "noeviction"}).type == RedisReply::Type::status);
    REQUIRE(redis.command({"CONFIG", "SET", "maxmemory", "1"}).type == RedisReply::Type::status);
    // The load goes on; wait until the spool has taken 1,000 of its sets.
    double spooled = 0;
    REQUIRE(poll_until(Clock::now() + 120s, [&] {
        spooled = metric(gateway, "matomo_gateway_sets_acknowledged_total{via=\"spool\"}");
        return spooled >= 1000;
    }));
    CHECK(metric(gateway, "matomo_gateway_redis_writes_total{outcome=\"error_reply\"}") > 0);
    REQUIRE(redis.command({"CONFIG", "SET", "maxmemory", "0"}).type == RedisReply::Type::status);
    load.finish();
    wait_for_drained_spool(gateway);
    CHECK(metric(gateway, "matomo_gateway_spool_replayed_total") >= spooled);
    CHECK(load.refused == 0);
    check_promise(load.acknowledged(), load.sent(), stored_hits(redis),
                  metric(gateway, "matomo_gateway_spool_possible_duplicates_total"));
}

TEST_CASE(
    "durability 8: a queue key holding another type (WRONGTYPE) sends its sets to the spool, replay waits for the key "
    "to be fixed, then every acknowledged hit is in Redis") {
    RedisServer redis;
    // An operator mistake the gateway cannot mend: trackingQueueV1 is a string, so RPUSH to it fails.
    REQUIRE(redis.command({"SET", "trackingQueueV1", "not a list"}).type == RedisReply::Type::status);
    GatewayProcess gateway(gateway_args(redis));
    gateway.wait_until_ready();
    Load load(gateway.tracking_port(), 8, 4000);
    REQUIRE(load.wait_acknowledged(2000));
    // Redis's own words reach the log, and replay keeps trying instead of dropping the set.
    const auto line = gateway.wait_for_line(
        [](std::string_view l) {
            return l.find("\"redis_error_reply\"") != std::string_view::npos &&
                   l.find("WRONGTYPE") != std::string_view::npos;
        },
        60s);
    CHECK(line.has_value());
    CHECK(poll_until(Clock::now() + 60s,
                     [&] { return metric(gateway, "matomo_gateway_spool_replay_failures_total") > 0; }));
    CHECK(metric(gateway, "matomo_gateway_spool_records") > 0);
    CHECK(metric(gateway, "matomo_gateway_sets_acknowledged_total{via=\"spool\"}") > 0);
    // Fixed: the stranded sets arrive, in the queue the plugin reads.
    REQUIRE(redis.command({"DEL", "trackingQueueV1"}).type == RedisReply::Type::integer);
    load.finish();
    wait_for_drained_spool(gateway);
    CHECK(load.refused == 0);
    check_promise(load.acknowledged(), load.sent(), stored_hits(redis),
                  metric(gateway, "matomo_gateway_spool_possible_duplicates_total"));
}

TEST_CASE("durability 4: gateway SIGTERM during load, every hit in flight is answered and lands, exit status 0") {
    RedisServer redis;
    GatewayProcess gateway(gateway_args(redis, {"--drain-delay-ms", "200"}));
    gateway.wait_until_ready();
    Load load(gateway.tracking_port(), 8, 20000);
    REQUIRE(load.wait_acknowledged(4000));
    const int status = gateway.terminate();
    load.finish();
    INFO("gateway stdout:\n" << join_lines(gateway.output_lines()));
    CHECK(status == 0);
    // Requests after the listener closed were refused at connect, or their connection was closed
    // before the gateway read them (allowed: not taken); one read after the last in-flight hit was
    // answered gets 503 + Retry-After. None written was left unanswered.
    CHECK(load.lost_in_flight == 0);
    CHECK(load.other_status == 0);
    CHECK(load.refused_without_retry_after == 0);
    // And nothing the gateway stored went unanswered: a stored hit whose client saw its connection
    // close would be one the drain cut off.
    const Stored stored = stored_hits(redis);
    const auto acked = load.acknowledged();
    std::vector<std::string> cut_off;
    for (const auto& [m, n] : stored.times)
        if (!acked.contains(m)) cut_off.push_back(m + " (" + load.not_taken_reasons[m] + ")");
    INFO("stored but not answered: " << cut_off.size() << (cut_off.empty() ? "" : ", first " + cut_off.front()));
    CHECK(cut_off.empty());
    check_promise(acked, load.sent(), stored, 0);
}

TEST_CASE(
    "durability 5: gateway SIGKILLed during load with the default --ack, every acknowledged hit is in Redis after the "
    "restart") {
    RedisServer redis({.append_only = true});
    const std::string spool_dir = make_temp_dir("mgw-durability-spool");
    std::set<std::string> acknowledged, sent;
    double first_possible_duplicates = 0, spooled_before_kill = 0;
    {
        GatewayProcess gateway(gateway_args(redis, {"--spool-dir", spool_dir}));
        gateway.wait_until_ready();
        Load load(gateway.tracking_port(), 8, 20000);
        REQUIRE(load.wait_acknowledged(3000));  // into Redis
        redis.kill();
        // With Redis dead nothing is replayed, so the spool only grows: once it holds 3,000 sets, at
        // least as many as last seen here are on disk when the gateway is killed.
        REQUIRE(
            poll_until(Clock::now() + 120s, [&] { return metric(gateway, "matomo_gateway_spool_records") >= 3000; }));
        spooled_before_kill = metric(gateway, "matomo_gateway_spool_records");
        // Sets whose reply the Redis kill cut off were spooled and counted here; read it while it lives.
        first_possible_duplicates = metric(gateway, "matomo_gateway_spool_possible_duplicates_total");
        gateway.signal(SIGKILL);
        load.join();
        acknowledged = load.acknowledged();
        sent = load.sent();
        CHECK(load.lost_in_flight == 0);
    }
    redis.restart();
    GatewayProcess restarted(gateway_args(redis, {"--spool-dir", spool_dir}));
    restarted.wait_until_ready();
    wait_for_drained_spool(restarted);
    INFO("restarted gateway stdout:\n" << join_lines(restarted.output_lines()));
    CHECK(metric(restarted, "matomo_gateway_spool_recovered_total") >= spooled_before_kill);
    check_promise(acknowledged, sent, stored_hits(redis),
                  first_possible_duplicates + metric(restarted, "matomo_gateway_spool_possible_duplicates_total"));
    std::error_code ignored;
    fs::remove_all(spool_dir, ignored);
}

TEST_CASE("durability 6: spool full: 503 with Retry-After, /readyz 503, no acknowledged hit lost") {
    RedisServer redis;
    GatewayProcess gateway(gateway_args(redis, {"--spool-max-bytes", "262144", "--spool-segment-bytes", "65536"}));
    gateway.wait_until_ready();
    redis.kill();
    // Redis is gone: every hit goes to the spool until it is full.
    Load load(gateway.tracking_port(), 2, 5000);
    load.finish();
    INFO("gateway stdout:\n" << join_lines(gateway.output_lines()));
    CHECK(load.acknowledged_count() > 100);
    CHECK(load.refused > 0);
    CHECK(load.refused_without_retry_after == 0);
    std::string body;
    CHECK(readyz(gateway, &body) == 503);
    CHECK(body.find("spool full") != std::string::npos);
    CHECK(metric(gateway, "matomo_gateway_spool_appends_total{outcome=\"full\"}") > 0);
    CHECK(metric(gateway, "matomo_gateway_spool_bytes") <= 262144);
    redis.restart();
    wait_for_drained_spool(gateway);
    CHECK(poll_until(Clock::now() + 30s, [&] { return readyz(gateway) == 200; }));
    check_promise(load.acknowledged(), load.sent(), stored_hits(redis),
                  metric(gateway, "matomo_gateway_spool_possible_duplicates_total"));
}

TEST_CASE(
    "durability 7: a damaged and a truncated spool segment at start-up: the gateway starts, replays the valid records, "
    "reports the rest") {
    RedisServer redis;
    const std::string spool_dir = make_temp_dir("mgw-durability-spool");
    std::set<std::string> acknowledged, sent;
    {
        // Spool 100 hits while nothing listens on the Redis port, then stop cleanly.
        RedisServer nowhere;
        const std::string url = nowhere.url();
        nowhere.stop();
        GatewayProcess gateway({"--redis", url, "--access-log", "false", "--spool-dir", spool_dir});
        gateway.wait_until_ready(10s, false);
        Load load(gateway.tracking_port(), 1, 100);
        load.finish();
        REQUIRE(load.acknowledged_count() == 100);
        acknowledged = load.acknowledged();
        sent = load.sent();
        REQUIRE(gateway.terminate() == 0);
    }
    // Damage one record in the middle and tear the last one.
    std::vector<fs::path> segments;
    for (const auto& e : fs::directory_iterator(spool_dir))
        if (e.path().extension() == ".spool" && fs::file_size(e.path()) > mgw::spool::segment_magic.size())
            segments.push_back(e.path());
    REQUIRE(segments.size() == 1);
    std::string content;
    {
        std::ifstream in(segments[0], std::ios::binary);
        content.assign(std::istreambuf_iterator<char>(in), {});
    }
    std::vector<std::size_t> starts;
    for (std::size_t pos = mgw::spool::segment_magic.size(); pos < content.size();) {
        mgw::spool::Record r;
        auto d = mgw::spool::decode_record(
            {reinterpret_cast<const unsigned char*>(content.data()) + pos, content.size() - pos}, r, true);
        REQUIRE(d.status == mgw::spool::DecodeStatus::ok);
        starts.push_back(pos);
        pos += d.consumed;
    }
    REQUIRE(starts.size() == 100);
    content[starts[50] + 30] = static_cast<char>(content[starts[50] + 30] ^ 0xff);
    content.resize(content.size() - 7);
    {
        std::ofstream out(segments[0], std::ios::binary | std::ios::trunc);
        out << content;
    }

    GatewayProcess gateway(gateway_args(redis, {"--spool-dir", spool_dir}));
    gateway.wait_until_ready();
    wait_for_drained_spool(gateway);
    INFO("gateway stdout:\n" << join_lines(gateway.output_lines()));
    CHECK(gateway
              .wait_for_line([](std::string_view l) {
                  return l.find("\"event\":\"spool_opened\"") != std::string_view::npos &&
                         l.find("\"corrupt_records\":2") != std::string_view::npos;
              })
              .has_value());
    CHECK(metric(gateway, "matomo_gateway_spool_corrupt_records_total") == 2);
    CHECK(metric(gateway, "matomo_gateway_spool_replayed_total") == 98);
    const Stored stored = stored_hits(redis);
    CHECK(stored.hits == 98);
    long missing = 0;
    for (const auto& m : acknowledged) missing += !stored.times.contains(m);
    CHECK(missing == 2);
    std::error_code ignored;
    fs::remove_all(spool_dir, ignored);
}

TEST_CASE("durability, ack=memory: hits are answered at once, and those Redis could not take reach it from the spool") {
    RedisServer redis;
    GatewayProcess gateway(gateway_args(redis, {"--ack", "memory"}));
    gateway.wait_until_ready();
    redis.kill();
    Load load(gateway.tracking_port(), 2, 500);
    load.finish();
    CHECK(load.acknowledged_count() == 500);
    CHECK(metric(gateway, "matomo_gateway_sets_acknowledged_total{via=\"memory\"}") == 500);
    redis.restart();
    wait_for_drained_spool(gateway);
    CHECK(metric(gateway, "matomo_gateway_acknowledged_lost_total") == 0);
    check_promise(load.acknowledged(), load.sent(), stored_hits(redis),
                  metric(gateway, "matomo_gateway_spool_possible_duplicates_total"));
}
