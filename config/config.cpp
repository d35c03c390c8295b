// The option table and the three sources. TOML (Debian's libtomlplusplus-dev) rather than YAML:
// flat key = value files like Matomo's own config.ini.php, typed values, and no indentation rules.
#include "config/config.hpp"

#include "config/service_links.hpp"

#include "gateway/client_ip.hpp"
#include "gateway/enrich.hpp"

#include <toml++/toml.h>

#include <charconv>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <sstream>

namespace mgw::config {
namespace {

using gateway::Options;
using Setter = std::function<std::optional<std::string>(Options&, const std::string&)>;
using Getter = std::function<std::string(const Options&)>;

struct Option {
    std::string name;  // flag without "--"; env is MATOMO_GATEWAY_<NAME>, file key <name> with '_'
    std::string help;
    Setter set;
    Getter get;
    bool secret = false;
};

template <class T>
std::optional<std::string> parse_int(const std::string& v, T& out, long long lo, long long hi) {
    long long x = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (ec != std::errc() || p != v.data() + v.size()) return "expected an integer, got '" + v + "'";
    if (x < lo || x > hi) return "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
    out = static_cast<T>(x);
    return std::nullopt;
}

std::optional<std::string> parse_bool(const std::string& v, bool& out) {
    if (v == "1" || v == "true" || v == "on" || v == "yes") out = true;
    else if (v == "0" || v == "false" || v == "off" || v == "no") out = false;
    else return "expected true or false, got '" + v + "'";
    return std::nullopt;
}

std::optional<std::string> parse_ms(const std::string& v, std::chrono::milliseconds& out) {
    long long x = 0;
    if (auto e = parse_int(v, x, 0, 86'400'000)) return e;
    out = std::chrono::milliseconds(x);
    return std::nullopt;
}

// A number from 0 to 1 (the memory guard's levels).
std::optional<std::string> parse_fraction(const std::string& v, double& out) {
    double d = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
    if (ec != std::errc() || p != v.data() + v.size() || !(d >= 0 && d <= 1)) return "must be a number from 0 to 1";
    out = d;
    return std::nullopt;
}

std::string format_fraction(double d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", d);
    return buf;
}

std::vector<std::string> split_list(const std::string& v) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : v + ",") {
        if (c == ',') {
            while (!cur.empty() && cur.back() == ' ') cur.pop_back();
            std::size_t b = cur.find_first_not_of(' ');
            if (b != std::string::npos) out.push_back(cur.substr(b));
            cur.clear();
        } else {
            cur.push_back(c);
        }
    }
    return out;
}

std::string join_list(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
}

