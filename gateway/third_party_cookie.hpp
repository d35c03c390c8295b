// The third-party visitor cookie QueuedTracking sets at the edge when Matomo's
// use_third_party_id_cookie is on (docs/wire-format.md, "Other details"; checklist item 37).
#pragma once

#include "gateway/options.hpp"

#include "php/params.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace mgw::gateway {

// The Set-Cookie value for one queued hit: the existing cookie's id, else the hit's _id (first 16
// characters when at least 16), else a fresh random id. `https` picks "secure; SameSite=None",
// which Safari user agents get without SameSite.
std::string third_party_set_cookie(const php::Params& hit, std::string_view existing_id, std::int64_t now, bool https,
                                   std::string_view user_agent, const TrackingOptions& opts);

}  // namespace mgw::gateway
