// The queue writer under concurrency against a real redis-server: per-queue order (item 5) and
// exactly-once storage of every acknowledged hit over many connections.
#include "tracking_env.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <numeric>
#include <set>
#include <thread>

using namespace mgw::test;

TEST_CASE("item 5: hits of one visitor keep their order in their queue across requests") {
    TrackingEnv env({"--queues", "16"});
    Connection c(env.gateway.tracking_port());
    for (int i = 0; i < 200; ++i) {
        auto r = c.send(build_request("GET", "/matomo.php?idsite=1&rec=1&_id=0123456789abcdef&seq=" + std::to_string(i),
                                      {{"Host", "x"}}));
        REQUIRE(r.status == 200);
    }
    auto landed = env.landed();
    REQUIRE(landed.size() == 200);
    for (int i = 0; i < 200; ++i) {
        CHECK(landed[static_cast<std::size_t>(i)].key == "trackingQueueV1_2");
        CHECK(landed[static_cast<std::size_t>(i)].state.at("requests").as_array()[0].at("seq") ==
              boost::json::value(std::to_string(i)));
    }
}

TEST_CASE("writer: 100,000 hits over 64 keep-alive connections, every acknowledged hit stored exactly once") {
    TrackingEnv env({"--queues", "4", "--access-log", "false"});
    constexpr int kConnections = 64;
    constexpr int kPerConnection = 1563;  // 64 x 1563 = 100,032
    std::atomic<long> acknowledged{0};
    std::atomic<long> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kConnections; ++t) {
        threads.emplace_back([&, t] {
            try {
                Connection c(env.gateway.tracking_port(), std::chrono::seconds(60));
                for (int i = 0; i < kPerConnection; ++i) {
                    char id[17];
                    std::snprintf(id, sizeof id, "%04x%012x", t, i);
                    auto r = c.send(build_request("GET",
                                                  "/matomo.php?idsite=1&rec=1&send_image=0&_id=" + std::string(id) +
                                                      "&n=" + std::to_string(t) + "-" + std::to_string(i),
                                                  {{"Host", "x"}}));
                    if (r.status == 204) ++acknowledged;
                    else ++failures;
                }
            } catch (const std::exception&) { ++failures; }
        });
    }
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
    CHECK(acknowledged == long{kConnections} * kPerConnection);
    // Count and de-duplicate what Redis holds, by the n= marker of each hit.
    long stored = 0;
    std::set<std::string> seen;
    long duplicates = 0;
    for (const auto& key : env.redis.queue_keys()) {
        auto values = env.redis.lrange_all(key);
        auto decoded = php_decode_queue_values(values);
        for (const auto& v : decoded) {
            for (const auto& hit : v.at("requests").as_array()) {
                ++stored;
                if (!seen.insert(std::string(hit.at("n").as_string())).second) ++duplicates;
            }
        }
    }
    CHECK(stored == acknowledged);
    CHECK(duplicates == 0);
}

TEST_CASE(
    "item 5: with --redis-connections 4 every queue keeps its order and every acknowledged hit is stored exactly "
    "once") {
    TrackingEnv env({"--queues", "8", "--access-log", "false", "--redis-connections", "4"});
    // Four writer connections, plus the test's own client.
    auto clients = env.redis.command({"CLIENT", "LIST"}).str;
    CHECK(std::count(clients.begin(), clients.end(), '\n') >= 5);
    constexpr int kVisitors = 16;
    constexpr int kPerVisitor = 500;
    std::atomic<long> acknowledged{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kVisitors; ++t) {
        threads.emplace_back([&, t] {
            try {
                Connection c(env.gateway.tracking_port(), std::chrono::seconds(60));
                char id[17];
                std::snprintf(id, sizeof id, "%016x", t + 1);
                for (int i = 0; i < kPerVisitor; ++i) {
                    auto r = c.send(build_request("GET",
                                                  "/matomo.php?idsite=1&rec=1&send_image=0&_id=" + std::string(id) +
                                                      "&v=" + std::to_string(t) + "&seq=" + std::to_string(i),
                                                  {{"Host", "x"}}));
                    if (r.status == 204) ++acknowledged;
                }
            } catch (const std::exception&) {}
        });
    }
    for (auto& th : threads) th.join();
    CHECK(acknowledged == long{kVisitors} * kPerVisitor);
    // Per visitor, the hits appear in its queue in the order they were sent, each once.
    std::map<std::string, std::vector<int>> seen;  // visitor -> seq in stored order
    std::set<std::string> queues_of_visitor[kVisitors];
    for (const auto& key : env.redis.queue_keys()) {
        for (const auto& v : php_decode_queue_values(env.redis.lrange_all(key))) {
            for (const auto& hit : v.at("requests").as_array()) {
                const std::string visitor(hit.at("v").as_string());
                seen[visitor].push_back(std::stoi(std::string(hit.at("seq").as_string())));
                queues_of_visitor[std::stoi(visitor)].insert(key);
            }
        }
    }
    REQUIRE(seen.size() == kVisitors);
    for (const auto& [visitor, seqs] : seen) {
        INFO("visitor " << visitor);
        CHECK(queues_of_visitor[std::stoi(visitor)].size() == 1);
        std::vector<int> expected(kPerVisitor);
        std::iota(expected.begin(), expected.end(), 0);
        CHECK(seqs == expected);
    }
}