const std::vector<Option>& table() {
    static const std::vector<Option> t = {
        {"listen", "tracking listener HOST:PORT",
         [](Options& o, const std::string& v) {
             o.server.listen = v;
             return std::optional<std::string>{};
         },
         [](const Options& o) { return o.server.listen; }},
        {"admin-listen", "admin listener for /livez, /readyz, /metrics (keep it private)",
         [](Options& o, const std::string& v) {
             o.server.admin_listen = v;
             return std::optional<std::string>{};
         },
         [](const Options& o) { return o.server.admin_listen; }},
        {"redis",
         "redis://[user:password@]host:port/db, unix:///path?db=N, redis-sentinel://host:port[,...]/db?master=NAME or "
         "redis-cluster://host:port[,...]",
         [](Options& o, const std::string& v) {
             o.redis_url = v;
             return queue::parse_redis_url(v, o.redis);
         },
         [](const Options& o) { return queue::redact_redis_url(o.redis_url); }, true},
        {"queues", "QueuedTracking numQueueWorkers: number of queues (1..4096)",
         [](Options& o, const std::string& v) { return parse_int(v, o.tracking.queue.queues, 1, 4096); },
         [](const Options& o) { return std::to_string(o.tracking.queue.queues); }},
        {"threads", "I/O threads (0: the container's CPU quota rounded up, else one per core)",
         [](Options& o, const std::string& v) { return parse_int(v, o.server.threads, 0, 256); },
         [](const Options& o) { return std::to_string(o.server.threads); }},
        {"sched-batch",
         "run the gateway's threads under SCHED_BATCH: woken by network events, a thread does not preempt "
         "the task on its core but runs at its next turn with more events ready (a policy set by the "
         "launcher is kept)",
         [](Options& o, const std::string& v) { return parse_bool(v, o.server.sched_batch); },
         [](const Options& o) { return std::string(o.server.sched_batch ? "true" : "false"); }},
        {"compression-level", "zlib level of queue values, 0 (plain JSON) to 9",
         [](Options& o, const std::string& v) { return parse_int(v, o.tracking.compression_level, 0, 9); },
         [](const Options& o) { return std::to_string(o.tracking.compression_level); }},
        {"max-header-bytes", "request line plus headers, bytes (over: 431)",
         [](Options& o, const std::string& v) { return parse_int(v, o.server.max_header_bytes, 1024, 1 << 20); },
         [](const Options& o) { return std::to_string(o.server.max_header_bytes); }},
        {"max-body-bytes", "request body, bytes (over: 413)",
         [](Options& o, const std::string& v) { return parse_int(v, o.server.max_body_bytes, 0, 1LL << 30); },
         [](const Options& o) { return std::to_string(o.server.max_body_bytes); }},
        {"max-params", "parameters per query string or form body, PHP max_input_vars (over: 400)",
         [](Options& o, const std::string& v) { return parse_int(v, o.tracking.parse_limits.max_vars, 1, 1'000'000); },
         [](const Options& o) { return std::to_string(o.tracking.parse_limits.max_vars); }},
        {"read-timeout-ms", "time to receive one whole request (over: 408)",
         [](Options& o, const std::string& v) { return parse_ms(v, o.server.read_timeout); },
         [](const Options& o) { return std::to_string(o.server.read_timeout.count()); }},
        {"idle-timeout-ms", "keep-alive wait for the next request before closing",
         [](Options& o, const std::string& v) { return parse_ms(v, o.server.idle_timeout); },
         [](const Options& o) { return std::to_string(o.server.idle_timeout.count()); }},
        {"max-connections", "open client connections; more are closed at accept",
         [](Options& o, const std::string& v) { return parse_int(v, o.server.max_connections, 1, 10'000'000); },
         [](const Options& o) { return std::to_string(o.server.max_connections); }},
        {"drain-delay-ms", "on SIGTERM, keep serving this long with /readyz 503 before closing the listener",
         [](Options& o, const std::string& v) { return parse_ms(v, o.server.drain_delay); },
         [](const Options& o) { return std::to_string(o.server.drain_delay.count()); }},
        {"drain-timeout-ms", "on SIGTERM, wait at most this long for in-flight hits",
         [](Options& o, const std::string& v) { return parse_ms(v, o.server.drain_timeout); },
         [](const Options& o) { return std::to_string(o.server.drain_timeout.count()); }},
        {"redis-connect-timeout-ms", "Redis connect timeout",
         [](Options& o, const std::string& v) { return parse_ms(v, o.redis.connect_timeout); },
         [](const Options& o) { return std::to_string(o.redis.connect_timeout.count()); }},
        {"redis-reply-timeout-ms", "no Redis reply for this long: the connection is dropped and rebuilt",
         [](Options& o, const std::string& v) { return parse_ms(v, o.redis.reply_timeout); },
         [](const Options& o) { return std::to_string(o.redis.reply_timeout.count()); }},
        {"redis-wait-replicas",
         "acknowledge a hit only once this many Redis replicas have it (WAIT); 1 with Sentinel avoids losing hits in a "
         "failover",
         [](Options& o, const std::string& v) { return parse_int(v, o.redis.wait_replicas, 0, 16); },
         [](const Options& o) { return std::to_string(o.redis.wait_replicas); }},
        {"redis-wait-timeout-ms", "how long WAIT may take before the batch is answered 503",
         [](Options& o, const std::string& v) { return parse_ms(v, o.redis.wait_timeout); },
         [](const Options& o) { return std::to_string(o.redis.wait_timeout.count()); }},
        {"redis-max-pending-bytes",
         "request-set bytes held waiting for Redis, shared evenly by the I/O threads' writers; over it sets go to "
         "the spool (--ack=redis: 503)",
         [](Options& o, const std::string& v) { return parse_int(v, o.redis.max_pending_bytes, 4096, 1LL << 40); },
         [](const Options& o) { return std::to_string(o.redis.max_pending_bytes); }},
        {"redis-connections",
         "pipelined Redis connections per I/O thread (each thread writes its own hits; Cluster: one per master); "
         "each queue always uses the same one of its thread, so a client's order holds (more than 1 only when one "
         "connection is the limit: docs/performance.md)",
         [](Options& o, const std::string& v) { return parse_int(v, o.redis.connections, 1, 64); },
         [](const Options& o) { return std::to_string(o.redis.connections); }},
        {"redis-down-log-interval-ms",
         "while Redis is unavailable (unreachable, password refused), an error log line this often (0: off)",
         [](Options& o, const std::string& v) { return parse_ms(v, o.redis_down_log_interval); },
         [](const Options& o) { return std::to_string(o.redis_down_log_interval.count()); }},
        {"ack",
         "when a hit is answered 200/204: spool (stored in Redis or fsync'ed in the spool), redis (only once in Redis, "
         "503 otherwise) or memory (at once; a crash loses what is not yet written)",
         [](Options& o, const std::string& v) {
             if (v == "spool") o.durability.ack = spool::AckMode::spool;
             else if (v == "redis") o.durability.ack = spool::AckMode::redis;
             else if (v == "memory") o.durability.ack = spool::AckMode::memory;
             else return std::optional<std::string>("must be spool, redis or memory");
             return std::optional<std::string>{};
         },
         [](const Options& o) {
             return std::string(o.durability.ack == spool::AckMode::spool   ? "spool"
                                : o.durability.ack == spool::AckMode::redis ? "redis"
                                                                            : "memory");
         }},
        {"spool-dir", "directory of the spool (one gateway process per directory; keep it on a persistent volume)",
         [](Options& o, const std::string& v) {
             if (v.empty()) return std::optional<std::string>("must not be empty");
             o.durability.spool.dir = v;
             return std::optional<std::string>{};
         },
         [](const Options& o) { return o.durability.spool.dir; }},
        {"spool-max-bytes", "disk the spool may use; when full, hits Redis can't take get 503 and /readyz turns 503",
         [](Options& o, const std::string& v) { return parse_int(v, o.durability.spool.max_bytes, 65536, 1LL << 50); },
         [](const Options& o) { return std::to_string(o.durability.spool.max_bytes); }},
        {"spool-max-pending-bytes",
         "memory the spool may hold in sets waiting for the disk (a slow fsync); over it, hits Redis can't take get "
         "503",
         [](Options& o, const std::string& v) {
             return parse_int(v, o.durability.spool.max_pending_bytes, 65536, 1LL << 40);
         },
         [](const Options& o) { return std::to_string(o.durability.spool.max_pending_bytes); }},
        {"spool-segment-bytes",
         "size at which a spool segment file is closed; disk is freed a segment at a time (at most a quarter of "
         "spool-max-bytes)",
         [](Options& o, const std::string& v) {
             return parse_int(v, o.durability.spool.segment_bytes, 4096, 1LL << 40);
         },
         [](const Options& o) { return std::to_string(o.durability.spool.segment_bytes); }},
        {"spool-sync-interval-ms",
         "group commit: sets arriving within this window share one fdatasync (0: sync at once)",
         [](Options& o, const std::string& v) { return parse_ms(v, o.durability.spool.sync_interval); },
         [](const Options& o) { return std::to_string(o.durability.spool.sync_interval.count()); }},
        {"spool-replay-rate", "request sets per second replayed from the spool into Redis once it takes writes again",
         [](Options& o, const std::string& v) {
             int rate = 0;
             if (auto e = parse_int(v, rate, 1, 10'000'000)) return e;
             o.durability.replay_rate = rate;
             return std::optional<std::string>{};
         },
         [](const Options& o) { return std::to_string(static_cast<long long>(o.durability.replay_rate)); }},
        {"ready-max-spool-age-ms",
         "/readyz turns 503 while Redis is unavailable and the spool's oldest hit is older than this, so a load "
         "balancer prefers replicas that reach Redis (0: never)",
         [](Options& o, const std::string& v) { return parse_ms(v, o.durability.ready_max_spool_age); },
         [](const Options& o) { return std::to_string(o.durability.ready_max_spool_age.count()); }},
        {"queue-sample-interval-ms",
         "how often queue lengths, oldest-set ages and Redis memory are sampled (0: never, and no memory guard)",
         [](Options& o, const std::string& v) { return parse_ms(v, o.monitor.interval); },
         [](const Options& o) { return std::to_string(o.monitor.interval.count()); }},
        {"queue-stale-after-s",
         "at start-up, warn about queues whose oldest set is older than this and no worker holds (0: no warning)",
         [](Options& o, const std::string& v) {
             long long s = 0;
             if (auto e = parse_int(v, s, 0, 365LL * 86400)) return e;
             o.monitor.stale_after = std::chrono::seconds(s);
             return std::optional<std::string>{};
         },
         [](const Options& o) { return std::to_string(o.monitor.stale_after.count()); }},
        {"redis-memory-high-water",
         "fraction of Redis maxmemory above which sets go to the spool instead of Redis (--ack=redis: 503); 0: off",
         [](Options& o, const std::string& v) { return parse_fraction(v, o.monitor.guard.high_water); },
         [](const Options& o) { return format_fraction(o.monitor.guard.high_water); }},
        {"redis-memory-low-water", "fraction of Redis maxmemory below which writes to Redis resume",
         [](Options& o, const std::string& v) { return parse_fraction(v, o.monitor.guard.low_water); },
         [](const Options& o) { return format_fraction(o.monitor.guard.low_water); }},
        {"userid-overwrites-visitorid", "Matomo [Tracker] enable_userid_overwrites_visitorid",
         [](Options& o, const std::string& v) { return parse_bool(v, o.tracking.queue.userid_overwrites_visitorid); },
         [](const Options& o) { return std::string(o.tracking.queue.userid_overwrites_visitorid ? "true" : "false"); }},
        {"validation", "compatible (queue what stock queues) or strict (400 for what the worker would drop)",
         [](Options& o, const std::string& v) {
             if (v == "compatible") o.tracking.validation = gateway::Validation::compatible;
             else if (v == "strict") o.tracking.validation = gateway::Validation::strict;
             else return std::optional<std::string>("must be compatible or strict");
             return std::optional<std::string>{};
         },
         [](const Options& o) {
             return std::string(o.tracking.validation == gateway::Validation::strict ? "strict" : "compatible");
         }},
        {"sites", "strict mode: comma-separated idsite allow-list (empty: any positive idsite)",
         [](Options& o, const std::string& v) {
             o.tracking.sites.clear();
             for (const auto& item : split_list(v)) {
                 std::int64_t id = 0;
                 if (auto e = parse_int(item, id, 1, 1LL << 40))
                     return std::optional<std::string>("'" + item + "': " + *e);
                 o.tracking.sites.push_back(id);
             }
             return std::optional<std::string>{};
         },
         [](const Options& o) {
             std::string s;
             for (auto id : o.tracking.sites) s += (s.empty() ? "" : ",") + std::to_string(id);
             return s;
         }},
        {"cors-domains", "Matomo [General] cors_domains[], comma-separated; * allows any origin",
         [](Options& o, const std::string& v) {
             o.tracking.cors_domains = split_list(v);
             return std::optional<std::string>{};
         },
         [](const Options& o) { return join_list(o.tracking.cors_domains); }},
        {"third-party-cookie", "Matomo [Tracker] use_third_party_id_cookie: set and read the _pk_uid cookie",
         [](Options& o, const std::string& v) { return parse_bool(v, o.tracking.queue.third_party_cookie); },
         [](const Options& o) { return std::string(o.tracking.queue.third_party_cookie ? "true" : "false"); }},
        {"cookie-name", "Matomo [Tracker] cookie_name of the third-party visitor cookie",
         [](Options& o, const std::string& v) {
             if (v.empty()) return std::optional<std::string>("must not be empty");
             o.tracking.third_party_cookie_name = v;
             return std::optional<std::string>{};
         },
         [](const Options& o) { return o.tracking.third_party_cookie_name; }},
        {"cookie-path", "Matomo [Tracker] cookie_path",
         [](Options& o, const std::string& v) {
             o.tracking.cookie_path = v;
             return std::optional<std::string>{};
         },
         [](const Options& o) { return o.tracking.cookie_path; }},
        {"cookie-domain", "Matomo [Tracker] cookie_domain",
         [](Options& o, const std::string& v) {
             o.tracking.cookie_domain = v;
             return std::optional<std::string>{};
         },
         [](const Options& o) { return o.tracking.cookie_domain; }},
        {"cookie-expire", "Matomo [Tracker] cookie_expire, seconds",
         [](Options& o, const std::string& v) { return parse_int(v, o.tracking.cookie_expire, 0, 1LL << 40); },
         [](const Options& o) { return std::to_string(o.tracking.cookie_expire); }},
        {"ignore-cookie-name", "Matomo [Tracker] ignore_visits_cookie_name",
         [](Options& o, const std::string& v) {
             if (v.empty()) return std::optional<std::string>("must not be empty");
             o.tracking.ignore_cookie_name = v;
             return std::optional<std::string>{};
         },
         [](const Options& o) { return o.tracking.ignore_cookie_name; }},
        {"cdt-no-token-window",
         "Matomo tracking_requests_require_authentication_when_custom_timestamp_newer_than, seconds",
         [](Options& o, const std::string& v) { return parse_int(v, o.tracking.cdt_no_token_window, 0, 1LL << 40); },
         [](const Options& o) { return std::to_string(o.tracking.cdt_no_token_window); }},
        {"max-bulk-hits", "hits in one bulk request (over: 413)",
         [](Options& o, const std::string& v) { return parse_int(v, o.tracking.max_bulk_hits, 1, 10'000'000); },
         [](const Options& o) { return std::to_string(o.tracking.max_bulk_hits); }},
        {"max-param-bytes", "strict mode: longest parameter value, bytes (over: 400)",
         [](Options& o, const std::string& v) { return parse_int(v, o.tracking.max_param_bytes, 16, 1LL << 30); },
         [](const Options& o) { return std::to_string(o.tracking.max_param_bytes); }},
        {"js-tracker-file",
         "one matomo.js served at /matomo.js, /piwik.js and /js/, re-read when it changes (unset: those paths answer "
         "404 unless --js-dir or --matomo-origin)",
         [](Options& o, const std::string& v) {
             o.public_edge.js_tracker_file = v;
             return std::optional<std::string>{};
         },
         [](const Options& o) { return o.public_edge.js_tracker_file; }},
        {"js-dir",
         "a directory laid out like Matomo's document root (matomo.js, piwik.js, js/container_*.js) served without an "
         "origin, re-read when files change",
         [](Options& o, const std::string& v) {
             o.public_edge.js_dir = v;
             return std::optional<std::string>{};
         },
         [](const Options& o) { return o.public_edge.js_dir; }},
        {"matomo-origin",
         "http://host[:port][/path] of the private Matomo the public edge may ask for the tracker, Tag Manager "
         "containers, configs.php and the opt-out (empty: none)",
         [](Options& o, const std::string& v) {
             o.public_edge.matomo_origin = v;
             if (!v.empty() && v.rfind("http://", 0) != 0)
                 return std::optional<std::string>("expected http://host[:port][/path], got '" + v + "'");
             return std::optional<std::string>{};
         },
         [](const Options& o) { return o.public_edge.matomo_origin; }},
        {"edge-fresh-tracker-ms",
         "public edge: ms matomo.js, piwik.js and /js/ are served from the cache before the origin is asked again",
         [](Options& o, const std::string& v) { return parse_ms(v, o.public_edge.fresh_tracker); },
         [](const Options& o) { return std::to_string(o.public_edge.fresh_tracker.count()); }},
        {"edge-fresh-container-ms",
         "public edge: ms a published Tag Manager container is served from the cache (previews are never cached)",
         [](Options& o, const std::string& v) { return parse_ms(v, o.public_edge.fresh_container); },
         [](const Options& o) { return std::to_string(o.public_edge.fresh_container.count()); }},
        {"edge-fresh-configs-ms",
         "public edge: ms a Heatmap & Session Recording configs.php answer is cached, per query",
         [](Options& o, const std::string& v) { return parse_ms(v, o.public_edge.fresh_configs); },
         [](const Options& o) { return std::to_string(o.public_edge.fresh_configs.count()); }},
        {"edge-fresh-optout-ms", "public edge: ms an opt-out answer is cached, per query and Accept-Language",
         [](Options& o, const std::string& v) { return parse_ms(v, o.public_edge.fresh_optout); },
         [](const Options& o) { return std::to_string(o.public_edge.fresh_optout.count()); }},
        {"edge-cache-bytes",
         "public edge: memory for cached objects and their gzip variants, bytes (least recently used evicted first)",
         [](Options& o, const std::string& v) { return parse_int(v, o.public_edge.cache_bytes, 1LL << 16, 1LL << 40); },
         [](const Options& o) { return std::to_string(o.public_edge.cache_bytes); }},
        {"origin-connect-timeout-ms", "public edge: connect deadline to the origin (over: 504, or the stale copy)",
         [](Options& o, const std::string& v) { return parse_ms(v, o.public_edge.origin_connect_timeout); },
         [](const Options& o) { return std::to_string(o.public_edge.origin_connect_timeout.count()); }},
        {"origin-timeout-ms",
         "public edge: deadline for the origin's whole answer after the connect (over: 504, or the stale copy)",
         [](Options& o, const std::string& v) { return parse_ms(v, o.public_edge.origin_timeout); },
         [](const Options& o) { return std::to_string(o.public_edge.origin_timeout.count()); }},
        {"origin-max-bytes", "public edge: largest origin answer body, bytes (over: 502, or the stale copy)",
         [](Options& o, const std::string& v) { return parse_int(v, o.public_edge.origin_max_bytes, 1024, 1LL << 30); },
         [](const Options& o) { return std::to_string(o.public_edge.origin_max_bytes); }},
        {"tracking-paths", "more comma-separated paths that behave like /matomo.php",
         [](Options& o, const std::string& v) {
             o.server.extra_tracking_paths = split_list(v);
             for (const auto& p : o.server.extra_tracking_paths)
                 if (p.empty() || p.front() != '/') return std::optional<std::string>("'" + p + "' must start with /");
             return std::optional<std::string>{};
         },
         [](const Options& o) { return join_list(o.server.extra_tracking_paths); }},
        {"trusted-proxies", "comma-separated CIDR blocks of proxies whose client-IP headers are believed (empty: none)",
         [](Options& o, const std::string& v) {
             o.edge.trusted_proxies = split_list(v);
             std::string error;
             if (!gateway::TrustedProxies::parse(o.edge.trusted_proxies, error))
                 return std::optional<std::string>(error);
             return std::optional<std::string>{};
         },
         [](const Options& o) { return join_list(o.edge.trusted_proxies); }},
        {"proxy-headers",
         "client-IP headers honoured from trusted proxies, in order: forwarded, x-forwarded-for, x-real-ip",
         [](Options& o, const std::string& v) {
             std::string error;
             if (!gateway::parse_proxy_headers(v, error)) return std::optional<std::string>(error);
             o.edge.proxy_headers = v;
             return std::optional<std::string>{};
         },
         [](const Options& o) { return o.edge.proxy_headers; }},
        {"proxy-protocol",
         "expect HAProxy's PROXY protocol v1/v2 header (send-proxy) on every connection from a trusted proxy",
         [](Options& o, const std::string& v) { return parse_bool(v, o.edge.proxy_protocol); },
         [](const Options& o) { return std::string(o.edge.proxy_protocol ? "true" : "false"); }},
        {"geoip-database", "City .mmdb (GeoIP2/GeoLite2 City, DB-IP City Lite); empty: no geolocation at the edge",
         [](Options& o, const std::string& v) {
             o.edge.geoip_database = v;
             return std::optional<std::string>{};
         },
         [](const Options& o) { return o.edge.geoip_database; }},
        {"geoip-check-interval-ms", "how often the database file is checked for a replacement (0: only on SIGHUP)",
         [](Options& o, const std::string& v) { return parse_ms(v, o.edge.geoip_check_interval); },
         [](const Options& o) { return std::to_string(o.edge.geoip_check_interval.count()); }},
        {"matomo-token-file",
         "file holding a Write-access token_auth; with a geo database, hits carry the location as override parameters",
         [](Options& o, const std::string& v) {
             o.edge.matomo_token_file = v;
             return std::optional<std::string>{};
         },
         [](const Options& o) { return o.edge.matomo_token_file; }},
        {"client-tokens", "pass: a client's own token_auth is queued for the worker to check (stock); reject: 403",
         [](Options& o, const std::string& v) {
             if (v != "pass" && v != "reject") return std::optional<std::string>("must be pass or reject");
             o.tracking.reject_client_tokens = v == "reject";
             return std::optional<std::string>{};
         },
         [](const Options& o) { return std::string(o.tracking.reject_client_tokens ? "reject" : "pass"); }},
        {"anonymize-ip-bytes",
         "IPv4 bytes zeroed before REMOTE_ADDR is queued (0..3); the raw IP then never reaches Redis",
         [](Options& o, const std::string& v) { return parse_int(v, o.tracking.anonymize_ipv4_bytes, 0, 3); },
         [](const Options& o) { return std::to_string(o.tracking.anonymize_ipv4_bytes); }},
        {"anonymize-ipv6-level", "IPv6 anonymisation as Matomo: 0 none, 1 keep /64, 2 keep /48, 3 keep /24",
         [](Options& o, const std::string& v) { return parse_int(v, o.tracking.anonymize_ipv6_level, 0, 3); },
         [](const Options& o) { return std::to_string(o.tracking.anonymize_ipv6_level); }},
        {"honor-dnt", "drop hits whose DNT / X-Do-Not-Track asks for it (answered as usual, not queued)",
         [](Options& o, const std::string& v) { return parse_bool(v, o.tracking.honor_dnt); },
         [](const Options& o) { return std::string(o.tracking.honor_dnt ? "true" : "false"); }},
        {"strip-url-params",
         "comma-separated query parameters removed from url and urlref before queuing (e.g. email,token)",
         [](Options& o, const std::string& v) {
             o.tracking.strip_url_params = split_list(v);
             return std::optional<std::string>{};
         },
         [](const Options& o) { return join_list(o.tracking.strip_url_params); }},
        {"access-log", "JSON access log on stdout",
         [](Options& o, const std::string& v) { return parse_bool(v, o.server.access_log); },
         [](const Options& o) { return std::string(o.server.access_log ? "true" : "false"); }},
        {"access-log-sample", "fraction of requests in the access log (0..1)",
         [](Options& o, const std::string& v) {
             try {
                 std::size_t used = 0;
                 double d = std::stod(v, &used);
                 if (used != v.size() || d < 0 || d > 1)
                     return std::optional<std::string>("must be a number from 0 to 1");
                 o.server.access_log_sample = d;
             } catch (const std::exception&) { return std::optional<std::string>("must be a number from 0 to 1"); }
             return std::optional<std::string>{};
         },
         [](const Options& o) { return std::to_string(o.server.access_log_sample); }},
        {"log-level", "debug, info, warn or error",
         [](Options& o, const std::string& v) {
             if (v != "debug" && v != "info" && v != "warn" && v != "error")
                 return std::optional<std::string>("must be debug, info, warn or error");
             o.log_level = v;
             return std::optional<std::string>{};
         },
         [](const Options& o) { return o.log_level; }},
    };
    return t;
}

