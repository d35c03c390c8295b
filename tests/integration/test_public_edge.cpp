// The public edge against a real origin: php -S on 127.0.0.1 standing in for the private Matomo
// (support/php_origin.hpp), the real gateway in front of it. The origin logs every request it
// receives, so "one origin request" and "never reached the origin" are counted, not guessed.
#include "support/php_origin.hpp"
#include "support/poll.hpp"
#include "tracking_env.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <ctime>

using namespace mgw::test;
using namespace std::chrono_literals;

namespace {

std::string edge_metric(TrackingEnv&, const std::string& kind, const std::string& outcome) {
    return "matomo_gateway_edge_requests_total{kind=\"" + kind + "\",outcome=\"" + outcome + "\"}";
}

// A tracker-sized body that changes with `version` (and compresses, as the real one does).
std::string tracker_js(int version) {
    std::string s = "/* Matomo JavaScript tracker, version " + std::to_string(version) + " */\n";
    for (int i = 0; i < 2000; ++i) s += "var _paq_" + std::to_string(i) + " = window._paq || [];\n";
    return s;
}

std::time_t http_seconds(const std::string& text) {
    std::tm tm{};
    REQUIRE(strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm));
    return timegm(&tm);
}

std::string gunzip(const std::string& data) { return run_command({"gzip", "-dc"}, data).out; }

constexpr const char* container_id = "AbCd1234";

}  // namespace

TEST_CASE("public edge 1: /matomo.js is the origin's byte for byte, with stock's headers, and follows a change") {
    PhpOrigin origin;
    origin.write("matomo.js", tracker_js(1));
    TrackingEnv env({"--matomo-origin", origin.url(), "--edge-fresh-tracker-ms", "300"});

    auto r = env.get("/matomo.js");
    REQUIRE(r.status == 200);
    CHECK(r.body == tracker_js(1));
    CHECK(r.header("Content-Type") == "application/javascript; charset=UTF-8");
    CHECK(r.header("Cache-Control") == "public, must-revalidate");
    CHECK(r.header("Vary") == "Accept-Encoding");
    CHECK(r.header("Content-Disposition") == "inline; filename=matomo.js");
    REQUIRE(r.header("Last-Modified"));
    REQUIRE(r.header("Expires"));
    REQUIRE(r.header("Date"));
    // Stock: Expires ten days after the answer (js/index.php's $daysExpireFarFuture).
    const auto ten_days = http_seconds(*r.header("Expires")) - http_seconds(*r.header("Date"));
    CHECK(ten_days >= 864000 - 5);
    CHECK(ten_days <= 864000 + 5);
    CHECK(r.header_count("Set-Cookie") == 0);

    // gzip for clients that accept it, prepared from the same bytes.
    auto gz = env.get("/matomo.js", {{"Accept-Encoding", "gzip, deflate, br"}});
    CHECK(gz.header("Content-Encoding") == "gzip");
    CHECK(gz.body.size() < r.body.size());
    CHECK(gunzip(gz.body) == tracker_js(1));
    CHECK(env.get("/matomo.js", {{"Accept-Encoding", "gzip;q=0"}}).header_count("Content-Encoding") == 0);

    // 304 when If-Modified-Since is the Last-Modified sent (stock's rule), and /js/ is the same file.
    CHECK(env.get("/matomo.js", {{"If-Modified-Since", *r.header("Last-Modified")}}).status == 304);
    CHECK(env.get("/js/").body == tracker_js(1));

    // A new tracker on the origin (CustomJsTracker regenerated it): served within the freshness time.
    origin.write("matomo.js", tracker_js(2));
    const auto changed_at = Clock::now();
    CHECK(poll_until(Clock::now() + 10s, [&] { return env.get("/matomo.js").body == tracker_js(2); }));
    CHECK(Clock::now() - changed_at < 5s);
    CHECK(env.landed().empty());
}

