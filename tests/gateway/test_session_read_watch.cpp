// A TCP session between requests waits in its thread's read watch (gateway/read_watch.hpp), and
// what ends a wait for a next request still ends it there: the next request (answered), the drain
// and the idle timeout (the connection closes). The session runs on a real loopback connection and
// an io_context this thread runs; the client side is a blocking socket used between the loop's runs.
#include "gateway/acking_sink.hpp"
#include "gateway/session.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <string>

namespace {

namespace net = boost::asio;
using net::ip::tcp;
using namespace std::chrono_literals;

constexpr std::string_view hit =
    "GET /matomo.php?idsite=1&rec=1&action_name=watch&send_image=0&_id=0123456789abcdef HTTP/1.1\r\nHost: a\r\n\r\n";

struct Fixture {
    mgw::gateway::Options opts;
    mgw::metrics::Metrics metrics;
    mgw::test::AckingSink sink;
    mgw::gateway::ServerShared shared{opts, sink, metrics};
    net::io_context ioc{1};
    tcp::socket client{ioc};
    std::string received;

    explicit Fixture(std::chrono::milliseconds idle_timeout) {
        opts.server.idle_timeout = idle_timeout;
        opts.server.access_log = false;
        opts.tracking.compression_level = 0;
        tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
        client.connect(acceptor.local_endpoint());
        mgw::gateway::TcpStream::socket_type server(ioc);
        acceptor.accept(server);
        server.set_option(tcp::no_delay(true));
        server.non_blocking(true);  // as the server's accept loop leaves it
        client.non_blocking(true);
        shared.connections++;
        std::make_shared<mgw::gateway::Session>(mgw::gateway::TcpStream(std::move(server)), shared)->run();
    }

    mgw::gateway::ReadWatch& watch() { return net::use_service<mgw::gateway::ReadWatch>(ioc); }

    // Runs the loop, reading what the client gets, until `done` holds; false after five seconds.
    template <class Pred>
    bool run_until(Pred done) {
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (!done()) {
            if (std::chrono::steady_clock::now() >= deadline) return false;
            ioc.restart();
            ioc.run_for(10ms);
            read_client();
        }
        return true;
    }

    // What the client has (non-blocking); sets `closed` on end of stream or reset.
    bool closed = false;
    void read_client() {
        std::array<char, 4096> buf{};
        for (;;) {
            boost::system::error_code ec;
            const std::size_t n = client.read_some(net::buffer(buf), ec);
            if (ec == net::error::would_block) return;
            if (ec) {
                closed = true;
                return;
            }
            received.append(buf.data(), n);
        }
    }

    std::size_t answers() const {
        std::size_t n = 0;
        for (std::size_t at = received.find("HTTP/1.1 204"); at != std::string::npos;
             at = received.find("HTTP/1.1 204", at + 1))
            ++n;
        return n;
    }

    void send(std::string_view bytes) { net::write(client, net::buffer(bytes.data(), bytes.size())); }
};

}  // namespace

TEST_CASE(
    "session: between requests a keep-alive connection waits in the read watch, and its next request is answered") {
    Fixture f(60s);
    f.send(hit);
    REQUIRE(f.run_until([&] { return f.answers() == 1 && f.watch().waiting() == 1; }));
    f.send(hit);
    REQUIRE(f.run_until([&] { return f.answers() == 2 && f.watch().waiting() == 1; }));
    CHECK(f.sink.sets == 2);
    CHECK_FALSE(f.closed);
    CHECK(f.shared.connections == 1);
}

TEST_CASE("session: the drain closes a connection waiting in the read watch") {
    Fixture f(60s);
    f.send(hit);
    REQUIRE(f.run_until([&] { return f.answers() == 1 && f.watch().waiting() == 1; }));
    f.shared.draining = true;
    std::vector<std::shared_ptr<mgw::gateway::SessionBase>> live;
    {
        std::lock_guard lock(f.shared.mu);
        for (auto& [ptr, weak] : f.shared.sessions)
            if (auto s = weak.lock()) live.push_back(std::move(s));
    }
    REQUIRE(live.size() == 1);
    live.front()->close_if_idle();
    live.clear();
    REQUIRE(f.run_until([&] { return f.closed; }));  // long before the 60 s idle timeout
    CHECK(f.watch().waiting() == 0);
    CHECK(f.shared.connections == 0);
    CHECK(f.sink.sets == 1);
}

TEST_CASE("session: the idle timeout closes a connection waiting in the read watch") {
    Fixture f(300ms);
    f.send(hit);
    REQUIRE(f.run_until([&] { return f.answers() == 1 && f.watch().waiting() == 1; }));
    REQUIRE(f.run_until([&] { return f.closed; }));
    CHECK(f.watch().waiting() == 0);
    CHECK(f.shared.connections == 0);
}