std::string env_name(const std::string& name) {
    std::string s = "MATOMO_GATEWAY_";
    for (char c : name) s.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    return s;
}

std::string file_key(const std::string& name) {
    std::string s = name;
    for (char& c : s)
        if (c == '-') c = '_';
    return s;
}

// The defaults, built once (GCC 12 at -O2 also reports a false maybe-uninitialized for a temporary
// Options{} per row).
const Options& defaults() {
    static const Options d;
    return d;
}

const Option* find(const std::string& name) {
    for (const auto& o : table())
        if (o.name == name) return &o;
    return nullptr;
}

std::string help_text() {
    std::ostringstream out;
    out << "Usage: matomo-gateway [options]\n"
           "A drop-in replacement for Matomo's matomo.php that queues hits in Redis for QueuedTracking workers.\n\n"
           "  --help                 this text\n"
           "  --version              print the version\n"
           "  --check-config         validate, print the effective configuration (secrets redacted), exit\n"
           "  --decode               print the queue values redis-cli writes on stdin as JSON, one per line\n"
           "  --config FILE          TOML file (also MATOMO_GATEWAY_CONFIG)\n"
           "  --options-table        print every option as a Markdown table (the README's)\n";
    for (const auto& o : table()) {
        out << "  --" << o.name << " VALUE\n      " << o.help << " (default " << o.get(defaults()) << "; env "
            << env_name(o.name) << ")\n";
    }
    return out.str();
}

