// Micro-benchmarks of the per-hit pieces (Catch2 BENCHMARK): query parsing, queue choice, JSON
// encoding, compression at every level, and the writer's hits/s against a real local redis-server.
// `make microbench` builds and runs them (Release); docs/performance.md quotes a run.
#define CATCH_CONFIG_MAIN
#define CATCH_CONFIG_ENABLE_BENCHMARKING
#include <catch2/catch.hpp>

#include "php/php.hpp"
#include "queue/compressor.hpp"
#include "queue/queue_choice.hpp"
#include "queue/redis_writer.hpp"
#include "queue/request_set.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

namespace {

// A JavaScript-tracker page view as browsers send it (about 600 bytes of query).
constexpr std::string_view kQuery =
    "action_name=Pricing%20%E2%80%93%20Example%20Shop&idsite=3&rec=1&r=482913&h=14&m=2&s=51&"
    "url=https%3A%2F%2Fshop.example.org%2Fpricing%3Fplan%3Dpro%26utm_source%3Dnewsletter&"
    "urlref=https%3A%2F%2Fwww.google.com%2F&_id=5c9b4f1a8e2d7c30&_idn=0&send_image=0&_refts=1729766400&"
    "_ref=https%3A%2F%2Fwww.google.com%2F&pdf=1&qt=0&realp=0&wma=0&fla=0&java=0&ag=0&cookie=1&res=1920x1080&"
    "dimension1=pro&pv_id=a1B2c3&pf_net=12&pf_srv=48&pf_tfr=3&pf_dm1=210&pf_dm2=95&pf_onl=2&"
    "uadata=%7B%22fullVersionList%22%3A%5B%7B%22brand%22%3A%22Chromium%22%2C%22version%22%3A%22119.0.6045.159%22%7D%5D%"
    "2C"
    "%22mobile%22%3Afalse%2C%22platform%22%3A%22Linux%22%7D";

mgw::queue::RequestSet one_hit_set() {
    mgw::queue::RequestSet set;
    mgw::php::Params hit;
    mgw::php::parse_str(kQuery, hit);
    set.requests.push_back(std::move(hit));
    set.server = {{"HTTP_USER_AGENT", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"},
                  {"HTTP_ACCEPT_LANGUAGE", "en-US,en;q=0.5"},
                  {"REMOTE_ADDR", "203.0.113.0"},
                  {"HTTP_REFERER", "https://shop.example.org/pricing?plan=pro"}};
    set.time = 1729766400;
    return set;
}

// A throw-away redis-server on a free loopback port; killed at the end.
class LocalRedis {
public:
    LocalRedis() {
        boost::asio::io_context ioc;
        boost::asio::ip::tcp::acceptor probe(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
        port = probe.local_endpoint().port();
        probe.close();
        pid_ = ::fork();
        if (pid_ == 0) {
            const std::string p = std::to_string(port);
            ::execlp("redis-server", "redis-server", "--port", p.c_str(), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no", "--logfile", "/dev/null", static_cast<char*>(nullptr));
            ::_exit(127);
        }
    }
    ~LocalRedis() {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    std::uint16_t port = 0;

private:
    pid_t pid_ = -1;
};

// Sends `n` sets of `value` through one RedisWriter, at most `window` unacknowledged, and returns
// acknowledged sets per second (0 if Redis never became ready).
double writer_hits_per_second(std::uint16_t port, const std::string& value, std::size_t n, std::size_t window) {
    boost::asio::io_context ioc;
    mgw::queue::RedisOptions opts;
    opts.port = port;
    mgw::queue::RedisWriter writer(ioc.get_executor(), opts);
    writer.start();
    std::thread io([&] {
        auto guard = boost::asio::make_work_guard(ioc);
        ioc.run();
    });
    const auto ready_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!writer.ready() && std::chrono::steady_clock::now() < ready_deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    double rate = 0;
    if (writer.ready()) {
        std::atomic<std::size_t> done{0}, ok{0}, in_flight{0};
        const auto t0 = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < n; ++i) {
            while (in_flight.load() >= window) std::this_thread::yield();
            ++in_flight;
            writer.submit("trackingQueueV1", value, [&](mgw::queue::WriteStatus s) {
                if (s == mgw::queue::WriteStatus::ok) ++ok;
                --in_flight;
                ++done;
            });
        }
        while (done.load() < n) std::this_thread::yield();
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        rate = static_cast<double>(ok.load()) / secs;
    }
    writer.stop([&] { ioc.stop(); });
    io.join();
    return rate;
}

}  // namespace

TEST_CASE("per-hit pieces") {
    const auto set = one_hit_set();
    const std::string json = mgw::queue::encode_json(set);
    mgw::php::Params hit;
    mgw::php::parse_str(kQuery, hit);
    mgw::queue::QueueChoiceOptions choice;
    choice.queues = 16;

    BENCHMARK("php::parse_str, a 600-byte JS tracker query") {
        mgw::php::Params out;
        mgw::php::parse_str(kQuery, out);
        return out.size();
    };
    BENCHMARK("queue choice, visitor id, 16 queues") {
        return *mgw::queue::choose_queue(hit, "203.0.113.0", "", true, choice);
    };
    BENCHMARK("encode_json, one-hit request set") { return mgw::queue::encode_json(set).size(); };
    for (int level = 0; level <= 9; ++level) {
        BENCHMARK("compress_value level " + std::to_string(level)) {
            return mgw::queue::compress_value(json, level).size();
        };
    }
}

TEST_CASE("bytes per one-hit set, by compression level") {
    const std::string json = mgw::queue::encode_json(one_hit_set());
    std::printf("\n%-6s %-10s\n", "level", "bytes");
    for (int level = 0; level <= 9; ++level)
        std::printf("%-6d %-10zu\n", level, mgw::queue::compress_value(json, level).size());
    CHECK(mgw::queue::compress_value(json, 0) == json);
}

TEST_CASE("writer hits/s against a local redis-server, by compression level") {
    LocalRedis redis;
    const std::string json = mgw::queue::encode_json(one_hit_set());
    std::printf("\n%-6s %-8s %-12s\n", "level", "bytes",
                "writer hits/s (one connection, 200,000 sets, 4,096 in flight)");
    for (int level : {0, 1, 3, 6, 9}) {
        const std::string value = mgw::queue::compress_value(json, level);
        const double rate = writer_hits_per_second(redis.port, value, 200000, 4096);
        std::printf("%-6d %-8zu %-12.0f\n", level, value.size(), rate);
        CHECK(rate > 0);
    }
}
