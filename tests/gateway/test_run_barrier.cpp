// The exception barrier around the I/O loop: a handler that throws is reported with a bounded
// reason, and the loop goes on with every other handler. With idle yields, the loop still ends when
// stopped or out of work, wakes for work from other threads, and sleeps when there is none.
#include "gateway/run_barrier.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <ctime>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void ignore_exceptions(const std::exception_ptr&) {}

}  // namespace

TEST_CASE("a handler that throws is reported and the I/O loop runs the others") {
    const unsigned idle_yields = GENERATE(0U, 8U);
    boost::asio::io_context ioc;
    int ran = 0;
    boost::asio::post(ioc, [&] { ++ran; });
    boost::asio::post(ioc, [] { throw std::length_error("field value too large"); });
    boost::asio::post(ioc, [&] { ++ran; });
    boost::asio::post(ioc, [] { throw 42; });
    boost::asio::post(ioc, [&] { ++ran; });
    std::vector<std::string> reasons;
    std::vector<std::string> texts;
    mgw::gateway::run_with_barrier(
        ioc,
        [&](const std::exception_ptr& e) {
            reasons.emplace_back(mgw::gateway::exception_reason(e));
            texts.push_back(mgw::gateway::exception_text(e));
        },
        idle_yields);
    CHECK(ran == 3);
    CHECK(reasons == std::vector<std::string>{"length_error", "other"});
    CHECK(texts == std::vector<std::string>{"field value too large", "unknown exception"});
}

TEST_CASE("exception reasons are a bounded set of type names") {
    using mgw::gateway::exception_reason;
    CHECK(exception_reason(std::make_exception_ptr(std::bad_alloc())) == "bad_alloc");
    CHECK(exception_reason(std::make_exception_ptr(std::runtime_error("x"))) == "runtime_error");
    CHECK(exception_reason(std::make_exception_ptr(std::invalid_argument("x"))) == "logic_error");
    CHECK(exception_reason(std::make_exception_ptr(
              std::system_error(std::make_error_code(std::errc::too_many_files_open)))) == "system_error");
}

TEST_CASE("with idle yields the loop ends when stopped, though work remains") {
    boost::asio::io_context ioc;
    auto guard = boost::asio::make_work_guard(ioc);
    int ran = 0;
    boost::asio::post(ioc, [&] {
        ++ran;
        ioc.stop();
    });
    mgw::gateway::run_with_barrier(ioc, ignore_exceptions, 8);
    CHECK(ran == 1);
    CHECK(ioc.stopped());
}

TEST_CASE("with idle yields the loop wakes for work posted by another thread") {
    boost::asio::io_context ioc;
    auto guard = boost::asio::make_work_guard(ioc);
    std::atomic<int> ran{0};
    constexpr int handlers = 200;
    // One handler at a time, each posted once the previous one ran, so the loop runs out of work
    // and has to be woken every time (after its yields, or from its sleep).
    std::thread poster([&] {
        for (int i = 0; i < handlers; ++i) {
            boost::asio::post(ioc, [&] { ran.fetch_add(1); });
            while (ran.load() <= i) std::this_thread::yield();
        }
        boost::asio::post(ioc, [&] { guard.reset(); });
    });
    mgw::gateway::run_with_barrier(ioc, ignore_exceptions, 8);
    poster.join();
    CHECK(ran.load() == handlers);
}

TEST_CASE("with idle yields a loop with nothing to do sleeps instead of spinning") {
    boost::asio::io_context ioc;
    auto guard = boost::asio::make_work_guard(ioc);
    const auto wall0 = std::chrono::steady_clock::now();
    const double cpu0 = thread_cpu_seconds();
    // Nothing to do for 300 ms but wait for the timer; then the work guard goes and the loop ends.
    boost::asio::steady_timer timer(ioc, std::chrono::milliseconds(300));
    timer.async_wait([&](boost::system::error_code) { guard.reset(); });
    mgw::gateway::run_with_barrier(ioc, ignore_exceptions, 64);
    const double cpu = thread_cpu_seconds() - cpu0;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    REQUIRE(wall >= 0.3);
    // A spinning loop would use about all of the 300 ms (its share of a core even on a busy
    // machine); a sleeping one uses next to none.
    CHECK(cpu < 0.1 * wall);
}
