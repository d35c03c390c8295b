// Metric declarations and the process_* collector (read from /proc at scrape time, as the
// Prometheus client libraries of other languages do; prometheus-cpp's core has none).
#include "metrics/metrics.hpp"

#include <prometheus/text_serializer.h>

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace mgw::metrics {
namespace {

const prometheus::Histogram::BucketBoundaries kLatencyBuckets{
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
const prometheus::Histogram::BucketBoundaries kBatchBuckets{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
constexpr unsigned kCommonStatuses[] = {200, 204, 304, 400, 404, 405, 408, 413, 431, 500, 502, 503, 504};

}  // namespace

std::string_view to_string(Endpoint e) {
    switch (e) {
        case Endpoint::tracking: return "tracking";
        case Endpoint::js: return "js";
        case Endpoint::preflight: return "preflight";
        case Endpoint::admin: return "admin";
        case Endpoint::edge: return "edge";
        default: return "other";
    }
}

std::string_view to_string(EdgeKind k) {
    static constexpr std::string_view names[] = {"tracker", "container", "preview", "configs", "optout"};
    return names[static_cast<std::size_t>(k)];
}

std::string_view to_string(EdgeOutcome o) {
    static constexpr std::string_view names[] = {"hit", "miss", "revalidated", "coalesced", "stale", "bypass", "error"};
    return names[static_cast<std::size_t>(o)];
}

std::string_view to_string(WriteOutcome o) {
    switch (o) {
        case WriteOutcome::ok: return "ok";
        case WriteOutcome::error_reply: return "error_reply";
        case WriteOutcome::unavailable: return "unavailable";
        default: return "overloaded";
    }
}

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
    using namespace prometheus;
    auto& reg = *registry_;
    requests_family_ = &BuildCounter()
                            .Name("matomo_gateway_http_requests_total")
                            .Help("HTTP requests answered, by endpoint and status code")
                            .Register(reg);
    auto& dur = BuildHistogram()
                    .Name("matomo_gateway_http_request_duration_seconds")
                    .Help("Time from a complete request to its response, by endpoint")
                    .Register(reg);
    for (std::size_t i = 0; i < requests_.size(); ++i) {
        std::string ep(to_string(static_cast<Endpoint>(i)));
        for (unsigned s : kCommonStatuses)
            requests_[i][s] = std::make_unique<ShardedAdd<Counter>>(
                requests_family_->Add({{"endpoint", ep}, {"status", std::to_string(s)}}));
        durations_[i] =
            std::make_unique<ShardedHistogram>(dur.Add({{"endpoint", ep}}, kLatencyBuckets), kLatencyBuckets);
    }
    auto& hits = BuildCounter()
                     .Name("matomo_gateway_hits_total")
                     .Help(
                         "Tracking hits by outcome: queued (acknowledged: in Redis, or in the spool with --ack=spool) "
                         "or failed (answered 5xx)")
                     .Register(reg);
    hits_queued_ = std::make_unique<ShardedAdd<Counter>>(hits.Add({{"outcome", "queued"}}));
    hits_failed_ = &hits.Add({{"outcome", "failed"}});
    rejected_family_ = &BuildCounter()
                            .Name("matomo_gateway_hits_rejected_total")
                            .Help("Requests or hits refused at the edge, by reason")
                            .Register(reg);
    auto& writes = BuildCounter()
                       .Name("matomo_gateway_redis_writes_total")
                       .Help("RPUSH of one request set, by outcome")
                       .Register(reg);
    for (std::size_t i = 0; i < writes_.size(); ++i)
        writes_[i] = std::make_unique<ShardedAdd<Counter>>(
            writes.Add({{"outcome", std::string(to_string(static_cast<WriteOutcome>(i)))}}));
    redis_latency_ =
        std::make_unique<ShardedHistogram>(BuildHistogram()
                                               .Name("matomo_gateway_redis_write_duration_seconds")
                                               .Help("Time from handing a request set to the writer to its RPUSH reply")
                                               .Register(reg)
                                               .Add({}, kLatencyBuckets),
                                           kLatencyBuckets);
    redis_batch_ = std::make_unique<ShardedHistogram>(BuildHistogram()
                                                          .Name("matomo_gateway_redis_batch_commands")
                                                          .Help("Commands sent to Redis in one pipelined write")
                                                          .Register(reg)
                                                          .Add({}, kBatchBuckets),
                                                      kBatchBuckets);
    redis_up_ = &BuildGauge()
                     .Name("matomo_gateway_redis_up")
                     .Help("Redis connections ready (--redis-connections when all are up)")
                     .Register(reg)
                     .Add({});
    redis_reconnects_ = &BuildCounter()
                             .Name("matomo_gateway_redis_reconnects_total")
                             .Help("Redis connections lost or refused")
                             .Register(reg)
                             .Add({});
    auto& redirects = BuildCounter()
                          .Name("matomo_gateway_redis_cluster_redirects_total")
                          .Help(
                              "Redis Cluster redirections followed, by kind (moved: the slot has a new owner; ask: it "
                              "is being migrated)")
                          .Register(reg);
    redis_moved_ = &redirects.Add({{"kind", "moved"}});
    redis_ask_ = &redirects.Add({{"kind", "ask"}});
    redis_pending_ =
        std::make_unique<ShardedAdd<Gauge>>(BuildGauge()
                                                .Name("matomo_gateway_redis_pending_bytes")
                                                .Help("Bytes of request sets waiting for their RPUSH reply")
                                                .Register(reg)
                                                .Add({}));
    auto& acked = BuildCounter()
                      .Name("matomo_gateway_sets_acknowledged_total")
                      .Help("Request sets answered 200/204, by where they were at that moment (redis, spool, memory)")
                      .Register(reg);
    for (std::size_t i = 0; i < acked_.size(); ++i) {
        static constexpr const char* via[] = {"redis", "spool", "memory"};
        acked_[i] = std::make_unique<ShardedAdd<Counter>>(acked.Add({{"via", via[i]}}));
    }
    auto& appends = BuildCounter()
                        .Name("matomo_gateway_spool_appends_total")
                        .Help("Request sets written to the spool, by outcome (ok, full, error, memory_full, too_large)")
                        .Register(reg);
    for (std::size_t i = 0; i < spool_appends_.size(); ++i) {
        static constexpr const char* outcome[] = {"ok", "full", "error", "memory_full", "too_large"};
        spool_appends_[i] = &appends.Add({{"outcome", outcome[i]}});
    }
    spool_bytes_ =
        &BuildGauge().Name("matomo_gateway_spool_bytes").Help("Disk used by spool segments").Register(reg).Add({});
    spool_records_ = &BuildGauge()
                          .Name("matomo_gateway_spool_records")
                          .Help("Request sets in the spool waiting for replay")
                          .Register(reg)
                          .Add({});
    spool_segments_ =
        &BuildGauge().Name("matomo_gateway_spool_segments").Help("Spool segment files").Register(reg).Add({});
    spool_max_bytes_ = &BuildGauge()
                            .Name("matomo_gateway_spool_max_bytes")
                            .Help("Configured spool limit (--spool-max-bytes)")
                            .Register(reg)
                            .Add({});
    spool_oldest_age_ = &BuildGauge()
                             .Name("matomo_gateway_spool_oldest_age_seconds")
                             .Help("Age of the oldest request set waiting in the spool (0 when empty)")
                             .Register(reg)
                             .Add({});
    spool_fsync_ = &BuildHistogram()
                        .Name("matomo_gateway_spool_fsync_duration_seconds")
                        .Help("One group commit: write and fdatasync of the sets gathered in the sync interval")
                        .Register(reg)
                        .Add({}, kLatencyBuckets);
    spool_replayed_ = &BuildCounter()
                           .Name("matomo_gateway_spool_replayed_total")
                           .Help("Request sets moved from the spool into Redis")
                           .Register(reg)
                           .Add({});
    spool_replay_failures_ = &BuildCounter()
                                  .Name("matomo_gateway_spool_replay_failures_total")
                                  .Help("Replay windows Redis did not take whole (retried after a pause)")
                                  .Register(reg)
                                  .Add({});
    spool_corrupt_regions_ = &BuildCounter()
                                  .Name("matomo_gateway_spool_corrupt_records_total")
                                  .Help("Damaged or torn spool records skipped (each damaged stretch counts once)")
                                  .Register(reg)
                                  .Add({});
    spool_corrupt_bytes_ = &BuildCounter()
                                .Name("matomo_gateway_spool_corrupt_bytes_total")
                                .Help("Bytes of damaged or torn spool records skipped")
                                .Register(reg)
                                .Add({});
    spool_duplicates_ =
        &BuildCounter()
             .Name("matomo_gateway_spool_possible_duplicates_total")
             .Help("Request sets that may reach Redis twice: spooled or replayed again after Redis lost the reply")
             .Register(reg)
             .Add({});
    spool_recovered_ = &BuildCounter()
                            .Name("matomo_gateway_spool_recovered_total")
                            .Help("Request sets found in the spool at start-up")
                            .Register(reg)
                            .Add({});
    acked_lost_ = &BuildCounter()
                       .Name("matomo_gateway_acknowledged_lost_total")
                       .Help("Sets acknowledged with --ack=memory that neither Redis nor the spool took")
                       .Register(reg)
                       .Add({});
    conns_active_ =
        &BuildGauge().Name("matomo_gateway_connections").Help("Open client connections").Register(reg).Add({});
    conns_total_ = &BuildCounter()
                        .Name("matomo_gateway_connections_accepted_total")
                        .Help("Client connections accepted")
                        .Register(reg)
                        .Add({});
    conns_refused_ = &BuildCounter()
                          .Name("matomo_gateway_connections_refused_total")
                          .Help("Client connections closed at accept because of the connection limit")
                          .Register(reg)
                          .Add({});
    write_timeouts_ = &BuildCounter()
                           .Name("matomo_gateway_write_timeouts_total")
                           .Help("Client connections dropped because an answer was not taken within the write deadline")
                           .Register(reg)
                           .Add({});
    inflight_ = std::make_unique<ShardedAdd<Gauge>>(BuildGauge()
                                                        .Name("matomo_gateway_inflight_hits")
                                                        .Help("Hits received and not yet answered")
                                                        .Register(reg)
                                                        .Add({}));
    auto& geo = BuildCounter()
                    .Name("matomo_gateway_geo_lookups_total")
                    .Help("Geolocation lookups of client IPs, by outcome")
                    .Register(reg);
    geo_found_ = &geo.Add({{"outcome", "found"}});
    geo_not_found_ = &geo.Add({{"outcome", "not_found"}});
    auto& reloads = BuildCounter()
                        .Name("matomo_gateway_geo_reloads_total")
                        .Help("Geo database reloads (SIGHUP or file change), by outcome")
                        .Register(reg);
    geo_reloaded_ = &reloads.Add({{"outcome", "reloaded"}});
    geo_reload_failed_ = &reloads.Add({{"outcome", "failed"}});
    params_removed_ = &BuildCounter()
                           .Name("matomo_gateway_privileged_params_removed_total")
                           .Help("Client-sent privileged parameters removed from hits the gateway's token authorises")
                           .Register(reg)
                           .Add({});
    queue_length_family_ = &BuildGauge()
                                .Name("matomo_gateway_queue_length")
                                .Help("Request sets in each QueuedTracking queue (LLEN), at the last sample")
                                .Register(reg);
    queue_age_family_ = &BuildGauge()
                             .Name("matomo_gateway_queue_oldest_age_seconds")
                             .Help("Age of the set at the head of each queue (from its time field; 0 when empty)")
                             .Register(reg);
    queue_lock_family_ =
        &BuildGauge()
             .Name("matomo_gateway_queue_worker_lock")
             .Help("1 when a QueuedTracking worker held the queue's lock (QueuedTrackingLock<N>) at the sample")
             .Register(reg);
    queue_pushed_family_ =
        &BuildCounter()
             .Name("matomo_gateway_queue_sets_pushed_total")
             .Help("Request sets this gateway stored in each queue (RPUSH answered), replays included")
             .Register(reg);
    auto& samples = BuildCounter()
                        .Name("matomo_gateway_queue_samples_total")
                        .Help("Samples of the queue lengths and Redis memory, by outcome (ok, failed)")
                        .Register(reg);
    queue_samples_ok_ = &samples.Add({{"outcome", "ok"}});
    queue_samples_failed_ = &samples.Add({{"outcome", "failed"}});
    queue_sample_duration_ = &BuildHistogram()
                                  .Name("matomo_gateway_queue_sample_duration_seconds")
                                  .Help("One sample: the pipelined LLEN, LINDEX, EXISTS and INFO round trip")
                                  .Register(reg)
                                  .Add({}, kLatencyBuckets);
    redis_used_memory_ = &BuildGauge()
                              .Name("matomo_gateway_redis_used_memory_bytes")
                              .Help("Redis used_memory at the last sample (Cluster: the fullest master)")
                              .Register(reg)
                              .Add({});
    redis_maxmemory_ = &BuildGauge()
                            .Name("matomo_gateway_redis_maxmemory_bytes")
                            .Help("Redis maxmemory at the last sample (0: no limit)")
                            .Register(reg)
                            .Add({});
    redis_policy_family_ = &BuildGauge()
                                .Name("matomo_gateway_redis_maxmemory_policy")
                                .Help("Redis maxmemory-policy at the last sample, as a label; the value is 1")
                                .Register(reg);
    redis_policy_can_evict_ =
        &BuildGauge()
             .Name("matomo_gateway_redis_eviction_policy_unsafe")
             .Help("1 when Redis's maxmemory-policy can evict queue lists (allkeys-*) or worker locks (volatile-*)")
             .Register(reg)
             .Add({});
    auto& water = BuildGauge()
                      .Name("matomo_gateway_redis_memory_water_ratio")
                      .Help("Memory guard levels as fractions of maxmemory (--redis-memory-high-water, -low-water)")
                      .Register(reg);
    guard_high_water_ = &water.Add({{"level", "high"}});
    guard_low_water_ = &water.Add({{"level", "low"}});
    guard_paused_ = &BuildGauge()
                         .Name("matomo_gateway_redis_memory_guard_paused")
                         .Help("1 while Redis memory is above the high-water mark and sets go to the spool instead")
                         .Register(reg)
                         .Add({});
    guard_pauses_ = &BuildCounter()
                         .Name("matomo_gateway_redis_memory_guard_pauses_total")
                         .Help("Times Redis memory crossed the high-water mark and writes to Redis were paused")
                         .Register(reg)
                         .Add({});
    auto& edge_requests = BuildCounter()
                              .Name("matomo_gateway_edge_requests_total")
                              .Help(
                                  "Public-edge requests (tracker, Tag Manager containers, configs.php, opt-out) by "
                                  "kind and where the answer came from")
                              .Register(reg);
    auto& edge_origin = BuildCounter()
                            .Name("matomo_gateway_edge_origin_requests_total")
                            .Help("Requests the public edge sent to the Matomo origin (or local files), by kind")
                            .Register(reg);
    auto& edge_errors = BuildCounter()
                            .Name("matomo_gateway_edge_origin_errors_total")
                            .Help(
                                "Origin requests that failed (refused, timed out, too large, malformed, 5xx), by "
                                "kind")
                            .Register(reg);
    for (std::size_t k = 0; k < edge_kinds_; ++k) {
        const std::string kind(to_string(static_cast<EdgeKind>(k)));
        for (std::size_t o = 0; o < edge_requests_[k].size(); ++o)
            edge_requests_[k][o] =
                &edge_requests.Add({{"kind", kind}, {"outcome", std::string(to_string(static_cast<EdgeOutcome>(o)))}});
        edge_origin_requests_[k] = &edge_origin.Add({{"kind", kind}});
        edge_origin_errors_[k] = &edge_errors.Add({{"kind", kind}});
    }
    edge_cache_bytes_ = &BuildGauge()
                             .Name("matomo_gateway_edge_cache_bytes")
                             .Help("Bytes held by the public edge's cache (bodies and their gzip variants)")
                             .Register(reg)
                             .Add({});
    edge_cache_objects_ = &BuildGauge()
                               .Name("matomo_gateway_edge_cache_objects")
                               .Help("Objects held by the public edge's cache")
                               .Register(reg)
                               .Add({});
    edge_evictions_ = &BuildCounter()
                           .Name("matomo_gateway_edge_cache_evictions_total")
                           .Help("Objects dropped from the public edge's cache to stay within --edge-cache-bytes")
                           .Register(reg)
                           .Add({});
    ready_ = &BuildGauge().Name("matomo_gateway_ready").Help("1 when /readyz answers 200").Register(reg).Add({});
    draining_ = &BuildGauge().Name("matomo_gateway_draining").Help("1 while shutting down").Register(reg).Add({});
    BuildGauge()
        .Name("matomo_gateway_build_info")
        .Help("Build information; the value is always 1")
        .Register(reg)
        .Add({{"version", MGW_VERSION}})
        .Set(1);
    cpu_seconds_ = &BuildCounter()
                        .Name("process_cpu_seconds_total")
                        .Help("Total user and system CPU time spent in seconds")
                        .Register(reg)
                        .Add({});
    rss_bytes_ =
        &BuildGauge().Name("process_resident_memory_bytes").Help("Resident memory size in bytes").Register(reg).Add({});
    vsize_bytes_ =
        &BuildGauge().Name("process_virtual_memory_bytes").Help("Virtual memory size in bytes").Register(reg).Add({});
    open_fds_ = &BuildGauge().Name("process_open_fds").Help("Number of open file descriptors").Register(reg).Add({});
    max_fds_ =
        &BuildGauge().Name("process_max_fds").Help("Maximum number of open file descriptors").Register(reg).Add({});
    start_time_ = &BuildGauge()
                       .Name("process_start_time_seconds")
                       .Help("Start time of the process since unix epoch in seconds")
                       .Register(reg)
                       .Add({});
    exceptions_family_ = &BuildCounter()
                              .Name("matomo_gateway_handler_exceptions_total")
                              .Help(
                                  "Exceptions that escaped a connection's handler: that connection ended, the "
                                  "process kept serving; by exception type")
                              .Register(reg);
    auto& accept_errors =
        BuildCounter()
            .Name("matomo_gateway_accept_errors_total")
            .Help(
                "Accepts that failed or were put off; fd_limit: the open file limit (EMFILE/ENFILE, or "
                "the reserve kept below it), the accept loop backs off until descriptors are free")
            .Register(reg);
    accept_fd_limit_ = &accept_errors.Add({{"reason", "fd_limit"}});
    accept_other_ = &accept_errors.Add({{"reason", "other"}});
    spool_pending_ = &BuildGauge()
                          .Name("matomo_gateway_spool_pending_bytes")
                          .Help("Spooled sets in memory waiting for the disk (at most --spool-max-pending-bytes)")
                          .Register(reg)
                          .Add({});
    spool_io_in_progress_ = &BuildGauge()
                                 .Name("matomo_gateway_spool_write_in_progress_seconds")
                                 .Help(
                                     "How long the spool's write and fdatasync in progress has been running (0 "
                                     "when none is): a stalled disk shows here while it stalls")
                                 .Register(reg)
                                 .Add({});
    refresh_process_metrics();
}

void Metrics::handler_exception(std::string_view reason) {
    std::lock_guard lock(dynamic_mu_);
    exceptions_family_->Add({{"reason", std::string(reason)}}).Increment();
}

void Metrics::request(Endpoint e, unsigned status, double seconds) {
    auto idx = static_cast<std::size_t>(e);
    durations_[idx]->observe(seconds);
    auto it = requests_[idx].find(status);
    if (it != requests_[idx].end()) {
        it->second->add(1);
        return;
    }
    std::lock_guard lock(dynamic_mu_);
    requests_family_->Add({{"endpoint", std::string(to_string(e))}, {"status", std::to_string(status)}}).Increment();
}

void Metrics::hit_rejected(std::string_view reason, std::size_t n) {
    std::lock_guard lock(dynamic_mu_);
    auto it = rejected_.find(reason);
    if (it == rejected_.end())
        it = rejected_.emplace(std::string(reason), &rejected_family_->Add({{"reason", std::string(reason)}})).first;
    it->second->Increment(static_cast<double>(n));
}

void Metrics::redis_write(WriteOutcome o, double seconds) {
    writes_[static_cast<std::size_t>(o)]->add(1);
    if (o == WriteOutcome::ok) redis_latency_->observe(seconds);
}

void Metrics::init_queue_view(unsigned queues) {
    if (!queue_length_.empty()) return;
    for (unsigned q = 0; q < queues; ++q) {
        const std::string label = std::to_string(q);
        queue_length_.push_back(&queue_length_family_->Add({{"queue", label}}));
        queue_oldest_age_.push_back(&queue_age_family_->Add({{"queue", label}}));
        queue_worker_lock_.push_back(&queue_lock_family_->Add({{"queue", label}}));
        queue_pushed_.push_back(&queue_pushed_family_->Add({{"queue", label}}));
    }
}

void Metrics::queue_sample(unsigned queue, double length, double oldest_age_seconds, bool worker_lock) {
    if (queue >= queue_length_.size()) return;
    queue_length_[queue]->Set(length);
    queue_oldest_age_[queue]->Set(oldest_age_seconds);
    queue_worker_lock_[queue]->Set(worker_lock ? 1 : 0);
}

void Metrics::queue_oldest_age(unsigned queue, double seconds) {
    if (queue < queue_oldest_age_.size()) queue_oldest_age_[queue]->Set(seconds);
}

void Metrics::queue_sampled(bool ok, double seconds) {
    (ok ? queue_samples_ok_ : queue_samples_failed_)->Increment();
    if (ok) queue_sample_duration_->Observe(seconds);
}

void Metrics::redis_memory(double used, double max, const std::string& policy, bool can_evict) {
    redis_used_memory_->Set(used);
    redis_maxmemory_->Set(max);
    redis_policy_can_evict_->Set(can_evict ? 1 : 0);
    std::lock_guard lock(dynamic_mu_);
    if (policy == redis_policy_name_ && redis_policy_) return;
    if (redis_policy_) redis_policy_family_->Remove(redis_policy_);
    redis_policy_ = &redis_policy_family_->Add({{"policy", policy}});
    redis_policy_->Set(1);
    redis_policy_name_ = policy;
}

void Metrics::memory_guard_levels(double high, double low) {
    guard_high_water_->Set(high);
    guard_low_water_->Set(low);
}

void Metrics::memory_guard_paused(bool paused) {
    guard_paused_->Set(paused ? 1 : 0);
    if (paused) guard_pauses_->Increment();
}

void Metrics::refresh_process_metrics() {
    std::ifstream stat("/proc/self/stat");
    std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    auto close = content.rfind(')');
    if (close != std::string::npos) {
        std::istringstream in(content.substr(close + 2));
        std::string field;
        std::vector<std::string> f;
        while (in >> field) f.push_back(field);
        // Fields after the command name start at field 3 (state); utime is 14, stime 15,
        // starttime 22, vsize 23, rss 24 in proc(5) numbering.
        auto at = [&](int n) { return std::stod(f.at(static_cast<std::size_t>(n - 3))); };
        const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
        const double cpu = (at(14) + at(15)) / tick;
        if (cpu > cpu_seconds_->Value()) cpu_seconds_->Increment(cpu - cpu_seconds_->Value());
        vsize_bytes_->Set(at(23));
        rss_bytes_->Set(at(24) * static_cast<double>(sysconf(_SC_PAGESIZE)));
        std::ifstream up("/proc/stat");
        std::string key;
        double btime = 0;
        while (up >> key) {
            if (key == "btime") {
                up >> btime;
                break;
            }
        }
        start_time_->Set(btime + at(22) / tick);
    }
    double fds = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
        while (auto* e = readdir(d)) fds += e->d_name[0] != '.' ? 1 : 0;
        closedir(d);
        fds -= 1;  // the directory stream itself
    }
    open_fds_->Set(fds);
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) max_fds_->Set(static_cast<double>(rl.rlim_cur));
}

std::string Metrics::serialize() {
    refresh_process_metrics();
    {
        std::lock_guard lock(dynamic_mu_);
        for (auto& hook : scrape_hooks_) hook();
    }
    for (auto& d : durations_) d->flush();
    for (auto& by_status : requests_)
        for (auto& [status, counter] : by_status) counter->flush();
    hits_queued_->flush();
    for (auto& w : writes_) w->flush();
    redis_pending_->flush();
    for (auto& a : acked_) a->flush();
    inflight_->flush();
    redis_latency_->flush();
    redis_batch_->flush();
    return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace mgw::metrics
