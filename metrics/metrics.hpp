// Every metric of the gateway, declared once (ENGINEERING item 6): prometheus-cpp core registry,
// matomo_gateway_* names in base units, served as text format 0.0.4 by the admin listener.
// Hot-path counters are resolved at start-up so recording a hit never looks up a label set.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace mgw::metrics {

enum class Endpoint { tracking, js, preflight, admin, other, count_ };
std::string_view to_string(Endpoint e);

// Outcomes of a Redis write (one RPUSH of one request set).
enum class WriteOutcome { ok, error_reply, unavailable, overloaded, count_ };
std::string_view to_string(WriteOutcome o);

class Metrics {
public:
    Metrics();
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

    // One finished HTTP request.
    void request(Endpoint e, unsigned status, double seconds);
    // Hits queued (acknowledged) or rejected with a bounded reason label.
    void hits_queued(std::size_t n) { hits_queued_->Increment(static_cast<double>(n)); }
    void hit_rejected(std::string_view reason, std::size_t n = 1);
    void hits_failed(std::size_t n) { hits_failed_->Increment(static_cast<double>(n)); }

    void redis_write(WriteOutcome o, double seconds);
    void redis_batch(std::size_t commands) { redis_batch_->Observe(static_cast<double>(commands)); }
    void redis_connected(bool up) { redis_up_->Set(up ? 1 : 0); }
    void redis_reconnect() { redis_reconnects_->Increment(); }
    void redis_pending_bytes(double b) { redis_pending_->Set(b); }

    void connection_opened() { conns_active_->Increment(); conns_total_->Increment(); }
    void connection_closed() { conns_active_->Decrement(); }
    void connection_refused() { conns_refused_->Increment(); }
    // An answer the client did not take within the write deadline: the connection is dropped.
    void write_timeout() { write_timeouts_->Increment(); }
    void inflight_hits(double delta) { inflight_->Increment(delta); }

    void geo_lookup(bool found) { (found ? geo_found_ : geo_not_found_)->Increment(); }
    void geo_reload(bool ok) { (ok ? geo_reloaded_ : geo_reload_failed_)->Increment(); }
    void privileged_params_removed(std::size_t n) { params_removed_->Increment(static_cast<double>(n)); }

    void set_ready(bool r) { ready_->Set(r ? 1 : 0); }
    void set_draining(bool d) { draining_->Set(d ? 1 : 0); }

    prometheus::Registry& registry() { return *registry_; }
    // The whole exposition, process_* metrics refreshed first.
    std::string serialize();

private:
    void refresh_process_metrics();

    std::shared_ptr<prometheus::Registry> registry_;
    prometheus::Family<prometheus::Counter>* requests_family_;
    prometheus::Family<prometheus::Counter>* rejected_family_;
    std::array<std::map<unsigned, prometheus::Counter*>, static_cast<std::size_t>(Endpoint::count_)> requests_;
    std::array<prometheus::Histogram*, static_cast<std::size_t>(Endpoint::count_)> durations_{};
    std::mutex dynamic_mu_;   // only for label sets first seen at run time (rare statuses / reasons)
    std::map<std::string, prometheus::Counter*, std::less<>> rejected_;
    prometheus::Counter* hits_queued_;
    prometheus::Counter* hits_failed_;
    std::array<prometheus::Counter*, static_cast<std::size_t>(WriteOutcome::count_)> writes_{};
    prometheus::Histogram* redis_latency_;
    prometheus::Histogram* redis_batch_;
    prometheus::Gauge* redis_up_;
    prometheus::Counter* redis_reconnects_;
    prometheus::Gauge* redis_pending_;
    prometheus::Gauge* conns_active_;
    prometheus::Counter* conns_total_;
    prometheus::Counter* conns_refused_;
    prometheus::Counter* write_timeouts_;
    prometheus::Gauge* inflight_;
    prometheus::Counter* geo_found_;
    prometheus::Counter* geo_not_found_;
    prometheus::Counter* geo_reloaded_;
    prometheus::Counter* geo_reload_failed_;
    prometheus::Counter* params_removed_;
    prometheus::Gauge* ready_;
    prometheus::Gauge* draining_;
    prometheus::Counter* cpu_seconds_;
    prometheus::Gauge* rss_bytes_;
    prometheus::Gauge* vsize_bytes_;
    prometheus::Gauge* open_fds_;
    prometheus::Gauge* max_fds_;
    prometheus::Gauge* start_time_;
};

}  // namespace mgw::metrics
