// PHP's query-string / form-body parser and its cookie parser (php/) on arbitrary bytes. Besides the
// sanitizers' findings it checks what the rest of the gateway relies on: at most max_input_vars
// names stored, and no invalid UTF-8 left in any name or value (checklist item 43 of docs/wire-format.md).
#include "fuzz/fuzz_check.hpp"
#include "php/params.hpp"
#include "php/php.hpp"

#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

bool valid_utf8(std::string_view s) {
    std::string copy(s);
    return !mgw::php::scrub_utf8(copy);
}

void check_utf8(const boost::json::value& v, std::size_t depth) {
    MGW_FUZZ_CHECK(depth < 200);
    if (v.is_string()) {
        MGW_FUZZ_CHECK(valid_utf8(v.as_string()));
    } else if (v.is_object()) {
        for (const auto& kv : v.as_object()) {
            MGW_FUZZ_CHECK(valid_utf8(kv.key()));
            check_utf8(kv.value(), depth + 1);
        }
    } else if (v.is_array()) {
        for (const auto& e : v.as_array()) check_utf8(e, depth + 1);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    mgw::php::ParseLimits limits;
    limits.max_vars = 100;
    limits.max_nesting = 16;

    boost::json::object query;
    const auto q = mgw::php::parse_str(input, query, limits);
    MGW_FUZZ_CHECK(query.size() <= limits.max_vars);
    MGW_FUZZ_CHECK(q.over_max_vars == (q.vars > limits.max_vars));
    check_utf8(query, 0);

    boost::json::object cookies;
    mgw::php::parse_cookies(input, cookies, limits);
    MGW_FUZZ_CHECK(cookies.size() <= limits.max_vars);
    check_utf8(cookies, 0);

    // The hit path's flat list holds exactly what the object holds, in the same order.
    mgw::php::Params flat;
    const auto f = mgw::php::parse_str(input, flat, limits);
    MGW_FUZZ_CHECK(f.vars == q.vars && f.over_max_vars == q.over_max_vars);
    MGW_FUZZ_CHECK(flat.size() == query.size());
    auto member = query.begin();
    for (const auto& p : flat) {
        MGW_FUZZ_CHECK(member != query.end() && p.name == member->key());
        MGW_FUZZ_CHECK(p.is_string() ? member->value().is_string() && p.text == member->value().get_string()
                                     : *p.json == member->value());
        ++member;
    }

    const std::string sanitized = mgw::php::matomo_sanitize(input);
    MGW_FUZZ_CHECK(sanitized.find('\0') == std::string::npos);
    return 0;
}