TEST_CASE("public edge 2: a published container is served from the cache, its preview from the origin every time") {
    PhpOrigin origin;
    const std::string live = std::string("js/container_") + container_id + ".js";
    const std::string preview = std::string("js/container_") + container_id + "_preview.js";
    const std::string staging = std::string("js/container_") + container_id + "_staging_0123456789abcdef01234567.js";
    origin.write(live, "/* live container */");
    origin.write(preview, "/* preview container */");
    origin.write(staging, "/* staging container */");
    TrackingEnv env({"--matomo-origin", origin.url(), "--edge-fresh-container-ms", "600000"});

    for (int i = 0; i < 3; ++i) {
        auto r = env.get("/" + live);
        REQUIRE(r.status == 200);
        CHECK(r.body == "/* live container */");
        CHECK(env.get("/" + preview).body == "/* preview container */");
    }
    CHECK(env.get("/" + staging).body == "/* staging container */");
    CHECK(origin.count("/" + live) == 1);
    CHECK(origin.count("/" + preview) == 3);
    CHECK(env.metric(edge_metric(env, "container", "hit")) == 2);
    CHECK(env.metric(edge_metric(env, "preview", "bypass")) == 3);
    // A container that does not exist is the origin's 404 (and cached, so a flood does not reach it).
    CHECK(env.get("/js/container_Zz999999.js").status == 404);
    CHECK(env.get("/js/container_Zz999999.js").status == 404);
    CHECK(origin.count("/js/container_Zz999999.js") == 1);
}

TEST_CASE("public edge 3: 100 concurrent requests for a cold object cause one origin request") {
    PhpOrigin origin;
    origin.write("matomo.js", tracker_js(1));
    TrackingEnv env({"--matomo-origin", origin.url(), "--origin-timeout-ms", "30000"});
    // The origin holds its answer until the gate is removed, so all requests really overlap.
    std::ofstream(origin.gate_file()) << "";
    constexpr int clients = 100;
    std::vector<std::future<HttpResponse>> answers;
    for (int i = 0; i < clients; ++i)
        answers.push_back(std::async(std::launch::async, [&] {
            return send_request(env.gateway.tracking_port(),
                                build_request("GET", "/matomo.js", {{"Host", "127.0.0.1"}, {"Connection", "close"}}),
                                60s);
        }));
    // Every request is read and waiting (the gateway counts them) and the origin has been asked.
    CHECK(poll_until(Clock::now() + 30s, [&] {
        return env.metric("matomo_gateway_inflight_hits") == clients && origin.count("/matomo.js") >= 1;
    }));
    std::filesystem::remove(origin.gate_file());
    int ok = 0;
    for (auto& a : answers) {
        auto r = a.get();
        if (r.status == 200 && r.body == tracker_js(1)) ++ok;
    }
    CHECK(ok == clients);
    CHECK(origin.count("/matomo.js") == 1);
    CHECK(env.metric("matomo_gateway_edge_origin_requests_total{kind=\"tracker\"}") == 1);
    CHECK(env.metric(edge_metric(env, "tracker", "miss")) == 1);
    CHECK(env.metric(edge_metric(env, "tracker", "coalesced")) == clients - 1);
}

TEST_CASE("public edge 4: origin down: cached objects are served stale and counted, uncached ones fail fast") {
    PhpOrigin origin;
    origin.write("matomo.js", tracker_js(1));
    origin.write(std::string("js/container_") + container_id + ".js", "/* live */");
    TrackingEnv env({"--matomo-origin", origin.url(), "--edge-fresh-tracker-ms", "0", "--origin-timeout-ms", "1000"});
    REQUIRE(env.get("/matomo.js").status == 200);

    origin.stop();
    auto start = Clock::now();
    auto r = env.get("/matomo.js");
    CHECK(r.status == 200);
    CHECK(r.body == tracker_js(1));
    CHECK(env.metric(edge_metric(env, "tracker", "stale")) == 1);
    CHECK(env.metric("matomo_gateway_edge_origin_errors_total{kind=\"tracker\"}") == 1);
    auto cold = env.get(std::string("/js/container_") + container_id + ".js");
    CHECK(cold.status == 502);
    CHECK(Clock::now() - start < 5s);
    CHECK(env.metric(edge_metric(env, "container", "error")) == 1);

    // An origin that accepts and never answers: the deadline answers 504 (uncached) or stale.
    origin.start();
    std::ofstream(origin.gate_file()) << "";
    start = Clock::now();
    CHECK(env.get("/piwik.js").status == 504);
    CHECK(Clock::now() - start < 10s);
    std::filesystem::remove(origin.gate_file());

    CHECK(env.metric("matomo_gateway_edge_origin_errors_total{kind=\"tracker\"}") == 2);

    // A 500 from the origin is an error too (once the retry pause is over): the cached copy is served.
    std::ofstream(origin.fail_file()) << "";
    CHECK(poll_until(Clock::now() + 10s, [&] {
        return env.get("/matomo.js").body == tracker_js(1) &&
               env.metric("matomo_gateway_edge_origin_errors_total{kind=\"tracker\"}") == 3;
    }));
    CHECK(origin.count("/matomo.js") >= 2);
}

