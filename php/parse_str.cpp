// php/parse_str.cpp — fills a boost::json::object the way PHP 8.2 fills $_GET/$_POST/$_COOKIE.
// The splitting follows php_default_treat_data() and the name handling is a line-by-line port of
// php_register_variable_ex() (main/php_variables.c), because its pointer games over a C string
// (terminating at '[', un-terminating on an unmatched '[', strchr for ']') define the exact
// semantics of odd names and are easiest to reproduce faithfully by doing the same thing.
// Also: the same parse into a hit's flat list of views (php/params.hpp), and scrub_utf8 (U+FFFD per
// maximal ill-formed subpart).
#include "php/php.hpp"

#include "php/params.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

namespace mgw::php {
namespace {

namespace json = boost::json;

// ---------------------------------------------------------------- UTF-8

// Length of the well-formed sequence at s[i] (> 0), or 0 with `bad` set to the length of the
// maximal ill-formed subpart (Unicode ch. 3 / WHATWG: each one becomes exactly one U+FFFD).
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::size_t& bad) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) return 1;
    std::size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the first continuation byte
    if (b >= 0xC2 && b <= 0xDF) need = 1;
    else if (b == 0xE0) {
        need = 2;
        lo = 0xA0;
    } else if (b == 0xED) {
        need = 2;
        hi = 0x9F;
    }  // no surrogates
    else if (b >= 0xE1 && b <= 0xEF)
        need = 2;
    else if (b == 0xF0) {
        need = 3;
        lo = 0x90;
    } else if (b >= 0xF1 && b <= 0xF3) need = 3;
    else if (b == 0xF4) {
        need = 3;
        hi = 0x8F;
    }  // nothing above U+10FFFF
    else {
        bad = 1;
        return 0;
    }  // C0, C1, F5..FF, stray continuation byte
    std::size_t j = i + 1;
    for (std::size_t k = 0; k < need; ++k, ++j) {
        if (j >= s.size()) {
            bad = j - i;
            return 0;
        }
        const auto c = static_cast<unsigned char>(s[j]);
        if (c < lo || c > hi) {
            bad = j - i;
            return 0;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    return need + 1;
}

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHigh = 0x8080808080808080ULL;

std::uint64_t load8(const char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
}

// Whether every byte of s is ASCII, a word at a time (the last word and short strings are read
// as overlapping words, so there is no byte-by-byte tail).
bool all_ascii(std::string_view s) {
    const char* const p = s.data();
    const std::size_t n = s.size();
    if (n >= 8) {
        std::uint64_t any = load8(p + n - 8);
        for (std::size_t i = 0; i + 8 <= n; i += 8) any |= load8(p + i);
        return (any & kHigh) == 0;
    }
    if (n >= 4) {
        std::uint32_t lo, hi;
        std::memcpy(&lo, p, 4);
        std::memcpy(&hi, p + n - 4, 4);
        return ((lo | hi) & 0x80808080u) == 0;
    }
    unsigned any = 0;
    for (std::size_t i = 0; i < n; ++i) any |= static_cast<unsigned char>(p[i]);
    return (any & 0x80u) == 0;
}

// Offset of the first ill-formed byte, or s.size() when s is valid UTF-8.
std::size_t first_invalid_utf8(std::string_view s) {
    const std::size_t n = s.size();
    if (all_ascii(s)) return n;  // the usual parameter
    std::size_t i = 0;
    while (i < n) {
        if (n - i >= 8 && (load8(s.data() + i) & kHigh) == 0) {  // 8 ASCII bytes at a time
            i += 8;
            continue;
        }
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            ++i;
            continue;
        }  // the common, ASCII case
        std::size_t bad = 0;
        const std::size_t len = utf8_sequence(s, i, bad);
        if (len == 0) return i;
        i += len;
    }
    return n;
}

// s with every maximal ill-formed subpart from `from` on replaced by U+FFFD.
std::string scrubbed(std::string_view s, std::size_t from) {
    std::string out;
    out.reserve(s.size() + 8);
    out.append(s.substr(0, from));
    std::size_t i = from;
    while (i < s.size()) {
        std::size_t bad = 0;
        const std::size_t len = utf8_sequence(s, i, bad);
        if (len != 0) {
            out.append(s.substr(i, len));
            i += len;
        } else {
            out.append("\xEF\xBF\xBD");
            i += bad;
        }
    }
    return out;
}

