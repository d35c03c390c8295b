// Never down: no request, no limit and no stalled peer stops the gateway or spins a core. Each case
// runs the real binary (under the sanitizers) against a real redis-server, or against a loopback
// listener that accepts connections and never answers (a stalled Redis).
#include "integration/tracking_env.hpp"
#include "support/poll.hpp"

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace mgw::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// One sample of the admin /metrics ("name{labels}"); 0 when absent.
double metric(const GatewayProcess& gw, const std::string& sample) {
    auto scrape =
        send_request(gw.admin_port(), build_request("GET", "/metrics", {{"Host", "a"}, {"Connection", "close"}}));
    std::istringstream in(scrape.body);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(sample + " ", 0) == 0) return std::stod(line.substr(sample.size() + 1));
    return 0;
}

// With the gateway's two Redis connections up (and no other of its own), leaves room in Redis for
// two clients only (the test's and one of them) and kills the other: it cannot come back while the
// limit holds. Returns once the gateway counts one connection up.
void hold_one_of_two_connections_down(RedisServer& redis, const GatewayProcess& gw) {
    REQUIRE(poll_until(Clock::now() + 10s, [&] { return metric(gw, "matomo_gateway_redis_up") == 2; }));
    const long long own = redis.command({"CLIENT", "ID"}).integer;
    std::vector<long long> others;
    std::istringstream list(redis.command({"CLIENT", "LIST"}).str);
    for (std::string line; std::getline(list, line);) {
        const auto at = line.find("id=");
        if (at == std::string::npos) continue;
        const long long id = std::stoll(line.substr(at + 3));
        if (id != own) others.push_back(id);
    }
    REQUIRE(others.size() == 2);
    REQUIRE(redis.command({"CONFIG", "SET", "maxclients", "2"}).str == "OK");
    REQUIRE(redis.command({"CLIENT", "KILL", "ID", std::to_string(others[0])}).integer == 1);
    REQUIRE(poll_until(Clock::now() + 10s, [&] { return metric(gw, "matomo_gateway_redis_up") == 1; }));
}

std::string hit(int i, const std::string& tag = "nd", bool keep_alive = false) {
    // The queue follows the visitor id's first three hex digits: hit i goes to queue i % --queues.
    char id[17];
    std::snprintf(id, sizeof id, "%03x5eed%09x", static_cast<unsigned>(i) & 0xfffU, static_cast<unsigned>(i));
    return build_request("GET",
                         "/matomo.php?idsite=1&rec=1&action_name=" + tag + "&r=" + std::to_string(i) + "&_id=" + id,
                         {{"Host", "127.0.0.1"}, {"Connection", keep_alive ? "keep-alive" : "close"}});
}

auto has_event(const std::string& event) {
    return [needle = "\"event\":\"" + event + "\""](std::string_view l) {
        return l.find(needle) != std::string_view::npos;
    };
}

// user + system CPU of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15).
long cpu_ticks(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream rest(content.substr(content.rfind(')') + 2));
    std::vector<std::string> f;
    for (std::string x; rest >> x;) f.push_back(x);
    return std::stol(f.at(14 - 3)) + std::stol(f.at(15 - 3));
}

// A "Redis" on loopback that accepts every connection and never sends a byte: a server stopped or
// stuck right after the TCP accept. Counts the connections it accepted.
class SilentListener {
public:
    SilentListener() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd_, 64) == 0);
        socklen_t len = sizeof a;
        REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] {
            while (!stop_) {
                pollfd p{fd_, POLLIN, 0};
                if (::poll(&p, 1, 50) == 1) {
                    const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
                    if (c >= 0) {
                        held_.push_back(c);
                        ++accepted_;
                    }
                }
            }
        });
    }
    ~SilentListener() {
        stop_ = true;
        thread_.join();
        for (int c : held_) ::close(c);
        ::close(fd_);
    }
    std::uint16_t port() const { return port_; }
    int accepted() const { return accepted_; }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> accepted_{0};
    std::vector<int> held_;  // accept thread only
    std::thread thread_;
};

}  // namespace

