// Request forms (GET/HEAD query, form POST, bulk JSON), token and send_image rules, queue grouping
// and encoding. Stock behaviour unless a comment names a deviation (D1-D10 in docs/wire-format.md).
#include "gateway/tracking.hpp"

#include "gateway/privacy.hpp"
#include "gateway/third_party_cookie.hpp"
#include "gateway/validation.hpp"
#include "queue/compressor.hpp"
#include "queue/request_set.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>

#include <algorithm>
#include <array>

namespace mgw::gateway {
namespace http = boost::beast::http;
namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// Request headers the worker consults (docs/wire-format.md, "Entries the worker reads"), copied as HTTP_* keys. Everything else, and in
// particular every proxy header (X-Forwarded-For, Client-IP, ...), stays out of env.server.
constexpr std::array<std::string_view, 9> kCopiedHeaders = {"User-Agent",      "Accept-Language", "Referer", "DNT",
                                                            "X-Do-Not-Track",  "X-Purpose",       "X-Moz",   "Via",
                                                            "X-Requested-With"};

std::string php_server_key(std::string_view header) {
    std::string key = "HTTP_";
    for (char c : header)
        key.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    return key;
}

bool is_form(const Request& req) {
    auto ct = req[http::field::content_type];
    auto semi = ct.find(';');
    auto base = ct.substr(0, semi);
    while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
    return iequals(base, "application/x-www-form-urlencoded");
}

// BulkTracking's test: the raw body contains "requests" or 'requests' at an offset > 0.
bool is_bulk(std::string_view body) {
    auto a = body.find("\"requests\"");
    auto b = body.find("'requests'");
    return (a != std::string_view::npos && a > 0) || (b != std::string_view::npos && b > 0);
}

std::optional<std::string> string_param(const boost::json::object& o, std::string_view name) {
    return queue::param_string(o, name);
}

// Bulk entries: strings are parsed as URLs whose query component becomes the hit (entries without
// a non-empty query are skipped); objects are taken as they are.
enum class BulkParse { ok, invalid, too_many };

BulkParse parse_bulk(std::string_view raw, const TrackingOptions& opts, std::vector<boost::json::object>& hits,
                     std::optional<std::string>& json_token) {
    std::string body;
    body.reserve(raw.size());
    for (char c : raw)
        if (c != '\r' && c != '\n') body.push_back(c);
    boost::json::parse_options po;
    po.max_depth = 64;
    boost::system::error_code ec;
    boost::json::value doc = boost::json::parse(body, ec, {}, po);
    if (ec || !doc.is_object()) return BulkParse::invalid;
    auto& obj = doc.get_object();
    if (auto tok = obj.find("token_auth"); tok != obj.end() && tok->value().is_string())
        json_token = std::string(tok->value().get_string());
    auto it = obj.find("requests");
    if (it == obj.end() || !it->value().is_array()) return BulkParse::invalid;
    if (it->value().get_array().size() > opts.max_bulk_hits) return BulkParse::too_many;
    for (auto& entry : it->value().get_array()) {
        if (entry.is_string()) {
            std::string_view s = entry.get_string();
            auto q = s.find('?');
            if (q == std::string_view::npos) continue;
            std::string_view query = s.substr(q + 1);
            query = query.substr(0, query.find('#'));
            if (query.empty()) continue;
            boost::json::object params;
            php::parse_str(query, params, opts.parse_limits);
            if (!params.empty()) hits.push_back(std::move(params));
        } else if (entry.is_object()) {
            hits.push_back(std::move(entry.get_object()));
        }
    }
    return BulkParse::ok;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> build_server_env(const Request& req, std::string_view client_ip) {
    std::vector<std::pair<std::string, std::string>> env;
    env.reserve(8);
    env.emplace_back("REMOTE_ADDR", std::string(client_ip));
    env.emplace_back("REQUEST_METHOD", std::string(req.method_string()));
    for (const auto& f : req) {
        std::string_view name = f.name_string();
        bool copy = name.size() >= 9 && iequals(name.substr(0, 9), "Sec-CH-UA");
        for (auto h : kCopiedHeaders) copy = copy || iequals(name, h);
        if (!copy) continue;
        std::string key = php_server_key(name);
        std::string value(f.value());
        php::scrub_utf8(value);
        // Repeated headers are joined as the web server does before PHP sees them.
        auto existing = std::find_if(env.begin(), env.end(), [&](auto& kv) { return kv.first == key; });
        if (existing != env.end()) existing->second += ", " + value;
        else env.emplace_back(std::move(key), std::move(value));
    }
    return env;
}

TrackingResult build_tracking(const Request& req, const EdgeContext& edge, const TrackingOptions& opts,
                              std::int64_t now) {
    TrackingResult result;
    const auto method = req.method();
    if (method == http::verb::options && (req.count(http::field::access_control_request_method) ||
                                          req.count(http::field::access_control_request_headers))) {
        result.kind = TrackingKind::preflight;
        return result;
    }

    std::string_view target = req.target();
    auto qpos = target.find('?');
    std::string_view query = qpos == std::string_view::npos ? std::string_view{} : target.substr(qpos + 1);
    std::string_view body = req.body();

    boost::json::object get_params;
    php::ParseResult get_res = php::parse_str(query, get_params, opts.parse_limits);
    boost::json::object post_params;
    php::ParseResult post_res;
    if (method == http::verb::post && is_form(req)) post_res = php::parse_str(body, post_params, opts.parse_limits);
    if (get_res.over_max_vars || post_res.over_max_vars) {
        result.kind = TrackingKind::reject;
        result.status = 400;
        result.reason = "too_many_parameters";
        return result;
    }

    auto lookup = [&](std::string_view name) -> std::optional<std::string> {
        if (auto v = string_param(get_params, name)) return v;
        return string_param(post_params, name);
    };

    // send_image comes from $_GET / $_POST only; a bulk body's own send_image is ignored (answer R4, docs/wire-format.md).
    if (auto si = lookup("send_image")) result.send_image = *si != "0";

    std::vector<boost::json::object> hits;
    std::optional<std::string> token;  // nullopt: JSON false
    if (is_bulk(body)) {
        std::optional<std::string> json_token;
        switch (parse_bulk(body, opts, hits, json_token)) {
            case BulkParse::ok: break;
            case BulkParse::invalid:
                result = TrackingResult{};
                result.reason = "bulk_invalid_json";
                return result;  // R2
            case BulkParse::too_many:
                result = TrackingResult{};
                result.kind = TrackingKind::reject;
                result.status = 413;
                result.reason = "bulk_too_many_hits";
                return result;
        }
        // A token in the query string or form wins over the body's; bulk defaults to "".
        auto t = lookup("token_auth");
        token = (t && !php::php_empty(*t)) ? *t : json_token.value_or(std::string());
    } else {
        php::array_union(get_params, post_params);
        if (!get_params.empty()) hits.push_back(std::move(get_params));
        if (!hits.empty()) token = string_param(hits.front(), "token_auth");
    }
    if (hits.empty()) {
        result.send_image = true;
        return result;  // R2
    }
    const bool set_has_token = token && !php::php_empty(*token);
    if (opts.reject_client_tokens) {
        bool any = set_has_token;
        for (const auto& h : hits) {
            auto t = string_param(h, "token_auth");
            any = any || (t && !php::php_empty(*t));
        }
        if (any) {
            TrackingResult r;
            r.kind = TrackingKind::reject;
            r.status = 403;
            r.reason = "client_token_refused";
            return r;
        }
    }
    if (opts.honor_dnt && dnt_requested(req["DNT"], req["X-Do-Not-Track"])) {
        // Answered like a queued hit (the worker would exclude it silently too), but never stored.
        result.kind = TrackingKind::queue;
        result.reason = "do_not_track";
        return result;
    }

    // Cookies the worker reads (docs/wire-format.md); other first-party cookies stay out of Redis (privacy).
    boost::json::object cookies;
    for (const auto& f : req) {
        if (f.name() == http::field::cookie) php::parse_cookies(f.value(), cookies, opts.parse_limits);
    }
    std::vector<std::pair<std::string, std::string>> kept_cookies;
    std::string third_party;
    for (const auto& name : {opts.ignore_cookie_name, opts.third_party_cookie_name}) {
        if (auto it = cookies.find(name); it != cookies.end() && it->value().is_string()) {
            kept_cookies.emplace_back(name, std::string(it->value().get_string()));
            if (name == opts.third_party_cookie_name) third_party = it->value().get_string();
        }
    }
    if (!opts.queue.third_party_cookie) third_party.clear();
    const bool has_ignore_cookie = cookies.find(opts.ignore_cookie_name) != cookies.end();
    const bool https = edge.https;

    const bool strict = opts.validation == Validation::strict;
    const bool gateway_geo = edge.gateway_token && edge.geo;
    std::vector<unsigned> order;   // queue id of each set, in push order
    std::vector<bool> by_gateway;  // each set's token: the gateway's or the request's
    std::vector<std::vector<boost::json::object>> grouped;
    // One shared set per (queue, token owner): gateway-authorised and client-authorised hits never
    // share a set (rule T3 in docs/wire-format.md).
    const std::size_t queues = opts.queue.queues > 0 ? opts.queue.queues : 1;
    std::vector<unsigned> slot_of(2 * queues, UINT32_MAX);
    std::size_t queued = 0;
    for (auto& hit : hits) {
        for (const auto& name : {"url", "urlref"}) {
            if (opts.strip_url_params.empty()) break;
            if (auto it = hit.find(name); it != hit.end() && it->value().is_string())
                it->value() = strip_query_params(it->value().get_string(), opts.strip_url_params);
        }
        auto hit_token = string_param(hit, "token_auth");
        const bool client_token = set_has_token || (hit_token && !php::php_empty(*hit_token));
        const bool gateway = gateway_geo && !client_token;
        if (gateway) {
            result.params_removed += authorise_with_gateway_geo(hit, *edge.geo, opts, now);
            result.geo_added = true;
        }
        const bool has_token = client_token || gateway;
        std::string_view problem =
            strict ? strict_reason(hit, has_token, opts, now) : worker_exception_reason(hit, has_token, opts, now);
        if (strict && !problem.empty()) {
            result.reason = problem;
            ++result.rejected_hits;
            continue;
        }
        unsigned q = 0;
        if (auto key = queue::visitor_key(hit, third_party, opts.queue)) {
            q = queue::queue_from_key(*key, opts.queue.queues);
        } else {
            auto cip = string_param(hit, "cip");
            if (cip && !php::php_empty(*cip)) {
                // Stock authenticates cip at the edge when it needs the IP for the queue; without
                // any token that fails with 400 and nothing of the request is queued (docs/wire-format.md, "Queue choice").
                if (!has_token) {
                    result = TrackingResult{};
                    result.kind = TrackingKind::reject;
                    result.status = 400;
                    result.reason = "cip_without_token";
                    return result;
                }
                q = queue::queue_from_key(queue::md5_hex(*cip), opts.queue.queues);
            } else {
                q = queue::queue_from_key(queue::md5_hex(edge.remote_addr), opts.queue.queues);
            }
        }
        if (opts.queue.third_party_cookie && !has_ignore_cookie) {
            result.set_cookies.push_back(third_party_set_cookie(hit, queue::third_party_cookie_id(third_party), now,
                                                                https, req[http::field::user_agent], opts));
        }
        ++queued;
        // A hit the worker would throw on drops every later hit of its set (docs/wire-format.md), so it
        // travels alone (deviation D3); everything else shares its queue's set.
        if (!problem.empty()) {
            order.push_back(q);
            by_gateway.push_back(gateway);
            grouped.emplace_back().push_back(std::move(hit));
            continue;
        }
        const std::size_t slot = q + (gateway ? queues : 0);
        if (slot_of[slot] == UINT32_MAX) {
            slot_of[slot] = static_cast<unsigned>(order.size());
            order.push_back(q);
            by_gateway.push_back(gateway);
            grouped.emplace_back();
        }
        grouped[slot_of[slot]].push_back(std::move(hit));
    }
    if (queued == 0) {
        // Strict mode refused every hit of the request.
        TrackingResult r;
        r.kind = TrackingKind::reject;
        r.status = 400;
        r.reason = result.reason;
        r.rejected_hits = result.rejected_hits;
        return r;
    }

    auto server_env = build_server_env(req, edge.remote_addr);
    result.kind = TrackingKind::queue;
    result.hits = queued;
    for (std::size_t i = 0; i < order.size(); ++i) {
        queue::RequestSet set;
        set.requests = std::move(grouped[i]);
        set.server = server_env;
        set.cookies = kept_cookies;
        set.token_auth = by_gateway[i] ? std::optional<std::string>(*edge.gateway_token) : token;
        set.time = now;
        OutgoingSet out;
        out.queue_id = order[i];
        out.key = queue::queue_key(order[i]);
        out.hits = set.requests.size();
        out.value = queue::compress_value(queue::encode_json(set), opts.compression_level);
        result.sets.push_back(std::move(out));
    }
    return result;
}

}  // namespace mgw::gateway
