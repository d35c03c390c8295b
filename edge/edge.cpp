// The cache and the single-flight fetches of the public edge (see edge.hpp).
#include "edge/edge.hpp"

#include <boost/beast/http/field.hpp>

namespace mgw::edge {
namespace http = boost::beast::http;

namespace {

// After a failed fetch, the origin is asked again no sooner than this (or the freshness time, if
// longer), so an origin that is down is not asked on every request.
constexpr std::chrono::milliseconds min_retry{1000};

// Origin requests under way at most. Clients choosing distinct objects (configs.php queries, unknown
// container ids) cannot turn the edge into a flood of connections to Matomo: beyond this, a request
// that would need the origin gets the cached copy (stale) or 503 + Retry-After.
constexpr std::size_t max_origin_inflight = 256;

Reply origin_busy(const ClientInfo& c) {
    auto r = answer_error(503, "the Matomo origin is busy\n", c, "error", "origin_busy");
    r.res.set(http::field::retry_after, "1");
    return r;
}

Reply origin_failure(FetchError e, const ClientInfo& c) {
    if (e == FetchError::timeout)
        return answer_error(504, "the Matomo origin did not answer in time\n", c, "error", "origin_timeout");
    return answer_error(502, "the Matomo origin is unavailable\n", c, "error", "origin_unavailable");
}

bool failed(const FetchResult& r) { return r.error != FetchError::none || r.status >= 500 || r.status < 200; }

}  // namespace

PublicEdge::PublicEdge(std::unique_ptr<Origin> origin, const PublicEdgeOptions& opts, metrics::Metrics* metrics)
    : origin_(std::move(origin)), opts_(opts), metrics_(metrics) {}

std::chrono::milliseconds PublicEdge::freshness(Kind k) const {
    switch (k) {
        case Kind::tracker: return opts_.fresh_tracker;
        case Kind::container: return opts_.fresh_container;
        case Kind::configs: return opts_.fresh_configs;
        case Kind::optout: return opts_.fresh_optout;
        default: return std::chrono::milliseconds(0);
    }
}

std::size_t PublicEdge::cached_bytes() const {
    std::lock_guard lock(mu_);
    return bytes_;
}

bool PublicEdge::serve(const Request& req, ReplyCallback done, std::string_view& reason) {
    auto c = classify(req.target());
    if (!c.target || !origin_->serves(c.target->kind)) {
        reason = c.target ? std::string_view("edge_not_served") : c.reason;
        return false;
    }
    auto target = std::make_shared<Target>(std::move(*c.target));
    Waiter w{client_info(req), std::move(done)};
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
        auto r = answer_error(405, "method not allowed\n", w.client, "rejected", "method_not_allowed");
        r.res.set(http::field::allow, "GET, HEAD");
        w.done(std::move(r));
        return true;
    }
    if (target->kind == Kind::preview) {
        bool busy = false;
        {
            std::lock_guard lock(mu_);
            busy = inflight_ >= max_origin_inflight;
            if (!busy) ++inflight_;
        }
        if (busy) {
            metrics_->edge_request(target->kind, metrics::EdgeOutcome::error);
            w.done(origin_busy(w.client));
            return true;
        }
        bypass(target, std::move(w));
        return true;
    }
    // The opt-out is written in the visitor's language when the embed code does not name one.
    std::string key = target->cache_key;
    FetchRequest fetch;
    fetch.target = target.get();
    if (target->kind == Kind::optout) {
        // Bounded like a header value can be; a client's odd value only splits its own cache entry.
        fetch.accept_language = std::string(req[http::field::accept_language].substr(0, 256));
        key += "\n" + fetch.accept_language;
    }
    {
        std::unique_lock lock(mu_);
        Entry& e = entries_[key];
        if (e.obj && Clock::now() < e.fresh_until) {
            auto obj = e.obj;
            const bool stale = e.stale;
            touch(key, e);
            lock.unlock();
            metrics_->edge_request(target->kind, stale ? metrics::EdgeOutcome::stale : metrics::EdgeOutcome::hit);
            w.done(answer(obj, w.client, stale ? "stale" : "hit"));
            return true;
        }
        if (!e.fetching && inflight_ >= max_origin_inflight) {
            auto obj = e.obj;
            if (!obj) entries_.erase(key);
            lock.unlock();
            metrics_->edge_request(target->kind, obj ? metrics::EdgeOutcome::stale : metrics::EdgeOutcome::error);
            w.done(obj ? answer(obj, w.client, "stale") : origin_busy(w.client));
            return true;
        }
        e.waiters.push_back(std::move(w));
        if (e.fetching) return true;
        e.fetching = true;
        ++inflight_;
        if (e.obj) {
            fetch.if_modified_since = e.obj->last_modified;
            fetch.if_none_match = e.obj->etag;
        }
    }
    metrics_->edge_origin_request(target->kind);
    origin_->fetch(fetch,
                   [this, key = std::move(key), target](FetchResult r) { on_fetched(key, target, std::move(r)); });
    return true;
}

void PublicEdge::bypass(const std::shared_ptr<Target>& target, Waiter w) {
    metrics_->edge_origin_request(target->kind);
    FetchRequest fetch;
    fetch.target = target.get();
    auto shared_w = std::make_shared<Waiter>(std::move(w));
    origin_->fetch(fetch, [this, target, shared_w](FetchResult r) {
        {
            std::lock_guard lock(mu_);
            --inflight_;
        }
        if (failed(r)) {
            metrics_->edge_origin_error(target->kind);
            metrics_->edge_request(target->kind, metrics::EdgeOutcome::error);
            return shared_w->done(origin_failure(r.error, shared_w->client));
        }
        metrics_->edge_request(target->kind, metrics::EdgeOutcome::bypass);
        shared_w->done(answer(make_object(std::move(r)), shared_w->client, "bypass"));
    });
}