// ---------------------------------------------------------------- URL decoding

// The value of a hex digit, -1 for any other byte.
constexpr auto kHexValue = [] {
    std::array<std::int8_t, 256> t{};
    for (unsigned c = 0; c < 256; ++c) {
        t[c] = c >= '0' && c <= '9'   ? static_cast<std::int8_t>(c - '0')
               : c >= 'a' && c <= 'f' ? static_cast<std::int8_t>(c - 'a' + 10)
               : c >= 'A' && c <= 'F' ? static_cast<std::int8_t>(c - 'A' + 10)
                                      : std::int8_t{-1};
    }
    return t;
}();
int hex_value(char c) { return kHexValue[static_cast<unsigned char>(c)]; }

// True when one of the 8 bytes in `w` is `c` (exact as a whole).
constexpr bool has_byte(std::uint64_t w, char c) {
    const std::uint64_t x = w ^ (kOnes * static_cast<unsigned char>(c));
    return ((x - kOnes) & ~x & kHigh) != 0;
}

// Offset of the first byte URL decoding would change in `s` (a '%', or a '+' when `plus`), or
// s.size() when there is none: runs with nothing to decode (most of a query string) are skipped 8
// bytes at a time.
std::size_t first_to_decode(std::string_view s, bool plus) {
    const char* const begin = s.data();
    const char* p = begin;
    const char* const end = p + s.size();
    for (; end - p >= 8; p += 8) {
        const std::uint64_t w = load8(p);
        if (has_byte(w, '%') || (plus && has_byte(w, '+'))) break;
    }
    for (; p < end; ++p)
        if (*p == '%' || (plus && *p == '+')) break;
    return static_cast<std::size_t>(p - begin);
}

// php_url_decode (plus = true) / php_raw_url_decode (plus = false), in place; returns the new length.
// A '%' not followed by two hex digits is kept literally, as PHP does.
std::size_t url_decode_in_place(char* s, std::size_t n, bool plus) {
    const char* p = s + first_to_decode(std::string_view(s, n), plus);
    const char* const end = s + n;
    char* d = s + (p - s);
    for (; p < end; ++p) {
        if (*p == '+' && plus) {
            *d++ = ' ';
        } else if (*p == '%' && end - p >= 3 && hex_value(p[1]) >= 0 && hex_value(p[2]) >= 0) {
            *d++ = static_cast<char>(hex_value(p[1]) * 16 + hex_value(p[2]));
            p += 2;
        } else {
            *d++ = *p;
        }
    }
    return static_cast<std::size_t>(d - s);
}

// isspace() in the C locale, which PHP uses for cookie names and for the "[ ]" append form.
bool is_c_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// ---------------------------------------------------------------- PHP array keys

// ZEND_HANDLE_NUMERIC_STR: "5" and "-3" are integer keys, "05", "-0", " 5" and anything that
// overflows zend_long stay strings. Since integer keys print back canonically, a JSON object keyed
// by the original strings has exactly PHP's key identity; this is only needed for `[]` appends.
bool php_int_key(std::string_view s, std::int64_t& out) {
    const bool neg = !s.empty() && s[0] == '-';
    const std::string_view digits = s.substr(neg ? 1 : 0);
    if (digits.empty() || digits.size() > 19 || (digits[0] == '0' && s.size() > 1)) return false;  // "05", "-0"
    std::uint64_t v = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (neg ? v - 1 > max : v > max) return false;
    out = static_cast<std::int64_t>(neg ? 0 - v : v);
    return true;
}

constexpr std::int64_t kLongMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kLongMax = std::numeric_limits<std::int64_t>::max();

struct IndexKey {
    char buf[24];
    std::size_t len;
    explicit IndexKey(std::int64_t v)
        : len(static_cast<std::size_t>(std::to_chars(buf, buf + sizeof buf, v).ptr - buf)) {}
    std::string_view view() const { return {buf, len}; }
};

