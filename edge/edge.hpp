// The public edge: every browser-facing Matomo endpoint besides tracking (the tracker JavaScript,
// Tag Manager containers, Heatmap & Session Recording's configs.php, the opt-out) served from the
// gateway while Matomo itself stays private. The allow-list is path.cpp; the objects come from an
// Origin (the private Matomo or local files) through a cache:
//
//  * freshness per kind (--edge-fresh-*-ms); expired objects are revalidated with If-Modified-Since
//    / If-None-Match, and a 304 from the origin renews the copy without a transfer;
//  * single-flight: while an object is being fetched, every other request for it waits for that
//    fetch (bounded by the origin deadlines) instead of sending its own;
//  * stale on error: when the origin is down, slow, or answers 5xx, the last good copy is served
//    (counted as stale) and the origin is asked again after the object's freshness time;
//  * Tag Manager previews are never cached: every request goes to the origin;
//  * bounded memory: --edge-cache-bytes, least recently used objects evicted first;
//  * bounded origin load: at most 256 origin requests under way; beyond, stale copies or 503.
#pragma once

#include "edge/object.hpp"
#include "edge/options.hpp"
#include "edge/origin.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace mgw::edge {

using ReplyCallback = std::function<void(Reply)>;

class PublicEdge {
public:
    PublicEdge(std::unique_ptr<Origin> origin, const PublicEdgeOptions& opts, metrics::Metrics* metrics);
    PublicEdge(const PublicEdge&) = delete;
    PublicEdge& operator=(const PublicEdge&) = delete;

    // false when the target is not on the allow-list (or this origin does not serve its kind):
    // `reason` says why and the caller answers 404; nothing reaches the origin. Otherwise `done` is
    // called exactly once, possibly before serve returns, possibly on another thread. `req` need
    // not outlive the call.
    bool serve(const Request& req, ReplyCallback done, std::string_view& reason);

    std::size_t cached_bytes() const;

private:
    using Clock = std::chrono::steady_clock;
    struct Waiter {
        ClientInfo client;
        ReplyCallback done;
    };
    struct Entry {
        std::shared_ptr<const Object> obj;  // null until the first fetch succeeded
        Clock::time_point fresh_until{};
        bool stale = false;     // the origin failed at the last attempt
        bool fetching = false;  // a fetch is under way; `waiters` get its answer
        std::vector<Waiter> waiters;
        bool in_lru = false;
        std::list<std::string>::iterator lru;
        std::size_t bytes = 0;
    };

    std::chrono::milliseconds freshness(Kind k) const;
    void bypass(const std::shared_ptr<Target>& target, Waiter w);
    void on_fetched(const std::string& key, const std::shared_ptr<Target>& target, FetchResult r);
    // With mu_ held.
    void touch(const std::string& key, Entry& e);
    void drop(std::unordered_map<std::string, Entry>::iterator it);
    void evict_over_budget();
    void publish_state();

    std::unique_ptr<Origin> origin_;
    PublicEdgeOptions opts_;
    metrics::Metrics* metrics_;
    mutable std::mutex mu_;
    std::unordered_map<std::string, Entry> entries_;
    std::list<std::string> lru_;  // front: most recently used
    std::size_t bytes_ = 0;
    std::size_t inflight_ = 0;  // origin requests under way
};

// Builds the edge the options ask for: nullptr with an empty `error` when none is configured
// (no --matomo-origin, --js-dir or --js-tracker-file), nullptr with `error` when it can't start.
std::unique_ptr<PublicEdge> make_public_edge(boost::asio::any_io_executor ex, const PublicEdgeOptions& opts,
                                             metrics::Metrics* metrics, std::string& error);

}  // namespace mgw::edge
