// matomo-loadgen: the load generator of `make bench` and of the smoke test.
//
// Sends Matomo tracking requests to a loopback URL in a closed loop (N connections back to back) or an
// open loop (fixed rate, latency from the intended send time), then reports latency percentiles,
// requests/s, hits/s (a bulk request counts its hits) and errors by status and transport error, as text
// and optionally as JSON. With --verify-redis it counts the hits that reached the QueuedTracking lists
// and fails unless they equal the hits the server acknowledged with a 2xx.
//
// Options, threads and reporting live here; the load is in load_worker.*, the requests in hit_mix.*,
// the Redis count in redis_count.*.
#include "bench/load_worker.hpp"
#include "bench/redis_count.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <sys/resource.h>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <thread>
#include <vector>

namespace {

using namespace mgw::bench;
namespace json = boost::json;

constexpr double kMaxRunSeconds = 600;

std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) { g_interrupted.store(true); }

const char* const kUsage = R"(usage: matomo-loadgen --url http://127.0.0.1:PORT/matomo.php [options]

  --url URL              tracking URL; the host must be a loopback address (no query string)
  --connections N        concurrent connections (default 64; 1..10000)
  --threads T            load threads, each with its own event loop (default 1)
  --duration S           run length in seconds (default 10 when --requests is not given; at most 600)
  --requests N           stop after N requests (with --duration: whichever comes first)
  --rate R               open loop: R requests/s on a fixed schedule; without it: closed loop
  --keep-alive on|off    reuse connections (default on)
  --mix pageview|realistic
                         pageview: one GET pageview; realistic: events, goals, ecommerce,
                         pings, form and bulk POSTs of 10 and 100 hits, varied headers (default pageview)
  --timeout-ms MS        per-request timeout (default 10000)
  --seed N               random seed of the request contents (default: random)
  --label TEXT           name of the run in the JSON output
  --json FILE            also write the results as JSON
  --verify-redis URL     redis://127.0.0.1:PORT/DB or unix:///path?db=N: after the run, count the hits in
                         the trackingQueueV1* lists and exit 1 unless they equal the acknowledged hits
  --smoke                2 s, 2 connections, realistic mix; exit 1 on any error or nothing acknowledged
)";

struct Options {
    std::string url;
    RunConfig run;
    double duration_s = 0;
    std::string json_file;
    std::string verify_url;
    std::string label;
    bool smoke = false;
};

struct UsageError {
    std::string what;
};

template <typename T>
T number(const std::string& flag, const std::string& v) {
    T out{};
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc{} || p != v.data() + v.size()) throw UsageError{flag + ": not a number: '" + v + "'"};
    return out;
}

// Splits http://host[:port]/path into the connect endpoint, the Host header and the path.
void parse_url(const std::string& url, RunConfig& run) {
    if (!url.starts_with("http://")) throw UsageError{"--url: only http:// URLs are supported"};
    const std::string rest = url.substr(7);
    const auto slash = rest.find('/');
    const std::string hostport = rest.substr(0, slash);
    run.path = slash == std::string::npos ? "/matomo.php" : rest.substr(slash);
    if (run.path.find_first_of("?#") != std::string::npos)
        throw UsageError{"--url: give the path without a query string"};
    std::string host = hostport;
    std::string port = "80";
    if (hostport.starts_with('[')) {
        const auto close = hostport.find(']');
        if (close == std::string::npos) throw UsageError{"--url: bad IPv6 host"};
        host = hostport.substr(1, close - 1);
        if (close + 1 < hostport.size() && hostport[close + 1] == ':') port = hostport.substr(close + 2);
    } else if (const auto colon = hostport.rfind(':'); colon != std::string::npos) {
        host = hostport.substr(0, colon);
        port = hostport.substr(colon + 1);
    }
    const std::string address = host == "localhost" ? "127.0.0.1" : host;
    boost::system::error_code ec;
    const auto addr = boost::asio::ip::make_address(address, ec);
    if (ec || !addr.is_loopback())
        throw UsageError{"--url: host '" + host +
                         "' is not a loopback address; the load generator only loads this machine"};
    run.endpoint = {addr, number<unsigned short>("--url port", port)};
    run.host_header = hostport;
}