// Error messages: the pieces joined in one allocation.
std::string concat(std::initializer_list<std::string_view> parts) {
    std::string out;
    std::size_t size = 0;
    for (auto p : parts) size += p.size();
    out.reserve(size);
    for (auto p : parts) out.append(p);
    return out;
}

// Applies one source's values; the first error names the option and the source.
std::optional<std::string> apply(Options& opts, const std::vector<std::pair<std::string, std::string>>& values,
                                 const std::string& source) {
    for (const auto& [name, value] : values) {
        const Option* o = find(name);
        if (!o) return concat({source, ": unknown option '", name, "'"});
        if (auto err = o->set(opts, value)) return concat({source, ": ", name, ": ", *err});
    }
    return std::nullopt;
}

std::optional<std::string> read_file(const std::string& path, std::vector<std::pair<std::string, std::string>>& out) {
    toml::table tbl;
    try {
        tbl = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        std::ostringstream msg;
        msg << "config file " << path << ": " << e.description() << " at line " << e.source().begin.line;
        return msg.str();
    }
    for (auto&& [k, node] : tbl) {
        std::string key(k.str());
        std::string name = key;
        for (char& c : name)
            if (c == '_') c = '-';
        std::string value;
        if (auto s = node.value<std::string>()) value = *s;
        else if (auto i = node.value<long long>()) value = std::to_string(*i);
        else if (auto b = node.value<bool>()) value = *b ? "true" : "false";
        else if (auto d = node.value<double>()) value = std::to_string(*d);
        else return concat({"config file ", path, ": ", key, ": unsupported value type"});
        if (!find(name)) return concat({"config file ", path, ": unknown key '", key, "'"});
        out.emplace_back(name, value);
    }
    return std::nullopt;
}

}  // namespace

