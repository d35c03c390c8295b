// Edge validation of one hit (docs/wire-format.md: "Tokens", "How the workers consume the queues"). In compatible mode
// a hit the worker would throw on is still queued, but alone in its set so it cannot drop the hits after it (deviation
// D3); in strict mode it is refused, together with what the worker would skip anyway.
#pragma once

#include "gateway/options.hpp"

#include "php/params.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace mgw::gateway {

// A reason label when the worker would raise an exception for this hit (dropping the rest of
// its set), or empty. `has_token` is true when the set or the hit carries a token_auth.
std::string_view worker_exception_reason(const php::Params& hit, bool has_token, const TrackingOptions& opts,
                                         std::int64_t now);

// A reason label when strict mode refuses the hit (everything above, plus invalid or unlisted
// idsite, missing rec, malformed _id/cid, oversize values), or empty.
std::string_view strict_reason(const php::Params& hit, bool has_token, const TrackingOptions& opts, std::int64_t now);

// A custom timestamp (cdt) as UNIX seconds: digits, or "YYYY-MM-DD HH:MM:SS" with an optional
// numeric zone ("Z", "+0200"), as the mobile SDKs send it. nullopt when it can't be read.
std::optional<std::int64_t> parse_cdt(std::string_view cdt);

// parse_cdt for a value the gateway's own token will authorise: only when the whole text is one of
// those forms (digits; "YYYY-MM-DD HH:MM:SS" or with 'T', then nothing, "Z", "+HHMM" or "+HH:MM").
// Anything else is nullopt: the worker reads it with strtotime(), which understands far more than
// we do ("2024-01-01 10:00:00 -3 days" is three days earlier), so its age can't be judged here.
std::optional<std::int64_t> parse_cdt_exact(std::string_view cdt);

}  // namespace mgw::gateway
