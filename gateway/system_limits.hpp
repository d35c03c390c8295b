// What the environment allows the process: open file descriptors (RLIMIT_NOFILE) and CPUs (the
// cgroup CPU quota of a container), read once at start; and how its threads are scheduled.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mgw::gateway {

struct FdLimit {
    std::uint64_t soft_before = 0;  // the soft limit the process was started with
    std::uint64_t soft = 0;         // after raising it
    std::uint64_t hard = 0;
    std::string error;  // why raising failed, empty otherwise
};

// Raises RLIMIT_NOFILE's soft limit to its hard limit: every client connection is a descriptor,
// and the common default soft limit (1024) is far below --max-connections' default.
FdLimit raise_fd_limit();

// CPUs a cgroup CPU quota grants: "max 100000" -> nullopt (no quota), "150000 100000" -> 1.5.
std::optional<double> parse_cpu_max(std::string_view text);
// cgroup v1: cpu.cfs_quota_us ("-1": none) over cpu.cfs_period_us.
std::optional<double> parse_cfs_quota(std::string_view quota, std::string_view period);

// The smallest CPU quota on the path from the process's cgroup up to the root, cgroup v2
// (cpu.max) or v1 (cpu.cfs_quota_us / cpu.cfs_period_us); nullopt when there is none.
// `proc_self_cgroup` is the text of /proc/self/cgroup, `root` the cgroup mount (/sys/fs/cgroup).
std::optional<double> cgroup_cpu_quota(std::string_view proc_self_cgroup, const std::string& root);

// The outcome of use_batch_scheduling(): the calling thread's policy before ("other", "batch",
// "idle", "fifo", "rr"), the policy it has now, and why switching failed (empty otherwise).
struct Scheduling {
    std::string before;
    std::string now;
    std::string error;
};

// Moves the calling thread from SCHED_OTHER to SCHED_BATCH (no privilege needed); the threads it
// starts afterwards inherit the policy. Under SCHED_BATCH a thread that network events wake does not
// preempt the task running on its core: it runs at its next turn, with more events ready. A policy
// other than SCHED_OTHER was chosen by whoever started the process (chrt, systemd's
// CPUSchedulingPolicy) and is left as it is.
Scheduling use_batch_scheduling();
// The calling thread's policy, named as in Scheduling.
std::string current_scheduling();

// I/O threads for --threads: the configured number, or with 0 the CPU quota rounded up (at least
// 1, at most `cores`), or `cores` without a quota.
unsigned io_threads(unsigned configured, std::optional<double> quota, unsigned cores);

}  // namespace mgw::gateway
