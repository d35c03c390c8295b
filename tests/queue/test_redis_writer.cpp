// The Redis writer on its own, against a real redis-server: how sets handed in on its io_context
// are gathered into pipelined writes.
#include <catch2/catch.hpp>

#include "metrics/metrics.hpp"
#include "queue/redis_options.hpp"
#include "queue/redis_writer.hpp"
#include "support/metrics_text.hpp"
#include "support/redis_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace mgw::queue;
namespace net = boost::asio;

namespace {

// Runs `ioc` one handler at a time until `done` holds; fails when nothing happens for 5 s.
template <class Done>
void run_until(net::io_context& ioc, Done done) {
    while (!done()) REQUIRE(ioc.run_one_for(std::chrono::seconds(5)) != 0);
}

}  // namespace

TEST_CASE("redis writer: sets handed in over two rounds of the loop go to Redis in one write") {
    mgw::test::RedisServer redis;
    RedisOptions opts;
    REQUIRE_FALSE(parse_redis_url(redis.url(), opts).has_value());
    net::io_context ioc(1);
    mgw::metrics::Metrics metrics;
    RedisWriter writer(ioc.get_executor(), opts, &metrics);
    writer.start();
    run_until(ioc, [&] { return writer.ready(); });

    std::vector<WriteStatus> acks;
    auto ack = [&](WriteStatus s) { acks.push_back(s); };
    // The first set asks for a flush; the second comes from a handler of the next round, as the
    // set of a request whose bytes the next look at the sockets brought would.
    net::post(ioc, [&] {
        writer.submit("trackingQueueV1", "first", ack);
        net::post(ioc, [&] { writer.submit("trackingQueueV1", "second", ack); });
    });
    run_until(ioc, [&] { return acks.size() == 2; });

    CHECK(acks == std::vector<WriteStatus>{WriteStatus::ok, WriteStatus::ok});
    CHECK(redis.lrange_all("trackingQueueV1") == std::vector<std::string>{"first", "second"});
    const std::string exposition = metrics.serialize();
    CHECK(mgw::test::metric_sample(exposition, "matomo_gateway_redis_batch_commands_count") == 1.0);
    CHECK(mgw::test::metric_sample(exposition, "matomo_gateway_redis_batch_commands_sum") == 2.0);

    bool stopped = false;
    writer.stop([&] { stopped = true; });
    run_until(ioc, [&] { return stopped; });
}
