// Stage 1 of the tracking rules: recognise the request form (CORS preflight, GET/HEAD query, form
// POST, bulk JSON) and read its hits, the request's token and send_image (docs/wire-format.md: "Answers", R1-R4).
#pragma once

#include "gateway/options.hpp"
#include "queue/request_set.hpp"
#include "tracking/request_view.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mgw::tracking {

// R1: OPTIONS with Access-Control-Request-Method or -Headers.
bool is_preflight(const RequestView& req);

// Content-Type application/x-www-form-urlencoded (parameters after ';' ignored).
bool is_form(std::string_view content_type);

// BulkTracking's test: the raw body contains "requests" or 'requests' at an offset > 0.
bool is_bulk(std::string_view body);

enum class BulkParse { ok, invalid, too_many };

// Bulk entries: strings are parsed as URLs whose query component becomes the hit (entries without a
// non-empty query are skipped); objects are taken as they are. `json_token` gets the body's
// token_auth when it is a string. The hits are allocated from `sp`.
BulkParse parse_bulk(std::string_view raw, const gateway::TrackingOptions& opts, queue::Hits& hits,
                     std::optional<std::string>& json_token, const boost::json::storage_ptr& sp = {});

// What a request brings, before any rule about its hits.
struct Incoming {
    enum class Kind { hits, no_hits, reject } kind = Kind::hits;
    queue::Hits hits;                  // in request order
    std::optional<std::string> token;  // the set's token_auth; nullopt: JSON false
    bool send_image = true;
    unsigned status = 200;    // for reject
    std::string_view reason;  // no_hits / reject: bounded label, empty when none
};

// $_GET and $_POST as stock parses them, then the bulk body or the single hit ($_GET + $_POST). The
// hits are allocated from `sp` (build_tracking passes a per-request arena).
Incoming read_hits(const RequestView& req, const gateway::TrackingOptions& opts,
                   const boost::json::storage_ptr& sp = {});

}  // namespace mgw::tracking
