// --sched-batch: every thread of a running gateway is under SCHED_BATCH by default, under
// SCHED_OTHER with --sched-batch false, and a policy its launcher chose is kept.
#include "support/gateway_process.hpp"
#include "support/redis_server.hpp"

#include <catch2/catch.hpp>

#include <sched.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

using namespace mgw::test;

namespace {

// The scheduling policy of every thread of `pid` (field 41 of /proc/<pid>/task/<tid>/stat, counted
// after the command name's closing parenthesis, which may itself hold spaces).
std::vector<int> thread_policies(pid_t pid) {
    std::vector<int> out;
    for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
        std::ifstream in(task.path() / "stat");
        std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::istringstream rest(stat.substr(stat.rfind(')') + 2));
        std::string field;
        for (int i = 3; i <= 41 && rest >> field; ++i) {}
        out.push_back(std::stoi(field));
    }
    return out;
}

}  // namespace

TEST_CASE("cpu scheduling: every thread runs under SCHED_BATCH by default") {
    RedisServer redis;
    GatewayProcess gw({"--redis", redis.url(), "--threads", "2"});
    gw.wait_until_ready();
    const auto policies = thread_policies(gw.pid());
    // Two I/O threads (the main one among them), the spool's and the queue monitor's, at least.
    REQUIRE(policies.size() >= 3);
    for (int p : policies) CHECK(p == SCHED_BATCH);
    CHECK(gw.wait_for_line([](std::string_view l) {
        return l.find("\"event\":\"cpu_scheduling\",\"policy\":\"batch\",\"before\":\"other\"") != std::string::npos;
    }));
}

TEST_CASE("cpu scheduling: --sched-batch false leaves the threads under SCHED_OTHER") {
    RedisServer redis;
    GatewayProcess gw({"--redis", redis.url(), "--threads", "2", "--sched-batch", "false"});
    gw.wait_until_ready();
    const auto policies = thread_policies(gw.pid());
    REQUIRE(policies.size() >= 3);
    for (int p : policies) CHECK(p == SCHED_OTHER);
}

TEST_CASE("cpu scheduling: a policy the launcher chose is kept") {
    RedisServer redis;
    GatewayProcess gw({"--redis", redis.url(), "--threads", "2"}, {"chrt", "--idle", "0"});
    gw.wait_until_ready();
    const auto policies = thread_policies(gw.pid());
    REQUIRE(policies.size() >= 3);
    for (int p : policies) CHECK(p == SCHED_IDLE);
    CHECK(gw.wait_for_line([](std::string_view l) {
        return l.find("\"event\":\"cpu_scheduling\",\"policy\":\"idle\",\"before\":\"idle\"") != std::string::npos;
    }));
}
