// Redis Sentinel against real processes on 127.0.0.1 (checklist item 44): a master
// redis-server, a replica, a real redis-sentinel, and the gateway given
// --redis redis-sentinel://<dead sentinel>,<sentinel>/0?master=mymaster. The gateway must find the
// master through the second sentinel, and after SENTINEL FAILOVER find the new master again, with
// every hit it answered 2xx stored exactly once on the master that survives.
//
// Waits are bounded polls with a deadline (a short poll interval, never a sleep standing in for
// an event); every process stops at the end of the test (RAII).
#include "support/free_port.hpp"
#include "support/line_reader.hpp"
#include "support/metrics_text.hpp"
#include "support/poll.hpp"
#include "support/process.hpp"
#include "support/redis_client.hpp"
#include "tracking_env.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace mgw::test;
using namespace std::chrono_literals;

namespace {

constexpr char kMasterName[] = "mymaster";

// "connected_slaves:1" -> "1" from an INFO reply; empty if the field is absent.
std::string info_field(const std::string& info, const std::string& field) {
    const std::string needle = field + ":";
    std::size_t pos = 0;
    while ((pos = info.find(needle, pos)) != std::string::npos) {
        if (pos == 0 || info[pos - 1] == '\n') {
            const std::size_t start = pos + needle.size();
            const std::size_t end = info.find_first_of("\r\n", start);
            return info.substr(start, end == std::string::npos ? std::string::npos : end - start);
        }
        pos += needle.size();
    }
    return {};
}

// A flat [k1, v1, k2, v2, ...] array reply as a map.
std::map<std::string, std::string> as_fields(const RedisReply& reply) {
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2)
        out[reply.elements[i].str] = reply.elements[i + 1].str;
    return out;
}

// A real redis-sentinel monitoring 127.0.0.1:<master_port> as "mymaster" (quorum 1), from a config
// file in its own temporary directory (sentinel rewrites it, so it must be writable). Start-up
// waits for the "+monitor" log line and a PING answer; a port taken in the meantime is retried.
class SentinelProcess {
public:
    explicit SentinelProcess(std::uint16_t master_port) : dir_(make_temp_dir("mgw-sentinel")) {
        try {
            for (int attempt = 0; attempt < 5; ++attempt) {
                if (try_start(free_port(), master_port)) return;
            }
            throw std::runtime_error("redis-sentinel: no free port after 5 attempts; last log:\n" +
                                     join_lines(last_log_));
        } catch (...) {
            std::error_code ignored;
            std::filesystem::remove_all(dir_, ignored);
            throw;
        }
    }

    ~SentinelProcess() {
        client_.reset();
        log_.reset();
        process_.reset();  // SIGKILL and reap
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }

    SentinelProcess(const SentinelProcess&) = delete;
    SentinelProcess& operator=(const SentinelProcess&) = delete;

    std::uint16_t port() const { return port_; }
    RedisReply command(const std::vector<std::string>& argv) { return client_->command(argv); }
    std::vector<std::string> log_lines() const { return log_ ? log_->lines() : last_log_; }

    // The master's address as the sentinel reports it, "" when it reports none.
    std::string master_address() {
        auto reply = command({"SENTINEL", "get-master-addr-by-name", kMasterName});
        if (reply.type != RedisReply::Type::array || reply.elements.size() != 2) return {};
        return reply.elements[0].str + ":" + reply.elements[1].str;
    }

private:
    bool try_start(std::uint16_t port, std::uint16_t master_port) {
        const std::string conf = dir_ + "/sentinel.conf";
        {
            std::ofstream out(conf, std::ios::trunc);
            out << "port " << port << "\n"
                << "bind 127.0.0.1\n"
                << "daemonize no\n"
                << "logfile \"\"\n"
                << "dir " << dir_ << "\n"
                << "sentinel monitor " << kMasterName << " 127.0.0.1 " << master_port << " 1\n"
                << "sentinel down-after-milliseconds " << kMasterName << " 1000\n"
                << "sentinel failover-timeout " << kMasterName << " 10000\n";
            if (!out) throw std::runtime_error("cannot write " + conf);
        }
        auto process = std::make_unique<Process>(std::vector<std::string>{"redis-sentinel", conf},
                                                 ProcessOptions{.capture_stdout = true});
        auto log = std::make_unique<LineCollector>(process->stdout_fd(), "[sentinel " + std::to_string(port) + "] ");
        const auto deadline = Clock::now() + 10s;
        auto monitoring = log->wait_for(
            [](std::string_view line) { return line.find("+monitor master") != std::string_view::npos; }, deadline);
        if (!monitoring) {
            const bool exited = log->eof();
            log->stop();
            last_log_ = log->lines();
            bool port_taken = false;
            for (const auto& line : last_log_) port_taken |= line.find("Address already in use") != std::string::npos;
            if (exited && port_taken) return false;
            throw std::runtime_error(std::string("redis-sentinel ") +
                                     (exited ? "exited during start-up" : "not monitoring within 10 s") + "; log:\n" +
                                     join_lines(last_log_));
        }
        client_.emplace(connect_when_listening(port, deadline, *process, "redis-sentinel"));
        port_ = port;
        process_ = std::move(process);
        log_ = std::move(log);
        return true;
    }