// While parsing, every PHP array below the top level carries PHP's nNextFreeElement (the key the
// next `[]` gets) in a hidden member, so appends cost O(1) however they interleave. Its key can
// never clash with a PHP key: names and indexes end at the first NUL byte. finish() removes it.
constexpr std::string_view kNextKey("\0next", 5);

// nNextFreeElement of an array we did not build (an earlier call's output): one past the largest
// integer key, or PHP's "none yet" marker ZEND_LONG_MIN.
std::int64_t scan_next_free(const json::object& o) {
    std::int64_t next = kLongMin;
    for (const auto& kv : o) {
        std::int64_t k = 0;
        if (php_int_key(kv.key(), k) && k >= next) next = k < kLongMax ? k + 1 : kLongMax;
    }
    return next;
}

json::value& next_free_slot(json::object& o) {
    if (const auto it = o.find(kNextKey); it != o.end()) return it->value();
    const std::int64_t next = scan_next_free(o);
    return o.emplace(kNextKey, next).first->value();
}

// What zend_hash_index_update does to nNextFreeElement when integer key `key` is stored.
void note_key(json::object& o, std::string_view key) {
    std::int64_t k = 0;
    if (!php_int_key(key, k)) return;
    json::value& slot = next_free_slot(o);
    if (k >= slot.get_int64()) slot = k < kLongMax ? k + 1 : kLongMax;
}

// zend_hash_next_index_insert: stores v under the next free integer key, or returns null (nothing
// stored) when that key is taken, which happens once PHP_INT_MAX has been used.
template <class V>
json::value* append(json::object& o, V&& v) {
    json::value& slot = next_free_slot(o);
    const std::int64_t h = slot.get_int64() == kLongMin ? 0 : slot.get_int64();
    const IndexKey key(h);
    if (o.contains(key.view())) return nullptr;
    slot = h < kLongMax ? h + 1 : kLongMax;  // before emplace, which may move `slot`
    return &o.emplace(key.view(), std::forward<V>(v)).first->value();
}

json::object new_array(const json::storage_ptr& sp) {
    json::object o(sp);
    o.emplace(kNextKey, kLongMin);
    return o;
}

// PHP arrays are JSON objects while parsing; an earlier call may have left a list as a JSON array.
json::object list_to_object(json::array& a) {
    json::object o(a.storage());
    o.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i)
        o.emplace(IndexKey(static_cast<std::int64_t>(i)).view(), std::move(a[i]));
    return o;
}

// What json_encode does: an array whose keys are exactly 0..n-1 in order is a list.
bool is_list(const json::object& o) {
    std::int64_t i = 0;
    for (const auto& kv : o)
        if (kv.key() != IndexKey(i++).view()) return false;
    return true;
}

void lists_to_arrays(json::value& v) {
    if (auto* a = v.if_array()) {
        for (auto& e : *a) lists_to_arrays(e);
        return;
    }
    auto* o = v.if_object();
    if (o == nullptr) return;
    o->stable_erase(kNextKey);
    for (auto& kv : *o) lists_to_arrays(kv.value());
    if (!is_list(*o)) return;
    json::array a(o->storage());
    a.reserve(o->size());
    for (auto& kv : *o) a.push_back(std::move(kv.value()));
    v = std::move(a);
}

// ---------------------------------------------------------------- registration

std::string& decode_buffer() {
    thread_local std::string buffer;
    return buffer;
}

class Registrar {
public:
    Registrar(json::object& out, const ParseLimits& limits, bool cookies)
        : out_(out), limits_(limits), cookies_(cookies) {}

