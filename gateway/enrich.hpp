// The enrich stage of the hit path (docs/wire-format.md: "Client IP", Option A of "Geolocation", "Tokens"): what the
// gateway adds to or removes from a hit on its way to Redis: the location as override parameters authorised by the
// gateway's own token, and the removal of every privileged parameter a client sent in such a set.
#pragma once

#include "gateway/options.hpp"
#include "geoip/geo.hpp"

#include "php/params.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace mgw::gateway {

// What the session knows about the request before the pure tracking part runs.
struct EdgeContext {
    std::string_view client_ip;                  // resolved client IP, canonical (geo looks this up)
    std::string_view remote_addr;                // REMOTE_ADDR as queued: anonymised when configured
    bool https = false;                          // X-Forwarded-Proto: https from a trusted proxy
    const geoip::GeoResult* geo = nullptr;       // lookup result, null when none (or geo off)
    const std::string* gateway_token = nullptr;  // Write token of --matomo-token-file, null when none
};

// Reads a token file: the first line, trimmed. An error message when unreadable or empty.
std::optional<std::string> read_token_file(const std::string& path, std::string& token);

// Prepares `hit` for a set authorised by the gateway's token (rules T1 and T2 in docs/wire-format.md): removes
// token_auth, cip, country, region, city, lat, long, and a cdt / cdo older than the no-token window
// (a recent cdt stays: the mobile SDKs send one without a token), then adds the geo parameters.
// Returns the number of client parameters removed.
std::size_t authorise_with_gateway_geo(php::Params& hit, const geoip::GeoResult& geo, const TrackingOptions& opts,
                                       std::int64_t now);

}  // namespace mgw::gateway
