// Redis Cluster (docs/wire-format.md, "Settings"): a real three-master cluster on loopback made by `redis-cli --cluster
// create`. Each queue key must land on the master that owns its slot; after the slot of a queue is
// migrated to another master, the gateway follows the MOVED (and, during the migration, the ASK)
// and every acknowledged hit is stored exactly once.
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <thread>

#include "queue/queue_choice.hpp"
#include "queue/redis_cluster.hpp"
#include "support/gateway_process.hpp"
#include "support/http.hpp"
#include "support/metrics_text.hpp"
#include "support/php.hpp"
#include "support/poll.hpp"
#include "support/redis_server.hpp"

namespace {

using namespace mgw::test;
using namespace std::chrono_literals;

class Cluster {
public:
    Cluster() {
        for (auto& n : nodes) n = std::make_unique<RedisServer>(RedisServerOptions{.cluster = true});
        std::vector<std::string> argv = {"redis-cli", "--cluster", "create"};
        for (auto& n : nodes) argv.push_back("127.0.0.1:" + std::to_string(n->port()));
        argv.emplace_back("--cluster-yes");
        Process create(argv, ProcessOptions{.capture_stdout = true});
        const int status = create.wait(60s);
        if (status != 0) throw std::runtime_error("redis-cli --cluster create: " + describe_exit_status(status));
        const bool ok = poll_until(Clock::now() + 30s, [&] {
            for (auto& n : nodes)
                if (n->command({"CLUSTER", "INFO"}).str.find("cluster_state:ok") == std::string::npos) return false;
            return true;
        });
        if (!ok) throw std::runtime_error("the cluster did not reach cluster_state:ok within 30 s");
    }

    std::array<std::unique_ptr<RedisServer>, 3> nodes;

    RedisServer& owner(unsigned slot) {
        auto slots = nodes[0]->command({"CLUSTER", "SLOTS"});
        for (const auto& range : slots.elements) {
            if (static_cast<unsigned>(range.elements.at(0).integer) <= slot &&
                slot <= static_cast<unsigned>(range.elements.at(1).integer)) {
                const auto port = range.elements.at(2).elements.at(1).integer;
                for (auto& n : nodes)
                    if (n->port() == port) return *n;
            }
        }
        throw std::runtime_error("no owner for slot " + std::to_string(slot));
    }
    std::string id(RedisServer& n) { return n.command({"CLUSTER", "MYID"}).str; }
    std::string url() { return "redis-cluster://127.0.0.1:" + std::to_string(nodes[1]->port()); }
};

// Sends hits with unique markers (visitor ids spread over the queues); returns acknowledged markers.
std::set<std::string> send_hits(std::uint16_t port, const std::string& prefix, int n) {
    std::set<std::string> acknowledged;
    Connection c(port, 30s);
    for (int i = 0; i < n; ++i) {
        char id[17];
        std::snprintf(id, sizeof id, "%03x%013x", i % 4096, i);
        const std::string marker = prefix + std::to_string(i);
        auto r = c.send(
            build_request("GET", "/matomo.php?idsite=1&rec=1&send_image=0&_id=" + std::string(id) + "&mk=" + marker,
                          {{"Host", "127.0.0.1"}}));
        if (r.status == 204) acknowledged.insert(marker);
    }
    return acknowledged;
}

// marker -> times stored, over every queue key on every node; also where each key was found.
std::map<std::string, int> stored_markers(Cluster& cluster, std::map<std::string, std::uint16_t>& key_node) {
    std::map<std::string, int> times;
    for (auto& n : cluster.nodes) {
        for (const auto& key : n->queue_keys()) {
            key_node[key] = n->port();
            for (const auto& set : php_decode_queue_values(n->lrange_all(key)))
                for (const auto& hit : set.at("requests").as_array()) ++times[std::string(hit.at("mk").as_string())];
        }
    }
    return times;
}

}  // namespace