    // One name=value pair. Query names and values are URL-decoded ('+' is a space); cookie values
    // are raw-URL-decoded ('+' stays) and cookie names are not decoded at all.
    void add_pair(std::string_view raw_name, std::string_view raw_value) {
        // The value is decoded into a buffer kept across pairs (or used as it is when it has nothing
        // to decode) and becomes a JSON string once, where it is stored.
        std::string_view value = raw_value;
        if (first_to_decode(raw_value, !cookies_) != raw_value.size()) {
            value_.assign(raw_value);
            value_.resize(url_decode_in_place(value_.data(), value_.size(), !cookies_));
            value = value_;
        }
        if (const auto bad = first_invalid_utf8(value); bad != value.size()) {
            scrub_ = scrubbed(value, bad);
            value = scrub_;
        }

        // The usual name (printable ASCII, nothing encoded, nothing PHP mangles) is stored as it is:
        // one scan instead of a copy, a decode, the NUL and UTF-8 checks and the mangling.
        if (simple_name(raw_name)) return store(out_, true, raw_name, value);
        std::string_view name = raw_name;
        if (!cookies_) {
            name_.assign(raw_name);
            name_.resize(url_decode_in_place(name_.data(), name_.size(), true));
            name = name_;
        }
        // PHP passes the name on as a C string: it ends at the first NUL byte.
        if (const auto nul = name.find('\0'); nul != std::string_view::npos) name = name.substr(0, nul);
        if (const auto bad = first_invalid_utf8(name); bad != name.size()) {
            name_ = scrubbed(name, bad);
            name = name_;
        }
        register_variable(name, value);
    }

    static bool simple_name(std::string_view name) {
        return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
            return c > ' ' && c < 0x7F && c != '%' && c != '+' && c != '.' && c != '[';
        });
    }

    // json_encode turns gap-free integer-keyed arrays into lists; only needed after a '[' name.
    void finish() {
        if (!nested_) return;
        for (auto& kv : out_) lists_to_arrays(kv.value());
    }

private:
    void register_variable(std::string_view name, json::string_view value) {
        // Fast path: a plain name that PHP's mangling leaves unchanged.
        bool plain = !name.empty();
        for (const char c : name)
            if (c == ' ' || c == '.' || c == '[') {
                plain = false;
                break;
            }
        if (plain) return store(out_, true, name, value);
        register_variable_ex(name, value);
    }

    // Port of php_register_variable_ex(); `buf_` plays the role of PHP's mutable copy of the name.
    void register_variable_ex(std::string_view name, json::string_view value) {
        while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
        buf_.assign(name);  // NUL-terminated and free of inner NULs, like PHP's copy
        char* const var = buf_.data();
        char* p = var;
        char* ip = nullptr;
        bool is_array = false;
        for (; *p; ++p) {
            if (*p == ' ' || *p == '.') {
                *p = '_';
            } else if (*p == '[') {
                is_array = true;
                ip = p;
                *p = '\0';
                break;
            }
        }
        const std::size_t var_len = static_cast<std::size_t>(p - var);
        const std::string_view top(var, var_len);
        // PHP 8.2.24+: mangling must not forge the cookie prefixes browsers protect.
        for (const std::string_view prefix : {std::string_view("__Host-"), std::string_view("__Secure-")})
            if (top.starts_with(prefix) && !name.starts_with(prefix)) return;
        if (var_len == 0) return;

        json::object* sym = &out_;
        bool at_top = true;
        const char* index = var;
        std::size_t index_len = var_len;
        if (is_array) {
            nested_ = true;
            std::size_t nest_level = 0;
            for (;;) {
                if (++nest_level > limits_.max_nesting) {
                    out_.stable_erase(top);  // PHP drops the whole top-level variable
                    return;
                }
                ++ip;
                char* index_s = ip;
                std::size_t new_idx_len = 0;
                if (is_c_space(*ip)) ++ip;  // "[ ]" is an append; "[ x]" keeps the space in the key
                if (*ip == ']') {
                    index_s = nullptr;
                } else {
                    ip = std::strchr(ip, ']');
                    if (ip == nullptr) {
                        // Not an index after all: the '[' becomes '_' and the rest is name text.
                        index_s[-1] = '_';
                        for (p = index_s; *p; ++p)
                            if (*p == ' ' || *p == '.' || *p == '[') *p = '_';
                        index_len = index != nullptr ? std::strlen(index) : 0;
                        break;
                    }
                    *ip = '\0';
                    new_idx_len = static_cast<std::size_t>(ip - index_s);
                }
                sym = child_array(*sym, at_top, index, index_len);
                if (sym == nullptr) return;
                at_top = false;
                index = index_s;
                index_len = new_idx_len;
                ++ip;
                if (*ip != '[') break;  // anything after a ']' but another '[' is ignored
                *ip = '\0';
            }
        }
        if (index == nullptr) {
            append(*sym, value);
            return;
        }
        store(*sym, at_top, std::string_view(index, index_len), value);
    }

    // The array at sym[index] (or a new one appended when index is null), created or replacing a
    // non-array value in place; null when PHP refuses the append.
    json::object* child_array(json::object& sym, bool at_top, const char* index, std::size_t index_len) {
        if (index == nullptr) {
            json::value* v = append(sym, new_array(sym.storage()));
            return v != nullptr ? &v->as_object() : nullptr;
        }
        const std::string_view key(index, index_len);
        const auto it = sym.find(key);
        if (it == sym.end()) {
            if (!at_top) note_key(sym, key);
            return &sym.emplace(key, new_array(sym.storage())).first->value().as_object();
        }
        json::value& v = it->value();
        if (auto* a = v.if_array()) v = list_to_object(*a);
        else if (!v.is_object()) v = new_array(sym.storage());
        return &v.as_object();
    }

    void store(json::object& sym, bool at_top, std::string_view key, json::string_view value) {
        if (!at_top) note_key(sym, key);
        else if (cookies_) {
            sym.emplace(key, value);  // first cookie of a name wins (RFC 2965 path order)
            return;
        }
        sym.insert_or_assign(key, value);  // an existing key keeps its position
    }

    json::object& out_;
    const ParseLimits& limits_;
    const bool cookies_;
    bool nested_ = false;
    std::string name_;  // decoded / scrubbed name, reused across pairs
    // The decoded value, kept by the thread across pairs and calls (its capacity is reused);
    // nothing in a call outlives the pair it decodes.
    std::string& value_ = decode_buffer();
    std::string scrub_;  // a value with invalid UTF-8 replaced
    std::string buf_;    // mutable copy of a name that needs PHP's mangling
};

