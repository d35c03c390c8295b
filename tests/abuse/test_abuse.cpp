// Attacks on the public listener (docs/security.md), each against the real gateway binary and a real
// redis-server on 127.0.0.1. While an attack is in effect a probe sends 100 legitimate hits that must
// all be answered 200 and stored in Redis; the attack ends in its documented status (README "Limits
// and errors"); the gateway's peak resident memory (VmHWM) is reported, and bounded where the attack
// asks it to hold far more than it may. No sleeps: every wait is for an observable effect (a metric, an answer, a
// close) with a deadline, and the gateway's timeouts are set small so the effects come quickly.
#include "integration/tracking_env.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace mgw::test;
using namespace std::chrono_literals;

namespace {

// The test build runs the gateway under AddressSanitizer, whose quarantine keeps up to 256 MiB of
// freed memory resident by default; capped here so the bound measures the gateway, not the tool.
// Set before the gateway starts (children inherit it); a non-ASan gateway ignores it.
void cap_asan_quarantine() {
    std::string opts = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
    if (opts.find("quarantine_size_mb") == std::string::npos) {
        opts += (opts.empty() ? "" : ":") + std::string("quarantine_size_mb=16");
        ::setenv("ASAN_OPTIONS", opts.c_str(), 1);
    }
}

// kB value of a /proc/<pid>/status line ("VmRSS", "VmHWM").
long proc_status_kb(pid_t pid, const std::string& field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
    return -1;
}

class AbuseEnv {
public:
    explicit AbuseEnv(std::vector<std::string> args) : env_((cap_asan_quarantine(), with_defaults(std::move(args)))) {
        baseline_kb_ = proc_status_kb(env_.gateway.pid(), "VmRSS");
    }

    TrackingEnv& env() { return env_; }
    std::uint16_t port() { return env_.gateway.tracking_port(); }

    // One sample of the admin /metrics, e.g. metric("matomo_gateway_connections") or
    // metric("matomo_gateway_hits_rejected_total{reason=\"read_timeout\"}"); 0 when absent.
    double metric(const std::string& sample) {
        auto scrape = env_.send_admin("/metrics");
        std::istringstream in(scrape.body);
        std::string line;
        while (std::getline(in, line))
            if (line.rfind(sample + " ", 0) == 0) return std::stod(line.substr(sample.size() + 1));
        return 0;
    }

    // Polls a metric until pred holds; false at the deadline.
    bool wait_metric(const std::string& sample, const std::function<bool(double)>& pred,
                     std::chrono::seconds timeout = 30s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline)
            if (pred(metric(sample))) return true;
        return false;
    }

    // Growth of the peak resident set over the resident set once ready, in MiB.
    double peak_growth_mib() {
        return static_cast<double>(proc_status_kb(env_.gateway.pid(), "VmHWM") - baseline_kb_) / 1024.0;
    }

    // Hits stored in Redis whose action_name is `tag`, by their `r` parameter (values are plain JSON).
    std::vector<std::string> stored(const std::string& tag) {
        std::vector<std::string> rs;
        for (auto& [key, values] : env_.redis.queue_contents()) {
            for (const auto& v : values) {
                auto doc = boost::json::parse(v).as_object();
                for (const auto& hit : doc.at("requests").as_array()) {
                    const auto& h = hit.as_object();
                    if (h.contains("action_name") && h.at("action_name").is_string() &&
                        h.at("action_name").get_string() == tag)
                        rs.emplace_back(h.at("r").as_string());
                }
            }
        }
        return rs;
    }

    // Access-log lines with this reason, once there are `expected` of them or the deadline passes: a
    // line is written after its answer, so a client can have the answer before the line exists.
    std::size_t logged(const std::string& reason, std::size_t expected) {
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        for (;;) {
            std::size_t n = 0;
            const auto lines = env_.gateway.output_lines();
            for (const auto& l : lines)
                if (l.find("\"event\":\"access\"") != std::string::npos &&
                    l.find("\"reason\":\"" + reason + "\"") != std::string::npos)
                    ++n;
            if (n >= expected || std::chrono::steady_clock::now() >= deadline) return n;
            // Blocks until the gateway writes another line (or briefly, at most until the deadline).
            env_.gateway.wait_for_line([](std::string_view) { return true; }, 200ms, lines.size());
        }
    }

private:
    static std::vector<std::string> with_defaults(std::vector<std::string> args) {
        args.insert(args.end(), {"--compression-level", "0", "--threads", "2"});
        return args;
    }
    TrackingEnv env_;
    long baseline_kb_ = 0;
};

