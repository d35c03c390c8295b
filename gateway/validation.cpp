// The checks mirror where Matomo 5 throws InvalidRequestParameterException before tracking a hit:
// auth-gated parameters without a token, a cid that isn't 16 characters, events without category
// or action, content without a name, negative page-performance timings.
#include "gateway/validation.hpp"

#include "gateway/ascii.hpp"
#include "php/php.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

namespace mgw::gateway {
namespace {

bool blank(const std::optional<std::string>& v) {
    return !v ||
           std::all_of(v->begin(), v->end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

// PHP intval(): optional sign and leading digits, 0 when none.
std::int64_t php_intval(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
    std::int64_t v = 0;
    auto r = std::from_chars(s.data() + i, s.data() + s.size(), v);
    return r.ec == std::errc() ? v : 0;
}

bool all_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

std::size_t longest_value(const boost::json::value& v) {
    if (v.is_string()) return v.get_string().size();
    std::size_t m = 0;
    if (v.is_object())
        for (const auto& kv : v.get_object()) m = std::max(m, longest_value(kv.value()));
    if (v.is_array())
        for (const auto& e : v.get_array()) m = std::max(m, longest_value(e));
    return m;
}

}  // namespace

std::optional<std::int64_t> parse_cdt(std::string_view cdt) {
    if (cdt.empty()) return std::nullopt;
    if (all_digits(cdt)) {
        std::int64_t v = 0;
        auto r = std::from_chars(cdt.data(), cdt.data() + cdt.size(), v);
        if (r.ec != std::errc()) return std::nullopt;
        return v > 20'000'000'000LL ? v / 1000 : v;  // milliseconds are accepted by Matomo too
    }
    std::tm tm{};
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    int consumed = 0;
    std::string text(cdt);
    // Every field has a width of at most 4 digits, so no conversion can overflow (cert-err34-c's concern).
    if (std::sscanf(text.c_str(), "%4d-%2d-%2d%*[ T]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s,  // NOLINT(cert-err34-c)
                    &consumed) < 6)
        return std::nullopt;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    std::int64_t t = timegm(&tm);
    std::string_view zone = cdt.substr(static_cast<std::size_t>(consumed));
    while (!zone.empty() && zone.front() == ' ') zone.remove_prefix(1);
    if ((zone.size() == 5 || zone.size() == 6) && (zone[0] == '+' || zone[0] == '-')) {
        std::string digits;
        for (char c : zone.substr(1))
            if (c != ':') digits.push_back(c);
        if (digits.size() == 4 && all_digits(digits)) {
            int off = std::stoi(digits.substr(0, 2)) * 3600 + std::stoi(digits.substr(2)) * 60;
            t += zone[0] == '+' ? -off : off;
        }
    }
    return t;
}

std::optional<std::int64_t> parse_cdt_exact(std::string_view cdt) {
    auto digits = [](std::string_view s, std::size_t pos, std::size_t n) {
        return pos + n <= s.size() && all_digits(s.substr(pos, n));
    };
    if (all_digits(cdt)) return parse_cdt(cdt);
    if (cdt.size() < 19 || !digits(cdt, 0, 4) || cdt[4] != '-' || !digits(cdt, 5, 2) || cdt[7] != '-' ||
        !digits(cdt, 8, 2) || (cdt[10] != ' ' && cdt[10] != 'T') || !digits(cdt, 11, 2) || cdt[13] != ':' ||
        !digits(cdt, 14, 2) || cdt[16] != ':' || !digits(cdt, 17, 2))
        return std::nullopt;
    std::string_view zone = cdt.substr(19);
    while (!zone.empty() && zone.front() == ' ') zone.remove_prefix(1);
    const bool signed_zone = !zone.empty() && (zone[0] == '+' || zone[0] == '-');
    const bool zone_ok =
        zone.empty() || zone == "Z" || (signed_zone && zone.size() == 5 && digits(zone, 1, 4)) ||
        (signed_zone && zone.size() == 6 && digits(zone, 1, 2) && zone[3] == ':' && digits(zone, 4, 2));
    if (!zone_ok) return std::nullopt;
    return parse_cdt(cdt);
}

namespace {

// What worker_exception_reason reads of a hit, gathered in one pass over its keys: a pageview has a
// dozen keys, and looking up each of the 17 names apart would scan them 17 times.
struct Consulted {
    const php::Param* cid = nullptr;
    const php::Param* cdt = nullptr;
    const php::Param* cdo = nullptr;
    const php::Param* e_c = nullptr;
    const php::Param* e_a = nullptr;
    const php::Param* c_n = nullptr;
    bool auth_param = false;  // cip, country, region, city, lat or long, non-empty
    bool event = false;       // e_c, e_a, e_n or e_v present
    bool content = false;     // c_n, c_p, c_t or c_i present
    bool negative_timing = false;
};

std::optional<std::string> value_of(const php::Param* p) { return p ? php::value_string(*p) : std::nullopt; }

Consulted consult(const php::Params& hit) {
    Consulted c;
    for (const auto& v : hit) {
        const std::string_view k = v.name;
        if (k.size() > 3 && k.starts_with("pf_")) {
            auto t = php::value_string(v);
            if (t && php_intval(*t) < 0) c.negative_timing = true;
            continue;
        }
        if (k == "cid") c.cid = &v;
        else if (k == "cdt") c.cdt = &v;
        else if (k == "cdo") c.cdo = &v;
        else if (k == "e_c" || k == "e_a" || k == "e_n" || k == "e_v") {
            c.event = true;
            if (k == "e_c") c.e_c = &v;
            if (k == "e_a") c.e_a = &v;
        } else if (k == "c_n" || k == "c_p" || k == "c_t" || k == "c_i") {
            c.content = true;
            if (k == "c_n") c.c_n = &v;
        } else if (k == "cip" || k == "country" || k == "region" || k == "city" || k == "lat" || k == "long") {
            auto t = php::value_string(v);
            if (t && !php::php_empty(*t)) c.auth_param = true;
        }
    }
    return c;
}

}  // namespace

std::string_view worker_exception_reason(const php::Params& hit, bool has_token, const TrackingOptions& opts,
                                         std::int64_t now) {
    const Consulted c = consult(hit);
    if (auto cid = value_of(c.cid)) {
        std::string clean = php::matomo_sanitize(*cid);
        if (!php::php_empty(clean) && clean.size() != 16) return "cid_invalid_length";
    }
    if (!has_token) {
        if (c.auth_param) return "auth_param_without_token";
        if (auto cdt = value_of(c.cdt)) {
            auto t = parse_cdt(*cdt);
            if (t && *t <= now && now - *t >= opts.cdt_no_token_window) return "old_cdt_without_token";
        }
        if (auto cdo = value_of(c.cdo); cdo && php_intval(*cdo) >= opts.cdt_no_token_window)
            return "old_cdt_without_token";
    }
    if (c.event && (blank(value_of(c.e_c)) || blank(value_of(c.e_a)))) return "event_without_category_or_action";
    if (c.content && blank(value_of(c.c_n))) return "content_without_name";
    if (c.negative_timing) return "negative_performance_timing";
    return {};
}

std::string_view strict_reason(const php::Params& hit, bool has_token, const TrackingOptions& opts, std::int64_t now) {
    auto idsite = hit.string("idsite");
    if (!idsite || !all_digits(*idsite) || php_intval(*idsite) <= 0) return "idsite_invalid";
    if (!opts.sites.empty() && std::find(opts.sites.begin(), opts.sites.end(), php_intval(*idsite)) == opts.sites.end())
        return "idsite_not_allowed";
    auto rec = hit.string("rec");
    if (!rec || php_intval(*rec) == 0) return "rec_missing";
    if (auto id = hit.string("_id"); id && (id->size() < 16 || !all_hex(std::string_view(*id).substr(0, 16))))
        return "visitor_id_invalid";
    if (auto cid = hit.string("cid"); cid && !cid->empty() && !all_hex(*cid)) return "visitor_id_invalid";
    for (const auto& p : hit)
        if ((p.is_string() ? p.text.size() : longest_value(*p.json)) > opts.max_param_bytes)
            return "parameter_too_long";
    return worker_exception_reason(hit, has_token, opts, now);
}

}  // namespace mgw::gateway