Options parse_args(int argc, char** argv) {
    Options o;
    bool have_duration = false, have_mix = false, have_connections = false, have_seed = false;
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        std::string value;
        if (auto eq = flag.find('='); flag.starts_with("--") && eq != std::string::npos) {
            value = flag.substr(eq + 1);
            flag.resize(eq);
        } else if (flag != "--smoke" && flag != "--help" && flag != "-h") {
            if (i + 1 >= argc) throw UsageError{flag + ": missing value"};
            value = argv[++i];
        }
        if (flag == "--help" || flag == "-h") {
            std::cout << kUsage;
            std::exit(0);
        } else if (flag == "--url") o.url = value;
        else if (flag == "--connections") {
            o.run.connections = number<unsigned>(flag, value);
            have_connections = true;
        } else if (flag == "--threads") o.run.threads = number<unsigned>(flag, value);
        else if (flag == "--duration") {
            o.duration_s = number<double>(flag, value);
            have_duration = true;
        } else if (flag == "--requests") o.run.requests = number<std::uint64_t>(flag, value);
        else if (flag == "--rate") o.run.rate = number<double>(flag, value);
        else if (flag == "--timeout-ms") o.run.timeout = std::chrono::milliseconds(number<unsigned>(flag, value));
        else if (flag == "--seed") {
            o.run.seed = number<std::uint64_t>(flag, value);
            have_seed = true;
        } else if (flag == "--label") o.label = value;
        else if (flag == "--json") o.json_file = value;
        else if (flag == "--verify-redis") o.verify_url = value;
        else if (flag == "--smoke") o.smoke = true;
        else if (flag == "--keep-alive") {
            if (value != "on" && value != "off") throw UsageError{"--keep-alive: on or off"};
            o.run.keep_alive = value == "on";
        } else if (flag == "--mix") {
            if (value != "pageview" && value != "realistic") throw UsageError{"--mix: pageview or realistic"};
            o.run.mix = value == "pageview" ? Mix::pageview : Mix::realistic;
            have_mix = true;
        } else throw UsageError{"unknown option " + flag};
    }
    if (o.smoke) {
        if (!have_duration && o.run.requests == 0) {
            o.duration_s = 2;
            have_duration = true;
        }
        if (!have_connections) o.run.connections = 2;
        if (!have_mix) o.run.mix = Mix::realistic;
    }
    if (o.url.empty()) throw UsageError{"--url is required"};
    parse_url(o.url, o.run);
    if (o.run.connections < 1 || o.run.connections > 10000) throw UsageError{"--connections: 1..10000"};
    if (o.run.threads < 1 || o.run.threads > 256) throw UsageError{"--threads: 1..256"};
    o.run.threads = std::min(o.run.threads, o.run.connections);
    if (o.run.rate < 0 || o.run.rate > 10'000'000) throw UsageError{"--rate: 0..10000000 requests/s"};
    if (!have_duration && o.run.requests == 0) o.duration_s = 10;
    if (have_duration && !(o.duration_s > 0)) throw UsageError{"--duration must be positive"};
    if (o.duration_s > kMaxRunSeconds) throw UsageError{"--duration: runs are limited to 600 s"};
    if (o.run.rate > 0 && o.run.requests > 0 && !have_duration) {
        o.duration_s = static_cast<double>(o.run.requests) / o.run.rate;
        if (o.duration_s > kMaxRunSeconds) throw UsageError{"--requests / --rate: runs are limited to 600 s"};
    }
    if (o.run.timeout.count() <= 0) throw UsageError{"--timeout-ms must be positive"};
    if (!have_seed) o.run.seed = std::random_device{}() | (std::uint64_t{std::random_device{}()} << 32);
    return o;
}

double ms(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }

double own_cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct Verification {
    bool done = false;
    std::string error;
    QueueCount before, after;
    std::uint64_t queued() const { return after.hits - std::min(after.hits, before.hits); }
};

