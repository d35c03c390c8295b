// End-to-end fixture tests: a real redis-server and the real matomo-gateway binary, fed the exact
// request bytes recorded from stock Matomo + QueuedTracking (tests/fixtures/queuedtracking), and
// checked against what stock answered and wrote to Redis. Queue values are decoded with the php
// CLI the way the QueuedTracking worker decodes them. Item numbers are those of the checklist
// in docs/wire-format.md.
#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "support/fixtures.hpp"
#include "support/free_port.hpp"
#include "support/gateway_process.hpp"
#include "support/header_compare.hpp"
#include "support/http.hpp"
#include "support/php.hpp"
#include "support/redis_server.hpp"

namespace {

using namespace mgw::test;
namespace json = boost::json;

// Redis plus a gateway with 4 queues, as in the recording, ready (/readyz 200) to queue hits.
struct Environment {
    explicit Environment(RedisServerOptions options = {}, bool use_unix_socket = false,
                         std::vector<std::string> extra_args = {})
        : redis(options), gateway(arguments(use_unix_socket, std::move(extra_args))) {
        gateway.wait_until_ready();
    }

    RedisServer redis;
    GatewayProcess gateway;

private:
    std::vector<std::string> arguments(bool use_unix_socket, std::vector<std::string> extra) const {
        std::vector<std::string> args = {"--redis", use_unix_socket ? redis.unix_url() : redis.url(), "--queues", "4"};
        args.insert(args.end(), extra.begin(), extra.end());
        return args;
    }
};

long long unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string hex(const std::string& bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

// Status line and headers, for failure messages.
std::string describe(const HttpResponse& response) {
    std::string out = std::to_string(response.status) + " " + response.reason;
    for (const auto& [name, value] : response.headers) out += " | " + name + ": " + value;
    return out + " | body " + std::to_string(response.body.size()) + " bytes";
}

// "key x count" lines, sorted: printable by Catch and comparable.
std::vector<std::string> key_counts(const std::map<std::string, std::size_t>& counts) {
    std::vector<std::string> out;
    for (const auto& [key, count] : counts) out.push_back(key + " x " + std::to_string(count));
    return out;
}

std::vector<std::string> member_names(const json::object& object) {
    std::vector<std::string> names;
    for (const auto& member : object) names.emplace_back(member.key());
    std::sort(names.begin(), names.end());
    return names;
}

json::value server_var(const json::object& state, const char* name) {
    const auto* env = state.if_contains("env");
    const auto* server = env && env->is_object() ? env->as_object().if_contains("server") : nullptr;
    if (!server || !server->is_object()) return "<no env.server object>";
    const auto* value = server->as_object().if_contains(name);
    return value ? *value : json::value("<missing>");
}

// Item 6: a zlib stream (0x78, valid header checksum) or a plain JSON object.
bool zlib_or_plain_json(const std::string& raw) {
    if (raw.size() >= 2 && static_cast<unsigned char>(raw[0]) == 0x78)
        return (static_cast<unsigned char>(raw[0]) * 256 + static_cast<unsigned char>(raw[1])) % 31 == 0;
    return !raw.empty() && raw[0] == '{';
}

// The decoded state must match the stock one: requests and tokenAuth exactly, the client-derived
// env.server variables, exactly four members, and an integer time close to the enqueue time.
void check_state(const json::value& decoded, const FixtureEntry& expected, long long sent_at, long long answered_at) {
    REQUIRE(decoded.is_object());
    const auto& state = decoded.as_object();
    INFO("decoded value: " << json::serialize(decoded));

    CHECK(member_names(state) == std::vector<std::string>{"env", "requests", "time", "tokenAuth"});  // item 7
    CHECK(state.if_contains("requests") != nullptr);
    if (const auto* requests = state.if_contains("requests")) CHECK(*requests == expected.decoded.at("requests"));
    if (const auto* token = state.if_contains("tokenAuth")) CHECK(*token == expected.decoded.at("tokenAuth"));

    const auto* time = state.if_contains("time");  // item 8
    REQUIRE(time != nullptr);
    REQUIRE(time->is_int64());
    CHECK(time->as_int64() >= sent_at - 2);
    CHECK(time->as_int64() <= answered_at + 2);

    for (const char* name : {"REMOTE_ADDR", "HTTP_USER_AGENT", "HTTP_ACCEPT_LANGUAGE"}) {
        INFO("env.server." << name);
        CHECK(server_var(state, name) == server_var(expected.decoded, name));
    }
}

// Sends the fixture's exact request bytes on a fresh connection and compares everything.
void check_fixture(Environment& env, const std::string& name) {
    const Fixture fixture = load_fixture(name);
    env.redis.flushall();

    const long long sent_at = unix_now();
    const HttpResponse response = send_request(env.gateway.tracking_port(), fixture.request_raw);
    const long long answered_at = unix_now();

    // The HTTP response.
    INFO("gateway response: " << describe(response));
    CHECK(response.status == fixture.status);
    CHECK(response.reason == fixture.reason);
    CHECK(hex(response.body) == hex(fixture.response_body));
    // NOLINTNEXTLINE(readability-container-size-empty): compared with {} so a failure prints the list
    CHECK(response_header_differences(fixture.response_headers, response.headers) == std::vector<std::string>{});

    // The same keys got the same number of values.
    std::map<std::string, std::size_t> expected_counts, actual_counts;
    for (const auto& entry : fixture.new_entries) ++expected_counts[entry.key];
    const auto contents = env.redis.queue_contents();
    for (const auto& [key, values] : contents) actual_counts[key] = values.size();
    REQUIRE(key_counts(actual_counts) == key_counts(expected_counts));

    // Each value, in push order per key, decodes to the stock state.
    for (const auto& [key, values] : contents) {
        std::vector<const FixtureEntry*> expected;
        for (const auto& entry : fixture.new_entries)
            if (entry.key == key) expected.push_back(&entry);
        const auto decoded = php_decode_queue_values(values);
        for (std::size_t i = 0; i < values.size(); ++i) {
            INFO(key << "[" << i << "], raw bytes start " << hex(values[i].substr(0, 4)));
            CHECK(zlib_or_plain_json(values[i]));  // item 6
            check_state(decoded[i], *expected[i], sent_at, answered_at);
        }
    }
}

}  // namespace

TEST_CASE("fixture 01_get_pageview_with_id: status, headers, body and queue value (items 6, 7, 8, 24)") {
    Environment env;
    check_fixture(env, "01_get_pageview_with_id");
}

TEST_CASE(
    "fixture 02_get_pageview_without_id (queue by md5 of the client IP): status, headers, body and "
    "queue value (items 6, 7, 8, 24)") {
    Environment env;
    check_fixture(env, "02_get_pageview_without_id");
}

TEST_CASE(
    "fixture 03_get_pageview_with_uid (queue by sha1 of uid): status, headers, body and queue value "
    "(items 6, 7, 8, 24)") {
    Environment env;
    check_fixture(env, "03_get_pageview_with_uid");
}

TEST_CASE(
    "fixture 04_get_pageview_with_cid (queue by cid): status, headers, body and queue value "
    "(items 6, 7, 8, 24)") {
    Environment env;
    check_fixture(env, "04_get_pageview_with_cid");
}

TEST_CASE("fixture 08_get_send_image_0: 204 No Response without body, headers and queue value (items 6, 7, 8, 25)") {
    Environment env;
    check_fixture(env, "08_get_send_image_0");
}

TEST_CASE("fixture 21_get_idsite2_pageview: status, headers, body and queue value (items 6, 7, 8, 24)") {
    Environment env;
    check_fixture(env, "21_get_idsite2_pageview");
}

TEST_CASE("fixture 01_get_pageview_with_id through a unix-socket Redis URL (items 6, 7, 8, 24)") {
    Environment env({.unix_socket = true}, true);
    check_fixture(env, "01_get_pageview_with_id");
}

TEST_CASE("all six foundation fixtures in a row against one gateway and one Redis") {
    Environment env;
    for (const char* name : {"01", "02", "03", "04", "08", "21"}) {
        INFO("fixture " << name);
        check_fixture(env, name);
    }
}

TEST_CASE("keep-alive: two hits on one connection without Connection: close are both answered and both land") {
    Environment env;
    auto without_connection_header = [](const Fixture& fixture) {
        HeaderList headers;
        for (const auto& header : fixture.request_headers)
            if (header.first != "Connection") headers.push_back(header);
        return build_request(fixture.method, fixture.target, headers);
    };
    const Fixture first = load_fixture("01"), second = load_fixture("21");  // queues _2 and _1

    Connection connection(env.gateway.tracking_port());
    const HttpResponse response1 = connection.send(without_connection_header(first));
    INFO("first response: " << describe(response1));
    CHECK(response1.status == 200);
    REQUIRE(response1.keep_alive);
    const HttpResponse response2 = connection.send(without_connection_header(second));
    CHECK(response2.status == 200);
    CHECK(hex(response2.body) == hex(second.response_body));

    CHECK(env.redis.lrange_all("trackingQueueV1_2").size() == 1);
    CHECK(env.redis.lrange_all("trackingQueueV1_1").size() == 1);
    const auto decoded = php_decode_queue_values(
        {env.redis.lrange_all("trackingQueueV1_2").at(0), env.redis.lrange_all("trackingQueueV1_1").at(0)});
    REQUIRE(decoded.at(0).is_object());
    REQUIRE(decoded.at(1).is_object());
    CHECK(decoded[0].as_object().at("requests") == first.new_entries.at(0).decoded.at("requests"));
    CHECK(decoded[1].as_object().at("requests") == second.new_entries.at(0).decoded.at("requests"));
}

// With a spool (the default --ack=spool) an unreachable Redis is no failure: the hit is fsync'ed
// locally and answered as stored (tests/integration/test_durability.cpp). Without one, a hit Redis
// did not take is never a 2xx.
TEST_CASE("item 38 and deviation D7: Redis unreachable with --ack=redis → 503 with Retry-After, never 2xx") {
    const Fixture with_image = load_fixture("01"), without_image = load_fixture("08");  // 08 has send_image=0
    auto expect_503 = [&](GatewayProcess& gateway) {
        for (const Fixture* fixture : {&with_image, &without_image}) {
            INFO("request of fixture " << fixture->name);
            const HttpResponse response =
                send_request(gateway.tracking_port(), fixture->request_raw, std::chrono::seconds(30));
            INFO("gateway response: " << describe(response));
            CHECK(response.status == 503);
            CHECK_FALSE((response.status >= 200 && response.status < 300));
            CHECK(response.header("Retry-After").has_value());
        }
    };

    SECTION("nothing listens on the Redis port") {
        const RefusingPort nothing_listens;
        GatewayProcess gateway({"--redis", "redis://127.0.0.1:" + std::to_string(nothing_listens.port()) + "/0",
                                "--queues", "4", "--ack", "redis"});
        expect_503(gateway);
    }

    SECTION("the Redis server was stopped after a successful hit") {
        Environment env({}, false, {"--ack", "redis"});
        const HttpResponse ok = send_request(env.gateway.tracking_port(), with_image.request_raw);
        REQUIRE(ok.status == 200);
        REQUIRE(env.redis.lrange_all("trackingQueueV1_2").size() == 1);
        env.redis.stop();
        const RefusingPort keep_it_dead(env.redis.port());  // no parallel test's Redis can take it over
        expect_503(env.gateway);
    }
}

TEST_CASE("admin listener: /livez, /readyz and /metrics answer 200 while Redis is up") {
    Environment env;
    REQUIRE(send_request(env.gateway.tracking_port(), load_fixture("01").request_raw).status == 200);
    for (const char* path : {"/livez", "/readyz", "/metrics"}) {
        INFO("GET " << path);
        const HttpResponse response = send_request(
            env.gateway.admin_port(), build_request("GET", path, {{"Host", "127.0.0.1"}, {"Connection", "close"}}));
        CHECK(response.status == 200);
    }
}

TEST_CASE("SIGTERM after serving hits: the gateway drains and exits with status 0") {
    Environment env;
    REQUIRE(send_request(env.gateway.tracking_port(), load_fixture("01").request_raw).status == 200);
    const int status = env.gateway.terminate();
    INFO(describe_exit_status(status));
    CHECK(status == 0);
    CHECK(env.redis.lrange_all("trackingQueueV1_2").size() == 1);
}

TEST_CASE("access log: a tracking request adds a JSON line with event access and its status to stdout") {
    Environment env;
    const std::size_t before = env.gateway.output_line_count();
    REQUIRE(send_request(env.gateway.tracking_port(), load_fixture("08").request_raw).status == 204);
    auto line = env.gateway.wait_for_line(
        [](std::string_view text) {
            boost::system::error_code ec;
            auto value = json::parse(text, ec);
            return !ec && value.is_object() && value.as_object().if_contains("event") &&
                   value.as_object().at("event") == "access";
        },
        std::chrono::seconds(10), before);
    REQUIRE(line.has_value());
    const auto entry = json::parse(*line).as_object();
    CHECK(entry.at("status") == 204);
    INFO(*line);
    CHECK(entry.if_contains("time") != nullptr);
}
