// Matomo's tracking rules, from one request to the request sets to push (docs/wire-format.md: "Answers", "The
// request-set document", "Queue choice"): pure, no sockets, no HTTP library. The stages, each usable and tested on its
// own:
//   request_form  recognise the form, read the hits, the token and send_image
//   hit_rules     per hit: strip, authorise and enrich, validate, choose the queue
//   request_sets  env.server and env.cookie, grouping into sets, encoding and compression
#pragma once

#include "gateway/enrich.hpp"
#include "gateway/options.hpp"
#include "tracking/request_sets.hpp"
#include "tracking/request_view.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mgw::tracking {

enum class TrackingKind {
    queue,      // push `sets`, then answer 200 GIF / 204
    no_hits,    // R2: 200 with an empty body, nothing queued
    preflight,  // R1: CORS preflight
    reject,     // answer `status` with `reason`, nothing queued
};

struct TrackingResult {
    TrackingKind kind = TrackingKind::no_hits;
    bool send_image = true;  // false: 204 instead of the GIF
    OutgoingSets sets;
    std::size_t hits = 0;
    unsigned status = 200;                 // for reject
    std::string_view reason;               // bounded label for logs and metrics, empty when none
    std::size_t rejected_hits = 0;         // strict mode: hits of a bulk refused while others were queued
    std::vector<std::string> set_cookies;  // third-party cookie mode: one Set-Cookie per queued hit
    std::size_t params_removed = 0;        // client parameters removed from gateway-authorised hits
};

// `edge` carries the resolved IP, what REMOTE_ADDR gets and the geo result; `now` is the enqueue time.
TrackingResult build_tracking(const RequestView& req, const gateway::EdgeContext& edge,
                              const gateway::TrackingOptions& opts, std::int64_t now);

}  // namespace mgw::tracking
