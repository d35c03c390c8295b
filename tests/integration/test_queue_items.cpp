// Checklist items 14, 15 and 45 (docs/wire-format.md): env.cookie, tokenAuth per request form, and the worker's lock
// keys.
#include "tracking_env.hpp"

#include <catch2/catch.hpp>

using namespace mgw::test;

TEST_CASE("item 14: env.cookie holds the ignore and third-party cookies with PHP decoding, and no other cookie") {
    TrackingEnv env;
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1",
                    {{"Cookie",
                      "_pk_id.1.1fff=d0d0d0d0d0d0d0d0.1700000000.; matomo_ignore=ignore%3DKg%3D%3D; _pk_uid=0%3Da+b"}})
                .status == 200);
    auto l = env.landed();
    REQUIRE(l.size() == 1);
    const auto& cookie = l[0].state.at("env").at("cookie").as_object();
    CHECK(cookie.at("matomo_ignore") == "ignore=Kg==");
    CHECK(cookie.at("_pk_uid") == "0=a+b");  // raw-URL-decoded: '+' stays '+'
    CHECK(cookie.size() == 2);
    env.redis.flushall();
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1").status == 200);
    CHECK(env.landed()[0].state.at("env").at("cookie") == boost::json::array{});  // PHP's [] for no cookies
}

TEST_CASE("item 15: tokenAuth is false for GET and POST, an empty string for bulk, the client's token when sent") {
    TrackingEnv env({"--queues", "1"});
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1").status == 200);
    REQUIRE(env.send("POST", "/matomo.php", {{"Content-Type", "application/x-www-form-urlencoded"}}, "idsite=1&rec=1")
                .status == 200);
    REQUIRE(env.send("POST", "/matomo.php", {}, R"({"requests":["?idsite=1&rec=1"]})").status == 200);
    REQUIRE(env.send("POST", "/matomo.php?token_auth=querytoken", {},
                     R"({"requests":["?idsite=1&rec=1"],"token_auth":"bodytoken"})")
                .status == 200);
    auto l = env.landed();
    REQUIRE(l.size() == 4);
    CHECK(l[0].state.at("tokenAuth") == false);
    CHECK(l[1].state.at("tokenAuth") == false);
    CHECK(l[2].state.at("tokenAuth") == "");
    CHECK(l[3].state.at("tokenAuth") == "querytoken");  // the query string's token wins over the body's
}

TEST_CASE("item 45: the worker's QueuedTrackingLock keys are never written, expired or deleted") {
    TrackingEnv env({"--queues", "4"});
    env.redis.command({"SET", "QueuedTrackingLock0", "abcdefabcdef", "EX", "600"});
    env.redis.command({"SET", "QueuedTrackingLock3", "123456123456", "EX", "600"});
    env.redis.command({"CONFIG", "RESETSTAT"});
    for (int i = 0; i < 20; ++i)
        REQUIRE(env.get("/matomo.php?idsite=1&rec=1&_id=" + std::string(16, "0123456789abcdef"[i % 16])).status == 200);
    CHECK(env.redis.command({"GET", "QueuedTrackingLock0"}).str == "abcdefabcdef");
    CHECK(env.redis.command({"GET", "QueuedTrackingLock3"}).str == "123456123456");
    CHECK(env.redis.command({"TTL", "QueuedTrackingLock0"}).integer > 590);
    for (auto cmd :
         {"set", "del", "expire", "pexpire", "eval", "evalsha", "lpush", "lset", "lrem", "ltrim", "unlink"}) {
        INFO(cmd);
        CHECK(env.command_calls(cmd) == 0);
    }
    CHECK(env.command_calls("rpush") == 20);
}

TEST_CASE("start-up check: queues beyond --queues already in Redis are reported, and left alone") {
    RedisServer redis;
    redis.command({"RPUSH", "trackingQueueV1_5", "x"});
    redis.command({"RPUSH", "trackingQueueV1_2", "y"});
    GatewayProcess gateway({"--redis", redis.url(), "--queues", "4"});
    auto line = gateway.wait_for_line(
        [](std::string_view l) { return l.find("\"event\":\"queue_count_mismatch\"") != std::string_view::npos; });
    REQUIRE(line);
    CHECK(line->find("trackingQueueV1_5") != std::string::npos);
    CHECK(line->find("trackingQueueV1_2") == std::string::npos);
    CHECK(redis.lrange_all("trackingQueueV1_5") == std::vector<std::string>{"x"});
}