TEST_CASE("public edge 5: no path outside the allow-list reaches the origin") {
    PhpOrigin origin;
    origin.write("matomo.js", tracker_js(1));
    TrackingEnv env({"--matomo-origin", origin.url()});
    const std::vector<std::string> refused = {
        "/",
        "/index.php",
        "/index.php?module=Login",
        "/index.php?module=API&method=UsersManager.getUsers&format=json",
        "/index.php?module=CoreHome&action=index",
        "/index.php?module=CoreAdminHome&action=generalSettings",
        "/index.php?module=CoreAdminHome&action=optOutJS&module=API",
        "/index.php?module=CoreAdminHome&action=optOutJS&action=index",
        "/index.php?module[]=CoreAdminHome&action=optOutJS",
        "/index.php?module=CoreAdminHome&action=optOutJS%00",
        "/index.php?module=CoreAdminHome&action=optOutJS&x=<script>",
        "/index.php/../config/config.ini.php",
        "/plugins/HeatmapSessionRecording/config.php",
        "/plugins/HeatmapSessionRecording/configs.php/../../../config/config.ini.php",
        "/plugins/CoreHome/templates/x.twig",
        "/plugins/TagManager/TagManager.php",
        "/config/config.ini.php",
        "/tmp/assets/x.js",
        "/js/container_ab.js",
        "/js/container_AbCd1234.php",
        "/js/container_AbCd1234_staging_nothex.js",
        "/js/../config/config.ini.php",
        "/js/..%2fconfig/config.ini.php",
        "/js/%2e%2e/config/config.ini.php",
        "/js/%252e%252e/config/config.ini.php",
        "/%2e%2e/config/config.ini.php",
        "/js\\..\\config\\config.ini.php",
        "/matomo.js;.php",
        "/matomo.js/..",
        "//matomo.js",
        "/./matomo.js",
        "/js/./container_AbCd1234.js",
        "/MATOMO.JS",
        "/matomo%2ejs",
        "/plugins/HeatmapSessionRecording/configs.php?idsite=1&x=\"a\"",
        "http://127.0.0.1/matomo.js",
    };
    for (const auto& target : refused) {
        INFO(target);
        auto r = env.get(target);
        // 400: Beast's own parser already refuses some of these request lines.
        CHECK((r.status == 404 || r.status == 400));
        CHECK(r.body.find("ADMIN") == std::string::npos);
    }
    CHECK(origin.requests().empty());
    CHECK(env.metric("matomo_gateway_hits_rejected_total{reason=\"edge_path_refused\"}") > 0);
    // Methods other than GET/HEAD on listed paths never reach the origin either.
    CHECK(env.send("POST", "/js/container_AbCd1234.js", {}, "x").status == 405);
    CHECK(origin.requests().empty());
    // The log does work: an allowed path is there at once.
    CHECK(env.get("/matomo.js").status == 200);
    CHECK(origin.requests().size() == 1);
}

TEST_CASE("public edge 6: an expired object is revalidated, and the origin's 304 renews it without a transfer") {
    PhpOrigin origin;
    origin.write("matomo.js", tracker_js(1));
    TrackingEnv env({"--matomo-origin", origin.url(), "--edge-fresh-tracker-ms", "0"});
    auto first = env.get("/matomo.js");
    REQUIRE(first.status == 200);
    auto second = env.get("/matomo.js");
    CHECK(second.body == tracker_js(1));
    const auto log = origin.requests();
    REQUIRE(log.size() == 2);
    CHECK(log[0] == "/matomo.js||");
    // The second carries the validators the origin sent with the first.
    CHECK(log[1] == "/matomo.js|" + *first.header("Last-Modified") + "|" + *first.header("ETag"));
    CHECK(env.metric(edge_metric(env, "tracker", "revalidated")) == 1);
    CHECK(env.metric(edge_metric(env, "tracker", "miss")) == 1);
}