// php_default_treat_data(): split on `sep` (empty tokens skipped, as strtok does), count pairs
// against max_input_vars, and register each. Unlike PHP this is binary-safe for the input: a NUL
// byte only ends a name, as in PHP's POST body reader.
ParseResult treat_data(std::string_view input, char sep, bool cookies, json::object& out, const ParseLimits& limits) {
    ParseResult result;
    // Room for 19 members: one more than Boost.JSON scans linearly (18), so the object keeps a hash
    // index and every later lookup of a name is a probe, not a scan. A tracking hit's usual
    // parameters fit; larger maps grow as they fill.
    if (out.empty()) out.reserve(19);
    Registrar reg(out, limits, cookies);
    for (std::size_t pos = 0; pos < input.size();) {
        std::size_t end = input.find(sep, pos);
        if (end == std::string_view::npos) end = input.size();
        std::string_view tok = input.substr(pos, end - pos);
        pos = end + 1;
        if (cookies)  // "a=1; b=2": white space before a cookie name is skipped
            while (!tok.empty() && is_c_space(tok.front())) tok.remove_prefix(1);
        const auto eq = tok.find('=');
        if (tok.empty() || (cookies && eq == 0)) continue;  // nameless cookies are not even counted
        if (++result.vars > limits.max_vars) {
            result.over_max_vars = true;  // PHP stops here; we keep counting for `vars`
            continue;
        }
        reg.add_pair(tok.substr(0, eq), eq == std::string_view::npos ? std::string_view() : tok.substr(eq + 1));
    }
    reg.finish();
    return result;
}

}  // namespace

ParseResult parse_str(std::string_view input, json::object& out, const ParseLimits& limits) {
    return treat_data(input, '&', false, out, limits);
}

// What the one scan of parse_str(..., Params&) asks of a byte: does it end a pair or a name, can it
// not be part of a name PHP keeps as it is, does it need URL decoding (in a value).
enum : std::uint8_t { kEndPair = 1, kEndName = 2, kNotPlainName = 4, kDecode = 8 };
constexpr auto kByteClass = [] {
    std::array<std::uint8_t, 256> t{};
    for (unsigned c = 0; c < 256; ++c) {
        if (c <= ' ' || c >= 0x7F || c == '%' || c == '+' || c == '.' || c == '[') t[c] |= kNotPlainName;
        if (c == '%' || c == '+') t[c] |= kDecode;
    }
    t['&'] |= kEndPair;
    t['='] |= kEndName;
    return t;
}();

