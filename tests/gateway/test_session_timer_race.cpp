// The read timer against the answer: a read deadline that expires while the request's last bytes
// arrive has its handler queued behind the read's completion, where cancel() can no longer recall
// it. That late handler must not touch the connection, which by then is writing the answer to a
// stored hit (a cancelled answer makes the client send the hit again: stored twice).
//
// The session runs over Beast's test stream on an io_context the test steps by hand, which makes
// the order exact: the timer expires while the read waits, the request arrives, and one step of
// the loop collects the expired timer and runs the read's completion ahead of it.
#include "fuzz/test_stream_ops.hpp"
#include "gateway/acking_sink.hpp"
#include "gateway/session_impl.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include <thread>

namespace {

namespace beast = boost::beast;
using TestSession = mgw::gateway::BasicSession<beast::test::stream>;

using mgw::test::AckingSink;

}  // namespace

TEST_CASE("a read timer that fired as the request arrived does not cancel the answer to that request") {
    using namespace std::chrono_literals;
    mgw::gateway::Options opts;
    opts.server.read_timeout = 100ms;
    opts.server.idle_timeout = 100ms;
    opts.server.access_log = false;
    opts.tracking.compression_level = 0;
    mgw::metrics::Metrics metrics;
    AckingSink sink;
    mgw::gateway::ServerShared shared(opts, sink, metrics);
    boost::asio::io_context ioc;
    beast::test::stream client(ioc);
    beast::test::stream server(ioc);
    server.connect(client);

    shared.connections++;
    const auto armed = std::chrono::steady_clock::now();
    std::make_shared<TestSession>(std::move(server), shared)->run();
    ioc.poll();  // the session reads; the read timer runs
    REQUIRE(shared.busy == 0);
    REQUIRE(shared.connections == 1);

    // Past the deadline, without running the loop: the timer has expired but nobody has seen it yet.
    while (std::chrono::steady_clock::now() < armed + opts.server.read_timeout + 5ms)
        std::this_thread::sleep_until(armed + opts.server.read_timeout + 5ms);
    client.write_some(boost::asio::buffer(
        std::string_view("GET /matomo.php?idsite=1&rec=1&action_name=race&_id=0123456789abcdef HTTP/1.1\r\nHost: a\r\n"
                         "Connection: close\r\n\r\n")));
    // One step: the expired timer is collected, and the read's completion (queued before it) runs
    // first; the timer's handler now waits behind it.
    REQUIRE(ioc.run_one() == 1);
    REQUIRE(sink.sets == 1);  // the hit is stored: its answer must reach the client
    ioc.run();

    const std::string answer = client.str();
    INFO(answer);
    CHECK(answer.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(answer.find("Content-Type: image/gif") != std::string::npos);
    CHECK(shared.connections == 0);
    CHECK(shared.busy == 0);
}
