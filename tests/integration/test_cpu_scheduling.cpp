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
        if (stat.find(')') == std::string::npos) continue;  // the thread ended since the listing
        std::istringstream rest(stat.substr(stat.rfind(')') + 2));
        std::string field;
        for (int i = 3; i <= 41 && rest >> field; ++i) {}
        out.push_back(std::stoi(field));
    }
    return out;
}

// Every thread of `pid` runs under `policy`: two I/O threads (the main one among them), the spool's
// and the queue monitor's, at least.
void check_every_thread(pid_t pid, int policy) {
    const auto policies = thread_policies(pid);
    REQUIRE(policies.size() >= 3);
    for (int p : policies) CHECK(p == policy);
}

bool logged(GatewayProcess& gw, std::string_view scheduling) {
    return gw
        .wait_for_line([&](std::string_view l) {
            return l.find("\"event\":\"cpu_scheduling\"," + std::string(scheduling)) != std::string_view::npos;
        })
        .has_value();
}

}  // namespace

TEST_CASE("cpu scheduling: every thread runs under SCHED_BATCH by default") {
    RedisServer redis;
    GatewayProcess gw({"--redis", redis.url(), "--threads", "2"});
    gw.wait_until_ready();
    check_every_thread(gw.pid(), SCHED_BATCH);
    CHECK(logged(gw, "\"policy\":\"batch\",\"before\":\"other\""));
}

TEST_CASE("cpu scheduling: --sched-batch false leaves the threads under SCHED_OTHER") {
    RedisServer redis;
    GatewayProcess gw({"--redis", redis.url(), "--threads", "2", "--sched-batch", "false"});
    gw.wait_until_ready();
    check_every_thread(gw.pid(), SCHED_OTHER);
    CHECK(logged(gw, "\"policy\":\"other\",\"before\":\"other\""));
}

TEST_CASE("cpu scheduling: a policy the launcher chose is kept") {
    RedisServer redis;
    GatewayProcess gw({"--redis", redis.url(), "--threads", "2"}, {"chrt", "--idle", "0"});
    gw.wait_until_ready();
    check_every_thread(gw.pid(), SCHED_IDLE);
    CHECK(logged(gw, "\"policy\":\"idle\",\"before\":\"idle\""));
}
