// ThreadSinks: a set goes to the backend of the I/O thread that submits it, another thread's ready
// backend when its own is down, and stop() ends on the first context once every backend stopped.
#include "queue/thread_sinks.hpp"

#include "queue/redis_options.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/post.hpp>

#include <atomic>
#include <thread>

using mgw::queue::QueueSink;
using mgw::queue::ThreadSinks;
using mgw::queue::WriteStatus;
namespace net = boost::asio;

namespace {

// A backend that records what it was given and answers at once.
struct RecordingSink final : QueueSink {
    std::atomic<bool> up{true};
    std::atomic<int> submitted{0};
    std::atomic<int> returned_by_value{0};  // submit_or_return calls (no copy kept by a wrapper)
    std::atomic<bool> stopped{false};
    std::string last_key;

    void start() override {}
    void submit(std::string key, std::string, mgw::queue::WriteAck ack) override {
        last_key = std::move(key);
        ++submitted;
        ack(up ? WriteStatus::ok : WriteStatus::unavailable);
    }
    void submit_or_return(std::string key, std::string value, mgw::queue::ReturnAck ack) override {
        ++returned_by_value;
        if (up) return ack(WriteStatus::ok, {}, {});
        ack(WriteStatus::unavailable, std::move(key), std::move(value));
    }
    void stop(std::function<void()> done) override {
        stopped = true;
        done();
    }
    bool ready() const override { return up; }
    std::string problem() const override { return up ? std::string() : "down"; }
};

struct Fixture {
    net::io_context a{1}, b{1};
    RecordingSink* sa = nullptr;
    RecordingSink* sb = nullptr;
    std::unique_ptr<ThreadSinks> sinks;

    Fixture() {
        std::vector<std::unique_ptr<QueueSink>> v;
        v.push_back(std::make_unique<RecordingSink>());
        v.push_back(std::make_unique<RecordingSink>());
        sa = static_cast<RecordingSink*>(v[0].get());
        sb = static_cast<RecordingSink*>(v[1].get());
        sinks = std::make_unique<ThreadSinks>(std::vector<ThreadSinks::Executor>{a.get_executor(), b.get_executor()},
                                              std::move(v));
    }
    // Submits one set from a handler running on `ctx`.
    void submit_on(net::io_context& ctx, const std::string& key) {
        net::post(ctx, [this, key] { sinks->submit(key, "v", [](WriteStatus) {}); });
        ctx.restart();
        ctx.run();
    }
};

}  // namespace

TEST_CASE("thread sinks: a set goes to the backend of the context whose thread submits it") {
    Fixture f;
    f.submit_on(f.b, "k1");
    f.submit_on(f.b, "k2");
    f.submit_on(f.a, "k3");
    CHECK(f.sa->submitted == 1);
    CHECK(f.sb->submitted == 2);
    CHECK(f.sa->last_key == "k3");
    CHECK(f.sb->last_key == "k2");
    // A thread that runs neither context uses the first backend.
    f.sinks->submit("k4", "v", [](WriteStatus) {});
    CHECK(f.sa->submitted == 2);
    CHECK(f.sa->last_key == "k4");
}

TEST_CASE("thread sinks: a thread whose backend is down lends a ready one, and all down refuses") {
    Fixture f;
    f.sb->up = false;
    f.submit_on(f.b, "k1");
    CHECK(f.sa->submitted == 1);
    CHECK(f.sb->submitted == 0);
    CHECK(f.sinks->ready());
    CHECK(f.sinks->problem() == "down");

    f.sa->up = false;
    CHECK_FALSE(f.sinks->ready());
    WriteStatus got = WriteStatus::ok;
    net::post(f.b, [&] { f.sinks->submit("k2", "v", [&](WriteStatus s) { got = s; }); });
    f.b.restart();
    f.b.run();
    CHECK(f.sb->submitted == 1);  // its own, which refuses it
    CHECK(got == WriteStatus::unavailable);
}

TEST_CASE("thread sinks: submit_or_return reaches the backend's own, which hands the set back") {
    Fixture f;
    f.sb->up = false;
    f.sa->up = false;
    std::string key, value;
    net::post(f.b, [&] {
        f.sinks->submit_or_return("k", "bytes", [&](WriteStatus s, std::string k, std::string v) {
            CHECK(s == WriteStatus::unavailable);
            key = std::move(k);
            value = std::move(v);
        });
    });
    f.b.run();
    CHECK(f.sb->returned_by_value == 1);
    CHECK(f.sb->submitted == 0);
    CHECK(key == "k");
    CHECK(value == "bytes");
}

TEST_CASE("thread sinks: stop stops every backend and calls done on the first context") {
    Fixture f;
    std::atomic<bool> done{false};
    std::thread::id done_on;
    // Stopped from the second context's thread: done still runs on the first one.
    std::thread other([&] {
        net::post(f.b, [&] {
            f.sinks->stop([&] {
                done_on = std::this_thread::get_id();
                done = true;
            });
        });
        f.b.run();
    });
    other.join();
    CHECK(f.sa->stopped);
    CHECK(f.sb->stopped);
    CHECK_FALSE(done);  // posted to the first context, which has not run yet
    f.a.run();
    CHECK(done);
    CHECK(done_on == std::this_thread::get_id());
}

TEST_CASE("thread sinks: each backend's writers get an even share of the memory budget, at least 4096 bytes") {
    mgw::queue::RedisOptions opts;
    opts.max_pending_bytes = 64u << 20;
    opts.database = 3;
    const auto each = mgw::queue::share_of(opts, 4);
    CHECK(each.max_pending_bytes == (16u << 20));
    CHECK(each.database == 3);  // everything else as given
    opts.max_pending_bytes = 10000;
    CHECK(mgw::queue::share_of(opts, 4).max_pending_bytes == 4096);
    CHECK(mgw::queue::share_of(opts, 1).max_pending_bytes == 10000);
}