TEST_CASE(
    "never down 1: a 70 KB header field with --max-header-bytes 1048576 is answered 431, the gateway keeps serving") {
    TrackingEnv env({"--max-header-bytes", "1048576", "--compression-level", "0"});
    const auto port = env.gateway.tracking_port();
    auto with_field = [&](std::size_t bytes) {
        return send_request(
            port, build_request("GET", "/matomo.php?idsite=1&rec=1&action_name=long&_id=0123456789abcdef",
                                {{"Host", "127.0.0.1"}, {"X-Long", std::string(bytes, 'a')}, {"Connection", "close"}}));
    };
    // Beast's fields hold at most 65,533 bytes per value: longer is refused as a header too large.
    CHECK(with_field(std::size_t{70} * 1024).status == 431);
    CHECK(with_field(65534).status == 431);
    // The longest value it holds is an ordinary request.
    CHECK(with_field(65533).status == 200);
    // Still serving, nothing thrown.
    for (int i = 0; i < 5; ++i) CHECK(send_request(port, hit(i)).status == 200);
    CHECK(env.send_admin("/livez").status == 200);
    CHECK(metric(env.gateway, "matomo_gateway_hits_rejected_total{reason=\"header_too_large\"}") == 2);
    const auto lines = env.gateway.output_lines();
    CHECK(std::none_of(lines.begin(), lines.end(),
                       [](const std::string& l) { return l.find("handler_exception") != std::string::npos; }));
    CHECK(env.landed().size() == 6);
}

TEST_CASE("never down 2: at the open file limit the accept loop waits instead of spinning, says why, and resumes") {
    RedisServer redis;
    // Soft and hard limit 64 (the gateway raises soft to hard, so both are set); idle connections
    // are kept for a minute so the limit holds for the whole measurement.
    GatewayProcess gw({"--redis", redis.url(), "--threads", "1", "--idle-timeout-ms", "60000", "--read-timeout-ms",
                       "60000", "--access-log", "false"},
                      {"prlimit", "--nofile=64:64", "--"});
    gw.wait_until_ready();
    // --max-connections (10000) cannot fit under 64 descriptors: said at start.
    REQUIRE(gw.wait_for_line(has_event("fd_limit_low"), 5s));
    auto limit_line = gw.wait_for_line(has_event("fd_limit"), 5s);
    REQUIRE(limit_line);
    CHECK(limit_line->find("\"hard\":64") != std::string::npos);

    std::vector<std::unique_ptr<Connection>> idle;
    for (int i = 0; i < 120; ++i) idle.push_back(std::make_unique<Connection>(gw.tracking_port()));
    REQUIRE(idle.size() == 120);
    auto paused = gw.wait_for_line(has_event("accept_paused"), 20s);
    REQUIRE(paused);
    CHECK(paused->find("open file descriptor limit") != std::string::npos);
    // The reserve kept below the limit leaves the admin listener answering meanwhile.
    CHECK(metric(gw, "matomo_gateway_accept_errors_total{reason=\"fd_limit\"}") > 0);
    const double open_now = metric(gw, "process_open_fds");
    CHECK(open_now > 0);
    CHECK(open_now < 64);

    // A spinning accept loop burns a whole core (100% of the wall time); one that waits, almost
    // nothing. Measured over a 2 s window in which the limit holds.
    const long tick = ::sysconf(_SC_CLK_TCK);
    const long before = cpu_ticks(gw.pid());
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(2s);  // the measurement window, not a synchronisation
    const long used = cpu_ticks(gw.pid()) - before;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double share = static_cast<double>(used) / static_cast<double>(tick) / wall;
    INFO("CPU share while at the descriptor limit: " << share);
    CHECK(share < 0.3);

    // Connections close: the waiting ones are taken and hits are answered again.
    idle.clear();
    REQUIRE(poll_until(Clock::now() + 30s, [&] {
        try {
            return send_request(gw.tracking_port(), hit(1), 2s).status == 200;
        } catch (const std::exception&) { return false; }
    }));
    CHECK(gw.wait_for_line(has_event("accept_resumed"), 10s));
    // Backed off: a loop retrying at once would count thousands of failures per second.
    CHECK(metric(gw, "matomo_gateway_accept_errors_total{reason=\"fd_limit\"}") < 2000);
    CHECK_FALSE(redis.lrange_all("trackingQueueV1").empty());
}