    std::string dir_;
    std::uint16_t port_ = 0;
    std::unique_ptr<Process> process_;
    std::unique_ptr<LineCollector> log_;
    std::vector<std::string> last_log_;
    std::optional<RedisClient> client_;
};

// Hits over one keep-alive connection (re-opened when the gateway closes it or it breaks), each
// with a unique visitor id and an mk= marker, sorted by how the gateway answered.
class HitSender {
public:
    explicit HitSender(std::uint16_t port) : port_(port) {}

    // Sends one hit; returns the HTTP status, 0 when no answer came.
    int send(const std::string& marker) {
        char id[17];
        std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(++sent_));
        int status = 0;
        try {
            if (!conn_) conn_ = std::make_unique<Connection>(port_, 5s);
            auto r = conn_->send(
                build_request("GET", "/matomo.php?idsite=1&rec=1&send_image=0&_id=" + std::string(id) + "&mk=" + marker,
                              {{"Host", "127.0.0.1"}, {"Connection", "keep-alive"}}));
            status = r.status;
            if (!r.keep_alive) conn_.reset();
        } catch (const std::exception&) { conn_.reset(); }
        if (status >= 200 && status < 300) acknowledged.insert(marker);
        else if (status == 503) refused.insert(marker);
        else unanswered_or_other.insert(marker);
        return status;
    }

    std::set<std::string> acknowledged;         // 2xx: must be stored exactly once
    std::set<std::string> refused;              // 503 (allowed while the master changes)
    std::set<std::string> unanswered_or_other;  // no answer or any other status

private:
    std::uint16_t port_;
    std::unique_ptr<Connection> conn_;
    unsigned long long sent_ = 0;
};

bool is_2xx(int status) { return status >= 200 && status < 300; }

std::string sentinel_master_line_for(const std::string& address) {
    return "\"event\":\"redis_sentinel_master\",\"detail\":\"" + address + "\"";
}

}  // namespace

