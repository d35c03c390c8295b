// Response headers follow the recorded fixtures: Cache-Control: no-store on GET only, no CORS on
// GET, and (deviation D1, docs/wire-format.md) the CORS pair on every non-GET response so that the JS tracker never
// re-sends a POSTed hit as an image. Content-Encoding: none is omitted (deviation D4).
#include "gateway/responses.hpp"

#include "gateway/wire.hpp"

#include <boost/beast/http/field.hpp>

#include <chrono>
#include <ctime>

namespace mgw::gateway {
namespace http = boost::beast::http;
namespace {

constexpr unsigned char kGif[] = {0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x21, 0xf9, 0x04,
                                  0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01,
                                  0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};
static_assert(sizeof(kGif) == 43);

// Matomo's CORSHandler runs before tracking for every method (docs/wire-format.md, "Other details").
void apply_cors_domains(Response& res, const ResponseContext& c) {
    if (!c.cors_domains || c.cors_domains->empty()) return;
    res.set(http::field::vary, "Origin");
    std::string_view origin = c.req[http::field::origin];
    bool any = false;
    bool listed = false;
    for (const auto& d : *c.cors_domains) {
        any = any || d == "*";
        listed = listed || (!origin.empty() && d == origin);
    }
    if (!any && !listed) return;
    res.set(http::field::access_control_allow_credentials, "true");
    res.set(http::field::access_control_allow_origin, origin.empty() ? std::string_view("*") : origin);
}

void reset(Response& res, const ResponseContext& c, unsigned status) {
    res = Response{};
    res.version(c.req.version());
    res.result(status);
    res.keep_alive(c.req.keep_alive());
    res.set(http::field::date, http_date());
    apply_cors_domains(res, c);
}

void add_cors_if_not_get(Response& res, const ResponseContext& c) {
    if (c.is_get) return;
    std::string_view origin = c.req[http::field::origin];
    res.set(http::field::access_control_allow_origin, origin.empty() ? std::string_view("*") : origin);
    res.set(http::field::access_control_allow_credentials, "true");
}

void set_body(Response& res, const ResponseContext& c, std::string_view body) {
    res.content_length(body.size());
    if (!c.is_head) res.body() = {body.data(), body.size()};
}

}  // namespace

std::string_view tracking_gif() { return {reinterpret_cast<const char*>(kGif), sizeof(kGif)}; }

std::string_view http_date() {
    thread_local std::time_t cached_at = 0;
    thread_local char buf[64];
    thread_local std::size_t len = 0;
    std::time_t now = std::time(nullptr);
    if (now != cached_at) {
        std::tm tm{};
        gmtime_r(&now, &tm);
        len = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached_at = now;
    }
    return {buf, len};
}

void respond_gif(Response& res, const ResponseContext& c, unsigned status) {
    reset(res, c, status);
    if (c.is_get) res.set(http::field::cache_control, "no-store");
    res.set(http::field::content_type, "image/gif");
    add_cors_if_not_get(res, c);
    set_body(res, c, tracking_gif());
}

void respond_no_content(Response& res, const ResponseContext& c) {
    reset(res, c, 204);
    res.reason("No Response");  // Matomo's reason phrase for 204
    if (c.is_get) res.set(http::field::cache_control, "no-store");
    add_cors_if_not_get(res, c);
}

void respond_no_hits(Response& res, const ResponseContext& c) {
    reset(res, c, 200);
    res.set(http::field::content_type, "text/html; charset=UTF-8");
    add_cors_if_not_get(res, c);
    set_body(res, c, {});
}

void respond_preflight(Response& res, const ResponseContext& c) {
    reset(res, c, 204);
    res.reason("No Response");
    res.set(http::field::access_control_allow_methods, "GET, POST");
    res.set(http::field::access_control_allow_headers, "*");
    res.set(http::field::access_control_allow_origin, "*");
}

void respond_error(Response& res, const ResponseContext& c, unsigned status, std::string_view reason_text) {
    reset(res, c, status);
    res.set(http::field::content_type, "text/plain; charset=UTF-8");
    if (c.is_get) res.set(http::field::cache_control, "no-store");
    add_cors_if_not_get(res, c);
    set_body(res, c, reason_text);
}

void respond_tracking_failure(Response& res, const ResponseContext& c, unsigned status, bool send_image,
                              unsigned retry_after_seconds) {
    if (send_image) {
        respond_gif(res, c, status);
    } else {
        reset(res, c, status);
        if (c.is_get) res.set(http::field::cache_control, "no-store");
        add_cors_if_not_get(res, c);
        set_body(res, c, {});
    }
    if (status == 503) res.set(http::field::retry_after, std::to_string(retry_after_seconds));
}

std::string_view fixed_tracking_response(bool gif) {
    thread_local std::string date;
    thread_local std::string bytes[2];
    const std::string_view now = http_date();
    if (now != date) {
        date.assign(now);
        Request req;
        req.method(http::verb::get);
        req.version(11);
        req.keep_alive(true);
        const ResponseContext ctx{req, true, false, nullptr};
        for (int i = 0; i < 2; ++i) {
            Response res;
            if (i == 1) respond_gif(res, ctx);
            else respond_no_content(res, ctx);
            serialize_header(res, bytes[i]);
            bytes[i].append(res.body().data(), res.body().size());
        }
    }
    return bytes[gif ? 1 : 0];
}

}  // namespace mgw::gateway