TEST_CASE(
    "item 44 (cluster): every queue key lands on the master owning its slot, and a MOVED after a slot migration is "
    "followed") {
    Cluster cluster;
    GatewayProcess gateway({"--redis", cluster.url(), "--queues", "4", "--access-log", "false", "--ack", "redis"});
    gateway.wait_until_ready();
    auto acknowledged = send_hits(gateway.tracking_port(), "a", 400);
    REQUIRE(acknowledged.size() == 400);

    std::map<std::string, std::uint16_t> key_node;
    auto times = stored_markers(cluster, key_node);
    CHECK(key_node.size() == 4);
    std::set<std::uint16_t> nodes_used;
    for (const auto& [key, port] : key_node) {
        INFO(key << " slot " << mgw::queue::key_slot(key));
        CHECK(port == cluster.owner(mgw::queue::key_slot(key)).port());
        nodes_used.insert(port);
    }
    CHECK(nodes_used.size() >= 2);  // the four queues spread over the masters
    for (const auto& m : acknowledged) CHECK(times[m] == 1);

    // Migrate the slot of trackingQueueV1 to another master, as redis-cli --cluster reshard does.
    const std::string key = "trackingQueueV1";
    const unsigned slot = mgw::queue::key_slot(key);
    RedisServer& from = cluster.owner(slot);
    RedisServer* to = nullptr;
    for (auto& n : cluster.nodes)
        if (n->port() != from.port()) to = n.get();
    REQUIRE(to->command({"CLUSTER", "SETSLOT", std::to_string(slot), "IMPORTING", cluster.id(from)}).type ==
            RedisReply::Type::status);
    REQUIRE(from.command({"CLUSTER", "SETSLOT", std::to_string(slot), "MIGRATING", cluster.id(*to)}).type ==
            RedisReply::Type::status);
    auto keys = from.command({"CLUSTER", "GETKEYSINSLOT", std::to_string(slot), "100"});
    std::vector<std::string> migrate = {"MIGRATE", "127.0.0.1", std::to_string(to->port()), "", "0", "5000", "KEYS"};
    for (const auto& k : keys.elements) migrate.push_back(k.str);
    REQUIRE(migrate.size() > 7);
    REQUIRE(from.command(migrate).str == "OK");
    // The key has left the old master but the slot is still its: writes there are answered ASK.
    auto during = send_hits(gateway.tracking_port(), "b", 100);
    CHECK(during.size() == 100);
    for (auto& n : cluster.nodes)
        REQUIRE(n->command({"CLUSTER", "SETSLOT", std::to_string(slot), "NODE", cluster.id(*to)}).type ==
                RedisReply::Type::status);
    auto after = send_hits(gateway.tracking_port(), "c", 400);
    CHECK(after.size() == 400);

    std::map<std::string, std::uint16_t> key_node_after;
    times = stored_markers(cluster, key_node_after);
    CHECK(key_node_after[key] == to->port());
    CHECK(from.command({"EXISTS", key}).integer == 0);
    long lost = 0, duplicated = 0;
    for (const auto* batch : {&acknowledged, &during, &after})
        for (const auto& m : *batch) lost += times[m] == 0, duplicated += times[m] > 1;
    CHECK(lost == 0);
    CHECK(duplicated == 0);
    // The first hits of "b" and "c" go to queue 0 (visitor id 000...): "b" met the migrating slot
    // (ASK), "c" the slot's new owner that the gateway's map did not know yet (MOVED).
    const auto moved =
        scrape_metric(gateway.admin_port(), "matomo_gateway_redis_cluster_redirects_total{kind=\"moved\"}");
    const auto ask = scrape_metric(gateway.admin_port(), "matomo_gateway_redis_cluster_redirects_total{kind=\"ask\"}");
    REQUIRE(moved.has_value());
    REQUIRE(ask.has_value());
    CHECK(*moved > 0);
    CHECK(*ask > 0);
}

TEST_CASE("queue view (cluster): each queue is sampled on its slot's master, the memory figures are the fullest's") {
    Cluster cluster;
    // Queue q holds 3 (q + 1) sets on the master owning its slot; queue 2's worker lock on its own.
    for (unsigned q = 0; q < 4; ++q) {
        const std::string key = mgw::queue::queue_key(q);
        RedisServer& owner = cluster.owner(mgw::queue::key_slot(key));
        for (unsigned i = 0; i < 3 * (q + 1); ++i)
            REQUIRE(owner.command({"RPUSH", key, "set"}).type == RedisReply::Type::integer);
    }
    REQUIRE(cluster.owner(mgw::queue::key_slot("QueuedTrackingLock2"))
                .command({"SET", "QueuedTrackingLock2", "abcdefghijkl", "EX", "60"})
                .type == RedisReply::Type::status);
    // One master with a limit: the only one with a fraction, so the one reported.
    RedisServer& limited = *cluster.nodes[2];
    const std::string limit = std::to_string(64LL << 20);
    REQUIRE(limited.command({"CONFIG", "SET", "maxmemory", limit}).type == RedisReply::Type::status);
    GatewayProcess gateway(
        {"--redis", cluster.url(), "--queues", "4", "--access-log", "false", "--queue-sample-interval-ms", "200"});
    auto has = [&](const std::string& series, double want) {
        return poll_until(Clock::now() + 30s, [&] { return scrape_metric(gateway.admin_port(), series) == want; });
    };
    for (unsigned q = 0; q < 4; ++q) {
        INFO("queue " << q);
        CHECK(has("matomo_gateway_queue_length{queue=\"" + std::to_string(q) + "\"}", 3.0 * (q + 1)));
    }
    CHECK(has("matomo_gateway_queue_worker_lock{queue=\"2\"}", 1));
    CHECK(scrape_metric(gateway.admin_port(), "matomo_gateway_queue_worker_lock{queue=\"1\"}") == 0);
    CHECK(has("matomo_gateway_redis_maxmemory_bytes", static_cast<double>(64LL << 20)));
    CHECK(scrape_metric(gateway.admin_port(), "matomo_gateway_queue_samples_total{outcome=\"failed\"}") == 0);
}