void print_report(const Options& o, const WorkerStats& s, double elapsed, double cpu_s, const Verification& v) {
    const auto& run = o.run;
    std::printf("matomo-loadgen: %s, %s, %u connections, %u thread%s, keep-alive %s, mix %s\n", o.url.c_str(),
                run.rate > 0
                    ? ("open loop at " + std::to_string(static_cast<long long>(run.rate)) + " requests/s").c_str()
                    : "closed loop",
                run.connections, run.threads, run.threads == 1 ? "" : "s", run.keep_alive ? "on" : "off",
                run.mix == Mix::pageview ? "pageview" : "realistic");
    std::printf("  elapsed    %.2f s (load generator CPU %.2f s)\n", elapsed, cpu_s);
    std::printf("  requests   %llu sent, %llu completed, %llu 2xx: %.1f requests/s\n",
                static_cast<unsigned long long>(s.sent), static_cast<unsigned long long>(s.completed),
                static_cast<unsigned long long>(s.ok), static_cast<double>(s.completed) / elapsed);
    std::printf("  hits       %llu sent, %llu acknowledged: %.1f hits/s\n",
                static_cast<unsigned long long>(s.hits_sent), static_cast<unsigned long long>(s.hits_acknowledged),
                static_cast<double>(s.hits_acknowledged) / elapsed);
    if (run.rate > 0)
        std::printf("  schedule   %llu requests due, %llu not sent before the end\n",
                    static_cast<unsigned long long>(s.scheduled),
                    static_cast<unsigned long long>(s.scheduled - std::min(s.scheduled, s.sent)));
    const auto& h = s.latency;
    std::printf("  latency    p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms  (mean %.3f ms%s)\n",
                ms(h.quantile(0.5)), ms(h.quantile(0.9)), ms(h.quantile(0.99)), ms(h.quantile(0.999)), ms(h.max()),
                h.mean() / 1e6, run.rate > 0 ? ", from the intended send time" : "");
    std::printf("  status    ");
    if (s.status.empty()) std::printf(" none");
    for (const auto& [code, n] : s.status) std::printf(" %u: %llu", code, static_cast<unsigned long long>(n));
    std::printf("\n  transport ");
    if (s.transport_errors.empty()) std::printf(" no errors");
    for (const auto& [what, n] : s.transport_errors)
        std::printf(" [%s] %llu", what.c_str(), static_cast<unsigned long long>(n));
    std::printf("\n");
    if (run.mix == Mix::realistic) {
        std::printf("  kinds     ");
        for (std::size_t i = 0; i < kKinds; ++i)
            if (s.kinds[i])
                std::printf(" %s %llu", std::string(kind_name(static_cast<Kind>(i))).c_str(),
                            static_cast<unsigned long long>(s.kinds[i]));
        std::printf("\n");
    }
    if (v.done) {
        if (!v.error.empty()) {
            std::printf("  redis      cannot count: %s\n", v.error.c_str());
        } else {
            std::printf("  redis      acknowledged %llu, queued %llu (%llu values, %llu bytes, %llu undecodable): %s\n",
                        static_cast<unsigned long long>(s.hits_acknowledged),
                        static_cast<unsigned long long>(v.queued()),
                        static_cast<unsigned long long>(v.after.values - std::min(v.after.values, v.before.values)),
                        static_cast<unsigned long long>(v.after.value_bytes -
                                                        std::min(v.after.value_bytes, v.before.value_bytes)),
                        static_cast<unsigned long long>(v.after.undecodable),
                        v.queued() == s.hits_acknowledged && v.after.undecodable == 0 ? "OK" : "MISMATCH");
        }
    }
    std::fflush(stdout);
}

json::object to_json(const Options& o, const WorkerStats& s, double elapsed, double cpu_s, const Verification& v) {
    const auto& run = o.run;
    json::object j;
    j["label"] = o.label;
    j["url"] = o.url;
    j["mode"] = run.rate > 0 ? "open" : "closed";
    j["offered_rate"] = run.rate > 0 ? json::value(run.rate) : json::value(nullptr);
    j["connections"] = run.connections;
    j["threads"] = run.threads;
    j["keep_alive"] = run.keep_alive;
    j["mix"] = run.mix == Mix::pageview ? "pageview" : "realistic";
    j["duration_s"] = o.duration_s;
    j["elapsed_s"] = elapsed;
    j["requests"] = {{"sent", s.sent},
                     {"completed", s.completed},
                     {"ok", s.ok},
                     {"per_second", static_cast<double>(s.completed) / elapsed}};
    j["hits"] = {{"sent", s.hits_sent},
                 {"acknowledged", s.hits_acknowledged},
                 {"per_second", static_cast<double>(s.hits_acknowledged) / elapsed}};
    const auto& h = s.latency;
    j["latency_ms"] = {{"min", ms(h.min())},         {"mean", h.mean() / 1e6},      {"p50", ms(h.quantile(0.5))},
                       {"p90", ms(h.quantile(0.9))}, {"p99", ms(h.quantile(0.99))}, {"p99_9", ms(h.quantile(0.999))},
                       {"max", ms(h.max())}};
    json::object status;
    for (const auto& [code, n] : s.status) status[std::to_string(code)] = n;
    j["status"] = std::move(status);
    json::object transport;
    for (const auto& [what, n] : s.transport_errors) transport[what] = n;
    j["transport_errors"] = std::move(transport);
    json::object kinds;
    for (std::size_t i = 0; i < kKinds; ++i)
        if (s.kinds[i]) kinds[kind_name(static_cast<Kind>(i))] = s.kinds[i];
    j["requests_by_kind"] = std::move(kinds);
    j["connects"] = s.connects;
    j["loadgen_cpu_s"] = cpu_s;  // this process's CPU during the load, for the machine-sharing picture
    if (run.rate > 0) j["schedule"] = {{"due", s.scheduled}, {"unsent", s.scheduled - std::min(s.scheduled, s.sent)}};
    if (v.done) {
        json::object r;
        if (!v.error.empty()) {
            r["error"] = v.error;
        } else {
            r["acknowledged"] = s.hits_acknowledged;
            r["queued"] = v.queued();
            r["values"] = v.after.values - std::min(v.after.values, v.before.values);
            r["value_bytes"] = v.after.value_bytes - std::min(v.after.value_bytes, v.before.value_bytes);
            r["undecodable"] = v.after.undecodable;
            r["used_memory_before"] = v.before.used_memory;
            r["used_memory_after"] = v.after.used_memory;
            r["redis_cpu_s"] = v.after.cpu_seconds - v.before.cpu_seconds;  // Redis CPU during the run
            r["match"] = v.queued() == s.hits_acknowledged && v.after.undecodable == 0;
        }
        j["redis"] = std::move(r);
    }
    return j;
}

