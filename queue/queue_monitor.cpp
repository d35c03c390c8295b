// Sampling runs on a thread of its own with blocking hiredis calls bounded by the connect timeout:
// it is a few commands every few seconds, and a slow or dead Redis must never hold up the I/O
// threads that answer trackers.
#include "queue/queue_monitor.hpp"

#include "metrics/metrics.hpp"
#include "queue/queue_choice.hpp"
#include "queue/redis_cluster.hpp"
#include "queue/redis_sync.hpp"

#include <hiredis/hiredis.h>
#include <libdeflate.h>
#include <boost/json/parse.hpp>

#include <charconv>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace mgw::queue {

using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kMaxDecodedBytes = 64u << 20;  // a head set larger than this is not decoded

// One value of INFO's "name:value" lines.
std::string_view info_field(std::string_view info, std::string_view name) {
    std::size_t pos = 0;
    while (pos < info.size()) {
        std::size_t end = info.find('\n', pos);
        if (end == std::string_view::npos) end = info.size();
        std::string_view line = info.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.size() > name.size() && line.starts_with(name) && line[name.size()] == ':')
            return line.substr(name.size() + 1);
        pos = end + 1;
    }
    return {};
}

std::uint64_t to_u64(std::string_view s) {
    std::uint64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

double unix_now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

std::string lock_key(unsigned queue) { return "QueuedTrackingLock" + std::to_string(queue); }

}  // namespace

bool policy_can_evict(std::string_view policy) {
    return policy.starts_with("allkeys-") || policy.starts_with("volatile-");
}

std::optional<std::int64_t> request_set_time(std::string_view value) {
    std::string decoded;
    std::string_view json = value;
    if (value.empty()) return std::nullopt;
    if (value.front() != '{') {
        // zlib (RFC 1950) as gzcompress writes it; the output size is unknown, so grow until it fits.
        std::unique_ptr<libdeflate_decompressor, decltype(&libdeflate_free_decompressor)> d(
            libdeflate_alloc_decompressor(), &libdeflate_free_decompressor);
        if (!d) return std::nullopt;
        for (std::size_t size = std::max<std::size_t>(4096, value.size() * 8);; size *= 2) {
            decoded.resize(size);
            std::size_t n = 0;
            const auto r = libdeflate_zlib_decompress(d.get(), value.data(), value.size(), decoded.data(), size, &n);
            if (r == LIBDEFLATE_SUCCESS) {
                decoded.resize(n);
                break;
            }
            if (r != LIBDEFLATE_INSUFFICIENT_SPACE || size >= kMaxDecodedBytes) return std::nullopt;
        }
        json = decoded;
    }
    boost::system::error_code ec;
    const auto doc = boost::json::parse(json, ec);
    if (ec || !doc.is_object()) return std::nullopt;
    const auto* t = doc.as_object().if_contains("time");
    if (!t) return std::nullopt;
    if (t->is_int64()) return t->as_int64();
    if (t->is_uint64()) return static_cast<std::int64_t>(t->as_uint64());
    if (t->is_double()) return static_cast<std::int64_t>(t->as_double());
    if (t->is_string()) {  // PHP may have written it as a numeric string
        std::int64_t v = 0;
        const auto& s = t->as_string();
        auto [p, e] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (e == std::errc() && p == s.data() + s.size()) return v;
    }
    return std::nullopt;
}

struct QueueMonitor::Impl {
    Impl(RedisOptions r, unsigned q, MonitorOptions o, MemoryGuard* g, metrics::Metrics* m, WriterLog l)
        : redis(std::move(r)), queues(q), opts(o), guard(g), metrics(m), log(std::move(l)) {}

    RedisOptions redis;
    unsigned queues;
    MonitorOptions opts;
    MemoryGuard* guard;
    metrics::Metrics* metrics;
    WriterLog log;

    std::thread thread;
    std::mutex mu;  // guards stopping and head_time
    std::condition_variable cv;
    bool stopping = false;
    std::vector<double> head_time;  // UNIX seconds of each queue's head set; 0: empty or unknown

    // Sampling-thread state.
    std::map<std::string, std::unique_ptr<SyncRedis>> conns;  // by node ("" for the unix socket)
    std::vector<std::string> slot_owner;                      // Cluster only
    std::string master;                                       // Sentinel: the master we sample
    bool first_sample_done = false;
    bool failing = false;
    std::string policy_logged;