void PublicEdge::on_fetched(const std::string& key, const std::shared_ptr<Target>& target, FetchResult r) {
    const Kind kind = target->kind;
    const bool bad = failed(r);
    const FetchError error = r.error;
    const bool renews = !bad && r.status == 304;
    const bool cacheable = !bad && (r.status == 200 || r.status == 404);
    // Built (and gzipped) before taking the lock.
    std::shared_ptr<const Object> fresh_obj = bad || renews ? nullptr : make_object(std::move(r));
    if (bad) metrics_->edge_origin_error(kind);
    const auto now = Clock::now();
    std::vector<Waiter> waiters;
    std::shared_ptr<const Object> serve_obj;
    metrics::EdgeOutcome first = metrics::EdgeOutcome::miss;
    {
        std::lock_guard lock(mu_);
        --inflight_;
        auto it = entries_.find(key);
        if (it == entries_.end()) return;  // cannot happen: an entry being fetched is never dropped
        Entry& e = it->second;
        waiters = std::move(e.waiters);
        e.waiters.clear();
        e.fetching = false;
        if (bad) {
            if (e.obj) {
                e.stale = true;
                e.fresh_until = now + std::max(freshness(kind), min_retry);
                serve_obj = e.obj;
                first = metrics::EdgeOutcome::stale;
            } else {
                first = metrics::EdgeOutcome::error;
                drop(it);
            }
        } else if (renews && e.obj) {
            e.stale = false;
            e.fresh_until = now + freshness(kind);
            serve_obj = e.obj;
            first = metrics::EdgeOutcome::revalidated;
            touch(key, e);
        } else if (renews) {
            // A 304 to an unconditional request: the origin is confused; nothing to serve.
            metrics_->edge_origin_error(kind);
            first = metrics::EdgeOutcome::error;
            drop(it);
        } else if (cacheable && fresh_obj->bytes() <= opts_.cache_bytes / 2) {
            bytes_ -= e.bytes;
            e.obj = fresh_obj;
            e.bytes = fresh_obj->bytes();
            bytes_ += e.bytes;
            e.stale = false;
            e.fresh_until = now + freshness(kind);
            serve_obj = fresh_obj;
            touch(key, e);
            evict_over_budget();
        } else {
            // Other statuses (403, 3xx...) and objects too big to keep are passed on, not kept.
            serve_obj = fresh_obj;
            drop(it);
        }
        publish_state();
    }
    for (std::size_t i = 0; i < waiters.size(); ++i) {
        auto& w = waiters[i];
        // Everyone after the first joined a fetch already under way.
        auto outcome = first;
        if (i > 0 && first != metrics::EdgeOutcome::stale && first != metrics::EdgeOutcome::error)
            outcome = metrics::EdgeOutcome::coalesced;
        metrics_->edge_request(kind, outcome);
        if (!serve_obj) {
            w.done(origin_failure(error, w.client));
            continue;
        }
        w.done(answer(serve_obj, w.client, metrics::to_string(outcome)));
    }
}

void PublicEdge::touch(const std::string& key, Entry& e) {
    if (e.in_lru) lru_.erase(e.lru);
    lru_.push_front(key);
    e.lru = lru_.begin();
    e.in_lru = true;
}

void PublicEdge::drop(std::unordered_map<std::string, Entry>::iterator it) {
    if (it->second.in_lru) lru_.erase(it->second.lru);
    bytes_ -= it->second.bytes;
    entries_.erase(it);
}

void PublicEdge::evict_over_budget() {
    std::size_t evicted = 0;
    auto pos = lru_.end();
    while (bytes_ > opts_.cache_bytes && pos != lru_.begin()) {
        --pos;
        auto it = entries_.find(*pos);
        // An object being revalidated stays: its waiters will be answered from it.
        if (it == entries_.end() || it->second.fetching) continue;
        auto victim = pos++;
        (void)victim;
        drop(it);
        ++evicted;
    }
    if (evicted) metrics_->edge_evicted(evicted);
}

void PublicEdge::publish_state() {
    metrics_->edge_cache_state(static_cast<double>(bytes_), static_cast<double>(lru_.size()));
}

std::unique_ptr<PublicEdge> make_public_edge(boost::asio::any_io_executor ex, const PublicEdgeOptions& opts,
                                             metrics::Metrics* metrics, std::string& error) {
    error.clear();
    std::unique_ptr<Origin> origin;
    if (!opts.matomo_origin.empty()) {
        if (!opts.js_dir.empty() || !opts.js_tracker_file.empty()) {
            error = "matomo-origin: use either an origin or local files (--js-dir, --js-tracker-file), not both";
            return nullptr;
        }
        origin = make_http_origin(std::move(ex), opts.matomo_origin, opts.origin_connect_timeout, opts.origin_timeout,
                                  opts.origin_max_bytes, error);
    } else if (!opts.js_dir.empty() || !opts.js_tracker_file.empty()) {
        origin = make_file_origin(opts.js_dir, opts.js_tracker_file, opts.origin_max_bytes, error);
    } else {
        return nullptr;
    }
    if (!origin) return nullptr;
    return std::make_unique<PublicEdge>(std::move(origin), opts, metrics);
}

}  // namespace mgw::edge
