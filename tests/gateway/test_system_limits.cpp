// --threads 0 follows the container's CPU quota: the cgroup v2 and v1 files as the kernel writes
// them, laid out by the test in a directory of its own, and the thread count chosen from them.
#include "gateway/system_limits.hpp"

#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <filesystem>
#include <fstream>

#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using mgw::gateway::cgroup_cpu_quota;

}  // namespace

TEST_CASE("cgroup v2 cpu.max: a quota in CPUs, none for max or malformed text") {
    using mgw::gateway::parse_cpu_max;
    CHECK(parse_cpu_max("100000 100000\n") == 1.0);
    CHECK(parse_cpu_max("150000 100000") == 1.5);
    CHECK(parse_cpu_max("50000 100000") == 0.5);
    CHECK_FALSE(parse_cpu_max("max 100000\n").has_value());
    CHECK_FALSE(parse_cpu_max("").has_value());
    CHECK_FALSE(parse_cpu_max("100000").has_value());
    CHECK_FALSE(parse_cpu_max("-5 100000").has_value());
    CHECK_FALSE(parse_cpu_max("abc 100000").has_value());
    CHECK_FALSE(parse_cpu_max("100000 0").has_value());
}

TEST_CASE("cgroup v1 cfs quota: quota over period, none for -1") {
    using mgw::gateway::parse_cfs_quota;
    CHECK(parse_cfs_quota("200000\n", "100000\n") == 2.0);
    CHECK(parse_cfs_quota("25000", "100000") == 0.25);
    CHECK_FALSE(parse_cfs_quota("-1\n", "100000\n").has_value());
    CHECK_FALSE(parse_cfs_quota("x", "100000").has_value());
}

TEST_CASE("cgroup v2: the smallest quota on the way from the process's cgroup to the root counts") {
    mgw::test::TempDir root("mgw-cgroup");
    root.write("/kubepods/pod1/cpu.max", "250000 100000\n");  // 2.5 CPUs for the pod
    root.write("/kubepods/pod1/c1/cpu.max", "max 100000\n");  // none for the container itself
    root.write("/kubepods/cpu.max", "max 100000\n");
    CHECK(cgroup_cpu_quota("0::/kubepods/pod1/c1\n", root.path) == 2.5);
    // A container with its own cgroup namespace: the mount's root is the container's cgroup.
    mgw::test::TempDir ns("mgw-cgroup");
    ns.write("/cpu.max", "100000 100000\n");
    CHECK(cgroup_cpu_quota("0::/\n", ns.path) == 1.0);
    // No quota anywhere.
    mgw::test::TempDir none("mgw-cgroup");
    none.write("/cpu.max", "max 100000\n");
    CHECK_FALSE(cgroup_cpu_quota("0::/\n", none.path).has_value());
    CHECK_FALSE(cgroup_cpu_quota("", none.path).has_value());
}

TEST_CASE("cgroup v1: the cpu controller's cfs quota, whichever way the controller is mounted") {
    mgw::test::TempDir root("mgw-cgroup");
    root.write("/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "150000\n");
    root.write("/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
    root.write("/cpu,cpuacct/docker/cpu.cfs_quota_us", "-1\n");
    root.write("/cpu,cpuacct/docker/cpu.cfs_period_us", "100000\n");
    const std::string cgroup = "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n";
    CHECK(cgroup_cpu_quota(cgroup, root.path) == 1.5);
    mgw::test::TempDir other("mgw-cgroup");
    other.write("/cpu/cpu.cfs_quota_us", "300000\n");
    other.write("/cpu/cpu.cfs_period_us", "100000\n");
    CHECK(cgroup_cpu_quota("3:cpu:/\n", other.path) == 3.0);
}

TEST_CASE("io threads: a configured count wins, 0 takes the quota rounded up, at least 1, at most the cores") {
    using mgw::gateway::io_threads;
    CHECK(io_threads(3, 1.0, 64) == 3);
    CHECK(io_threads(0, 1.0, 64) == 1);
    CHECK(io_threads(0, 1.5, 64) == 2);
    CHECK(io_threads(0, 0.25, 64) == 1);
    CHECK(io_threads(0, 2.0, 64) == 2);
    CHECK(io_threads(0, 16.0, 4) == 4);
    CHECK(io_threads(0, std::nullopt, 8) == 8);
    CHECK(io_threads(0, std::nullopt, 0) == 1);
}

TEST_CASE("the open file limit: the soft limit is raised to the hard one") {
    const auto fd = mgw::gateway::raise_fd_limit();
    CHECK(fd.error.empty());
    CHECK(fd.soft == fd.hard);
    CHECK(fd.soft >= fd.soft_before);
    rlimit rl{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &rl) == 0);
    CHECK(rl.rlim_cur == fd.soft);
}
