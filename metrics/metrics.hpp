// Every metric of the gateway, declared once: prometheus-cpp core registry,
// matomo_gateway_* names in base units, served as text format 0.0.4 by the admin listener.
// Hot-path counters are resolved at start-up so recording a hit never looks up a label set.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "metrics/sharded.hpp"

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace mgw::metrics {

enum class Endpoint { tracking, js, preflight, admin, edge, other, count_ };
std::string_view to_string(Endpoint e);

// Outcomes of a Redis write (one RPUSH of one request set).
enum class WriteOutcome { ok, error_reply, unavailable, overloaded, count_ };
std::string_view to_string(WriteOutcome o);

// Where an acknowledged request set was when its client got 200/204.
enum class AckedVia { redis, spool, memory, count_ };
// full: --spool-max-bytes; memory_full: --spool-max-pending-bytes (the disk is not keeping up);
// too_large: a set the spool's record format cannot hold.
enum class SpoolAppend { ok, full, error, memory_full, too_large, count_ };

// The public edge (edge/): the kind of object a browser asked for, and where its answer came from.
//   hit: fresh in the cache; miss: fetched from the origin (cold or expired, a new version);
//   revalidated: expired, the origin answered 304; coalesced: joined a fetch already under way;
//   stale: the origin failed, the cached copy was served; bypass: never cached (Tag Manager
//   previews); error: the origin failed and nothing was cached (502/504).
enum class EdgeKind { tracker, container, preview, configs, optout, count_ };
enum class EdgeOutcome { hit, miss, revalidated, coalesced, stale, bypass, error, count_ };
std::string_view to_string(EdgeKind k);
std::string_view to_string(EdgeOutcome o);

class Metrics {
public:
    Metrics();
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

    // One finished HTTP request.
    void request(Endpoint e, unsigned status, double seconds);
    // Hits queued (acknowledged) or rejected with a bounded reason label.
    void hits_queued(std::size_t n) { hits_queued_->add(static_cast<double>(n)); }
    void hit_rejected(std::string_view reason, std::size_t n = 1);
    void hits_failed(std::size_t n) { hits_failed_->Increment(static_cast<double>(n)); }

    void redis_write(WriteOutcome o, double seconds);
    void redis_batch(std::size_t commands) { redis_batch_->observe(static_cast<double>(commands)); }
    // Counted per connection (a pool has several): +1 when one becomes ready, -1 when it stops being.
    void redis_connected(bool up) { redis_up_->Increment(up ? 1 : -1); }
    void redis_reconnect() { redis_reconnects_->Increment(); }
    void redis_redirect(bool moved) { (moved ? redis_moved_ : redis_ask_)->Increment(); }
    void redis_pending_add(double delta) { redis_pending_->add(delta); }

    // The durable queue (spool/).
    void set_acknowledged(AckedVia v) { acked_[static_cast<std::size_t>(v)]->add(1); }
    void spool_state(double bytes, double records, double segments) {
        spool_bytes_->Set(bytes);
        spool_records_->Set(records);
        spool_segments_->Set(segments);
    }
    void spool_max_bytes(double b) { spool_max_bytes_->Set(b); }
    void spool_oldest_age(double seconds) { spool_oldest_age_->Set(seconds); }
    void spool_append(SpoolAppend o) { spool_appends_[static_cast<std::size_t>(o)]->Increment(); }
    void spool_fsync(double seconds) { spool_fsync_->Observe(seconds); }
    void spool_replayed(std::size_t n) { spool_replayed_->Increment(static_cast<double>(n)); }
    void spool_replay_failed() { spool_replay_failures_->Increment(); }
    void spool_corrupt(std::size_t regions, std::size_t bytes) {
        spool_corrupt_regions_->Increment(static_cast<double>(regions));
        spool_corrupt_bytes_->Increment(static_cast<double>(bytes));
    }
    void spool_possible_duplicates(std::size_t n) { spool_duplicates_->Increment(static_cast<double>(n)); }
    void spool_recovered(std::size_t records, std::size_t corrupt_regions, std::size_t corrupt_bytes,
                         std::size_t possible_duplicates) {
        spool_recovered_->Increment(static_cast<double>(records));
        spool_corrupt(corrupt_regions, corrupt_bytes);
        spool_possible_duplicates(possible_duplicates);
    }
    void acknowledged_lost(std::size_t n) { acked_lost_->Increment(static_cast<double>(n)); }
    // Run before every exposition (gauges computed from time, such as the oldest spooled set's age).
    void on_scrape(std::function<void()> hook) {
        std::lock_guard lock(dynamic_mu_);
        scrape_hooks_.push_back(std::move(hook));
    }

    void connection_opened() {
        conns_active_->Increment();
        conns_total_->Increment();
    }
    void connection_closed() { conns_active_->Decrement(); }
    void connection_refused() { conns_refused_->Increment(); }
    // An answer the client did not take within the write deadline: the connection is dropped.
    void write_timeout() { write_timeouts_->Increment(); }
    void inflight_hits(double delta) { inflight_->add(delta); }

    void geo_lookup(bool found) { (found ? geo_found_ : geo_not_found_)->Increment(); }
    void geo_reload(bool ok) { (ok ? geo_reloaded_ : geo_reload_failed_)->Increment(); }
    void privileged_params_removed(std::size_t n) { params_removed_->Increment(static_cast<double>(n)); }

    // The queues as Redis holds them (queue/queue_monitor.cpp), sampled on a timer, and the Redis
    // memory guard (queue/memory_guard.cpp). init_queue_view creates the per-queue series once.
    void init_queue_view(unsigned queues);
    void queue_sample(unsigned queue, double length, double oldest_age_seconds, bool worker_lock);
    void queue_oldest_age(unsigned queue, double seconds);
    void queue_pushed(unsigned queue) {
        if (queue < queue_pushed_.size()) queue_pushed_[queue]->Increment();
    }
    void queue_sampled(bool ok, double seconds);
    void redis_memory(double used, double max, const std::string& policy, bool can_evict);
    void memory_guard_levels(double high, double low);
    void memory_guard_paused(bool paused);
    void edge_request(EdgeKind k, EdgeOutcome o) {
        edge_requests_[static_cast<std::size_t>(k)][static_cast<std::size_t>(o)]->Increment();
    }
    void edge_origin_request(EdgeKind k) { edge_origin_requests_[static_cast<std::size_t>(k)]->Increment(); }
    void edge_origin_error(EdgeKind k) { edge_origin_errors_[static_cast<std::size_t>(k)]->Increment(); }
    void edge_cache_state(double bytes, double objects) {
        edge_cache_bytes_->Set(bytes);
        edge_cache_objects_->Set(objects);
    }
    void edge_evicted(std::size_t n) { edge_evictions_->Increment(static_cast<double>(n)); }

    void set_ready(bool r) { ready_->Set(r ? 1 : 0); }
    void set_draining(bool d) { draining_->Set(d ? 1 : 0); }

    // Never down (an exception, the descriptor limit, a stalled disk): what kept the process serving.
    // reason: the exception's type (length_error, bad_alloc, system_error, runtime_error, other).
    void handler_exception(std::string_view reason);
    // An accept that failed; reason fd_limit (EMFILE/ENFILE: the loop backs off) or other.
    void accept_error(bool fd_limit) { (fd_limit ? accept_fd_limit_ : accept_other_)->Increment(); }
    void spool_pending(double bytes) { spool_pending_->Set(bytes); }
    void spool_io_in_progress(double seconds) { spool_io_in_progress_->Set(seconds); }

    prometheus::Registry& registry() { return *registry_; }
    // The whole exposition, process_* metrics refreshed first.
    std::string serialize();

private:
    void refresh_process_metrics();

    std::shared_ptr<prometheus::Registry> registry_;
    prometheus::Family<prometheus::Counter>* requests_family_;
    prometheus::Family<prometheus::Counter>* rejected_family_;
    // The hot path's counters and gauges: sharded too (ShardedAdd), flushed by serialize().
    using HotCounter = std::unique_ptr<ShardedAdd<prometheus::Counter>>;
    using HotGauge = std::unique_ptr<ShardedAdd<prometheus::Gauge>>;
    std::array<std::map<unsigned, HotCounter>, static_cast<std::size_t>(Endpoint::count_)> requests_;
    // The hot path's histograms: sharded, no lock per observation (sharded.hpp).
    std::array<std::unique_ptr<ShardedHistogram>, static_cast<std::size_t>(Endpoint::count_)> durations_{};
    std::mutex dynamic_mu_;  // only for label sets first seen at run time (rare statuses / reasons)
    std::map<std::string, prometheus::Counter*, std::less<>> rejected_;
    HotCounter hits_queued_;
    prometheus::Counter* hits_failed_;
    std::array<HotCounter, static_cast<std::size_t>(WriteOutcome::count_)> writes_{};
    std::unique_ptr<ShardedHistogram> redis_latency_;
    std::unique_ptr<ShardedHistogram> redis_batch_;
    prometheus::Gauge* redis_up_;
    prometheus::Counter* redis_reconnects_;
    prometheus::Counter* redis_moved_;
    prometheus::Counter* redis_ask_;
    HotGauge redis_pending_;
    std::array<HotCounter, static_cast<std::size_t>(AckedVia::count_)> acked_{};
    std::array<prometheus::Counter*, static_cast<std::size_t>(SpoolAppend::count_)> spool_appends_{};
    prometheus::Gauge* spool_bytes_;
    prometheus::Gauge* spool_records_;
    prometheus::Gauge* spool_segments_;
    prometheus::Gauge* spool_max_bytes_;
    prometheus::Gauge* spool_oldest_age_;
    prometheus::Histogram* spool_fsync_;
    prometheus::Counter* spool_replayed_;
    prometheus::Counter* spool_replay_failures_;
    prometheus::Counter* spool_corrupt_regions_;
    prometheus::Counter* spool_corrupt_bytes_;
    prometheus::Counter* spool_duplicates_;
    prometheus::Counter* spool_recovered_;
    prometheus::Counter* acked_lost_;
    std::vector<std::function<void()>> scrape_hooks_;
    prometheus::Gauge* conns_active_;
    prometheus::Counter* conns_total_;
    prometheus::Counter* conns_refused_;
    prometheus::Counter* write_timeouts_;
    HotGauge inflight_;
    prometheus::Counter* geo_found_;
    prometheus::Counter* geo_not_found_;
    prometheus::Counter* geo_reloaded_;
    prometheus::Counter* geo_reload_failed_;
    prometheus::Counter* params_removed_;
    prometheus::Family<prometheus::Gauge>* queue_length_family_;
    prometheus::Family<prometheus::Gauge>* queue_age_family_;
    prometheus::Family<prometheus::Gauge>* queue_lock_family_;
    prometheus::Family<prometheus::Counter>* queue_pushed_family_;
    std::vector<prometheus::Gauge*> queue_length_;
    std::vector<prometheus::Gauge*> queue_oldest_age_;
    std::vector<prometheus::Gauge*> queue_worker_lock_;
    std::vector<prometheus::Counter*> queue_pushed_;
    prometheus::Counter* queue_samples_ok_;
    prometheus::Counter* queue_samples_failed_;
    prometheus::Histogram* queue_sample_duration_;
    prometheus::Gauge* redis_used_memory_;
    prometheus::Gauge* redis_maxmemory_;
    prometheus::Family<prometheus::Gauge>* redis_policy_family_;
    prometheus::Gauge* redis_policy_ = nullptr;
    std::string redis_policy_name_;
    prometheus::Gauge* redis_policy_can_evict_;
    prometheus::Gauge* guard_high_water_;
    prometheus::Gauge* guard_low_water_;
    prometheus::Gauge* guard_paused_;
    prometheus::Counter* guard_pauses_;
    static constexpr std::size_t edge_kinds_ = static_cast<std::size_t>(EdgeKind::count_);
    std::array<std::array<prometheus::Counter*, static_cast<std::size_t>(EdgeOutcome::count_)>, edge_kinds_>
        edge_requests_{};
    std::array<prometheus::Counter*, edge_kinds_> edge_origin_requests_{};
    std::array<prometheus::Counter*, edge_kinds_> edge_origin_errors_{};
    prometheus::Gauge* edge_cache_bytes_;
    prometheus::Gauge* edge_cache_objects_;
    prometheus::Counter* edge_evictions_;
    prometheus::Gauge* ready_;
    prometheus::Gauge* draining_;
    prometheus::Counter* cpu_seconds_;
    prometheus::Gauge* rss_bytes_;
    prometheus::Gauge* vsize_bytes_;
    prometheus::Gauge* open_fds_;
    prometheus::Gauge* max_fds_;
    prometheus::Gauge* start_time_;
    prometheus::Family<prometheus::Counter>* exceptions_family_;
    prometheus::Counter* accept_fd_limit_;
    prometheus::Counter* accept_other_;
    prometheus::Gauge* spool_pending_;
    prometheus::Gauge* spool_io_in_progress_;
};

}  // namespace mgw::metrics
