// Stage 3 of the tracking rules: what a request's sets share (env.server, env.cookie), grouping the
// queued hits into sets, and the sets' bytes (docs/wire-format.md: "The request-set document", "Entries the worker
// reads", "Value encoding").
#pragma once

#include "gateway/options.hpp"
#include "php/params.hpp"
#include "queue/request_set.hpp"
#include "tracking/request_view.hpp"

#include <boost/container/small_vector.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mgw::tracking {

// The env.server entries the worker reads (docs/wire-format.md: "Entries the worker reads"), from the request headers
// plus REMOTE_ADDR and REQUEST_METHOD. Proxy headers are never copied (docs/wire-format.md, "Client IP"). Values
// are views into `req` and `remote_addr`, except joined repeated headers and values with invalid UTF-8, which
// the list owns (from `sp`).
php::Params build_server_env(const RequestView& req, std::string_view remote_addr,
                             const boost::json::storage_ptr& sp = {});

// The cookies the worker reads (docs/wire-format.md: "Entries the worker reads"); other first-party cookies stay out of
// Redis (privacy).
struct RequestCookies {
    php::Params kept;                // env.cookie: the ignore cookie and the third-party id cookie
    std::string third_party;         // the third-party id cookie's value, empty unless that mode is on
    bool has_ignore_cookie = false;  // the visitor opted out (no Set-Cookie for them)
};
RequestCookies read_cookies(const RequestView& req, const gateway::TrackingOptions& opts,
                            const boost::json::storage_ptr& sp = {});

// One request set in the making.
struct Group {
    unsigned queue = 0;
    bool by_gateway = false;  // authorised by the gateway's token, not the request's
    queue::Hits hits;
};

// The sets of one request in the making: nearly always one, so held inline.
using Groups = boost::container::small_vector<Group, 2>;

// Groups hits per queue in order of first appearance. Gateway-authorised and client-authorised hits
// never share a set (rule T3, docs/wire-format.md); a hit the worker would throw on travels alone (deviation D3).
class SetGrouper {
public:
    explicit SetGrouper(unsigned queues);
    void add(php::Params&& hit, unsigned queue, bool by_gateway, bool alone);
    Groups& groups() { return groups_; }

private:
    std::size_t queues_;
    boost::container::small_vector<unsigned, 16> slot_of_;  // (queue, token owner) -> index in groups_
    Groups groups_;
};

struct OutgoingSet {
    unsigned queue_id = 0;
    std::string key;    // trackingQueueV1[_N]
    std::string value;  // compressed (or plain) request-set JSON
    std::size_t hits = 0;
};

// What every set of the request carries besides its hits.
struct SetEnvelope {
    php::Params server;
    php::Params cookies;
    std::optional<std::string> token;            // the request's token_auth (nullopt: JSON false)
    const std::string* gateway_token = nullptr;  // for sets authorised by the gateway
    std::int64_t time = 0;
};

// The sets of a request: nearly always one, so held inline.
using OutgoingSets = boost::container::small_vector<OutgoingSet, 1>;

// Encodes and compresses each group (queue::encode_json, queue::compress_value at `level`).
OutgoingSets encode_sets(const Groups& groups, const SetEnvelope& envelope, int level);

}  // namespace mgw::tracking