std::string hit_request(const std::string& tag, int i, bool keep_alive = true) {
    char id[17];
    std::snprintf(id, sizeof id, "%016x", 0xabc00000 + i);
    return build_request("GET",
                         "/matomo.php?idsite=1&rec=1&action_name=" + tag + "&r=" + std::to_string(i) + "&_id=" + id,
                         {{"Host", "127.0.0.1"}, {"Connection", keep_alive ? "keep-alive" : "close"}});
}

struct ProbeResult {
    int ok = 0;
    int reconnects = 0;
    std::vector<std::string> failures;
};

// 100 legitimate hits on one keep-alive connection (a new one if the gateway ends it).
ProbeResult probe(std::uint16_t port, const std::string& tag, Connection* established = nullptr) {
    ProbeResult result;
    std::unique_ptr<Connection> own;
    Connection* c = established;
    for (int i = 0; i < 100; ++i) {
        try {
            if (c == nullptr) {
                own = std::make_unique<Connection>(port, 20s);
                c = own.get();
            }
            auto r = c->send(hit_request(tag, i));
            if (r.status == 200) ++result.ok;
            else result.failures.push_back("hit " + std::to_string(i) + ": " + std::to_string(r.status));
            if (!r.keep_alive) {
                c = nullptr;
                ++result.reconnects;
            }
        } catch (const std::exception& e) {
            result.failures.push_back("hit " + std::to_string(i) + ": " + e.what());
            c = nullptr;
            ++result.reconnects;
        }
    }
    return result;
}

void check_probe(AbuseEnv& a, const ProbeResult& p, const std::string& tag) {
    INFO("probe failures: " << p.failures.size() << (p.failures.empty() ? "" : ", first: " + p.failures.front()));
    CHECK(p.ok == 100);
    auto rs = a.stored(tag);
    std::sort(rs.begin(), rs.end());
    rs.erase(std::unique(rs.begin(), rs.end()), rs.end());
    CHECK(rs.size() == 100);
}

// What one attacking connection saw: the status of the answer (0 when none came) and whether the
// gateway then closed the connection.
struct Outcome {
    int status = 0;
    bool closed = false;
    std::string error;
};

Outcome finish(Connection& c) {
    Outcome o;
    try {
        o.status = c.read_response().status;
    } catch (const std::exception& e) { o.error = e.what(); }
    o.closed = c.closed_by_peer(20s);
    return o;
}

// Writes what it can: a gateway that has answered and closed may reset a connection mid-write.
void write_tolerant(Connection& c, const std::string& bytes) {
    try {
        c.write(bytes);
    } catch (const std::exception&) {}
}

// finish() for each connection, stopping at the first that does not end with `expected`, so a
// regression fails after one deadline rather than one per connection.
// n connections that have each written `bytes`, all of them counted open by the gateway.
std::vector<std::unique_ptr<Connection>> open_and_write(AbuseEnv& a, int n, const std::string& bytes) {
    std::vector<std::unique_ptr<Connection>> conns;
    conns.reserve(n);
    for (int i = 0; i < n; ++i) {
        conns.push_back(std::make_unique<Connection>(a.port(), 30s));
        conns.back()->write(bytes);
    }
    REQUIRE(a.wait_metric("matomo_gateway_connections", [n](double v) { return v >= n; }));
    return conns;
}

// n keep-alive connections, each with one hit (tagged `tag`, numbered) answered 200.
std::vector<std::unique_ptr<Connection>> open_after_a_hit(AbuseEnv& a, int n, const std::string& tag) {
    std::vector<std::unique_ptr<Connection>> conns;
    conns.reserve(n);
    for (int i = 0; i < n; ++i) {
        conns.push_back(std::make_unique<Connection>(a.port(), 30s));
        REQUIRE(conns.back()->send(hit_request(tag, i)).status == 200);
    }
    return conns;
}

