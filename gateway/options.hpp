// Every setting of the gateway as plain structs with defaults. The config
// library fills them from flags, MATOMO_GATEWAY_* variables and the config file.
#pragma once

#include "edge/options.hpp"
#include "php/php.hpp"
#include "queue/queue_choice.hpp"
#include "queue/queue_monitor.hpp"
#include "queue/redis_options.hpp"
#include "spool/durable_sink.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mgw::gateway {

struct ServerOptions {
    std::string listen = "127.0.0.1:8080";
    std::string admin_listen = "127.0.0.1:9090";
    unsigned threads = 0;                            // 0: one per core
    bool sched_batch = true;                         // SCHED_BATCH for every thread (from SCHED_OTHER only)
    std::size_t max_header_bytes = 16UL * 1024;      // request line + headers
    std::size_t max_body_bytes = 8UL * 1024 * 1024;  // PHP's post_max_size default
    std::chrono::milliseconds read_timeout{10000};   // to receive one whole request
    std::chrono::milliseconds idle_timeout{30000};   // keep-alive wait for the next request
    std::size_t max_connections = 10000;
    std::chrono::milliseconds drain_delay{0};        // /readyz 503 before listeners close
    std::chrono::milliseconds drain_timeout{15000};  // wait for in-flight hits at most this long
    bool access_log = true;
    double access_log_sample = 1.0;                 // fraction of requests logged
    std::vector<std::string> extra_tracking_paths;  // more paths that behave like /matomo.php
};

enum class Validation {
    compatible,  // queue what stock queues; hits the worker would throw on get a set of their own (deviation D3)
    strict,      // refuse at the edge (400) what the worker would drop anyway
};

struct TrackingOptions {
    queue::QueueChoiceOptions queue;
    int compression_level = 1;                         // 0 writes plain JSON; 1 measured best (docs/performance.md)
    std::string ignore_cookie_name = "matomo_ignore";  // [Tracker] ignore_visits_cookie_name
    std::string third_party_cookie_name = "_pk_uid";   // [Tracker] cookie_name
    std::int64_t cookie_expire = 33955200;             // [Tracker] cookie_expire, seconds
    std::string cookie_path;                           // [Tracker] cookie_path
    std::string cookie_domain;                         // [Tracker] cookie_domain
    std::vector<std::string> cors_domains;             // [General] cors_domains[]
    Validation validation = Validation::compatible;
    std::vector<std::int64_t> sites;  // strict mode: allowed idsite values (empty: any)
    std::int64_t cdt_no_token_window =
        86400;                            // tracking_requests_require_authentication_when_custom_timestamp_newer_than
    std::size_t max_bulk_hits = 10000;    // hits in one bulk body (over: 413)
    std::size_t max_param_bytes = 65536;  // one parameter value (over: 400 in strict mode)
    php::ParseLimits parse_limits;
    // Privacy and privileges at the edge (docs/wire-format.md: "Client IP", "Geolocation", "Tokens").
    int anonymize_ipv4_bytes = 0;               // 0..3 trailing bytes zeroed before queuing
    int anonymize_ipv6_level = 0;               // 0..3: keep /128, /64, /48, /24
    bool honor_dnt = false;                     // drop hits with DNT: 1 at the edge
    std::vector<std::string> strip_url_params;  // removed from url and urlref
    bool reject_client_tokens = false;          // --client-tokens=reject
};

// Client IP resolution and geolocation.
struct EdgeOptions {
    std::vector<std::string> trusted_proxies;               // CIDR blocks; empty: trust nobody
    std::string proxy_headers = "x-forwarded-for";          // honoured header(s), in order of preference
    bool proxy_protocol = false;                            // expect HAProxy's PROXY header from trusted peers
    std::string geoip_database;                             // .mmdb file; empty: no geolocation
    std::chrono::milliseconds geoip_check_interval{10000};  // file-change check for hot reload
    std::string matomo_token_file;                          // Write-access token for the geo override parameters
};

struct Options {
    ServerOptions server;
    TrackingOptions tracking;
    EdgeOptions edge;
    edge::PublicEdgeOptions public_edge;  // --matomo-origin, --js-dir, --js-tracker-file and the cache
    queue::RedisOptions redis;
    spool::DurableOptions durability;  // --ack, the spool and its replay
    queue::MonitorOptions monitor;     // queue sampling and the Redis memory guard
    std::string redis_url = "redis://127.0.0.1:6379/0";
    std::string log_level = "info";
    // While Redis is unavailable, an error log line this often (0: only the first warning).
    std::chrono::milliseconds redis_down_log_interval{30000};
};

}  // namespace mgw::gateway
