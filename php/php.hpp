// PHP and Matomo input semantics that the gateway must reproduce exactly: how PHP fills
// $_GET/$_POST/$_COOKIE from the wire, and Matomo's input sanitiser. Pure functions, no I/O.
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace mgw::php {

class Params;

struct ParseLimits {
    std::size_t max_vars = 1000;   // PHP max_input_vars
    std::size_t max_nesting = 64;  // PHP max_input_nesting_level
};

struct ParseResult {
    std::size_t vars = 0;        // name=value pairs seen (before the max_vars cut)
    bool over_max_vars = false;  // more pairs than limits.max_vars: the rest were not stored
};

// Parses an application/x-www-form-urlencoded string (a query string or a form body) into `out`
// exactly as PHP fills $_GET / $_POST: '&' separates pairs, '+' and %XX are decoded, '.' and ' ' in
// the top-level name become '_', `a[]=` / `a[k]=` build nested arrays, an unmatched '[' becomes '_',
// and a repeated name overwrites the earlier value in its original position.
// Values are JSON strings; nested PHP arrays become JSON objects, or JSON arrays when their keys are
// exactly 0..n-1 in order (what PHP's json_encode does). Invalid UTF-8 is replaced by U+FFFD.
ParseResult parse_str(std::string_view input, boost::json::object& out, const ParseLimits& limits = {});
// The same into an empty hit's flat parameter list (php/params.hpp): names and values view `input`, which
// the caller keeps alive as long as `out`; decoded values are text `out` owns. Names PHP changes or
// nests ('.', ' ', '[', encoded bytes) take the path above and `out` views its result.
ParseResult parse_str(std::string_view input, Params& out, const ParseLimits& limits = {});

// Parses a Cookie header into `out` as PHP fills $_COOKIE: pairs separated by ';', leading
// white space of names skipped, names not URL-decoded but mangled like parse_str names, values
// raw-URL-decoded ('+' stays '+'), and the first occurrence of a name wins.
ParseResult parse_cookies(std::string_view header, boost::json::object& out, const ParseLimits& limits = {});

// Matomo's Common::sanitizeInputValue() for a string: line breaks removed, html_entity_decode
// (ENT_QUOTES, UTF-8), NUL bytes removed, then htmlspecialchars (ENT_QUOTES, UTF-8).
// Used where the edge hashes a sanitised value (uid, cid, _id for the queue choice).
std::string matomo_sanitize(std::string_view value);
// True when matomo_sanitize(value) == value (no character any of its steps changes): ids and
// hashes, which can then be used without a copy.
bool sanitize_keeps(std::string_view value);

// Replaces every maximal invalid UTF-8 subpart in `s` with U+FFFD (the Unicode recommendation; PHP's
// JSON_INVALID_UTF8_SUBSTITUTE may emit fewer replacements). Returns true when anything was replaced.
bool scrub_utf8(std::string& s);
// True when `s` is valid UTF-8 (scrub_utf8 would leave it as it is).
bool valid_utf8(std::string_view s);

// True when the string is PHP-empty: "" or "0".
inline bool php_empty(std::string_view s) { return s.empty() || s == "0"; }

}  // namespace mgw::php