std::vector<Outcome> finish_all(std::vector<std::unique_ptr<Connection>>& conns, int expected) {
    std::vector<Outcome> outs;
    outs.reserve(conns.size());
    for (auto& c : conns) {
        outs.push_back(finish(*c));
        if (outs.back().status != expected || !outs.back().closed) break;
    }
    return outs;
}

std::size_t count_status(const std::vector<Outcome>& outs, int status) {
    std::size_t n = 0;
    for (const auto& o : outs)
        if (o.status == status && o.closed) ++n;
    return n;
}

std::string first_error(const std::vector<Outcome>& outs) {
    for (const auto& o : outs)
        if (!o.error.empty()) return o.error;
    return {};
}

// Sends each payload on a fresh connection, one after another, and collects how each ended; stops
// at the first that does not end with `expected`. Sets `started` once the first has ended.
std::vector<Outcome> attack_serially(std::uint16_t port, const std::vector<std::string>& payloads, int expected,
                                     std::atomic<bool>& started) {
    std::vector<Outcome> outs;
    outs.reserve(payloads.size());
    for (const auto& payload : payloads) {
        Connection c(port, 20s);
        write_tolerant(c, payload);
        outs.push_back(finish(c));
        started = true;
        if (outs.back().status != expected || !outs.back().closed) break;
    }
    return outs;
}

// Runs `attack` on its own thread; the probe starts once the attack has begun (it sets `started`).
template <class Attack>
ProbeResult probe_during(AbuseEnv& a, const std::string& tag, Attack attack) {
    std::atomic<bool> started{false};
    std::thread t([&] { attack(started); });
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!started && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    auto p = probe(a.port(), tag);
    t.join();
    return p;
}

// 40 connections, taking the attacks in turn, one after another while the probe runs; each must end
// with `expected` and a close.
void flood(AbuseEnv& a, const std::vector<std::string>& attacks, int expected, const std::string& tag) {
    std::vector<std::string> payloads;
    payloads.reserve(40);
    for (std::size_t i = 0; i < 40; ++i) payloads.push_back(attacks[i % attacks.size()]);
    std::vector<Outcome> outs;
    auto p = probe_during(
        a, tag, [&](std::atomic<bool>& started) { outs = attack_serially(a.port(), payloads, expected, started); });
    check_probe(a, p, tag);
    INFO("first error: " << first_error(outs));
    CHECK(count_status(outs, expected) == 40);
}

}  // namespace

// Memory: how far the gateway's peak resident set (VmHWM) grew over its resident set once ready is
// printed for every attack (docs/security.md quotes it) but asserted only where the attack itself
// sets a scale that no allocator or sanitizer noise reaches: a bound in MiB that depends on how fast
// the machine is (how many hits are in flight to Redis at once) would be a flaky test, not a limit.
namespace {
void report_memory(AbuseEnv& a, const char* attack) {
    std::printf("abuse: %s: peak resident set grew %.1f MiB\n", attack, a.peak_growth_mib());
}
}  // namespace

// n connections each send the start of a request and nothing more; all must get 408 at the read
// timeout, while the probe's hits are served.
void slowloris(const std::string& partial, const std::string& tag) {
    AbuseEnv a({"--read-timeout-ms", "3000"});
    constexpr int n = 200;
    auto slow = open_and_write(a, n, partial);
    check_probe(a, probe(a.port(), tag), tag);
    auto outs = finish_all(slow, 408);
    INFO("first error: " << first_error(outs));
    CHECK(count_status(outs, 408) == n);
    CHECK(a.metric("matomo_gateway_hits_rejected_total{reason=\"read_timeout\"}") == n);
    CHECK(a.logged("read_timeout", n) == n);
    report_memory(a, tag.c_str());
}

TEST_CASE("slowloris headers get 408 at the read timeout while hits are served") {
    slowloris("GET /matomo.php?idsite=1&rec=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a", "probe-slow-headers");
}

TEST_CASE("slowloris bodies get 408 at the read timeout while hits are served") {
    slowloris(
        "POST /matomo.php HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: 100000\r\n\r\nidsite=1&rec=1&action_name=" +
            std::string(1000, 'a'),
        "probe-slow-bodies");
}

