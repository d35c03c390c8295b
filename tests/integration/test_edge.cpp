// Client IP, geolocation, privileged parameters and anonymisation at the edge, through
// the real gateway into a real redis-server; test databases written by libmaxmind-db-writer-perl.
#include "support/mmdb_fixture.hpp"
#include "tracking_env.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <fstream>
#include <map>
#include <set>
#include <thread>

using namespace mgw::test;
namespace json = boost::json;

namespace {

const json::object& first_hit(const Landed& l) { return l.state.at("requests").as_array()[0].as_object(); }
const json::value& server(const Landed& l, const char* key) { return l.state.at("env").at("server").at(key); }

std::string token_file(const std::string& token) {
    auto path = scratch_dir("edge-token") / "token";
    std::ofstream(path) << token << "\n";
    return path.string();
}

}  // namespace

TEST_CASE(
    "items 12, 13: a forged X-Forwarded-For from an untrusted peer never changes REMOTE_ADDR, proxy headers stay out") {
    TrackingEnv env;
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1", {{"X-Forwarded-For", "198.51.100.66"},
                                                   {"Forwarded", "for=198.51.100.67"},
                                                   {"X-Real-IP", "198.51.100.68"},
                                                   {"Client-IP", "198.51.100.69"}})
                .status == 200);
    auto l = env.landed();
    REQUIRE(l.size() == 1);
    CHECK(server(l[0], "REMOTE_ADDR") == "127.0.0.1");
    const std::string text = json::serialize(l[0].state);
    CHECK(text.find("198.51.100.6") == std::string::npos);
    for (auto key : {"HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP", "HTTP_CLIENT_IP"})
        CHECK(!l[0].state.at("env").at("server").as_object().contains(key));
}

TEST_CASE("item 12: trusted proxy chains resolve to the right-most untrusted address for IPv4, IPv6 and mixed chains") {
    TrackingEnv env({"--trusted-proxies", "127.0.0.0/8, 10.0.0.0/8, 2001:db8:ffff::/48"});
    struct Case {
        const char* xff;
        const char* expected;
    };
    for (auto c :
         {Case{"203.0.113.9, 10.0.0.2", "203.0.113.9"}, Case{"198.51.100.1, 203.0.113.9, 10.0.0.2", "203.0.113.9"},
          Case{"2001:DB8:0:0::1", "2001:db8::1"}, Case{"2001:db8::7, 2001:db8:ffff::1", "2001:db8::7"},
          Case{"203.0.113.10, 2001:db8:ffff::2, 10.1.1.1", "203.0.113.10"}, Case{"[2001:db8::9]:443", "2001:db8::9"}}) {
        INFO(c.xff);
        env.redis.flushall();
        REQUIRE(env.get("/matomo.php?idsite=1&rec=1", {{"X-Forwarded-For", c.xff}}).status == 200);
        auto l = env.landed();
        REQUIRE(l.size() == 1);
        CHECK(server(l[0], "REMOTE_ADDR") == c.expected);
    }
}

TEST_CASE("item 20: without a visitor id the queue follows md5 of the resolved client IP") {
    TrackingEnv env({"--trusted-proxies", "127.0.0.1", "--queues", "16"});
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1", {{"X-Forwarded-For", "203.0.113.5"}}).status == 200);
    auto l = env.landed();
    REQUIRE(l.size() == 1);
    CHECK(l[0].key == "trackingQueueV1_12");
}

