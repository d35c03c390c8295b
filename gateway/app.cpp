// Start-up and shutdown. Shutdown: /readyz turns 503, serving goes on
// for the drain delay, the listener closes, idle keep-alive connections close, in-flight hits are
// answered (with Connection: close) up to the drain timeout, the writer flushes, exit 0.
#include "gateway/app.hpp"

#include "edge/edge.hpp"
#include "gateway/access_log.hpp"
#include "gateway/admin.hpp"
#include "gateway/enrich.hpp"
#include "gateway/run_barrier.hpp"
#include "gateway/server.hpp"
#include "gateway/system_limits.hpp"
#include "metrics/metrics.hpp"
#include "queue/memory_guard.hpp"
#include "queue/queue_monitor.hpp"
#include "queue/redis_sink.hpp"
#include "queue/startup_check.hpp"
#include "spool/durable_sink.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

namespace mgw::gateway {
namespace net = boost::asio;

namespace {

std::string endpoint_text(const net::ip::tcp::endpoint& ep) {
    // Appended piece by piece: GCC 12 reports a false -Wrestrict on the operator+ chain at -O2.
    std::string out;
    const bool v6 = ep.address().is_v6();
    if (v6) out.push_back('[');
    out += ep.address().to_string();
    if (v6) out.push_back(']');
    out.push_back(':');
    out += std::to_string(ep.port());
    return out;
}

void log_listening(std::string_view listener, const net::ip::tcp::endpoint& ep) {
    std::string fields = "\"listener\":";
    append_json_string(fields, listener);
    fields += ",\"address\":";
    append_json_string(fields, endpoint_text(ep));
    log_event("info", "listening", fields);
}

// How long the oldest record has waited in the spool (0 when it is empty).
std::chrono::milliseconds spool_age(const spool::Spool& store) {
    const auto oldest = store.oldest_spooled_ms();
    if (!oldest) return {};
    const auto now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    return std::chrono::milliseconds(std::max(0LL, now - static_cast<long long>(oldest)));
}

// --threads 0: the container's CPU quota (cgroup v2 or v1) rounded up, else one thread per core.
unsigned choose_threads(const Options& opts) {
    std::optional<double> quota;
    if (!opts.server.threads) {
        std::ifstream in("/proc/self/cgroup");
        std::ostringstream text;
        text << in.rdbuf();
        quota = cgroup_cpu_quota(text.str(), "/sys/fs/cgroup");
    }
    const unsigned cores = std::thread::hardware_concurrency();
    const unsigned threads = io_threads(opts.server.threads, quota, cores);
    std::string fields = "\"threads\":" + std::to_string(threads) + ",\"source\":";
    append_json_string(fields, opts.server.threads ? "--threads" : quota ? "cgroup CPU quota" : "cores");
    fields += ",\"cores\":" + std::to_string(cores);
    if (quota) fields += ",\"cpu_quota\":" + std::to_string(*quota);
    log_event("info", "io_threads", fields);
    return threads;
}

// --sched-batch: every thread of the gateway under SCHED_BATCH (set before any is started, so that
// all inherit it), unless the launcher chose a policy. Logged either way (`cpu_scheduling`).
void choose_scheduling(const Options& opts) {
    Scheduling s;
    if (opts.server.sched_batch) s = use_batch_scheduling();
    else s.before = s.now = current_scheduling();
    std::string fields = "\"policy\":";
    append_json_string(fields, s.now);
    fields += ",\"before\":";
    append_json_string(fields, s.before);
    fields += ",\"sched_batch\":";
    fields += opts.server.sched_batch ? "true" : "false";
    if (!s.error.empty()) {
        fields += ",\"error\":";
        append_json_string(fields, s.error);
    }
    log_event(s.error.empty() ? "info" : "warn", "cpu_scheduling", fields);
}

// Every connection is a descriptor: raise the soft limit to the hard one, and say so when even
// that cannot hold --max-connections (accept then waits for descriptors instead of spinning).
std::uint64_t check_fd_limit(const Options& opts) {
    const FdLimit fd = raise_fd_limit();
    std::string fields = "\"soft_before\":" + std::to_string(fd.soft_before) + ",\"soft\":" + std::to_string(fd.soft) +
                         ",\"hard\":" + std::to_string(fd.hard);
    if (!fd.error.empty()) {
        fields += ",\"error\":";
        append_json_string(fields, fd.error);
    }
    log_event(fd.error.empty() ? "info" : "warn", "fd_limit", fields);
    // The gateway's own descriptors: listeners, Redis and sentinel sockets, spool files, the
    // event loop, standard streams, with room to spare.
    constexpr std::uint64_t own_descriptors = 64;
    if (opts.server.max_connections + own_descriptors > fd.soft) {
        std::string warn = "\"max_connections\":" + std::to_string(opts.server.max_connections) +
                           ",\"own_descriptors\":" + std::to_string(own_descriptors) +
                           ",\"soft\":" + std::to_string(fd.soft) +
                           ",\"detail\":\"--max-connections plus the gateway's own descriptors exceed the open "
                           "file limit: at the limit new connections wait until others close (raise ulimit -n or "
                           "lower --max-connections)\"";
        log_event("warn", "fd_limit_low", warn);
    }
    return fd.soft;
}

}  // namespace

int run(const Options& opts) {
    set_log_level(opts.log_level);
    choose_scheduling(opts);
    const std::uint64_t fd_soft_limit = check_fd_limit(opts);
    const unsigned threads = choose_threads(opts);
    net::io_context ioc(1);  // run by the main thread only (below)
    metrics::Metrics metrics;
    const queue::WriterLog writer_log = [](std::string_view level, std::string_view event, std::string_view detail) {
        std::string fields = "\"detail\":";
        append_json_string(fields, detail);
        log_event(level, event, fields);
    };
    // Sessions run on one io_context per I/O thread, the main one included: a context that one
    // thread runs needs no strand for its sessions' handlers, nor the locking a shared context's
    // threads pay on every handler. Connections are spread over them in turn. Each context has its own
    // Redis writer, so a hit never changes threads. The rest (spool replay, admin, signals) runs on
    // the main context, which the main thread runs.
    std::vector<std::unique_ptr<net::io_context>> session_iocs;
    std::vector<net::io_context*> session_contexts{&ioc};
    for (unsigned i = 1; i < threads; ++i) {
        session_iocs.push_back(std::make_unique<net::io_context>(1));
        session_contexts.push_back(session_iocs.back().get());
    }
    std::vector<net::executor_work_guard<net::io_context::executor_type>> session_work;
    session_work.reserve(session_iocs.size());
    for (auto& c : session_iocs) session_work.push_back(net::make_work_guard(*c));
    auto redis_backend = queue::make_redis_sink(session_contexts, opts.redis, &metrics, writer_log);
    // The memory guard sits between the spool and Redis; without sampling it has nothing to go by.
    queue::MemoryGuardOptions guard_opts = opts.monitor.guard;
    if (opts.monitor.interval.count() == 0) guard_opts.high_water = 0;
    queue::MemoryGuard memory_guard(guard_opts, &metrics, writer_log);
    queue::GuardedSink guarded(*redis_backend, memory_guard, &metrics);
    queue::QueueMonitor monitor(opts.redis, opts.tracking.queue.queues, opts.monitor, &memory_guard, &metrics,
                                writer_log);
    queue::QueueSink* redis = &guarded;
    std::unique_ptr<spool::Spool> spool_store;
    if (opts.durability.ack != spool::AckMode::redis) {
        spool_store = std::make_unique<spool::Spool>(opts.durability.spool, &metrics, writer_log);
        spool::Recovery found;
        if (auto error = spool_store->open(&found)) throw std::runtime_error("spool-dir: " + *error);
        std::string fields = "\"dir\":";
        append_json_string(fields, opts.durability.spool.dir);
        fields += ",\"records\":" + std::to_string(found.records) + ",\"segments\":" + std::to_string(found.segments) +
                  ",\"corrupt_records\":" + std::to_string(found.corrupt_regions) +
                  ",\"corrupt_bytes\":" + std::to_string(found.corrupt_bytes) +
                  ",\"possible_duplicates\":" + std::to_string(found.possible_duplicates) +
                  ",\"removed_segments\":" + std::to_string(found.removed_segments);
        log_event(found.corrupt_regions ? "warn" : "info", "spool_opened", fields);
        metrics.on_scrape([&metrics, store = spool_store.get()] {
            const auto oldest = store->oldest_spooled_ms();
            const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
            metrics.spool_oldest_age(
                oldest ? std::max(0.0, static_cast<double>(now - static_cast<long long>(oldest)) / 1000) : 0);
            metrics.spool_io_in_progress(store->io_in_progress().count());
        });
    }
    spool::DurableSink durable(ioc.get_executor(), *redis, spool_store.get(), opts.durability, &metrics, writer_log);
    queue::QueueSink& writer = durable;
    ServerShared shared{opts, writer, metrics};
    shared.fd_limit = fd_soft_limit;
    shared.memory_guard = &memory_guard;
    {
        std::string error;
        auto trusted = TrustedProxies::parse(opts.edge.trusted_proxies, error);
        if (!trusted) throw std::runtime_error("trusted-proxies: " + error);
        shared.trusted = std::move(*trusted);
        auto headers = parse_proxy_headers(opts.edge.proxy_headers, error);
        if (!headers) throw std::runtime_error("proxy-headers: " + error);
        shared.client_ip.headers = std::move(*headers);
    }
    std::unique_ptr<geoip::GeoProvider> geo;
    if (!opts.edge.geoip_database.empty()) {
        geo = std::make_unique<geoip::GeoProvider>(opts.edge.geoip_database);
        if (auto error = geo->open()) throw std::runtime_error("geoip-database: " + *error);
        shared.geo = geo.get();
        std::string fields = "\"path\":";
        append_json_string(fields, opts.edge.geoip_database);
        log_event("info", "geoip_loaded", fields);
    }
    if (!opts.edge.matomo_token_file.empty()) {
        std::string token;
        if (auto error = read_token_file(opts.edge.matomo_token_file, token))
            throw std::runtime_error("matomo-token-file: " + *error);
        shared.gateway_token = std::move(token);
    }
    std::unique_ptr<edge::PublicEdge> public_edge;
    {
        std::string error;
        public_edge = edge::make_public_edge(ioc.get_executor(), opts.public_edge, &metrics, error);
        if (!error.empty()) throw std::runtime_error(error);
        shared.edge = public_edge.get();
        if (public_edge) {
            std::string fields = "\"origin\":";
            const auto& pe = opts.public_edge;
            append_json_string(fields, !pe.matomo_origin.empty() ? pe.matomo_origin
                                       : !pe.js_dir.empty()      ? pe.js_dir
                                                                 : pe.js_tracker_file);
            log_event("info", "public_edge", fields);
        }
    }

    TrackingServer tracking(ioc, shared, session_contexts);
    // Bind errors (address in use, a privileged port) name the option like configuration errors do.
    try {
        tracking.listen(opts.server.listen);
    } catch (const std::exception& e) { throw std::runtime_error(std::string("listen: ") + e.what()); }
    // Redis's state in words: what the last connection attempt met ("connect failed: Connection
    // refused", "auth failed: WRONGPASS ..."), or "connecting" before the first one ends.
    auto redis_problem = [&]() -> std::string {
        auto p = redis_backend->problem();
        return "redis unavailable: " + (p.empty() ? std::string("connecting") : p);
    };
    AdminServer admin(ioc, metrics, [&]() -> Readiness {
        if (shared.draining) return {false, "draining"};
        if (!writer.ready()) {
            const std::string why = memory_guard.paused() ? "redis memory above high-water mark" : redis_problem();
            return {false, durable.spool_full() ? why + "; spool full" : why};
        }
        if (geo && !geo->loaded()) return {false, "geo database not loaded"};
        if (redis->ready()) return {true, {}};
        // The spool takes the hits: ready, but saying why (an operator reading the probe sees it).
        const auto max_age = opts.durability.ready_max_spool_age;
        if (spool_store && max_age.count() > 0) {
            const auto age = spool_age(*spool_store);
            if (age > max_age)
                return {false, redis_problem() + "; the spool has held hits for " + std::to_string(age.count()) +
                                   " ms, over --ready-max-spool-age-ms"};
        }
        return {true, "spooling, " + redis_problem()};
    });
    try {
        admin.listen(opts.server.admin_listen);
    } catch (const std::exception& e) { throw std::runtime_error(std::string("admin-listen: ") + e.what()); }

    {
        // Queues beyond ours mean the workers' numQueueWorkers differs: their hits and ours for the
        // same visitor would be processed by different workers.
        std::string error;
        auto stray = queue::queues_beyond(opts.redis, opts.tracking.queue.queues, error);
        if (!error.empty()) {
            // Not fatal: the writer keeps trying Redis on its own and reports its state.
            std::string fields = "\"detail\":";
            append_json_string(fields, error);
            log_event("warn", "queue_check_failed", fields);
        }
        if (!stray.empty()) {
            std::string fields = "\"queues\":" + std::to_string(opts.tracking.queue.queues) + ",\"keys\":[";
            for (std::size_t i = 0; i < stray.size() && i < 20; ++i) {
                if (i) fields.push_back(',');
                append_json_string(fields, stray[i]);
            }
            fields += "]";
            log_event("warn", "queue_count_mismatch", fields);
        }
    }
    writer.start();
    monitor.start();
    tracking.start();
    admin.start();
    log_listening("tracking", tracking.local_endpoint());
    log_listening("admin", admin.local_endpoint());
    metrics.set_ready(true);

    // Geo hot reload: SIGHUP reloads at once, a timer picks up a replaced file. A failed reload
    // keeps the old database answering; both are logged and counted.
    net::signal_set hup(ioc, SIGHUP);
    net::steady_timer geo_timer(ioc);
    auto report_reload = [&](const geoip::ReloadResult& r) {
        if (r.status == geoip::ReloadStatus::unchanged) return;
        const bool ok = r.status == geoip::ReloadStatus::reloaded;
        metrics.geo_reload(ok);
        std::string fields = "\"detail\":";
        append_json_string(fields, ok ? opts.edge.geoip_database : r.error);
        log_event(ok ? "info" : "warn", ok ? "geoip_reloaded" : "geoip_reload_failed", fields);
    };
    std::function<void()> wait_hup = [&] {
        hup.async_wait([&](boost::system::error_code ec, int) {
            if (ec) return;
            if (geo) report_reload(geo->reload());
            wait_hup();
        });
    };
    std::function<void()> check_geo = [&] {
        if (!geo || opts.edge.geoip_check_interval.count() == 0) return;
        geo_timer.expires_after(opts.edge.geoip_check_interval);
        geo_timer.async_wait([&](boost::system::error_code ec) {
            if (ec) return;
            report_reload(geo->maybe_reload_if_changed());
            check_geo();
        });
    };
    wait_hup();
    check_geo();

    // Redis unreachable or refusing the password must not look healthy: an error line at a steady
    // interval for as long as it lasts, not one warning at the first failure.
    net::steady_timer redis_alarm(ioc);
    auto redis_down_since = std::chrono::steady_clock::now();
    std::function<void()> watch_redis = [&] {
        if (opts.redis_down_log_interval.count() == 0) return;
        redis_alarm.expires_after(opts.redis_down_log_interval);
        redis_alarm.async_wait([&](boost::system::error_code ec) {
            if (ec) return;
            if (redis->ready()) {
                redis_down_since = std::chrono::steady_clock::now();
            } else {
                const auto down = std::chrono::steady_clock::now() - redis_down_since;
                std::string fields = "\"detail\":";
                append_json_string(fields, redis_problem());
                fields += ",\"down_seconds\":" +
                          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(down).count());
                if (spool_store) fields += ",\"spooled_records\":" + std::to_string(spool_store->records());
                log_event("error", "redis_unavailable", fields);
            }
            watch_redis();
        });
    };
    watch_redis();

