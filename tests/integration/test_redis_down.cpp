// A Redis the gateway cannot use must be loud even while the spool keeps /readyz 200: an error line
// at a steady interval, the reason in /readyz's body, matomo_gateway_redis_up 0, and (opt-in,
// --ready-max-spool-age-ms) /readyz 503 once the spool has held hits for too long. Real
// redis-server with requirepass, and a port where nothing listens.
#include "support/free_port.hpp"
#include "support/gateway_process.hpp"
#include "support/http.hpp"
#include "support/poll.hpp"
#include "support/redis_server.hpp"

#include <catch2/catch.hpp>

using namespace mgw::test;
using namespace std::chrono_literals;

namespace {

HttpResponse admin_get(const GatewayProcess& gw, const std::string& path) {
    return send_request(gw.admin_port(), build_request("GET", path, {{"Host", "127.0.0.1"}, {"Connection", "close"}}));
}

bool is_redis_alarm(std::string_view line, std::string_view reason) {
    return line.find("\"level\":\"error\"") != std::string_view::npos &&
           line.find("\"event\":\"redis_unavailable\"") != std::string_view::npos &&
           line.find(reason) != std::string_view::npos;
}

// The error line comes again and again while the problem lasts, not once.
void expect_repeated_alarm(GatewayProcess& gw, std::string_view reason) {
    auto pred = [reason](std::string_view l) { return is_redis_alarm(l, reason); };
    INFO("gateway stdout:\n" << join_lines(gw.output_lines()));
    REQUIRE(gw.wait_for_line(pred, 20s));
    std::size_t first = 0;
    const auto lines = gw.output_lines();
    for (std::size_t i = 0; i < lines.size(); ++i)
        if (pred(lines[i])) first = i;
    CHECK(gw.wait_for_line(pred, 20s, first + 1));
}

}  // namespace

TEST_CASE("redis down: nothing listens on Redis's port: error lines, /readyz 200 with the reason, redis_up 0") {
    RefusingPort nothing;
    GatewayProcess gw({"--redis", "redis://127.0.0.1:" + std::to_string(nothing.port()) + "/0",
                       "--redis-down-log-interval-ms", "100"});
    expect_repeated_alarm(gw, "connect failed: Connection refused");
    auto ready = admin_get(gw, "/readyz");
    CHECK(ready.status == 200);
    CHECK(ready.body == "ready: spooling, redis unavailable: connect failed: Connection refused\n");
    auto metrics = admin_get(gw, "/metrics");
    CHECK(metrics.body.find("\nmatomo_gateway_redis_up 0\n") != std::string::npos);
    CHECK(gw.terminate() == 0);
}

TEST_CASE(
    "redis down: a refused password is named, --ready-max-spool-age-ms turns /readyz 503 until Redis takes the hits") {
    RedisServer redis;
    REQUIRE(redis.command({"CONFIG", "SET", "requirepass", "right"}).str == "OK");
    GatewayProcess gw({"--redis", "redis://:wrong@127.0.0.1:" + std::to_string(redis.port()) + "/0",
                       "--redis-down-log-interval-ms", "100", "--ready-max-spool-age-ms", "300"});
    expect_repeated_alarm(gw, "auth failed: WRONGPASS");
    auto ready = admin_get(gw, "/readyz");
    CHECK(ready.status == 200);  // the spool is empty: nothing has waited yet
    CHECK(ready.body.find("ready: spooling, redis unavailable: auth failed: WRONGPASS") == 0);

    // One hit, acknowledged from the spool; once it has waited longer than the limit, not ready.
    auto hit =
        send_request(gw.tracking_port(), build_request("GET", "/matomo.php?idsite=1&rec=1&url=http%3A%2F%2Fa.test%2F",
                                                       {{"Host", "127.0.0.1"}, {"Connection", "close"}}));
    REQUIRE(hit.status / 100 == 2);
    HttpResponse last;
    CHECK(poll_until(Clock::now() + 20s, [&] {
        last = admin_get(gw, "/readyz");
        return last.status == 503;
    }));
    CHECK(last.body.find("not ready: redis unavailable: auth failed: WRONGPASS") == 0);
    CHECK(last.body.find("over --ready-max-spool-age-ms") != std::string::npos);

    // The password the gateway has becomes the right one: it connects, replays, and is ready again.
    REQUIRE(redis.command({"CONFIG", "SET", "requirepass", "wrong"}).str == "OK");
    CHECK(poll_until(Clock::now() + 30s, [&] {
        last = admin_get(gw, "/readyz");
        return last.status == 200 && last.body == "ready\n";
    }));
    INFO("last /readyz: " << last.body);
    std::size_t queued = 0;
    CHECK(poll_until(Clock::now() + 30s, [&] {
        queued = 0;
        for (const auto& [key, values] : redis.queue_contents()) queued += values.size();
        return queued == 1;
    }));
    CHECK(queued == 1);
    CHECK(gw.terminate() == 0);
}