TEST_CASE(
    "item 17: geo parameters equal the database record for the IP, an unknown IP gets neither parameters nor token") {
    TrackingEnv env({"--trusted-proxies", "127.0.0.1", "--geoip-database", test_databases().city(),
                     "--matomo-token-file", token_file("0123456789abcdef0123456789abcdef")});
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1&_id=0123456789abcdef", {{"X-Forwarded-For", "203.0.114.20"}}).status ==
            200);
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1&_id=1123456789abcdef", {{"X-Forwarded-For", "2001:db8:2::1"}}).status ==
            200);
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1&_id=2123456789abcdef", {{"X-Forwarded-For", "198.51.100.20"}}).status ==
            200);
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1&_id=3123456789abcdef", {{"X-Forwarded-For", "192.0.2.20"}}).status ==
            200);
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1&_id=4123456789abcdef", {{"X-Forwarded-For", "100.64.0.1"}}).status ==
            200);
    std::map<std::string, Landed> by_id;
    for (auto& l : env.landed()) by_id[std::string(first_hit(l).at("_id").as_string())] = l;
    REQUIRE(by_id.size() == 5);
    const auto& de = by_id["0123456789abcdef"];
    CHECK(first_hit(de).at("country") == "de");
    CHECK(first_hit(de).at("region") == "BY");
    CHECK(first_hit(de).at("city") == "München");
    CHECK(first_hit(de).at("lat") == "48.137");
    CHECK(first_hit(de).at("long") == "11.576");
    CHECK(de.state.at("tokenAuth") == "0123456789abcdef0123456789abcdef");
    const auto& fi = by_id["1123456789abcdef"];
    CHECK(first_hit(fi).at("country") == "fi");
    CHECK(first_hit(fi).at("city").as_string().size() <= 255);
    CHECK(!first_hit(fi).contains("region"));
    CHECK(first_hit(by_id["2123456789abcdef"]).at("city") == "東京");
    CHECK(!first_hit(by_id["3123456789abcdef"]).contains("region"));  // a record without subdivisions
    const auto& unknown = by_id["4123456789abcdef"];
    for (auto p : {"country", "region", "city", "lat", "long"}) CHECK(!first_hit(unknown).contains(p));
    CHECK(unknown.state.at("tokenAuth") == false);
}

TEST_CASE("item 16: a set the gateway's token authorises carries no client privileged parameter, recent cdt stays") {
    TrackingEnv env({"--trusted-proxies", "127.0.0.1", "--geoip-database", test_databases().city(),
                     "--matomo-token-file", token_file("feedfacefeedfacefeedfacefeedface")});
    const long long now = std::time(nullptr);
    const std::string old_cdt = std::to_string(now - 3LL * 86400);
    const std::string recent_cdt = std::to_string(now - 3600);
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1&_id=0123456789abcdef&cip=6.6.6.6&country=xx&region=ZZ&city=Forged&lat="
                    "1&long=2&cdo=999999&cdt=" +
                        old_cdt,
                    {{"X-Forwarded-For", "203.0.113.20"}})
                .status == 200);
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1&_id=1123456789abcdef&cdt=" + recent_cdt,
                    {{"X-Forwarded-For", "203.0.113.20"}})
                .status == 200);
    // cip[] as an array is removed too (names after PHP normalisation).
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1&_id=2123456789abcdef&cip[]=6.6.6.6&c.ity=x",
                    {{"X-Forwarded-For", "203.0.113.20"}})
                .status == 200);
    const auto landed = env.landed();
    REQUIRE(landed.size() == 3);  // one set per request: none was dropped
    for (const auto& l : landed) {
        INFO(json::serialize(l.state));
        CHECK(l.state.at("tokenAuth") == "feedfacefeedfacefeedfacefeedface");
        const auto& hit = first_hit(l);
        CHECK(!hit.contains("cip"));
        CHECK(!hit.contains("cdo"));
        CHECK(!hit.contains("token_auth"));
        CHECK(hit.at("country") == "de");
        CHECK(hit.at("city") == "Munich");
        if (hit.at("_id") == "0123456789abcdef") CHECK(!hit.contains("cdt"));
        if (hit.at("_id") == "1123456789abcdef") CHECK(hit.at("cdt") == json::value(recent_cdt));
    }
}

