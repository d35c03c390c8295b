#include "tracking/hit_rules.hpp"

#include "gateway/privacy.hpp"
#include "gateway/validation.hpp"
#include "php/php.hpp"
#include "queue/queue_choice.hpp"

namespace mgw::tracking {

HitVerdict judge_hit(php::Params& hit, const HitContext& ctx) {
    const auto& opts = ctx.opts;
    HitVerdict v;
    for (const auto& name : {"url", "urlref"}) {
        if (opts.strip_url_params.empty()) break;
        if (auto text = hit.text(name)) hit.set(name, gateway::strip_query_params(*text, opts.strip_url_params));
    }
    auto hit_token = hit.string("token_auth");
    const bool client_token = ctx.set_has_token || (hit_token && !php::php_empty(*hit_token));
    v.by_gateway = ctx.edge.gateway_token && ctx.edge.geo && !client_token;
    if (v.by_gateway) v.params_removed = gateway::authorise_with_gateway_geo(hit, *ctx.edge.geo, opts, ctx.now);
    const bool has_token = client_token || v.by_gateway;
    const bool strict = opts.validation == gateway::Validation::strict;
    v.problem = strict ? gateway::strict_reason(hit, has_token, opts, ctx.now)
                       : gateway::worker_exception_reason(hit, has_token, opts, ctx.now);
    if (strict && !v.problem.empty()) {
        v.kind = HitVerdict::Kind::refused;
        return v;
    }
    auto q = queue::choose_queue(hit, ctx.edge.remote_addr, ctx.third_party, has_token, opts.queue);
    if (!q) {
        v.kind = HitVerdict::Kind::cip_without_token;
        return v;
    }
    v.queue = *q;
    return v;
}

}  // namespace mgw::tracking
