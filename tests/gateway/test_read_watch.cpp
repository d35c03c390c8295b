// The read watch (gateway/read_watch.hpp) on real connected sockets: a wait ends when the peer's
// bytes arrive and not before, an arrival while the connection does not wait makes its next wait
// read at once, a cancelled or released wait is never called back, and a reused entry ignores the
// reports of the connection that had it before.
#include "gateway/read_watch.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <stdexcept>

namespace {

namespace net = boost::asio;
using mgw::gateway::ReadWatch;

// A watched connection: `ours` is the server's end, `peer` plays the client.
struct Conn : mgw::gateway::ReadWaiter {
    ReadWatch& watch;
    net::local::stream_protocol::socket ours;
    net::local::stream_protocol::socket peer;
    ReadWatch::Slot slot = 0;
    int calls = 0;
    bool throws = false;  // on_readable throws after counting the call
    explicit Conn(net::io_context& ioc) : watch(net::use_service<ReadWatch>(ioc)), ours(ioc), peer(ioc) {
        net::local::connect_pair(ours, peer);
    }
    void on_readable() override {
        ++calls;
        if (throws) throw std::runtime_error("callback failed");
    }
    bool wait() { return watch.wait(slot, ours.native_handle(), *this); }
    void send(std::string_view bytes) { net::write(peer, net::buffer(bytes.data(), bytes.size())); }
};

// Runs the loop until `done` holds, for at most five seconds.
template <class Pred>
bool run_until(net::io_context& ioc, Pred done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        ioc.restart();
        ioc.run_for(std::chrono::milliseconds(50));
    }
    return done();
}

}  // namespace

TEST_CASE("read watch: a wait ends when the peer's bytes arrive, not before") {
    net::io_context ioc;
    Conn c(ioc);
    REQUIRE(c.wait());
    REQUIRE(c.slot != 0);
    ioc.poll();
    CHECK(c.calls == 0);
    CHECK(c.watch.waiting() == 1);

    c.send("GET / HTTP/1.1\r\n\r\n");
    REQUIRE(run_until(ioc, [&] { return c.calls > 0; }));
    CHECK(c.calls == 1);
    CHECK(c.watch.waiting() == 0);

    // The next wait (bytes read or not: the watch does not read) waits for the next arrival.
    REQUIRE(c.wait());
    ioc.poll();
    CHECK(c.calls == 1);
    c.send("x");
    REQUIRE(run_until(ioc, [&] { return c.calls > 1; }));
    CHECK(c.calls == 2);
}

TEST_CASE("read watch: bytes already there at the first wait end it at once") {
    net::io_context ioc;
    Conn c(ioc);
    c.send("pipelined");
    REQUIRE(c.wait());
    REQUIRE(run_until(ioc, [&] { return c.calls > 0; }));
    CHECK(c.calls == 1);
}

TEST_CASE("read watch: an arrival while the connection does not wait makes its next wait read at once") {
    net::io_context ioc;
    Conn a(ioc);
    Conn b(ioc);
    REQUIRE(a.wait());
    a.send("1");
    REQUIRE(run_until(ioc, [&] { return a.calls > 0; }));

    // a is busy (not waiting) when its next bytes come; b's wait keeps the watch looking.
    REQUIRE(b.wait());
    a.send("2");
    b.send("3");
    REQUIRE(run_until(ioc, [&] { return b.calls > 0; }));
    CHECK(a.calls == 1);
    CHECK(b.calls == 1);

    CHECK_FALSE(a.wait());  // read now: the arrival was seen
    CHECK(a.watch.waiting() == 0);
    REQUIRE(a.wait());  // the hint is used up: wait again
    CHECK(a.watch.waiting() == 1);
    ioc.poll();
    CHECK(a.calls == 1);
}

TEST_CASE("read watch: a hang-up ends the wait (the read then finds the end of the stream)") {
    net::io_context ioc;
    Conn c(ioc);
    REQUIRE(c.wait());
    c.peer.close();
    REQUIRE(run_until(ioc, [&] { return c.calls > 0; }));
    CHECK(c.calls == 1);
}

TEST_CASE("read watch: a cancelled wait is not called back") {
    net::io_context ioc;
    Conn c(ioc);
    Conn other(ioc);
    REQUIRE(c.wait());
    REQUIRE(other.wait());
    CHECK(c.watch.cancel(c.slot));
    CHECK_FALSE(c.watch.cancel(c.slot));  // nothing left to cancel
    CHECK(c.watch.waiting() == 1);
    c.send("late");
    other.send("x");  // ends the other wait, so the round that saw both has run
    REQUIRE(run_until(ioc, [&] { return other.calls > 0; }));
    CHECK(c.calls == 0);
    CHECK_FALSE(c.wait());  // its arrival was kept as a hint
}

TEST_CASE("read watch: a released entry's reports do not reach the connection that reuses it") {
    net::io_context ioc;
    Conn old_conn(ioc);
    Conn new_conn(ioc);
    REQUIRE(old_conn.wait());
    const ReadWatch::Slot released = old_conn.slot;
    old_conn.watch.release(old_conn.slot);
    CHECK(old_conn.slot == 0);
    CHECK(old_conn.watch.waiting() == 0);

    REQUIRE(new_conn.wait());
    CHECK((new_conn.slot & 0xffffffffU) == (released & 0xffffffffU));  // the same entry, a new generation
    CHECK(new_conn.slot != released);

    // The old descriptor is still open and registered: its report must be dropped.
    old_conn.send("stale");
    new_conn.send("fresh");
    REQUIRE(run_until(ioc, [&] { return new_conn.calls > 0; }));
    CHECK(new_conn.calls == 1);
    CHECK(old_conn.calls == 0);
    CHECK(new_conn.watch.waiting() == 0);
}

TEST_CASE("read watch: a callback that throws does not cost the other connections of its round theirs") {
    net::io_context ioc;
    Conn a(ioc);
    Conn b(ioc);
    a.throws = true;
    REQUIRE(a.wait());
    REQUIRE(b.wait());
    a.send("1");
    b.send("2");  // both reports come in one round, whichever order epoll gives them
    bool thrown = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!thrown && std::chrono::steady_clock::now() < deadline) {
        try {
            ioc.restart();
            ioc.run_for(std::chrono::milliseconds(50));
        } catch (const std::runtime_error&) {
            thrown = true;  // the loop's barrier would count it
        }
    }
    CHECK(thrown);
    CHECK(a.calls == 1);
    CHECK(b.calls == 1);
    CHECK(a.watch.waiting() == 0);
    REQUIRE(b.wait());  // the watch goes on
    b.send("3");
    REQUIRE(run_until(ioc, [&] { return b.calls == 2; }));
}

TEST_CASE("read watch: a descriptor epoll refuses reads as before") {
    net::io_context ioc;
    auto& watch = net::use_service<ReadWatch>(ioc);
    struct : mgw::gateway::ReadWaiter {
        void on_readable() override {}
    } w;
    ReadWatch::Slot slot = 0;
    CHECK_FALSE(watch.wait(slot, -1, w));
    CHECK_FALSE(watch.wait(slot, -1, w));  // no second attempt
    CHECK(watch.waiting() == 0);
    watch.release(slot);
    CHECK(slot == 0);
}
