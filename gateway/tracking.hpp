// From one HTTP request to the request sets to push (docs/wire-format.md: "The request-set document", "Queue choice"): the pure part of the hit
// path. No sockets: the session calls it with the parsed request and the resolved client IP.
#pragma once

#include "gateway/enrich.hpp"
#include "gateway/options.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mgw::gateway {

using Request = boost::beast::http::request<boost::beast::http::string_body>;

struct OutgoingSet {
    unsigned queue_id = 0;
    std::string key;    // trackingQueueV1[_N]
    std::string value;  // compressed (or plain) request-set JSON
    std::size_t hits = 0;
};

enum class TrackingKind {
    queue,      // push `sets`, then answer 200 GIF / 204
    no_hits,    // answer R2 (docs/wire-format.md): 200 with an empty body, nothing queued
    preflight,  // answer R1: CORS preflight
    reject,     // answer `status` with `reason`, nothing queued
};

struct TrackingResult {
    TrackingKind kind = TrackingKind::no_hits;
    bool send_image = true;  // false: 204 instead of the GIF
    std::vector<OutgoingSet> sets;
    std::size_t hits = 0;
    unsigned status = 200;                 // for reject
    std::string_view reason;               // bounded label for logs and metrics, empty when none
    std::size_t rejected_hits = 0;         // strict mode: hits of a bulk refused while others were queued
    std::vector<std::string> set_cookies;  // third-party cookie mode: one Set-Cookie per queued hit
    std::size_t params_removed = 0;        // client parameters removed from gateway-authorised hits
    bool geo_added = false;                // some hit carries the gateway's location parameters
};

// `edge` carries the resolved IP, what REMOTE_ADDR gets and the geo result; `now` is the enqueue time.
TrackingResult build_tracking(const Request& req, const EdgeContext& edge, const TrackingOptions& opts,
                              std::int64_t now);

// The env.server entries the worker reads (docs/wire-format.md), from the request headers plus REMOTE_ADDR
// and REQUEST_METHOD. Proxy headers are never copied (checklist item 13).
std::vector<std::pair<std::string, std::string>> build_server_env(const Request& req, std::string_view client_ip);

}  // namespace mgw::gateway
