// Stage 2 of the tracking rules, one hit at a time: strip configured URL parameters, authorise with
// the gateway's token and enrich (docs/wire-format.md: "Tokens"), validate (docs/wire-format.md: "Answers", "Tokens",
// "How the workers consume the queues") and choose the queue (docs/wire-format.md: "Queue choice").
#pragma once

#include "gateway/enrich.hpp"
#include "gateway/options.hpp"

#include "php/params.hpp"

#include <cstdint>
#include <string_view>

namespace mgw::tracking {

// What the hits of one request share.
struct HitContext {
    const gateway::EdgeContext& edge;
    const gateway::TrackingOptions& opts;
    std::int64_t now = 0;
    bool set_has_token = false;      // the request's (set's) token_auth is non-empty
    std::string_view third_party{};  // the third-party id cookie's value when that mode is on, else empty
};

struct HitVerdict {
    enum class Kind {
        queue,              // queue it (alone in its set when `problem` is set: deviation D3)
        refused,            // strict mode refuses it (reason `problem`); the others go on
        cip_without_token,  // the whole request is refused with 400 (docs/wire-format.md: "Queue choice")
    } kind = Kind::queue;
    unsigned queue = 0;
    bool by_gateway = false;         // its set is authorised by the gateway's token
    std::string_view problem;        // what the worker would throw on (compatible) or refuse (strict)
    std::size_t params_removed = 0;  // client parameters removed by the gateway's authorisation
};

// Applies the rules to `hit` (changing it: stripped parameters, gateway authorisation) and says
// what becomes of it.
HitVerdict judge_hit(php::Params& hit, const HitContext& ctx);

}  // namespace mgw::tracking
