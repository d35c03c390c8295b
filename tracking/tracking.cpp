#include "tracking/tracking.hpp"

#include "gateway/privacy.hpp"
#include "gateway/third_party_cookie.hpp"
#include "php/php.hpp"
#include "queue/queue_choice.hpp"
#include "tracking/hit_rules.hpp"
#include "tracking/request_form.hpp"

#include <boost/json/monotonic_resource.hpp>

#include <cstddef>

namespace mgw::tracking {
namespace {

TrackingResult refusal(TrackingKind kind, unsigned status, std::string_view reason) {
    TrackingResult r;
    r.kind = kind;
    r.status = status;
    r.reason = reason;
    return r;
}

bool has_client_token(const Incoming& in) {
    if (in.token && !php::php_empty(*in.token)) return true;
    return std::any_of(in.hits.begin(), in.hits.end(), [](const php::Params& h) {
        auto t = h.string("token_auth");
        return t && !php::php_empty(*t);
    });
}

// Runs the hit rules over every hit, groups the queued ones and sets `r`'s counts and cookies.
// False when the request as a whole is refused (cip without a token): `r` then says how.
bool queue_hits(Incoming& in, const RequestView& req, const HitContext& ctx, const RequestCookies& cookies,
                SetGrouper& grouper, TrackingResult& r) {
    const auto& opts = ctx.opts;
    for (auto& hit : in.hits) {
        const HitVerdict v = judge_hit(hit, ctx);
        r.params_removed += v.params_removed;
        if (v.kind == HitVerdict::Kind::refused) {
            r.reason = v.problem;
            ++r.rejected_hits;
            continue;
        }
        if (v.kind == HitVerdict::Kind::cip_without_token) {
            r = refusal(TrackingKind::reject, 400, "cip_without_token");
            return false;
        }
        if (opts.queue.third_party_cookie && !cookies.has_ignore_cookie) {
            r.set_cookies.push_back(
                gateway::third_party_set_cookie(hit, queue::third_party_cookie_id(cookies.third_party), ctx.now,
                                                ctx.edge.https, req.header("User-Agent"), opts));
        }
        ++r.hits;
        grouper.add(std::move(hit), v.queue, v.by_gateway, !v.problem.empty());
    }
    return true;
}

}  // namespace

TrackingResult build_tracking(const RequestView& req, const gateway::EdgeContext& edge,
                              const gateway::TrackingOptions& opts, std::int64_t now) {
    if (is_preflight(req)) return refusal(TrackingKind::preflight, 200, {});
    // Every parameter map of the request lives in one arena: no allocation per name or value, and
    // nothing to free one by one (boost::json skips destruction on a monotonic resource). Nothing
    // allocated from it outlives this call: the result holds only encoded sets.
    alignas(std::max_align_t) thread_local unsigned char arena_block[16384];
    boost::json::monotonic_resource arena(arena_block, sizeof arena_block);
    const boost::json::storage_ptr sp(&arena);
    Incoming in = read_hits(req, opts, sp);
    if (in.kind == Incoming::Kind::reject) return refusal(TrackingKind::reject, in.status, in.reason);
    TrackingResult r;
    r.send_image = in.send_image;
    if (in.kind == Incoming::Kind::no_hits) {
        r.reason = in.reason;
        return r;
    }
    if (opts.reject_client_tokens && has_client_token(in))
        return refusal(TrackingKind::reject, 403, "client_token_refused");
    if (opts.honor_dnt && gateway::dnt_requested(req.header("DNT"), req.header("X-Do-Not-Track"))) {
        // Answered like a queued hit (the worker would exclude it silently too), but never stored.
        r.kind = TrackingKind::queue;
        r.reason = "do_not_track";
        return r;
    }
    RequestCookies cookies = read_cookies(req, opts, sp);
    const HitContext ctx{edge, opts, now, in.token && !php::php_empty(*in.token), cookies.third_party};
    SetGrouper grouper(opts.queue.queues);
    if (!queue_hits(in, req, ctx, cookies, grouper, r)) return r;
    if (r.hits == 0) {
        // Strict mode refused every hit of the request.
        TrackingResult all = refusal(TrackingKind::reject, 400, r.reason);
        all.rejected_hits = r.rejected_hits;
        return all;
    }
    SetEnvelope envelope{build_server_env(req, edge.remote_addr, sp), std::move(cookies.kept), in.token,
                         edge.gateway_token, now};
    r.kind = TrackingKind::queue;
    r.sets = encode_sets(grouper.groups(), envelope, opts.compression_level);
    return r;
}

}  // namespace mgw::tracking