int run(const Options& o) {
    std::optional<RedisTarget> redis;
    Verification v;
    if (!o.verify_url.empty()) {
        std::string error;
        redis = parse_redis_url(o.verify_url, error);
        if (!redis) throw UsageError{"--verify-redis: " + error};
        if (!count_queued(*redis, v.before, error)) {
            std::fprintf(stderr, "matomo-loadgen: cannot read Redis before the run: %s\n", error.c_str());
            return 1;
        }
    }

    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    RunConfig cfg = o.run;
    cfg.duration = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(o.duration_s));
    RunControl ctl;
    ctl.interrupted = &g_interrupted;
    std::vector<std::unique_ptr<Worker>> workers;
    workers.reserve(cfg.threads);
    for (unsigned t = 0; t < cfg.threads; ++t)
        workers.push_back(std::make_unique<Worker>(
            cfg, ctl, t, cfg.connections / cfg.threads + (t < cfg.connections % cfg.threads ? 1 : 0)));
    const double cpu_before = own_cpu_seconds();
    ctl.start = Clock::now();
    const double limit_s = o.duration_s > 0 ? o.duration_s : kMaxRunSeconds;
    ctl.deadline = ctl.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limit_s));
    std::vector<std::thread> threads;
    threads.reserve(workers.size());
    for (auto& w : workers) threads.emplace_back([&w] { w->run(); });
    for (auto& t : threads) t.join();
    const double cpu_s = own_cpu_seconds() - cpu_before;

    auto total = std::make_unique<WorkerStats>();
    for (auto& w : workers) total->merge(w->stats());
    const auto end = std::max(total->last_completion, std::min(Clock::now(), ctl.deadline));
    const double elapsed = std::max(1e-9, std::chrono::duration<double>(end - ctl.start).count());

    if (redis) {
        v.done = true;
        if (!count_queued(*redis, v.after, v.error) && v.error.empty()) v.error = "unknown error";
    }
    print_report(o, *total, elapsed, cpu_s, v);
    if (!o.json_file.empty()) {
        std::ofstream f(o.json_file);
        f << json::serialize(to_json(o, *total, elapsed, cpu_s, v)) << "\n";
        if (!f) std::fprintf(stderr, "matomo-loadgen: cannot write %s\n", o.json_file.c_str());
    }

    int rc = 0;
    if (v.done && (!v.error.empty() || v.queued() != total->hits_acknowledged || v.after.undecodable != 0)) rc = 1;
    if (g_interrupted.load()) rc = rc ? rc : 130;
    if (o.smoke) {
        const bool clean =
            total->transport_errors.empty() && total->ok == total->completed && total->completed == total->sent;
        if (!clean || total->hits_acknowledged == 0) {
            std::fprintf(stderr, "matomo-loadgen: smoke run failed: %s\n",
                         total->hits_acknowledged == 0 ? "nothing acknowledged" : "errors or non-2xx answers");
            rc = 1;
        }
    }
    return rc;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(parse_args(argc, argv));
    } catch (const UsageError& e) {
        std::fprintf(stderr, "matomo-loadgen: %s (see --help)\n", e.what.c_str());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "matomo-loadgen: %s\n", e.what());
        return 1;
    }
}