TEST_CASE(
    "never down 3: a Redis that accepts and never answers the handshake: hits are spooled, the writer reconnects") {
    SilentListener silent;
    const std::string url = "redis://:secret@127.0.0.1:" + std::to_string(silent.port()) + "/0";
    // No queue monitor: its own connections would be counted as the writer's retries.
    GatewayProcess gw({"--redis", url, "--redis-connect-timeout-ms", "300", "--redis-reply-timeout-ms", "300",
                       "--access-log", "false", "--queue-sample-interval-ms", "0"});
    gw.wait_until_ready(10s, false);
    // The start-up queue check gives up after its timeout and says so.
    CHECK(gw.wait_for_line(has_event("queue_check_failed"), 10s));
    for (int i = 0; i < 10; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        CHECK(send_request(gw.tracking_port(), hit(i), 10s).status == 200);
        INFO("answered in " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s");
    }
    CHECK(metric(gw, "matomo_gateway_sets_acknowledged_total{via=\"spool\"}") == 10);
    // The handshake has a deadline: the writer gives up on the silent connection and tries again
    // (the start-up check's connection, then the writer's first, then its retries).
    REQUIRE(gw.wait_for_line(has_event("redis_handshake_timeout"), 10s));
    CHECK(poll_until(Clock::now() + 10s, [&] { return silent.accepted() >= 4; }));
    CHECK(metric(gw, "matomo_gateway_redis_reconnects_total") >= 2);
}

TEST_CASE(
    "never down 3: a redis-server stopped (SIGSTOP) right after accepting: hits reach the spool within the reply "
    "timeout") {
    RedisServer redis;
    redis.pause();
    GatewayProcess gw({"--redis", redis.url(), "--redis-connect-timeout-ms", "500", "--redis-reply-timeout-ms", "500",
                       "--access-log", "false"});
    gw.wait_until_ready(15s, false);
    for (int i = 0; i < 5; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto r = send_request(gw.tracking_port(), hit(i, "stopped"), 15s);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        INFO("answered in " << secs << " s");
        CHECK(r.status == 200);
    }
    CHECK(metric(gw, "matomo_gateway_sets_acknowledged_total{via=\"spool\"}") == 5);
    redis.resume();
    // Once Redis runs again the spool is replayed: every acknowledged hit is in Redis.
    CHECK(poll_until(Clock::now() + 30s, [&] { return metric(gw, "matomo_gateway_spool_records") == 0; }));
    CHECK(redis.lrange_all("trackingQueueV1").size() >= 5);
}

TEST_CASE("never down: with --redis-connections 2 and one connection down, the pool stays writable") {
    RedisServer redis;
    // No queue monitor: the test counts the pool's connections, and the monitor has its own. One
    // I/O thread, so one pool (each thread has its own).
    GatewayProcess gw({"--redis", redis.url(), "--redis-connections", "2", "--queues", "4", "--compression-level", "0",
                       "--access-log", "false", "--queue-sample-interval-ms", "0", "--threads", "1"});
    gw.wait_until_ready();
    hold_one_of_two_connections_down(redis, gw);

    // Still ready, and the queues of the live connection go straight to Redis.
    CHECK(send_request(gw.admin_port(), build_request("GET", "/readyz", {{"Host", "a"}, {"Connection", "close"}}))
              .status == 200);
    for (int i = 0; i < 40; ++i) REQUIRE(send_request(gw.tracking_port(), hit(i, "pool")).status == 200);
    // Ten hits per queue; queues 0, 1 and 3 use one connection, queue 2 the other
    // (RedisPool::index_for): whichever is down, only its queues are spooled.
    const double via_redis = metric(gw, "matomo_gateway_sets_acknowledged_total{via=\"redis\"}");
    const double via_spool = metric(gw, "matomo_gateway_sets_acknowledged_total{via=\"spool\"}");
    CHECK((via_redis == 10 || via_redis == 30));
    CHECK(via_redis + via_spool == 40);

    // Room again: the connection comes back and the spooled queues are replayed.
    REQUIRE(redis.command({"CONFIG", "SET", "maxclients", "10000"}).str == "OK");
    CHECK(poll_until(Clock::now() + 30s, [&] { return metric(gw, "matomo_gateway_spool_records") == 0; }));
    std::size_t stored = 0;
    for (auto& [key, values] : redis.queue_contents()) stored += values.size();
    CHECK(stored >= 40);
}

TEST_CASE("never down: with two I/O threads and one thread's Redis connection down, that thread lends the other's") {
    RedisServer redis;
    // No queue monitor: the test counts the writers' connections, and the monitor has its own.
    GatewayProcess gw({"--redis", redis.url(), "--threads", "2", "--queues", "4", "--compression-level", "0",
                       "--access-log", "false", "--queue-sample-interval-ms", "0"});
    gw.wait_until_ready();
    // One writer connection per I/O thread.
    hold_one_of_two_connections_down(redis, gw);

    // Each hit on a connection of its own: connections go to the two threads in turn, so half of the
    // hits are read on the thread whose connection is down. None of them goes to the spool.
    for (int i = 0; i < 40; ++i) REQUIRE(send_request(gw.tracking_port(), hit(i, "lend")).status == 200);
    CHECK(metric(gw, "matomo_gateway_sets_acknowledged_total{via=\"redis\"}") == 40);
    CHECK(metric(gw, "matomo_gateway_sets_acknowledged_total{via=\"spool\"}") == 0);
    std::size_t stored = 0;
    for (auto& [key, values] : redis.queue_contents()) stored += values.size();
    CHECK(stored == 40);

    // Room again: the thread's own connection comes back.
    REQUIRE(redis.command({"CONFIG", "SET", "maxclients", "10000"}).str == "OK");
    CHECK(poll_until(Clock::now() + 30s, [&] { return metric(gw, "matomo_gateway_redis_up") == 2; }));
}

TEST_CASE("never down: the start-up queue check uses SCAN (never KEYS) and reports a refusal") {
    RedisServer redis;
    for (int i = 0; i < 2500; ++i) redis.command({"SET", "filler:" + std::to_string(i), "x"});
    redis.command({"RPUSH", "trackingQueueV1_7", "x"});
    redis.command({"CONFIG", "RESETSTAT"});
    {
        GatewayProcess gw({"--redis", redis.url(), "--queues", "4"});
        auto line = gw.wait_for_line(has_event("queue_count_mismatch"));
        REQUIRE(line);
        CHECK(line->find("trackingQueueV1_7") != std::string::npos);
    }
    const auto stats = redis.command({"INFO", "commandstats"}).str;
    CHECK(stats.find("cmdstat_keys:") == std::string::npos);
    CHECK(stats.find("cmdstat_scan:calls=") != std::string::npos);

    // A user that may not SCAN: the check says why it could not look, the gateway serves anyway.
    redis.command({"ACL", "SETUSER", "noscan", "on", ">pw", "~*", "+@all", "-scan"});
    GatewayProcess gw({"--redis", "redis://noscan:pw@127.0.0.1:" + std::to_string(redis.port()) + "/0"});
    auto failed = gw.wait_for_line(has_event("queue_check_failed"));
    REQUIRE(failed);
    CHECK(failed->find("NOPERM") != std::string::npos);
    gw.wait_until_ready();
    CHECK(send_request(gw.tracking_port(), hit(1)).status == 200);
}

TEST_CASE("never down 4: restarts of the real binary on one spool directory leave one segment file") {
    RedisServer redis;
    const std::string dir = make_temp_dir("mgw-nd-restarts");
    for (int i = 0; i < 5; ++i) {
        GatewayProcess gw({"--redis", redis.url(), "--spool-dir", dir});
        gw.wait_until_ready();
        REQUIRE(gw.terminate() == 0);
    }
    std::size_t segments = 0;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".spool") ++segments;
    CHECK(segments == 1);
    fs::remove_all(dir);
}

TEST_CASE("never down: --threads 0 is logged with where the count came from") {
    RedisServer redis;
    GatewayProcess gw({"--redis", redis.url(), "--threads", "0"});
    auto line = gw.wait_for_line(has_event("io_threads"), 10s);
    REQUIRE(line);
    CHECK(line->find("\"threads\":") != std::string::npos);
    CHECK((line->find("\"source\":\"cores\"") != std::string::npos ||
           line->find("\"source\":\"cgroup CPU quota\"") != std::string::npos));
    GatewayProcess fixed({"--redis", redis.url(), "--threads", "3"});
    auto fixed_line = fixed.wait_for_line(has_event("io_threads"), 10s);
    REQUIRE(fixed_line);
    CHECK(fixed_line->find("\"threads\":3,\"source\":\"--threads\"") != std::string::npos);
}