TEST_CASE(
    "item 44: Sentinel: the master is found through the sentinels and found again after SENTINEL FAILOVER, "
    "every acknowledged hit is stored") {
    // Master and replica. The full sync goes through an RDB file in the master's directory: with
    // redis 7.0's default diskless sync the master waits 5 s before it starts, and afterwards it
    // streams nothing to the replica until the replica's first REPLCONF ACK (up to 1 s later),
    // while both already report the link up (WAIT was seen to return 1 then, with the replica
    // still empty).
    RedisServer master;
    REQUIRE(master.command({"CONFIG", "SET", "repl-diskless-sync", "no"}).type == RedisReply::Type::status);
    RedisServer replica;
    REQUIRE(replica.command({"REPLICAOF", "127.0.0.1", std::to_string(master.port())}).type ==
            RedisReply::Type::status);
    // --redis-wait-replicas 1 with one replica: after the promotion the old master has no replica,
    // so whatever it still accepts is never acknowledged; the new master acknowledges again once
    // the old one has been demoted and replicates from it.
    const std::string master_address = "127.0.0.1:" + std::to_string(master.port());
    const std::string replica_address = "127.0.0.1:" + std::to_string(replica.port());

    const bool replica_in_sync = poll_until(Clock::now() + 10s, [&] {
        auto master_info = master.command({"INFO", "replication"}).str;
        auto replica_info = replica.command({"INFO", "replication"}).str;
        return info_field(master_info, "connected_slaves") == "1" &&
               info_field(master_info, "slave0").find("state=online") != std::string::npos &&
               info_field(replica_info, "master_link_status") == "up";
    });
    if (!replica_in_sync)
        FAIL("replica not in sync within 10 s; master INFO replication:\n"
             << master.command({"INFO", "replication"}).str);

    // The sentinel, started once the replica is in sync so its first INFO of the master already
    // lists it. It can promote the replica once it has the replica's own INFO (link ok).
    SentinelProcess sentinel(master.port());
    std::string replicas_seen;
    const bool sentinel_knows_replica = poll_until(Clock::now() + 10s, [&] {
        auto reply = sentinel.command({"SENTINEL", "replicas", kMasterName});
        replicas_seen.clear();
        for (const auto& entry : reply.elements) {
            auto fields = as_fields(entry);
            for (const auto& [k, v] : fields) replicas_seen += k + "=" + v + " ";
            replicas_seen += "\n";
            if (fields["name"] == replica_address && fields["flags"] == "slave" &&
                fields["master-link-status"] == "ok" && !fields["info-refresh"].empty() &&
                std::stoll(fields["info-refresh"]) < 5000)
                return true;
        }
        return false;
    });
    if (!sentinel_knows_replica)
        FAIL("the sentinel does not know the replica within 10 s; SENTINEL replicas:\n"
             << replicas_seen << "sentinel log:\n"
             << join_lines(sentinel.log_lines()));
    REQUIRE(sentinel.master_address() == master_address);

    // The gateway, with a dead sentinel (refuses connections) listed first.
    RefusingPort dead_sentinel;
    GatewayProcess gateway({"--redis",
                            "redis-sentinel://127.0.0.1:" + std::to_string(dead_sentinel.port()) +
                                ",127.0.0.1:" + std::to_string(sentinel.port()) + "/0?master=" + kMasterName,
                            "--queues", "1", "--access-log", "false", "--redis-wait-replicas", "1",
                            // WAIT answers as soon as the replica has a batch; 2 s rather than the
                            // default 200 ms keeps a replica slowed by a busy machine from turning
                            // phase 3's stored hits into 503s (seen under a parallel test run).
                            "--redis-wait-timeout-ms", "2000",
                            // The writer's own failover behaviour: no spool, so every unconfirmed set is a 503.
                            "--ack", "redis"});
    gateway.wait_until_ready();
    auto gateway_log = [&] { return "gateway stdout:\n" + join_lines(gateway.output_lines()); };
    auto has_line = [&](const std::string& needle) {
        for (const auto& line : gateway.output_lines())
            if (line.find(needle) != std::string::npos) return true;
        return false;
    };
    // Logged by the gateway, found through the second sentinel (stdout is read on another thread:
    // wait for the lines rather than expect them the moment /readyz says ready).
    auto wait_for_log = [&](const std::string& needle) {
        return gateway
            .wait_for_line([&](std::string_view line) { return line.find(needle) != std::string_view::npos; }, 5s)
            .has_value();
    };
    {
        const bool found_master = wait_for_log(sentinel_master_line_for(master_address));
        const bool connected = wait_for_log("\"event\":\"redis_connected\",\"detail\":\"" + master_address + "\"");
        INFO(gateway_log());
        CHECK(found_master);
        CHECK(connected);
    }

    // Phase 1: hits on the original master, then WAIT until the replica has them.
    HitSender hits(gateway.tracking_port());
    constexpr int kBatch = 200;
    int phase1_acknowledged = 0;
    for (int i = 0; i < kBatch; ++i) phase1_acknowledged += is_2xx(hits.send("p1-" + std::to_string(i)));
    CHECK(phase1_acknowledged == kBatch);
    auto waited = master.command({"WAIT", "1", "2000"});
    CHECK(waited.type == RedisReply::Type::integer);
    CHECK(waited.integer >= 1);
    // The premise of the test, checked on the replica itself: it holds every hit acknowledged so far.
    long long replica_length = -1;
    poll_until(Clock::now() + 5s, [&] {
        replica_length = replica.command({"LLEN", "trackingQueueV1"}).integer;
        return replica_length == static_cast<long long>(hits.acknowledged.size());
    });
    REQUIRE(replica_length == static_cast<long long>(hits.acknowledged.size()));

    // Failover. The sentinel may still answer NOGOODSLAVE for a moment: retry until the deadline.
    const auto failover_deadline = Clock::now() + 15s;
    RedisReply failover;
    poll_until(failover_deadline, [&] {
        failover = sentinel.command({"SENTINEL", "FAILOVER", kMasterName});
        return failover.type == RedisReply::Type::status;
    });
    if (failover.type != RedisReply::Type::status)
        FAIL("SENTINEL FAILOVER answered " << failover.str << "; sentinel log:\n" << join_lines(sentinel.log_lines()));
    const bool switched = poll_until(failover_deadline, [&] { return sentinel.master_address() == replica_address; });
    if (!switched)
        FAIL("the sentinel still names " << sentinel.master_address() << "; sentinel log:\n"
                                         << join_lines(sentinel.log_lines()));
    const auto switch_seen = Clock::now();

    // Phase 2: keep sending until the gateway, having logged the new master, acknowledges a hit
    // again. Every 2xx counts; 503s are allowed meanwhile. Between hits the loop waits (briefly,
    // bounded) for the gateway's next log line, so it neither spins nor misses the switch.
    const std::string new_master_line = sentinel_master_line_for(replica_address);
    const auto phase2_deadline = Clock::now() + 40s;
    bool acknowledged_after_switch = false;
    std::optional<Clock::time_point> gateway_switch_seen;
    int phase2_sent = 0;
    int phase2_acknowledged = 0;
    while (Clock::now() < phase2_deadline) {
        const bool gateway_switched = has_line(new_master_line);
        if (gateway_switched && !gateway_switch_seen) gateway_switch_seen = Clock::now();
        const int status = hits.send("p2-" + std::to_string(phase2_sent++));
        phase2_acknowledged += is_2xx(status);
        if (gateway_switched && is_2xx(status)) {
            acknowledged_after_switch = true;
            break;
        }
        gateway.wait_for_line([](std::string_view) { return true; }, 20ms, gateway.output_line_count());
    }
    if (!acknowledged_after_switch)
        FAIL("the gateway did not acknowledge a hit on the new master within 40 s of the failover; "
             << gateway_log() << "sentinel log:\n"
             << join_lines(sentinel.log_lines()));

    // Phase 3: a full batch on the new master, every hit acknowledged. The old master rejoins as the
    // new one's replica about 10 s after the switch (the sentinel's +convert-to-slave) and may need
    // a full resynchronisation, during which WAIT comes back short: the first hit acknowledged
    // after the switch does not yet mean replication has settled. So wait until the new master
    // sees its replica online and caught up with its own offset.
    auto new_master_link = RedisClient::connect_tcp("127.0.0.1", replica.port());
    const bool settled = poll_until(Clock::now() + 30s, [&] {
        const auto info = new_master_link.command({"INFO", "replication"}).str;
        const std::string slave0 = info_field(info, "slave0");
        const std::string offset = info_field(info, "master_repl_offset");
        return info_field(info, "connected_slaves") == "1" && slave0.find("state=online") != std::string::npos &&
               !offset.empty() && slave0.find("offset=" + offset + ",") != std::string::npos;
    });
    if (!settled)
        FAIL("the new master's replica did not come online and catch up within 30 s; INFO replication:\n"
             << new_master_link.command({"INFO", "replication"}).str << gateway_log());
    int phase3_acknowledged = 0;
    for (int i = 0; i < kBatch; ++i) phase3_acknowledged += is_2xx(hits.send("p3-" + std::to_string(i)));

    // What the new master holds: each value is one request set of one hit; count and de-duplicate
    // the hits by their markers, as the QueuedTracking worker would decode them.
    auto new_master = RedisClient::connect_tcp("127.0.0.1", replica.port());
    auto role = new_master.command({"ROLE"});
    REQUIRE(role.type == RedisReply::Type::array);
    CHECK(role.elements.at(0).str == "master");
    auto values_reply = new_master.command({"LRANGE", "trackingQueueV1", "0", "-1"});
    REQUIRE(values_reply.type == RedisReply::Type::array);
    std::vector<std::string> values;
    for (const auto& element : values_reply.elements) values.push_back(element.str);
    auto decoded = php_decode_queue_values(values);
    std::map<std::string, int> stored;  // marker -> times stored
    long stored_hits = 0;
    long undecodable = 0;
    for (const auto& set : decoded) {
        if (!set.is_object() || !set.as_object().contains("requests")) {
            ++undecodable;
            continue;
        }
        for (const auto& hit : set.at("requests").as_array()) {
            ++stored_hits;
            ++stored[std::string(hit.at("mk").as_string())];
        }
    }
    std::vector<std::string> lost, duplicated, stored_unacknowledged;
    for (const auto& marker : hits.acknowledged)
        if (!stored.contains(marker)) lost.push_back(marker);
    for (const auto& [marker, times] : stored) {
        if (times > 1) duplicated.push_back(marker);
        if (!hits.acknowledged.contains(marker)) stored_unacknowledged.push_back(marker);
    }
    auto sample = [](const std::vector<std::string>& markers) {
        std::string out;
        for (std::size_t i = 0; i < markers.size() && i < 12; ++i) out += markers[i] + " ";
        if (markers.size() > 12) out += "...";
        return out;
    };
    const auto ms = [](Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };

    INFO("acknowledged " << hits.acknowledged.size() << " (phase 1: " << phase1_acknowledged
                         << ", phase 2: " << phase2_acknowledged << " of " << phase2_sent
                         << ", phase 3: " << phase3_acknowledged << "), 503: " << hits.refused.size()
                         << ", no answer/other: " << hits.unanswered_or_other.size());
    INFO("new master holds " << values.size() << " values, " << stored_hits << " hits, " << undecodable
                             << " undecodable");
    INFO("gateway logged the new master "
         << (gateway_switch_seen ? std::to_string(ms(*gateway_switch_seen - switch_seen)) + " ms"
                                 : std::string("never"))
         << " after the sentinel reported it");
    INFO("lost (acknowledged, not stored): " << lost.size() << ": " << sample(lost));
    INFO("duplicated: " << duplicated.size() << ": " << sample(duplicated));
    INFO("stored but not acknowledged: " << stored_unacknowledged.size() << ": " << sample(stored_unacknowledged));
    INFO(gateway_log() << "sentinel log:\n" << join_lines(sentinel.log_lines()));
    CHECK(phase3_acknowledged == kBatch);
    CHECK(undecodable == 0);
    CHECK(static_cast<long>(values.size()) == stored_hits);  // one hit per set
    CHECK(lost.empty());
    CHECK(duplicated.empty());
    // At-least-once (README "Guarantees"): a hit answered 503 may still be stored, e.g. written to the
    // new master before its replica caught up (WAIT came back short); only refused hits may be such.
    for (const auto& marker : stored_unacknowledged) CHECK(hits.refused.contains(marker));
    CHECK(stored_hits == static_cast<long>(hits.acknowledged.size() + stored_unacknowledged.size()));
}

TEST_CASE("queue view (sentinel): the queues are sampled on the master the sentinels name") {
    RedisServer master;
    for (int i = 0; i < 7; ++i)
        REQUIRE(master.command({"RPUSH", "trackingQueueV1_1", "set"}).type == RedisReply::Type::integer);
    SentinelProcess sentinel(master.port());
    GatewayProcess gateway(
        {"--redis", "redis-sentinel://127.0.0.1:" + std::to_string(sentinel.port()) + "/0?master=" + kMasterName,
         "--queues", "2", "--access-log", "false", "--queue-sample-interval-ms", "200"});
    CHECK(poll_until(Clock::now() + 30s, [&] {
        return scrape_metric(gateway.admin_port(), "matomo_gateway_queue_length{queue=\"1\"}") == 7;
    }));
    CHECK(scrape_metric(gateway.admin_port(), "matomo_gateway_queue_length{queue=\"0\"}") == 0);
    CHECK(scrape_metric(gateway.admin_port(), "matomo_gateway_queue_samples_total{outcome=\"failed\"}") == 0);
}