    void fail(const std::string& what) {
        if (metrics) metrics->queue_sampled(false, 0);
        if (!failing && log) log("warn", "queue_sample_failed", what);
        failing = true;
    }

    // Node for a key: "" / host:port for a single node, the slot's master for Cluster.
    std::string node_for(const std::string& key) const {
        if (redis.cluster) return slot_owner[key_slot(key)];
        if (redis.sentinel) return master;
        return redis.unix_socket ? std::string() : redis.host + ":" + std::to_string(redis.port);
    }

    SyncRedis* connection(const std::string& node, std::string& error) {
        auto it = conns.find(node);
        if (it != conns.end()) return it->second.get();
        auto [host, port] = node.empty() ? std::pair<std::string, std::uint16_t>{} : split_host_port(node);
        auto c = SyncRedis::connect(redis, host, port, !redis.cluster, error);
        if (!c) return nullptr;
        return conns.emplace(node, std::move(c)).first->second.get();
    }

    bool locate(std::string& error) {
        if (redis.sentinel) {
            auto m = sentinel_master(redis, error);
            if (!m) return false;
            std::string node = m->first + ":" + std::to_string(m->second);
            if (node != master) conns.clear();  // a failover: never sample the demoted master
            master = std::move(node);
        }
        if (redis.cluster && slot_owner.empty()) {
            slot_owner = cluster_slot_owners(redis, error);
            if (slot_owner.empty()) return false;
        }
        return true;
    }

    void sample() {
        const auto t0 = Clock::now();
        std::string error;
        if (!locate(error)) return fail(error);
        // Per node: INFO memory first, then LLEN + LINDEX of its queues and EXISTS of its locks.
        struct Slot {
            enum Kind { len, head, lock } kind;
            unsigned queue;
        };
        struct Batch {
            std::vector<std::vector<std::string>> commands;
            std::vector<Slot> slots;  // for commands[1..]
        };
        std::map<std::string, Batch> batches;
        for (unsigned q = 0; q < queues; ++q) {
            const std::string key = queue_key(q);
            const std::string lock = lock_key(q);
            const std::string node = node_for(key);
            const std::string lock_node = node_for(lock);
            if (redis.cluster && (node.empty() || lock_node.empty())) {
                slot_owner.clear();
                return fail("a queue's slot has no master");
            }
            for (const auto& n : {node, lock_node})
                if (!batches.count(n)) batches[n].commands.push_back({"INFO", "memory"});
            batches[node].commands.push_back({"LLEN", key});
            batches[node].slots.push_back({Slot::len, q});
            batches[node].commands.push_back({"LINDEX", key, "0"});
            batches[node].slots.push_back({Slot::head, q});
            batches[lock_node].commands.push_back({"EXISTS", lock});
            batches[lock_node].slots.push_back({Slot::lock, q});
        }
        const std::uint64_t mark = guard ? guard->mark() : 0;
        std::vector<double> length(queues, 0), head(queues, 0);
        std::vector<bool> locked(queues, false);
        std::uint64_t used = 0, max = 0;
        std::string policy;
        double worst = -1;
        for (auto& [node, batch] : batches) {
            SyncRedis* c = connection(node, error);
            std::vector<ReplyPtr> replies;
            if (!c || !c->pipeline(batch.commands, replies, error)) {
                conns.erase(node);
                slot_owner.clear();
                return fail((node.empty() ? redis.path : node) + ": " + error);
            }
            for (const auto& r : replies) {
                if (r->type == REDIS_REPLY_ERROR) {
                    // MOVED/ASK after a resharding, or a refusal: re-read the slot map next time.
                    slot_owner.clear();
                    return fail((node.empty() ? redis.path : node) + ": " + std::string(r->str, r->len));
                }
            }
            const std::string_view info(replies[0]->str ? replies[0]->str : "", replies[0]->len);
            const std::uint64_t u = to_u64(info_field(info, "used_memory"));
            const std::uint64_t m = to_u64(info_field(info, "maxmemory"));
            // The fullest node decides (by fraction of its maxmemory; by bytes when none has a limit).
            const double ratio = m ? static_cast<double>(u) / static_cast<double>(m) : 0;
            if (ratio > worst || (ratio == worst && u > used)) {
                worst = ratio;
                used = u;
                max = m;
                policy = std::string(info_field(info, "maxmemory_policy"));
            }
            for (std::size_t i = 0; i < batch.slots.size(); ++i) {
                const redisReply* r = replies[i + 1].get();
                const Slot s = batch.slots[i];
                if (s.kind == Slot::len && r->type == REDIS_REPLY_INTEGER)
                    length[s.queue] = static_cast<double>(r->integer);
                if (s.kind == Slot::lock && r->type == REDIS_REPLY_INTEGER) locked[s.queue] = r->integer > 0;
                if (s.kind == Slot::head && r->type == REDIS_REPLY_STRING) {
                    if (auto t = request_set_time(std::string_view(r->str, r->len)))
                        head[s.queue] = static_cast<double>(*t);
                }
            }
        }
        if (guard) guard->sampled(used, max, mark);
        const double now = unix_now();
        {
            std::lock_guard lock(mu);
            head_time = head;
        }
        if (metrics) {
            for (unsigned q = 0; q < queues; ++q)
                metrics->queue_sample(q, length[q], head[q] > 0 ? std::max(0.0, now - head[q]) : 0, locked[q]);
            metrics->redis_memory(static_cast<double>(used), static_cast<double>(max), policy,
                                  policy_can_evict(policy));
            metrics->queue_sampled(true, std::chrono::duration<double>(Clock::now() - t0).count());
        }
        if (failing && log) log("info", "queue_sample_recovered", "");
        failing = false;
        report_policy(policy);
        if (!first_sample_done) report_unprocessed(length, head, locked, now);
        first_sample_done = true;
    }

