#include "gateway/system_limits.hpp"

#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace mgw::gateway {

FdLimit raise_fd_limit() {
    FdLimit out;
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        out.error = std::strerror(errno);
        return out;
    }
    out.soft_before = out.soft = rl.rlim_cur;
    out.hard = rl.rlim_max;
    if (rl.rlim_cur < rl.rlim_max) {
        rlimit raised = rl;
        raised.rlim_cur = rl.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) out.soft = raised.rlim_cur;
        else out.error = std::strerror(errno);
    }
    return out;
}

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

std::optional<long long> to_int(std::string_view s) {
    s = trim(s);
    long long v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// "/a/b" -> {"/a/b", "/a", ""}: the cgroup and its ancestors, deepest first ("" is the root).
std::vector<std::string> ancestors(std::string_view path) {
    std::vector<std::string> out;
    std::string p(trim(path));
    while (!p.empty() && p.back() == '/') p.pop_back();
    for (;;) {
        out.push_back(p);
        if (p.empty()) break;
        const auto slash = p.rfind('/');
        p = slash == std::string::npos ? std::string() : p.substr(0, slash);
    }
    return out;
}

std::string policy_name(int policy) {
    switch (policy) {
        case SCHED_OTHER: return "other";
        case SCHED_BATCH: return "batch";
        case SCHED_IDLE: return "idle";
        case SCHED_FIFO: return "fifo";
        case SCHED_RR: return "rr";
        default: return "unknown";
    }
}

void take_min(std::optional<double>& best, std::optional<double> q) {
    if (q && (!best || *q < *best)) best = q;
}

}  // namespace

std::optional<double> parse_cpu_max(std::string_view text) {
    text = trim(text);
    const auto sp = text.find(' ');
    if (sp == std::string_view::npos) return std::nullopt;
    const auto quota = text.substr(0, sp);
    if (quota == "max") return std::nullopt;
    const auto q = to_int(quota);
    const auto p = to_int(text.substr(sp + 1));
    if (!q || !p || *q <= 0 || *p <= 0) return std::nullopt;
    return static_cast<double>(*q) / static_cast<double>(*p);
}

std::optional<double> parse_cfs_quota(std::string_view quota, std::string_view period) {
    const auto q = to_int(quota);
    const auto p = to_int(period);
    if (!q || !p || *q <= 0 || *p <= 0) return std::nullopt;  // -1: no quota
    return static_cast<double>(*q) / static_cast<double>(*p);
}

std::optional<double> cgroup_cpu_quota(std::string_view proc_self_cgroup, const std::string& root) {
    std::optional<double> best;
    std::istringstream lines{std::string(proc_self_cgroup)};
    std::string line;
    while (std::getline(lines, line)) {
        // hierarchy-ID:controller-list:cgroup-path
        const auto c1 = line.find(':');
        const auto c2 = c1 == std::string::npos ? std::string::npos : line.find(':', c1 + 1);
        if (c2 == std::string::npos) continue;
        const std::string controllers = line.substr(c1 + 1, c2 - c1 - 1);
        const std::string path = line.substr(c2 + 1);
        if (line.compare(0, c1, "0") == 0 && controllers.empty()) {
            // cgroup v2. Inside a container with its own cgroup namespace the mount's root is the
            // container's cgroup, whatever path the file names: the root is looked at too.
            for (const auto& dir : ancestors(path))
                if (auto text = read_file(root + dir + "/cpu.max")) take_min(best, parse_cpu_max(*text));
            continue;
        }
        std::vector<std::string> names;
        std::istringstream cs(controllers);
        for (std::string c; std::getline(cs, c, ',');) names.push_back(c);
        if (std::find(names.begin(), names.end(), "cpu") == names.end()) continue;
        // cgroup v1: the cpu controller is mounted as cpu, cpu,cpuacct or cpuacct,cpu.
        for (const std::string& mount : {controllers, std::string("cpu"), std::string("cpu,cpuacct")}) {
            for (const auto& dir : ancestors(path)) {
                std::string base = root;
                base.append("/").append(mount).append(dir);
                auto quota = read_file(base + "/cpu.cfs_quota_us");
                auto period = read_file(base + "/cpu.cfs_period_us");
                if (quota && period) take_min(best, parse_cfs_quota(*quota, *period));
            }
        }
    }
    return best;
}

unsigned io_threads(unsigned configured, std::optional<double> quota, unsigned cores) {
    if (configured) return configured;
    cores = std::max(1u, cores);
    if (!quota) return cores;
    const double up = std::ceil(*quota - 1e-9);
    return std::clamp(static_cast<unsigned>(std::max(1.0, up)), 1u, cores);
}

std::string current_scheduling() { return policy_name(::sched_getscheduler(0)); }

Scheduling use_batch_scheduling() {
    Scheduling out;
    const int policy = ::sched_getscheduler(0);
    out.before = out.now = policy_name(policy);
    if (policy != SCHED_OTHER) return out;
    const sched_param param{};
    if (::sched_setscheduler(0, SCHED_BATCH, &param) != 0) {
        out.error = std::strerror(errno);
        return out;
    }
    out.now = policy_name(SCHED_BATCH);
    return out;
}

}  // namespace mgw::gateway