TEST_CASE("a slow request on a kept-alive connection gets 408 at the read timeout, not the idle timeout") {
    // The idle allowance (here 10 minutes) only covers the wait for a next request's first byte.
    AbuseEnv a({"--read-timeout-ms", "1000", "--idle-timeout-ms", "600000"});
    constexpr int n = 50;
    auto slow = open_after_a_hit(a, n, "keepalive-first");
    for (auto& c : slow) c->write("GET /matomo.php?idsite=1&rec=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a");
    check_probe(a, probe(a.port(), "probe-slow-keepalive"), "probe-slow-keepalive");
    auto outs = finish_all(slow, 408);
    INFO("first error: " << first_error(outs));
    CHECK(count_status(outs, 408) == n);
    CHECK(a.stored("keepalive-first").size() == n);
    report_memory(a, "slow request on a kept-alive connection");
}

TEST_CASE("idle keep-alive connections are closed at the idle timeout while hits are served") {
    AbuseEnv a({"--idle-timeout-ms", "3000"});
    constexpr int n = 300;
    auto idle = open_after_a_hit(a, n, "idle");
    REQUIRE(a.wait_metric("matomo_gateway_connections", [](double v) { return v >= n; }));
    check_probe(a, probe(a.port(), "probe-idle"), "probe-idle");
    std::size_t closed = 0;
    for (auto& c : idle) {
        if (!c->closed_by_peer(30s)) break;
        ++closed;
    }
    CHECK(closed == n);
    CHECK(a.wait_metric("matomo_gateway_connections", [](double v) { return v == 0; }));
    CHECK(a.stored("idle").size() == n);
    report_memory(a, "idle keep-alive connections");
}

TEST_CASE("header floods get 431 and the connection closes while hits are served") {
    AbuseEnv a({});
    std::string many = "GET /matomo.php?idsite=1&rec=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (int i = 0; i < 10000; ++i) many += "X-F" + std::to_string(i) + ": v\r\n";
    many += "\r\n";
    const std::string huge =
        "GET /matomo.php?idsite=1&rec=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Huge: " + std::string(1 << 20, 'h') +
        "\r\n\r\n";
    flood(a, {many, huge}, 431, "probe-header-flood");
    CHECK(a.metric("matomo_gateway_hits_rejected_total{reason=\"header_too_large\"}") == 40);
    CHECK(a.logged("header_too_large", 40) == 40);
    report_memory(a, "header floods");
}

TEST_CASE("pipelined floods are answered in order while hits are served") {
    AbuseEnv a({});
    constexpr int conns = 4;
    constexpr int per_conn = 500;
    std::vector<int> ok(conns, 0);
    std::vector<std::string> errors(conns);
    auto p = probe_during(a, "probe-pipelined", [&](std::atomic<bool>& started) {
        std::vector<std::unique_ptr<Connection>> cs;
        cs.reserve(conns);
        for (int c = 0; c < conns; ++c) {
            std::string burst;
            for (int i = 0; i < per_conn; ++i) burst += hit_request("pipelined", c * per_conn + i);
            cs.push_back(std::make_unique<Connection>(a.port(), 60s));
            cs.back()->write(burst);
        }
        started = true;
        for (int c = 0; c < conns; ++c) {
            try {
                for (int i = 0; i < per_conn; ++i) ok[c] += cs[c]->read_response().status == 200 ? 1 : 0;
            } catch (const std::exception& e) { errors[c] = e.what(); }
        }
    });
    check_probe(a, p, "probe-pipelined");
    for (int c = 0; c < conns; ++c) {
        INFO("connection " << c << ": " << errors[c]);
        CHECK(ok[c] == per_conn);
    }
    CHECK(a.stored("pipelined").size() == static_cast<std::size_t>(conns * per_conn));
    report_memory(a, "pipelined floods");
}