    void report_policy(const std::string& policy) {
        if (policy == policy_logged || !log) return;
        policy_logged = policy;
        if (policy_can_evict(policy))
            log("warn", "redis_eviction_policy",
                "maxmemory-policy " + policy +
                    (policy.starts_with("allkeys-") ? " can evict the queue lists (hits lost)"
                                                    : " can evict the workers' QueuedTrackingLock keys (two workers on "
                                                      "one queue)") +
                    "; set noeviction");
    }

    // The other direction of the queue-count check: configured queues whose head set has waited
    // longer than --queue-stale-after-s while no worker holds their lock. Seen from the data only
    // (QueuedTracking workers leave no other trace in Redis while idle).
    void report_unprocessed(const std::vector<double>& length, const std::vector<double>& head,
                            const std::vector<bool>& locked, double now) {
        if (!log || opts.stale_after.count() == 0) return;
        std::string detail;
        unsigned count = 0;
        for (unsigned q = 0; q < queues; ++q) {
            if (head[q] <= 0 || locked[q] || now - head[q] < static_cast<double>(opts.stale_after.count())) continue;
            if (++count > 20) continue;
            if (!detail.empty()) detail += ", ";
            detail += queue_key(q) + " (" + std::to_string(static_cast<long long>(length[q])) + " sets, oldest " +
                      std::to_string(static_cast<long long>(now - head[q])) + " s)";
        }
        if (count)
            log("warn", "queue_unprocessed",
                std::to_string(count) + " queue(s) with sets older than " + std::to_string(opts.stale_after.count()) +
                    " s and no worker lock: " + detail + "; is a queuedtracking:process worker running for each?");
    }

    void run() {
        std::unique_lock lock(mu);
        while (!stopping) {
            const auto next = Clock::now() + opts.interval;
            lock.unlock();
            sample();
            lock.lock();
            cv.wait_until(lock, next, [&] { return stopping; });
        }
    }
};

QueueMonitor::QueueMonitor(RedisOptions redis, unsigned queues, MonitorOptions opts, MemoryGuard* guard,
                           metrics::Metrics* metrics, WriterLog log)
    : impl_(std::make_unique<Impl>(std::move(redis), queues, opts, guard, metrics, std::move(log))) {
    if (!metrics) return;
    metrics->init_queue_view(queues);
    // Ages are computed when scraped, so they keep growing between samples.
    metrics->on_scrape([impl = impl_.get(), metrics] {
        std::lock_guard lock(impl->mu);
        const double now = unix_now();
        for (unsigned q = 0; q < impl->head_time.size(); ++q)
            metrics->queue_oldest_age(q, impl->head_time[q] > 0 ? std::max(0.0, now - impl->head_time[q]) : 0);
    });
}

QueueMonitor::~QueueMonitor() { stop(); }

void QueueMonitor::start() {
    if (impl_->opts.interval.count() == 0 || impl_->thread.joinable()) return;
    impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

void QueueMonitor::stop() {
    {
        std::lock_guard lock(impl_->mu);
        impl_->stopping = true;
    }
    impl_->cv.notify_all();
    if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace mgw::queue