    net::signal_set signals(ioc, SIGINT, SIGTERM);
    net::steady_timer drain_timer(ioc);
    auto drain_started = std::chrono::steady_clock::now();
    std::function<void()> wait_for_inflight;
    wait_for_inflight = [&] {
        const bool timed_out = std::chrono::steady_clock::now() - drain_started > opts.server.drain_timeout;
        if (shared.busy.load() == 0 && !shared.closing.exchange(true)) {
            // Idle for the first time: close the gate, then look again (a request read meanwhile
            // either raised busy before the gate closed or is answered 503).
            net::post(ioc, [&] { wait_for_inflight(); });
            return;
        }
        if (shared.busy.load() == 0 || timed_out) {
            if (timed_out) log_event("warn", "drain_timeout");
            monitor.stop();
            writer.stop([&] {
                admin.stop();
                hup.cancel();
                geo_timer.cancel();
                redis_alarm.cancel();
                log_event("info", "stopped");
                session_work.clear();
                for (auto& c : session_iocs) c->stop();
                ioc.stop();
            });
            return;
        }
        tracking.close_idle_sessions();
        drain_timer.expires_after(std::chrono::milliseconds(10));
        drain_timer.async_wait([&](boost::system::error_code) { wait_for_inflight(); });
    };
    signals.async_wait([&](boost::system::error_code ec, int sig) {
        if (ec) return;
        log_event("info", "draining", "\"signal\":" + std::to_string(sig));
        shared.draining = true;
        metrics.set_draining(true);
        metrics.set_ready(false);
        drain_timer.expires_after(opts.server.drain_delay);
        drain_timer.async_wait([&](boost::system::error_code) {
            tracking.stop_accepting();
            tracking.close_idle_sessions();
            drain_started = std::chrono::steady_clock::now();
            wait_for_inflight();
        });
    });

    // The exception barrier: a handler that throws loses its connection, never the process.
    auto on_exception = [&metrics](const std::exception_ptr& e) { report_exception(metrics, e); };
    std::vector<std::thread> pool;
    pool.reserve(session_iocs.size());
    // Each I/O thread writes its access lines in batches, one write(2) per round of its loop.
    for (auto& c : session_iocs) {
        pool.emplace_back([&on_exception, &c] {
            AccessLogBatch batch(c->get_executor());
            run_with_barrier(*c, on_exception);
        });
    }
    {
        AccessLogBatch batch(ioc.get_executor());
        run_with_barrier(ioc, on_exception);
    }
    for (auto& t : pool) t.join();
    return 0;
}

}  // namespace mgw::gateway