TEST_CASE(
    "item 16: without the gateway's token, hits are queued as stock queues them (mobile cdt, own tokens of fixtures 14 "
    "and 23)") {
    TrackingEnv env({"--geoip-database", test_databases().city(), "--matomo-token-file",
                     token_file("feedfacefeedfacefeedfacefeedface")});
    const std::string recent_cdt = std::to_string(std::time(nullptr) - 3600);
    // Peer 127.0.0.1 is not in the database: no geo, no gateway token, the hit is untouched.
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1&_id=0123456789abcdef&cdt=" + recent_cdt).status == 200);
    // A client's own token: passed through with its parameters, no geo added, its token in the set.
    REQUIRE(
        env.get("/matomo.php?idsite=1&rec=1&_id=bebebebebebebebe&cip=198.51.100.23&token_auth=clienttoken").status ==
        200);
    const auto landed = env.landed();
    REQUIRE(landed.size() == 2);
    int untouched = 0, own_token = 0;
    for (const auto& l : landed) {
        const auto& hit = first_hit(l);
        if (hit.at("_id") == "0123456789abcdef") {
            ++untouched;
            CHECK(hit.at("cdt") == json::value(recent_cdt));
            CHECK(l.state.at("tokenAuth") == false);
        } else {
            ++own_token;
            CHECK(hit.at("_id") == "bebebebebebebebe");
            CHECK(hit.at("cip") == "198.51.100.23");
            CHECK(!hit.contains("country"));
            CHECK(l.state.at("tokenAuth") == "clienttoken");
        }
    }
    CHECK(untouched == 1);
    CHECK(own_token == 1);
    TrackingEnv reject({"--client-tokens", "reject"});
    auto r = reject.get("/matomo.php?idsite=1&rec=1&token_auth=clienttoken");
    CHECK(r.status == 403);
    CHECK(reject.landed().empty());
}

TEST_CASE("anonymisation: no queued value contains the raw client IP, and geo still uses it") {
    TrackingEnv env({"--trusted-proxies", "127.0.0.1", "--anonymize-ip-bytes", "2", "--anonymize-ipv6-level", "2",
                     "--geoip-database", test_databases().city(), "--matomo-token-file",
                     token_file("feedfacefeedfacefeedfacefeedface")});
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1&url=http%3A%2F%2Fx.test%2F",
                    {{"X-Forwarded-For", "203.0.113.77"}, {"Cookie", "_pk_uid=0%3Dabc"}})
                .status == 200);
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1", {{"X-Forwarded-For", "2001:db8:1:77::99"}}).status == 200);
    auto l = env.landed();
    REQUIRE(l.size() == 2);
    for (const auto& x : l) {
        const std::string text = json::serialize(x.state) + x.raw;
        CHECK(text.find("203.0.113.77") == std::string::npos);
        CHECK(text.find("2001:db8:1:77") == std::string::npos);
    }
    std::set<std::string> addrs;
    for (const auto& x : l) addrs.insert(std::string(server(x, "REMOTE_ADDR").as_string()));
    CHECK(addrs == std::set<std::string>{"203.0.0.0", "2001:db8:1::"});
    for (const auto& x : l) CHECK(first_hit(x).contains("country"));  // looked up with the raw IP
    for (const auto& line : env.gateway.output_lines()) CHECK(line.find("203.0.113.77") == std::string::npos);
}

TEST_CASE("geo reload: replacing the database under load fails no request and the new database answers") {
    auto dir = scratch_dir("edge-reload");
    auto live = dir / "live.mmdb";
    replace_with_copy(live, test_databases().city());
    TrackingEnv env({"--trusted-proxies", "127.0.0.1", "--geoip-database", live.string(), "--matomo-token-file",
                     token_file("feedfacefeedfacefeedfacefeedface"), "--access-log", "false",
                     "--geoip-check-interval-ms", "50"});
    std::atomic<bool> stop{false};
    std::atomic<int> sent{0}, failed{0};
    std::thread load([&] {
        Connection c(env.gateway.tracking_port());
        while (!stop) {
            auto r = c.send(build_request("GET", "/matomo.php?idsite=1&rec=1&send_image=0",
                                          {{"Host", "x"}, {"X-Forwarded-For", "203.0.113.20"}}));
            ++sent;
            if (r.status != 204) ++failed;
        }
    });
    // Replace the file (rename over it, as the docs require) and send SIGHUP; then a corrupt file.
    replace_with_copy(live, test_databases().city_v2());
    env.gateway.signal(SIGHUP);
    REQUIRE(env.gateway.wait_for_line(
        [](std::string_view s) { return s.find("\"event\":\"geoip_reloaded\"") != std::string_view::npos; }));
    replace_file(live, "this is not a MaxMind database");
    env.gateway.signal(SIGHUP);
    REQUIRE(env.gateway.wait_for_line(
        [](std::string_view s) { return s.find("\"event\":\"geoip_reload_failed\"") != std::string_view::npos; }));
    const int before = sent;
    while (sent < before + 50) std::this_thread::yield();
    stop = true;
    load.join();
    CHECK(failed == 0);
    env.redis.flushall();
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1&_id=0123456789abcdef", {{"X-Forwarded-For", "203.0.113.20"}}).status ==
            200);
    auto l = env.landed();
    REQUIRE(l.size() == 1);
    CHECK(first_hit(l[0]).at("country") == "at");  // city-v2 answers; the corrupt file was refused
    CHECK(first_hit(l[0]).at("city") == "Wien");
}