TEST_CASE("public edge 7: configs.php is cached per query, the opt-out goes out with a rebuilt query, no cookie") {
    PhpOrigin origin;
    TrackingEnv env({"--matomo-origin", origin.url(), "--edge-fresh-configs-ms", "600000"});
    const std::string a = "/plugins/HeatmapSessionRecording/configs.php?idsite=1&trackerid=abc123&url=https%3A%2F%2Fa";
    const std::string b = "/plugins/HeatmapSessionRecording/configs.php?idsite=2&trackerid=abc123&url=https%3A%2F%2Fb";
    auto ra = env.get(a);
    CHECK(ra.status == 200);
    CHECK(ra.body.find("idsite=1&trackerid=abc123") != std::string::npos);
    CHECK(ra.header("Access-Control-Allow-Origin") == "*");  // the origin's CORS is passed on
    CHECK(ra.header_count("Set-Cookie") == 0);
    CHECK(env.get(a).body == ra.body);
    CHECK(env.get(b).body.find("idsite=2") != std::string::npos);
    CHECK(origin.count("/plugins/HeatmapSessionRecording/configs.php?idsite=1") == 1);
    CHECK(origin.count("/plugins/HeatmapSessionRecording/configs.php?idsite=2") == 1);

    auto opt = env.get("/index.php?language=de&module=CoreAdminHome&token_auth=x&action=optOutJS&divId=optout");
    CHECK(opt.status == 200);
    CHECK(opt.header("Cache-Control") == "no-store");
    CHECK(opt.header_count("Set-Cookie") == 0);
    REQUIRE(origin.count("/index.php") == 1);
    CHECK(origin.requests().back() == "/index.php?module=CoreAdminHome&action=optOutJS&language=de&divId=optout||");
}

TEST_CASE("public edge 8: local files without an origin, re-read when they change") {
    const std::string dir = make_temp_dir("mgw-jsdir");
    std::filesystem::create_directories(dir + "/js");
    auto put = [&](const std::string& rel, const std::string& content) {
        std::ofstream(dir + "/" + rel + ".tmp", std::ios::binary) << content;
        std::filesystem::rename(dir + "/" + rel + ".tmp", dir + "/" + rel);
    };
    put("matomo.js", tracker_js(1));
    put(std::string("js/container_") + container_id + ".js", "/* v1 */");
    {
        TrackingEnv env({"--js-dir", dir, "--edge-fresh-tracker-ms", "200", "--edge-fresh-container-ms", "200"});
        auto r = env.get("/js/");
        CHECK(r.body == tracker_js(1));
        CHECK(r.header("Cache-Control") == "public, must-revalidate");
        CHECK(r.header("Content-Disposition") == "inline; filename=matomo.js");
        CHECK(env.get("/matomo.js", {{"If-Modified-Since", *r.header("Last-Modified")}}).status == 304);
        CHECK(env.get(std::string("/js/container_") + container_id + ".js").body == "/* v1 */");
        put("matomo.js", tracker_js(2));
        put(std::string("js/container_") + container_id + ".js", "/* v2 */");
        CHECK(poll_until(Clock::now() + 10s, [&] {
            return env.get("/matomo.js").body == tracker_js(2) &&
                   env.get(std::string("/js/container_") + container_id + ".js").body == "/* v2 */";
        }));
        // No origin: configs.php and the opt-out are not served.
        CHECK(env.get("/plugins/HeatmapSessionRecording/configs.php?idsite=1").status == 404);
        CHECK(env.get("/index.php?module=CoreAdminHome&action=optOutJS").status == 404);
    }
    {
        TrackingEnv env({"--js-tracker-file", dir + "/matomo.js", "--edge-fresh-tracker-ms", "200"});
        CHECK(env.get("/piwik.js").body == tracker_js(2));
        put("matomo.js", tracker_js(3));
        CHECK(poll_until(Clock::now() + 10s, [&] { return env.get("/piwik.js").body == tracker_js(3); }));
        CHECK(env.get(std::string("/js/container_") + container_id + ".js").status == 404);
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("public edge 9: the cache stays within --edge-cache-bytes, least recently used out first") {
    PhpOrigin origin;
    const std::string big(20000, 'x');
    std::vector<std::string> ids;
    for (int i = 0; i < 10; ++i) {
        ids.push_back("Cont000" + std::to_string(i));
        origin.write("js/container_" + ids.back() + ".js", big + std::to_string(i));
    }
    TrackingEnv env(
        {"--matomo-origin", origin.url(), "--edge-cache-bytes", "65536", "--edge-fresh-container-ms", "600000"});
    for (const auto& id : ids) {
        CHECK(env.get("/js/container_" + id + ".js").status == 200);
        CHECK(env.metric("matomo_gateway_edge_cache_bytes") <= 65536);
    }
    CHECK(env.metric("matomo_gateway_edge_cache_evictions_total") >= 7);
    // The most recent one is still cached, the first one was evicted and is fetched again.
    CHECK(env.get("/js/container_" + ids.back() + ".js").status == 200);
    CHECK(origin.count("/js/container_" + ids.back() + ".js") == 1);
    CHECK(env.get("/js/container_" + ids.front() + ".js").status == 200);
    CHECK(origin.count("/js/container_" + ids.front() + ".js") == 2);
}
