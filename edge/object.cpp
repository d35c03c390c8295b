// Versions and answers (see object.hpp).
#include "edge/object.hpp"

#include "queue/compressor.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>

#include <cstdlib>

namespace mgw::edge {
namespace http = boost::beast::http;
using boost::beast::iequals;

namespace {

constexpr int gzip_level = 9;  // as stock's gzencode($data, 9)

bool compressible(std::string_view content_type) {
    for (std::string_view t : {"javascript", "json", "text/", "xml", "css"})
        if (content_type.find(t) != std::string_view::npos) return true;
    return false;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

std::size_t Object::bytes() const {
    std::size_t n = sizeof(Object) + body.size() + gzip.size() + last_modified.size() + etag.size();
    for (const auto& [k, v] : headers) n += k.size() + v.size() + 2 * sizeof(std::string);
    return n;
}

std::shared_ptr<const Object> make_object(FetchResult&& r) {
    auto o = std::make_shared<Object>();
    o->status = r.status;
    std::optional<std::time_t> date, expires;
    bool encoded = false;
    std::string_view content_type;
    for (auto& [name, value] : r.headers) {
        if (iequals(name, "Date")) {
            date = parse_http_time(value);
            continue;
        }
        if (iequals(name, "Expires")) {
            expires = parse_http_time(value);
            continue;
        }
        if (iequals(name, "Last-Modified")) o->last_modified = value;
        if (iequals(name, "ETag")) o->etag = value;
        if (iequals(name, "Content-Encoding") && !iequals(value, "identity")) encoded = true;
        o->headers.emplace_back(std::move(name), std::move(value));
    }
    for (const auto& [name, value] : o->headers)
        if (iequals(name, "Content-Type")) content_type = value;
    // Stock's Expires is "now + N days" at every answer; keep the distance, not the instant.
    if (date && expires) o->expires_after = *expires - *date;
    o->body = std::move(r.body);
    if (o->status == 200 && !encoded && !o->body.empty() && compressible(content_type))
        o->gzip = queue::gzip_compress(o->body, gzip_level);
    return o;
}

bool accepts_gzip(std::string_view accept_encoding) {
    std::string_view ae = accept_encoding;
    bool gzip = false, star = false, gzip_listed = false;
    while (!ae.empty()) {
        const std::size_t comma = ae.find(',');
        std::string_view item = ae.substr(0, comma);
        ae = comma == std::string_view::npos ? std::string_view() : ae.substr(comma + 1);
        const std::size_t semi = item.find(';');
        const std::string_view coding = trim(item.substr(0, semi));
        bool q_zero = false;
        if (semi != std::string_view::npos) {
            std::string_view params = trim(item.substr(semi + 1));
            if (params.size() >= 2 && (params[0] == 'q' || params[0] == 'Q') && params[1] == '=') {
                const std::string q(trim(params.substr(2)));
                q_zero = std::strtod(q.c_str(), nullptr) <= 0.0;
            }
        }
        if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
            gzip_listed = true;
            gzip = gzip || !q_zero;
        } else if (coding == "*") {
            star = !q_zero;
        }
    }
    return gzip || (!gzip_listed && star);
}

ClientInfo client_info(const Request& req) {
    ClientInfo c;
    c.version = req.version();
    c.keep_alive = req.keep_alive();
    c.head = req.method() == http::verb::head;
    c.gzip_ok = accepts_gzip(req[http::field::accept_encoding]);
    std::string_view ims = req[http::field::if_modified_since];
    // Stock strips anything after a ';' (old browsers append "; length=...").
    c.if_modified_since = std::string(trim(ims.substr(0, ims.find(';'))));
    c.if_none_match = std::string(req[http::field::if_none_match]);
    return c;
}

namespace {

void start(Response& res, const ClientInfo& c, unsigned status) {
    res = Response{};
    res.version(c.version);
    res.keep_alive(c.keep_alive);
    res.result(status);
    res.set(http::field::date, http_time(std::time(nullptr)));
}

bool not_modified(const Object& o, const ClientInfo& c) {
    if (o.status != 200) return false;
    if (!c.if_none_match.empty())
        return !o.etag.empty() && (c.if_none_match == "*" || c.if_none_match.find(o.etag) != std::string::npos);
    return !c.if_modified_since.empty() && c.if_modified_since == o.last_modified;
}

}  // namespace

Reply answer(const std::shared_ptr<const Object>& obj, const ClientInfo& c, std::string_view outcome) {
    Reply r;
    r.outcome = outcome;
    const bool is_304 = not_modified(*obj, c);
    start(r.res, c, is_304 ? 304 : obj->status);
    bool has_vary = false;
    for (const auto& [name, value] : obj->headers) {
        if (is_304 && (iequals(name, "Content-Type") || iequals(name, "Content-Encoding"))) continue;
        if (iequals(name, "Vary")) has_vary = true;
        r.res.insert(name, value);
    }
    if (!obj->gzip.empty() && !has_vary) r.res.set(http::field::vary, "Accept-Encoding");
    if (obj->expires_after) r.res.set(http::field::expires, http_time(std::time(nullptr) + *obj->expires_after));
    if (is_304) return r;
    const bool gz = c.gzip_ok && !obj->gzip.empty();
    const std::string& body = gz ? obj->gzip : obj->body;
    if (gz) r.res.set(http::field::content_encoding, "gzip");
    r.res.content_length(body.size());
    if (!c.head) r.res.body() = {body.data(), body.size()};
    r.owner = obj;
    return r;
}

Reply answer_error(unsigned status, std::string_view text, const ClientInfo& c, std::string_view outcome,
                   std::string_view reason) {
    Reply r;
    r.outcome = outcome;
    r.reason = reason;
    start(r.res, c, status);
    r.res.set(http::field::content_type, "text/plain; charset=utf-8");
    r.res.set(http::field::cache_control, "no-store");
    auto owned = std::make_shared<const std::string>(text);
    r.res.content_length(owned->size());
    if (!c.head) r.res.body() = {owned->data(), owned->size()};
    r.owner = owned;
    return r;
}

}  // namespace mgw::edge
