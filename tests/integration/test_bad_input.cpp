// Bad input gets its documented answer (README "Limits and errors"), never a crash, and valid hits
// sent around it are still queued.
#include "tracking_env.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>

using namespace mgw::test;

namespace {

// After the bad input: the gateway still answers, and exactly `expected` values are queued.
void still_serving(TrackingEnv& env, std::size_t expected) {
    CHECK(env.get("/matomo.php?idsite=1&rec=1&action_name=after").status == 200);
    CHECK(env.landed().size() == expected + 1);
}

}  // namespace

TEST_CASE("bad input: malformed and truncated HTTP get 400 and the connection closes") {
    TrackingEnv env;
    {
        Connection c(env.gateway.tracking_port());
        c.write("HELLO WORLD\r\n\r\n");
        auto r = c.read_response();
        CHECK(r.status == 400);
        CHECK(c.closed_by_peer());
    }
    {
        Connection c(env.gateway.tracking_port());
        c.write("GET /matomo.php?idsite=1&rec=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
        c.shutdown_write();
        auto r = c.read_response();
        CHECK(r.status == 400);
    }
    {
        Connection c(env.gateway.tracking_port());
        c.write("POST /matomo.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
        CHECK(c.read_response().status == 400);
    }
    still_serving(env, 0);
}

TEST_CASE("bad input: a request that is not received in time gets 408") {
    TrackingEnv env({"--read-timeout-ms", "300"});
    Connection c(env.gateway.tracking_port());
    c.write("GET /matomo.php?idsite=1&rec=1 HTTP/1.1\r\nHost: x\r\n");  // headers never finish
    auto r = c.read_response();
    CHECK(r.status == 408);
    CHECK(c.closed_by_peer());
    still_serving(env, 0);
}

TEST_CASE("bad input: invalid percent-encoding is kept literally, as PHP does") {
    TrackingEnv env;
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1&action_name=%zz%4&url=%").status == 200);
    auto l = env.landed();
    REQUIRE(l.size() == 1);
    CHECK(l[0].state.at("requests").as_array()[0].at("action_name") == "%zz%4");
    CHECK(l[0].state.at("requests").as_array()[0].at("url") == "%");
}

TEST_CASE("bad input: a 1 MB query string gets 431, 10,000 form parameters get 400") {
    TrackingEnv env;
    std::string huge = "/matomo.php?idsite=1&rec=1&action_name=" + std::string(1 << 20, 'a');
    auto r = env.get(huge);
    CHECK(r.status == 431);
    std::string form = "idsite=1&rec=1";
    for (int i = 0; i < 10000; ++i) form += "&p" + std::to_string(i) + "=1";
    auto many = env.send("POST", "/matomo.php", {{"Content-Type", "application/x-www-form-urlencoded"}}, form);
    CHECK(many.status == 400);
    CHECK(many.body == "too_many_parameters");
    still_serving(env, 0);
}

TEST_CASE("bad input: deeply nested bulk JSON is an empty 200, over-large bulks get 413") {
    TrackingEnv env({"--max-bulk-hits", "100", "--max-body-bytes", "200000"});
    std::string deep = "{\"requests\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
    auto r = env.send("POST", "/matomo.php", {}, deep);
    CHECK(r.status == 413);  // over the body limit
    std::string nested = "{\"requests\":[" + std::string(5000, '[') + std::string(5000, ']') + "]}";
    auto n = env.send("POST", "/matomo.php", {}, nested);
    CHECK(n.status == 200);
    CHECK(n.body.empty());
    std::string many = "{\"requests\":[";
    for (int i = 0; i < 101; ++i) many += std::string(i ? "," : "") + "\"?idsite=1&rec=1\"";
    many += "]}";
    auto m = env.send("POST", "/matomo.php", {}, many);
    CHECK(m.status == 413);
    CHECK(m.body == "bulk_too_many_hits");
    still_serving(env, 0);
}

TEST_CASE("bad input: a form body with the wrong Content-Type carries no hit, unknown methods get 405") {
    TrackingEnv env;
    auto wrong = env.send("POST", "/matomo.php", {{"Content-Type", "text/plain"}}, "idsite=1&rec=1");
    CHECK(wrong.status == 200);
    CHECK(wrong.body.empty());
    for (auto m : {"PUT", "DELETE", "PATCH", "BREW"}) {
        INFO(m);
        auto r = env.send(m, "/matomo.php?idsite=1&rec=1");
        CHECK(r.status == 405);
        CHECK(r.header("Allow") == "GET, HEAD, POST, OPTIONS");
    }
    CHECK(env.get("/not-matomo.php?idsite=1&rec=1").status == 404);
    still_serving(env, 0);
}

TEST_CASE("bad input: a cip without any token or visitor id is refused with 400 and nothing is queued") {
    TrackingEnv env;
    auto r = env.get("/matomo.php?idsite=1&rec=1&cip=198.51.100.9");
    CHECK(r.status == 400);
    CHECK(r.header("Content-Type") == "image/gif");
    CHECK(env.landed().empty());
    // With a visitor id the IP is not needed for the queue: queued as stock does.
    CHECK(env.get("/matomo.php?idsite=1&rec=1&cip=198.51.100.9&_id=0123456789abcdef").status == 200);
    CHECK(env.landed().size() == 1);
}

TEST_CASE("connection limit: connections over --max-connections get 503 at once") {
    TrackingEnv env({"--max-connections", "2"});
    Connection a(env.gateway.tracking_port());
    Connection b(env.gateway.tracking_port());
    a.write("GET /matomo.php?idsite=1&rec=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(a.read_response().status == 200);
    b.write("GET /matomo.php?idsite=1&rec=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(b.read_response().status == 200);
    Connection c(env.gateway.tracking_port());
    auto r = c.read_response();
    CHECK(r.status == 503);
    CHECK(r.header("Retry-After") == "1");
}
