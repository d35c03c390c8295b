// Request forms and the token and send_image rules. Stock behaviour unless a comment names a spec
// deviation.
#include "tracking/request_form.hpp"

#include "php/params.hpp"
#include "php/php.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>

namespace mgw::tracking {

bool is_preflight(const RequestView& req) {
    return req.method == "OPTIONS" &&
           (req.has_header("Access-Control-Request-Method") || req.has_header("Access-Control-Request-Headers"));
}

bool is_form(std::string_view content_type) {
    auto base = content_type.substr(0, content_type.find(';'));
    while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
    return iequals(base, "application/x-www-form-urlencoded");
}

bool is_bulk(std::string_view body) {
    auto a = body.find("\"requests\"");
    auto b = body.find("'requests'");
    return (a != std::string_view::npos && a > 0) || (b != std::string_view::npos && b > 0);
}

BulkParse parse_bulk(std::string_view raw, const gateway::TrackingOptions& opts, queue::Hits& hits,
                     std::optional<std::string>& json_token, const boost::json::storage_ptr& sp) {
    std::string body;
    body.reserve(raw.size());
    for (char c : raw)
        if (c != '\r' && c != '\n') body.push_back(c);
    boost::json::parse_options po;
    po.max_depth = 64;
    boost::system::error_code ec;
    boost::json::value doc = boost::json::parse(body, ec, sp, po);
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
            // The hit views its own copy of the query: the document dies with this call.
            php::Params params(sp);
            php::parse_str(params.keep(query), params, opts.parse_limits);
            if (!params.empty()) hits.push_back(std::move(params));
        } else if (entry.is_object()) {
            hits.emplace_back(std::move(entry.get_object()));
        }
    }
    return BulkParse::ok;
}

namespace {

Incoming refused(Incoming::Kind kind, unsigned status, std::string_view reason) {
    Incoming in;
    in.kind = kind;
    in.status = status;
    in.reason = reason;
    return in;
}

// The bulk body's hits; a token in the query string or form wins over the body's, and a bulk
// request's token defaults to "".
Incoming read_bulk(std::string_view body, const gateway::TrackingOptions& opts, Incoming in,
                   std::optional<std::string_view> request_token, const boost::json::storage_ptr& sp) {
    std::optional<std::string> json_token;
    switch (parse_bulk(body, opts, in.hits, json_token, sp)) {
        case BulkParse::ok: break;
        case BulkParse::invalid: return refused(Incoming::Kind::no_hits, 200, "bulk_invalid_json");  // R2
        case BulkParse::too_many: return refused(Incoming::Kind::reject, 413, "bulk_too_many_hits");
    }
    in.token = (request_token && !php::php_empty(*request_token)) ? std::string(*request_token)
                                                                  : json_token.value_or(std::string());
    return in;
}

}  // namespace

Incoming read_hits(const RequestView& req, const gateway::TrackingOptions& opts, const boost::json::storage_ptr& sp) {
    php::Params get_params(sp);
    const php::ParseResult get_res = php::parse_str(req.query(), get_params, opts.parse_limits);
    php::Params post_params(sp);
    php::ParseResult post_res;
    if (req.method == "POST" && is_form(req.header("Content-Type")))
        post_res = php::parse_str(req.body, post_params, opts.parse_limits);
    if (get_res.over_max_vars || post_res.over_max_vars)
        return refused(Incoming::Kind::reject, 400, "too_many_parameters");

    // $_GET and $_POST hold strings and arrays only.
    auto lookup = [&](std::string_view name) -> std::optional<std::string_view> {
        if (auto v = get_params.text(name)) return v;
        return post_params.text(name);
    };
    Incoming in;
    // send_image comes from $_GET / $_POST only; a bulk body's own send_image is ignored (R4).
    if (auto si = lookup("send_image")) in.send_image = *si != "0";
    if (is_bulk(req.body)) in = read_bulk(req.body, opts, std::move(in), lookup("token_auth"), sp);
    else {
        get_params.union_with(std::move(post_params));
        if (!get_params.empty()) in.hits.push_back(std::move(get_params));
        if (!in.hits.empty()) in.token = in.hits.front().string("token_auth");
    }
    if (in.kind == Incoming::Kind::hits && in.hits.empty()) {
        in.kind = Incoming::Kind::no_hits;  // R2
        in.send_image = true;
    }
    return in;
}

}  // namespace mgw::tracking
