// /metrics after a known load: a strict text-format 0.0.4 check, and counters equal to what was sent.
#include "tracking_env.hpp"

#include "support/poll.hpp"

#include <catch2/catch.hpp>

#include <limits>
#include <map>
#include <regex>
#include <set>
#include <sstream>

using namespace mgw::test;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Sample {
    std::string name;
    std::map<std::string, std::string> labels;
    double value = 0;
};

// Parses the exposition strictly; every violation is a returned message.
std::vector<std::string> check_exposition(const std::string& text, std::vector<Sample>& samples) {
    std::vector<std::string> errors;
    static const std::regex name_re("[a-zA-Z_:][a-zA-Z0-9_:]*");
    static const std::regex sample_re(R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( \d+)?)");
    static const std::regex label_re(R"lbl(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)")lbl");
    std::map<std::string, std::string> types;
    std::set<std::string> helped;
    std::istringstream in(text);
    std::string line;
    if (text.empty() || text.back() != '\n') errors.emplace_back("exposition does not end with a newline");
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        if (line.rfind("# HELP ", 0) == 0) {
            auto name = line.substr(7, line.find(' ', 7) - 7);
            if (!std::regex_match(name, name_re)) errors.push_back("bad HELP name: " + line);
            if (!helped.insert(name).second) errors.push_back("second HELP for " + name);
            continue;
        }
        if (line.rfind("# TYPE ", 0) == 0) {
            std::istringstream t(line.substr(7));
            std::string name, type;
            t >> name >> type;
            if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" && type != "untyped")
                errors.push_back("bad TYPE: " + line);
            if (types.count(name)) errors.push_back("second TYPE for " + name);
            types[name] = type;
            continue;
        }
        if (line[0] == '#') continue;
        std::smatch m;
        if (!std::regex_match(line, m, sample_re)) {
            errors.push_back("malformed sample: " + line);
            continue;
        }
        Sample s;
        s.name = m[1];
        std::string labels = m[3];
        for (std::sregex_iterator it(labels.begin(), labels.end(), label_re), end; it != end; ++it)
            s.labels[(*it)[1]] = (*it)[2];
        std::string rebuilt;
        for (std::sregex_iterator it(labels.begin(), labels.end(), label_re), end; it != end; ++it)
            rebuilt += (rebuilt.empty() ? "" : ",") + it->str();
        if (rebuilt != labels && rebuilt + "," != labels) errors.push_back("malformed labels: " + line);
        try {
            std::size_t used = 0;
            std::string v = m[4];
            s.value = (v == "+Inf") ? kInf : (v == "-Inf" ? -kInf : std::stod(v, &used));
            if (v != "+Inf" && v != "-Inf" && v != "NaN" && used != v.size()) errors.push_back("bad value: " + line);
        } catch (const std::exception&) { errors.push_back("bad value: " + line); }
        std::string family = s.name;
        for (auto suffix : {"_bucket", "_sum", "_count"}) {
            std::string sfx(suffix);
            if (!types.count(family) && family.size() > sfx.size() &&
                family.compare(family.size() - sfx.size(), sfx.size(), sfx) == 0)
                family = family.substr(0, family.size() - sfx.size());
        }
        if (!types.count(family)) errors.push_back("sample without TYPE: " + line);
        else if (types[family] == "counter" && s.name.size() > 6 && s.name.substr(s.name.size() - 6) != "_total")
            errors.push_back("counter not named *_total: " + s.name);
        samples.push_back(std::move(s));
    }
    // Histograms: buckets cumulative, +Inf bucket equal to _count.
    std::map<std::string, std::vector<double>> buckets;
    std::map<std::string, double> counts;
    for (const auto& s : samples) {
        std::string key;
        for (const auto& [k, v] : s.labels)
            if (k != "le") key += k + "=" + v + ",";
        if (s.name.size() > 7 && s.name.substr(s.name.size() - 7) == "_bucket")
            buckets[s.name.substr(0, s.name.size() - 7) + "{" + key].push_back(s.value);
        if (s.name.size() > 6 && s.name.substr(s.name.size() - 6) == "_count")
            counts[s.name.substr(0, s.name.size() - 6) + "{" + key] = s.value;
    }
    for (const auto& [series, values] : buckets) {
        for (std::size_t i = 1; i < values.size(); ++i)
            if (values[i] < values[i - 1]) errors.push_back("histogram buckets not cumulative: " + series);
        if (!counts.count(series) || counts[series] != values.back())
            errors.push_back("+Inf bucket != _count: " + series);
    }
    return errors;
}