TEST_CASE("a pipelining client that stops reading is dropped at the write timeout") {
    // 256 KiB answers to 200 pipelined requests per connection: far more than socket buffers hold,
    // so the gateway's write stalls until --read-timeout-ms ends the connection.
    const std::string dir = make_temp_dir("mgw-abuse");
    const std::string js = dir + "/matomo.js";
    std::ofstream(js) << std::string(std::size_t{256} * 1024, '/');
    AbuseEnv a({"--read-timeout-ms", "2000", "--js-tracker-file", js});
    constexpr int conns = 4;
    std::string burst;
    for (int i = 0; i < 200; ++i) burst += "GET /matomo.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    auto stalled = open_and_write(a, conns, burst);
    check_probe(a, probe(a.port(), "probe-stalled"), "probe-stalled");
    // Dropped without being read from: the connection count falls back once the write deadlines pass.
    CHECK(a.wait_metric("matomo_gateway_write_timeouts_total", [](double v) { return v == conns; }));
    CHECK(a.wait_metric("matomo_gateway_connections", [](double v) { return v == 0; }));
    CHECK(a.logged("write_timeout", conns) == conns);
    for (auto& c : stalled) {
        int answers = 0;
        try {
            while (answers < 200 && c->read_response().status == 200) ++answers;
        } catch (const std::exception&) {}
        CHECK(answers < 200);  // the rest were never sent
        CHECK(c->closed_by_peer(20s));
    }
    // The attack asks the gateway to hold 4 x 200 answers of 256 KiB (200 MiB); it holds one answer per
    // connection, so the peak stays far below half of that whatever the machine's speed.
    const double asked_mib = conns * 200 * 256.0 / 1024.0;
    report_memory(a, "stalled reader");
    CHECK(a.peak_growth_mib() < asked_mib / 2);
    std::filesystem::remove_all(dir);
}

TEST_CASE("huge chunked bodies, chunk sizes, extensions and trailers get 413 while hits are served") {
    AbuseEnv a({"--max-body-bytes", "65536"});
    const std::string head = "POST /matomo.php HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    std::string many_chunks = head;
    for (int i = 0; i < 256; ++i) many_chunks += "400\r\n" + std::string(1024, 'x') + "\r\n";  // 256 KiB
    many_chunks += "0\r\n\r\n";
    const std::string one_huge_size = head + "ffffffffffff\r\n" + std::string(1000, 'x');
    const std::string long_extension = head + "1;" + std::string(std::size_t{256} * 1024, 'e') + "\r\nx\r\n0\r\n\r\n";
    const std::string long_trailer =
        head + "1\r\nx\r\n0\r\nX-Trailer: " + std::string(std::size_t{256} * 1024, 't') + "\r\n\r\n";
    // Ten connections each: body_too_large (twice), chunk_metadata_too_large (twice).
    const std::vector<std::string> attacks = {many_chunks, one_huge_size, long_extension, long_trailer};
    flood(a, attacks, 413, "probe-chunked");
    CHECK(a.metric("matomo_gateway_hits_rejected_total{reason=\"body_too_large\"}") == 20);
    CHECK(a.metric("matomo_gateway_hits_rejected_total{reason=\"chunk_metadata_too_large\"}") == 20);
    CHECK(a.logged("chunk_metadata_too_large", 20) == 20);
    report_memory(a, "chunked bodies");
}

TEST_CASE("connections over --max-connections get 503 at accept and established ones keep working") {
    AbuseEnv a({"--max-connections", "50", "--read-timeout-ms", "600000"});
    Connection established(a.port(), 20s);
    REQUIRE(established.send(hit_request("cap-first", 0)).status == 200);
    std::vector<std::unique_ptr<Connection>> holders;
    holders.reserve(49);
    for (int i = 0; i < 49; ++i) holders.push_back(std::make_unique<Connection>(a.port(), 20s));
    REQUIRE(a.wait_metric("matomo_gateway_connections", [](double v) { return v == 50; }));
    std::vector<Outcome> refused;
    refused.reserve(50);
    for (int i = 0; i < 50; ++i) {
        Connection c(a.port(), 20s);
        refused.push_back(finish(c));
        if (refused.back().status != 503) break;
    }
    INFO("first error: " << first_error(refused));
    CHECK(count_status(refused, 503) == 50);
    auto p = probe(a.port(), "probe-cap", &established);
    check_probe(a, p, "probe-cap");
    CHECK(p.reconnects == 0);
    CHECK(a.metric("matomo_gateway_connections_refused_total") == 50);
    CHECK(a.logged("connection_limit", 50) == 50);
    // Freed slots are usable again.
    holders.clear();
    REQUIRE(a.wait_metric("matomo_gateway_connections", [](double v) { return v == 1; }));
    CHECK(send_request(a.port(), hit_request("cap-after", 0, false)).status == 200);
    report_memory(a, "connection limit");
}
