#include "tracking/request_sets.hpp"

#include "php/php.hpp"
#include "queue/compressor.hpp"
#include "queue/queue_choice.hpp"
#include "queue/request_set.hpp"
#include "queue/string_pool.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace mgw::tracking {
namespace {

// Request headers the worker consults (docs/wire-format.md: "Entries the worker reads"), copied as HTTP_* keys, with
// those keys. Everything else, and in particular every proxy header (X-Forwarded-For, Client-IP, ...), stays out of
// env.server.
struct CopiedHeader {
    std::string_view name;
    std::string_view key;
};
constexpr std::array<CopiedHeader, 9> kCopiedHeaders = {{{"User-Agent", "HTTP_USER_AGENT"},
                                                         {"Accept-Language", "HTTP_ACCEPT_LANGUAGE"},
                                                         {"Referer", "HTTP_REFERER"},
                                                         {"DNT", "HTTP_DNT"},
                                                         {"X-Do-Not-Track", "HTTP_X_DO_NOT_TRACK"},
                                                         {"X-Purpose", "HTTP_X_PURPOSE"},
                                                         {"X-Moz", "HTTP_X_MOZ"},
                                                         {"Via", "HTTP_VIA"},
                                                         {"X-Requested-With", "HTTP_X_REQUESTED_WITH"}}};

std::string php_server_key(std::string_view header) {
    std::string key = "HTTP_";
    for (char c : header) key.push_back(c == '-' ? '_' : static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c));
    return key;
}

// The env.server key of a header the worker reads (owned by `env` when it is built from the name), or
// empty for any other header.
std::string_view server_key(std::string_view name, php::Params& env) {
    for (const auto& h : kCopiedHeaders)
        if (iequals(name, h.name)) return h.key;
    if (name.size() >= 9 && iequals(name.substr(0, 9), "Sec-CH-UA")) return env.keep(php_server_key(name));
    return {};
}

}  // namespace

php::Params build_server_env(const RequestView& req, std::string_view remote_addr, const boost::json::storage_ptr& sp) {
    php::Params env(sp);
    env.append_view("REMOTE_ADDR", remote_addr);
    env.append_view("REQUEST_METHOD", req.method);
    for (const auto& f : req.headers) {
        const std::string_view key = server_key(f.name, env);
        if (key.empty()) continue;
        std::string_view value = f.value;
        if (!php::valid_utf8(value)) {
            std::string scrubbed(value);
            php::scrub_utf8(scrubbed);
            value = env.keep(scrubbed);
        }
        // Repeated headers are joined as the web server does before PHP sees them.
        if (const auto earlier = env.text(key))
            env.set_view(key, env.keep(std::string(*earlier) + ", " + std::string(value)));
        else env.append_view(key, value);
    }
    return env;
}

RequestCookies read_cookies(const RequestView& req, const gateway::TrackingOptions& opts,
                            const boost::json::storage_ptr& sp) {
    boost::json::object cookies(sp);
    for (const auto& f : req.headers)
        if (iequals(f.name, "Cookie")) php::parse_cookies(f.value, cookies, opts.parse_limits);
    RequestCookies out;
    for (const auto& name : {opts.ignore_cookie_name, opts.third_party_cookie_name}) {
        if (auto it = cookies.find(name); it != cookies.end() && it->value().is_string()) {
            out.kept.set(name, it->value().get_string());
            if (name == opts.third_party_cookie_name) out.third_party = it->value().get_string();
        }
    }
    if (!opts.queue.third_party_cookie) out.third_party.clear();
    out.has_ignore_cookie = cookies.find(opts.ignore_cookie_name) != cookies.end();
    return out;
}

SetGrouper::SetGrouper(unsigned queues) : queues_(queues > 0 ? queues : 1), slot_of_(2 * queues_, UINT32_MAX) {}

void SetGrouper::add(php::Params&& hit, unsigned queue, bool by_gateway, bool alone) {
    if (alone) {
        groups_.push_back(Group{queue, by_gateway, {}});
        groups_.back().hits.push_back(std::move(hit));
        return;
    }
    const std::size_t slot = queue + (by_gateway ? queues_ : 0);
    if (slot_of_[slot] == UINT32_MAX) {
        slot_of_[slot] = static_cast<unsigned>(groups_.size());
        groups_.push_back(Group{queue, by_gateway, {}});
    }
    groups_[slot_of_[slot]].hits.push_back(std::move(hit));
}

OutgoingSets encode_sets(const Groups& groups, const SetEnvelope& envelope, int level) {
    OutgoingSets out;
    out.reserve(groups.size());
    const std::string* const request_token = envelope.token ? &*envelope.token : nullptr;
    for (const auto& group : groups) {
        // Encoded where the parts are: nothing is moved or copied into a RequestSet.
        const queue::SetParts set{group.hits, envelope.server, envelope.cookies,
                                  group.by_gateway ? envelope.gateway_token : request_token, envelope.time};
        OutgoingSet o;
        o.queue_id = group.queue;
        o.hits = group.hits.size();
        // The key and the value reuse the memory of sets Redis has stored (queue/string_pool.hpp).
        o.key = queue::take_string(32);
        queue::queue_key_into(group.queue, o.key);
        o.value = queue::take_string(512);
        if (level > 0) {
            // The JSON only lives until it is compressed: the thread keeps one buffer for it.
            thread_local std::string json;
            queue::encode_json_into(set, json);
            queue::compress_value_into(json, level, o.value);
        } else {
            queue::encode_json_into(set, o.value);
        }
        out.push_back(std::move(o));
    }
    return out;
}

}  // namespace mgw::tracking