TEST_CASE("geo: a missing or corrupt database at start-up is a clear error") {
    auto r = run_command({MGW_GATEWAY_BINARY, "--geoip-database", "/nonexistent/city.mmdb", "--redis",
                          "redis://127.0.0.1:1/0", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"},
                         "");
    CHECK(r.status != 0);
    CHECK(r.err.find("geoip-database") != std::string::npos);
    auto bad = scratch_dir("edge-bad") / "bad.mmdb";
    replace_file(bad, "garbage");
    auto r2 = run_command({MGW_GATEWAY_BINARY, "--geoip-database", bad.string(), "--redis", "redis://127.0.0.1:1/0",
                           "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"},
                          "");
    CHECK(r2.status != 0);
    CHECK(r2.err.find("geoip-database") != std::string::npos);
}

TEST_CASE("privacy: DNT is honoured when configured and listed parameters are removed from url and urlref") {
    TrackingEnv env({"--honor-dnt", "true", "--strip-url-params", "email,token"});
    auto dnt = env.get("/matomo.php?idsite=1&rec=1", {{"DNT", "1"}});
    CHECK(dnt.status == 200);
    CHECK(env.landed().empty());
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1&url=" +
                    std::string("https%3A%2F%2Fshop.test%2Fa%3Femail%3Dme%40x.test%26p%3D1%23top") +
                    "&urlref=https%3A%2F%2Fx.test%2F%3Ftoken%3Dabc")
                .status == 200);
    auto l = env.landed();
    REQUIRE(l.size() == 1);
    CHECK(first_hit(l[0]).at("url") == "https://shop.test/a?p=1#top");
    CHECK(first_hit(l[0]).at("urlref") == "https://x.test/");
}

TEST_CASE("PROXY protocol: the header's source address stands for the peer, only from a trusted proxy") {
    TrackingEnv env({"--proxy-protocol", "true", "--trusted-proxies", "127.0.0.1"});
    {
        Connection c(env.gateway.tracking_port());
        c.write("PROXY TCP4 203.0.113.50 127.0.0.1 40000 80\r\n");
        auto r = c.send(build_request("GET", "/matomo.php?idsite=1&rec=1&_id=0123456789abcdef", {{"Host", "x"}}));
        CHECK(r.status == 200);
    }
    {
        // v2 binary header: TCP over IPv6, source 2001:db8::50.
        std::string v2("\r\n\r\n\0\r\nQUIT\n", 12);
        v2 += '\x21';  // version 2, PROXY command
        v2 += '\x21';  // AF_INET6, STREAM
        v2 += std::string("\x00\x24", 2);
        const unsigned char src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50};
        const unsigned char dst[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        v2.append(reinterpret_cast<const char*>(src), 16);
        v2.append(reinterpret_cast<const char*>(dst), 16);
        v2 += std::string("\x9c\x40\x00\x50", 4);
        Connection c(env.gateway.tracking_port());
        c.write(v2);
        auto r = c.send(build_request("GET", "/matomo.php?idsite=1&rec=1&_id=1123456789abcdef", {{"Host", "x"}}));
        CHECK(r.status == 200);
    }
    {
        Connection c(env.gateway.tracking_port());
        c.write("GET /matomo.php?idsite=1 HTTP/1.1\r\nHost: x\r\n\r\n");  // no header: refused, closed
        CHECK(c.closed_by_peer());
    }
    const auto landed = env.landed();
    REQUIRE(landed.size() == 2);  // the v1 and v2 hits; the refused connection queued nothing
    std::set<std::string> addrs;
    for (const auto& l : landed) addrs.insert(std::string(server(l, "REMOTE_ADDR").as_string()));
    CHECK(addrs == std::set<std::string>{"203.0.113.50", "2001:db8::50"});
}
