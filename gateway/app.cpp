// Start-up and shutdown. Shutdown follows ENGINEERING item 7: /readyz turns 503, serving goes on
// for the drain delay, the listener closes, idle keep-alive connections close, in-flight hits are
// answered (with Connection: close) up to the drain timeout, the writer flushes, exit 0.
#include "gateway/app.hpp"

#include "edge/edge.hpp"
#include "gateway/access_log.hpp"
#include "gateway/admin.hpp"
#include "gateway/enrich.hpp"
#include "gateway/server.hpp"
#include "metrics/metrics.hpp"
#include "queue/redis_sink.hpp"
#include "queue/startup_check.hpp"
#include "spool/durable_sink.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

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

}  // namespace

int run(const Options& opts) {
    set_log_level(opts.log_level);
    const unsigned threads =
        opts.server.threads ? opts.server.threads : std::max(1u, std::thread::hardware_concurrency());
    net::io_context ioc(static_cast<int>(threads));
    metrics::Metrics metrics;
    const queue::WriterLog writer_log = [](std::string_view level, std::string_view event, std::string_view detail) {
        std::string fields = "\"detail\":";
        append_json_string(fields, detail);
        log_event(level, event, fields);
    };
    auto redis = queue::make_redis_sink(ioc.get_executor(), opts.redis, &metrics, writer_log);
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
                  ",\"possible_duplicates\":" + std::to_string(found.possible_duplicates);
        log_event(found.corrupt_regions ? "warn" : "info", "spool_opened", fields);
        metrics.on_scrape([&metrics, store = spool_store.get()] {
            const auto oldest = store->oldest_spooled_ms();
            const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
            metrics.spool_oldest_age(
                oldest ? std::max(0.0, static_cast<double>(now - static_cast<long long>(oldest)) / 1000) : 0);
        });
    }
    spool::DurableSink durable(ioc.get_executor(), *redis, spool_store.get(), opts.durability, &metrics, writer_log);
    queue::QueueSink& writer = durable;
    ServerShared shared{opts, writer, metrics};
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

    TrackingServer tracking(ioc, shared);
    tracking.listen(opts.server.listen);
    AdminServer admin(ioc, metrics, [&]() -> Readiness {
        if (shared.draining) return {false, "draining"};
        if (!writer.ready())
            return {false, durable.spool_full() ? "redis unavailable and spool full" : "redis unavailable"};
        if (geo && !geo->loaded()) return {false, "geo database not loaded"};
        return {true, {}};
    });
    admin.listen(opts.server.admin_listen);

    {
        // Queues beyond ours mean the workers' numQueueWorkers differs: their hits and ours for the
        // same visitor would be processed by different workers.
        std::string error;
        auto stray = queue::queues_beyond(opts.redis, opts.tracking.queue.queues, error);
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
            writer.stop([&] {
                admin.stop();
                hup.cancel();
                geo_timer.cancel();
                log_event("info", "stopped");
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

    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
    ioc.run();
    for (auto& t : pool) t.join();
    return 0;
}

}  // namespace mgw::gateway