ParseResult parse_str(std::string_view input, Params& out, const ParseLimits& limits) {
    // The usual query string has only names PHP stores as they are, so its pairs become views: names
    // into `input`, values too unless they need decoding (then into one buffer the hit owns, as
    // decoding never makes a value longer). The first name PHP would change or nest sends the whole
    // string through the full port above, whose result the hit then views. One scan per pair finds
    // its end, its '=' and whether its name is plain and its value needs decoding.
    ParseResult result;
    char* decoded = nullptr;
    std::size_t used = 0;
    std::uint64_t seen = 0;  // a bit per (length, first and last byte) of the names stored: most names are new
    const char* p = input.data();
    const char* const end = p + input.size();
    while (p < end) {
        const char* const name = p;
        unsigned name_class = 0;
        while (p < end && (kByteClass[static_cast<unsigned char>(*p)] & (kEndPair | kEndName)) == 0)
            name_class |= kByteClass[static_cast<unsigned char>(*p++)];
        const std::string_view name_view(name, static_cast<std::size_t>(p - name));
        std::string_view value;
        unsigned value_class = 0, value_bytes = 0;
        if (p < end && *p == '=') {
            const char* const v = ++p;
            // Values are most of the bytes: 8 at a time up to the word with the '&', then byte by byte.
            std::uint64_t any = 0, decode = 0;
            for (; end - p >= 8; p += 8) {
                const std::uint64_t w = load8(p);
                if (has_byte(w, '&')) break;
                any |= w;
                decode |= static_cast<std::uint64_t>(has_byte(w, '%')) | static_cast<std::uint64_t>(has_byte(w, '+'));
            }
            value_class = decode != 0 ? kDecode : 0;
            value_bytes = (any & kHigh) != 0 ? 0x80 : 0;
            for (; p < end && *p != '&'; ++p) {
                value_class |= kByteClass[static_cast<unsigned char>(*p)];
                value_bytes |= static_cast<unsigned char>(*p);
            }
            value = std::string_view(v, static_cast<std::size_t>(p - v));
        }
        const bool empty_pair = p == name;
        ++p;  // past the '&'
        if (empty_pair) continue;
        if (name_view.empty() || (name_class & kNotPlainName) != 0) {
            json::object full(out.storage());
            result = parse_str(input, full, limits);
            out = Params(std::move(full));
            return result;
        }
        if (++result.vars > limits.max_vars) {
            result.over_max_vars = true;
            continue;
        }
        if ((value_class & kDecode) != 0) {
            if (decoded == nullptr) decoded = out.own_text(input.size());
            char* const d = decoded + used;
            std::memcpy(d, value.data(), value.size());
            value = std::string_view(d, url_decode_in_place(d, value.size(), true));
            used += value.size();
            value_bytes = all_ascii(value) ? 0 : 0x80;
        }
        if ((value_bytes & 0x80) != 0)
            if (const auto bad = first_invalid_utf8(value); bad != value.size()) value = out.keep(scrubbed(value, bad));
        const std::size_t slot = name_view.size() * 7 + std::size_t{static_cast<unsigned char>(name[0])} +
                                 std::size_t{static_cast<unsigned char>(name_view.back())} * 3;
        const std::uint64_t bit = std::uint64_t{1} << (slot & 63);
        if ((seen & bit) != 0) {
            out.set_view(name_view, value);  // perhaps a repeated name: the last value wins, in the first place
        } else {
            seen |= bit;
            out.append_view(name_view, value);
        }
    }
    return result;
}

ParseResult parse_cookies(std::string_view header, json::object& out, const ParseLimits& limits) {
    // PHP copies the Cookie header as a C string, so a NUL byte ends it.
    return treat_data(header.substr(0, header.find('\0')), ';', true, out, limits);
}

bool valid_utf8(std::string_view s) { return first_invalid_utf8(s) == s.size(); }

bool scrub_utf8(std::string& s) {
    const auto bad = first_invalid_utf8(s);
    if (bad == s.size()) return false;
    s = scrubbed(s, bad);
    return true;
}

}  // namespace mgw::php