double value_of(const std::vector<Sample>& samples, const std::string& name,
                const std::map<std::string, std::string>& labels) {
    for (const auto& s : samples) {
        if (s.name != name) continue;
        bool match = true;
        for (const auto& [k, v] : labels) match = match && s.labels.count(k) && s.labels.at(k) == v;
        if (match) return s.value;
    }
    return -1;
}

}  // namespace

TEST_CASE("metrics: after a known load /metrics is strict text format 0.0.4 and the counters equal the load") {
    TrackingEnv env({"--queues", "4", "--threads", "2"});
    for (int i = 0; i < 25; ++i)
        REQUIRE(env.get("/matomo.php?idsite=1&rec=1&_id=" + std::string(16, "0123456789abcdef"[i % 16])).status == 200);
    REQUIRE(
        env.send("POST", "/matomo.php", {}, R"({"requests":["?idsite=1&rec=1","?idsite=1&rec=1","?idsite=1&rec=1"]})")
            .status == 200);
    for (int i = 0; i < 4; ++i) REQUIRE(env.send("PUT", "/matomo.php?idsite=1").status == 405);
    REQUIRE(env.get("/matomo.php").status == 200);  // no hits
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1&cip=1.2.3.4").status == 400);

    auto scrape = env.send_admin("/metrics");
    REQUIRE(scrape.status == 200);
    CHECK(scrape.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
    std::vector<Sample> samples;
    auto errors = check_exposition(scrape.body, samples);
    CHECK(errors == std::vector<std::string>{});  // NOLINT(readability-container-size-empty): prints the list
    CHECK(value_of(samples, "matomo_gateway_hits_total", {{"outcome", "queued"}}) == 28);
    CHECK(value_of(samples, "matomo_gateway_hits_total", {{"outcome", "failed"}}) == 0);
    CHECK(value_of(samples, "matomo_gateway_hits_rejected_total", {{"reason", "method_not_allowed"}}) == 4);
    CHECK(value_of(samples, "matomo_gateway_hits_rejected_total", {{"reason", "cip_without_token"}}) == 1);
    CHECK(value_of(samples, "matomo_gateway_http_requests_total", {{"endpoint", "tracking"}, {"status", "200"}}) == 27);
    CHECK(value_of(samples, "matomo_gateway_http_requests_total", {{"endpoint", "tracking"}, {"status", "405"}}) == 4);
    CHECK(value_of(samples, "matomo_gateway_http_requests_total", {{"endpoint", "tracking"}, {"status", "400"}}) == 1);
    CHECK(value_of(samples, "matomo_gateway_http_request_duration_seconds_count", {{"endpoint", "tracking"}}) == 32);
    // 25 GETs on queues by _id plus the bulk's sets: every RPUSH answered OK.
    auto rpush = env.command_calls("rpush");
    CHECK(value_of(samples, "matomo_gateway_redis_writes_total", {{"outcome", "ok"}}) == static_cast<double>(rpush));
    // One writer connection per I/O thread.
    CHECK(value_of(samples, "matomo_gateway_redis_up", {}) == 2);
    CHECK(value_of(samples, "process_resident_memory_bytes", {}) > 0);
    CHECK(value_of(samples, "process_cpu_seconds_total", {}) >= 0);
}

TEST_CASE("probes: /livez is 200 whatever Redis does, /readyz follows Redis when there is no spool (--ack=redis)") {
    TrackingEnv env({"--ack", "redis"});
    CHECK(env.send_admin("/livez").status == 200);
    CHECK(env.send_admin("/readyz").status == 200);
    env.redis.stop();
    // Each I/O thread's writer notices the lost connection on its own, and the gateway stays ready
    // while any of them is connected: wait for readiness to turn.
    REQUIRE(env.gateway.wait_for_line(
        [](std::string_view l) { return l.find("\"event\":\"redis_connection_lost\"") != std::string_view::npos; }));
    HttpResponse ready;
    CHECK(mgw::test::poll_until(Clock::now() + std::chrono::seconds(30), [&] {
        ready = env.send_admin("/readyz");
        return ready.status == 503;
    }));
    CHECK(ready.body.find("redis") != std::string::npos);
    CHECK(env.send_admin("/livez").status == 200);
}
