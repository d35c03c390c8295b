// `matomo-gateway --decode` (README "Quick start"): what redis-cli prints for real queued values,
// in its raw and its quoted form, decodes to the request sets the QueuedTracking worker reads
// (php's gzuncompress + json_decode of the same values).
#include "tracking_env.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace mgw::test;
namespace json = boost::json;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        out.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

CommandResult redis_cli(const TrackingEnv& env, std::vector<std::string> args) {
    std::vector<std::string> argv = {"redis-cli", "-h", "127.0.0.1", "-p", std::to_string(env.redis.port())};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_command(argv, "");
    REQUIRE(r.status == 0);
    return r;
}

CommandResult decode(const std::string& input) { return run_command({MGW_GATEWAY_BINARY, "--decode"}, input); }

// Each decoded line, parsed, equals what php read from the same stored value.
void check_decoded(const std::string& stdout_text, const std::vector<Landed>& landed) {
    const auto lines = lines_of(stdout_text);
    REQUIRE(lines.size() == landed.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
        INFO("value " << i << ": " << lines[i]);
        CHECK(json::parse(lines[i]).as_object() == landed[i].state);
    }
}

}  // namespace

TEST_CASE("decode: redis-cli's raw and quoted output of real queued values decodes to what the worker reads") {
    TrackingEnv env;
    // Enough values that some compressed ones contain a newline byte, which redis-cli's raw output
    // does not escape: the decoder must split them by the zlib streams' own lengths.
    for (int i = 0; i < 40; ++i)
        REQUIRE(env.get("/matomo.php?idsite=1&rec=1&action_name=M%C3%BCnchen%20" + std::to_string(i) +
                        "&url=https%3A%2F%2Fexample.test%2F" + std::to_string(i * 7919) + "&_id=0123456789abcdef")
                    .status == 200);
    REQUIRE(env.send("POST", "/matomo.php", {},
                     R"({"requests":["?idsite=1&rec=1&_id=0123456789abcdef&action_name=bulk",)"
                     R"({"idsite":1,"rec":1,"_id":"0123456789abcdef","e_c":"Video","e_a":"Play"}]})")
                .status == 200);
    const auto landed = env.landed();
    REQUIRE(landed.size() == 41);
    REQUIRE(std::any_of(landed.begin(), landed.end(),
                        [](const Landed& l) { return l.raw.find('\n') != std::string::npos; }));

    SECTION("raw output, as piped (redis-cli writes raw when stdout is not a terminal)") {
        auto out = redis_cli(env, {"lrange", "trackingQueueV1", "0", "-1"}).out;
        auto r = decode(out);
        INFO(r.err);
        CHECK(r.status == 0);
        check_decoded(r.out, landed);
    }
    SECTION("--raw output of LINDEX, the README's quick start") {
        auto r = decode(redis_cli(env, {"--raw", "lindex", "trackingQueueV1", "0"}).out);
        CHECK(r.status == 0);
        check_decoded(r.out, {landed.front()});
    }
    SECTION("quoted output (--no-raw), as a terminal shows it") {
        auto out = redis_cli(env, {"--no-raw", "lrange", "trackingQueueV1", "0", "-1"}).out;
        INFO("redis-cli printed: " << out.substr(0, 120));
        REQUIRE(out.rfind(" 1) \"x", 0) == 0);  // "N) " prefixes right-aligned for 41 values, escaped bytes
        auto r = decode(out);
        INFO(r.err);
        CHECK(r.status == 0);
        check_decoded(r.out, landed);
    }
}

TEST_CASE("decode: plain JSON values (compression level 0) pass through, and bad input is an error with exit 1") {
    TrackingEnv env({"--compression-level", "0"});
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1&_id=0123456789abcdef").status == 200);
    REQUIRE(env.get("/matomo.php?idsite=2&rec=1&_id=0123456789abcdef").status == 200);
    const auto landed = env.landed();
    REQUIRE(landed.size() == 2);
    auto r = decode(redis_cli(env, {"lrange", "trackingQueueV1", "0", "-1"}).out);
    CHECK(r.status == 0);
    check_decoded(r.out, landed);

    auto missing = decode(redis_cli(env, {"lindex", "trackingQueueV1_3", "0"}).out);
    CHECK(missing.status == 1);
    CHECK(missing.out.empty());
    CHECK(missing.err.find("--decode: no value") != std::string::npos);

    auto garbage = decode("not a queue value\n");
    CHECK(garbage.status == 1);
    CHECK(garbage.err.find("neither a zlib stream nor plain JSON") != std::string::npos);

    // A value cut short: the complete values before it are still printed.
    auto cut = decode(landed[0].raw + "\n" + std::string("\x78\x9c\x01\x02", 4));
    CHECK(cut.status == 1);
    CHECK(lines_of(cut.out).size() == 1);
}