LoadResult load(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
    LoadResult r;
    std::vector<std::pair<std::string, std::string>> flags;
    std::string config_path;
    if (auto it = env.find("MATOMO_GATEWAY_CONFIG"); it != env.end()) config_path = it->second;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--help" || a == "-h") r.action = Action::help;
        else if (a == "--version") r.action = Action::version;
        else if (a == "--check-config") r.action = Action::check_config;
        else if (a == "--options-table") r.action = Action::options_table;
        else if (a.rfind("--", 0) == 0) {
            std::string name = a.substr(2);
            std::string value;
            auto eq = name.find('=');
            if (eq != std::string::npos) {
                value = name.substr(eq + 1);
                name = name.substr(0, eq);
            } else if (i + 1 < args.size()) {
                value = args[++i];
            } else {
                r.error = "--" + name + ": missing value";
                return r;
            }
            if (name == "config") config_path = value;
            else if (!find(name)) {
                r.error = "unknown option --" + name + " (see --help)";
                return r;
            } else flags.emplace_back(name, value);
        } else {
            r.error = "unexpected argument '" + a + "' (see --help)";
            return r;
        }
    }
    if (r.action == Action::help) {
        r.output = help_text();
        return r;
    }
    if (r.action == Action::options_table) {
        r.output = markdown_table();
        return r;
    }
    if (r.action == Action::version) {
        r.output = std::string("matomo-gateway ") + MGW_VERSION + "\n";
        return r;
    }
    std::vector<std::pair<std::string, std::string>> from_file;
    if (!config_path.empty()) {
        if (auto err = read_file(config_path, from_file)) {
            r.error = *err;
            return r;
        }
    }
    std::vector<std::pair<std::string, std::string>> from_env;
    for (const auto& [k, v] : env) {
        if (k.rfind("MATOMO_GATEWAY_", 0) != 0 || k == "MATOMO_GATEWAY_CONFIG") continue;
        bool known = false;
        for (const auto& o : table()) {
            if (env_name(o.name) == k) {
                from_env.emplace_back(o.name, v);
                known = true;
            }
        }
        if (!known && is_kubernetes_service_variable(k, v)) {
            r.ignored_env.push_back(k);
        } else if (!known) {
            r.error = "environment: unknown variable " + k;
            return r;
        }
    }
    if (auto e = apply(r.options, from_file, "config file")) r.error = *e;
    else if (auto e2 = apply(r.options, from_env, "environment")) r.error = *e2;
    else if (auto e3 = apply(r.options, flags, "flag")) r.error = *e3;
    if (!r.error.empty()) return r;
    if (r.action == Action::run || r.action == Action::check_config) {
        // The one check both paths run, so --check-config's verdict is the start's.
        if (auto e = check_startup(r.options)) {
            r.error = *e;
            return r;
        }
    }
    if (const auto& g = r.options.monitor.guard; g.high_water > 0 && g.low_water >= g.high_water) {
        r.error = "redis-memory-low-water: must be below redis-memory-high-water (" + format_fraction(g.high_water) +
                  "), or the guard would switch on every sample";
        return r;
    }
    const auto& pe = r.options.public_edge;
    if (!pe.matomo_origin.empty() && (!pe.js_dir.empty() || !pe.js_tracker_file.empty())) {
        r.error = "matomo-origin: use either an origin or local files (js-dir, js-tracker-file), not both";
        return r;
    }
    if (pe.origin_connect_timeout.count() == 0 || pe.origin_timeout.count() == 0) {
        r.error = "origin-timeout-ms: the origin deadlines must be above 0";
        return r;
    }
    if (r.action == Action::check_config) {
        std::ostringstream out;
        for (const auto& o : table()) out << file_key(o.name) << " = \"" << o.get(r.options) << "\"\n";
        r.output = out.str();
    }
    return r;
}

std::string markdown_table() {
    std::ostringstream out;
    out << "| flag | environment | config key | default | meaning |\n|---|---|---|---|---|\n";
    for (const auto& o : table())
        out << "| `--" << o.name << "` | `" << env_name(o.name) << "` | `" << file_key(o.name) << "` | `"
            << o.get(defaults()) << "` | " << o.help << " |\n";
    return out.str();
}

}  // namespace mgw::config
