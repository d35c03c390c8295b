// JSON encoding of a request set. Hand-written so that env.server and env.cookie keep PHP's shapes
// (an empty cookie map is [] as PHP writes it) without building an intermediate document per hit,
// and so that the strings, most of a set's bytes, are scanned 8 bytes at a time.
#include "queue/request_set.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mgw::queue {
namespace {

// True when one of the 8 bytes in `x` is below 0x20, '"' or '\\' (exact as a whole: a borrow can
// only mark bytes after a real match).
constexpr bool has_special(std::uint64_t x) {
    constexpr std::uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    const std::uint64_t quote = x ^ (ones * '"'), backslash = x ^ (ones * '\\');
    return (((x - ones * 0x20) & ~x) | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash)) & high;
}

// The document is written through a raw cursor into a string sized ahead (every write says how many
// bytes it may need at most): no capacity check or call per character.
class Writer {
public:
    // Writes into `buf` from its start (its capacity is reused); finish() cuts it to what was written.
    Writer(std::string& buf, std::size_t expected) : buf_(buf) {
        if (buf_.size() < expected) buf_.resize(expected);
    }

    // Room for `n` more bytes at the cursor.
    char* room(std::size_t n) {
        if (buf_.size() - len_ < n) buf_.resize(std::max(buf_.size() * 2, len_ + n));
        return buf_.data() + len_;
    }
    void advance(char* to) { len_ = static_cast<std::size_t>(to - buf_.data()); }
    void put(char c) { *room(1) = c, ++len_; }
    void put(std::string_view s) {
        std::memcpy(room(s.size()), s.data(), s.size());
        len_ += s.size();
    }
    void finish() { buf_.resize(len_); }

private:
    std::string& buf_;
    std::size_t len_ = 0;
};

#if defined(__SSE2__)
// True when one of the 16 bytes in `v` is below 0x20, '"' or '\\'.
inline bool has_special16(__m128i v) {
    const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v);
    const __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
    const __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
    return _mm_movemask_epi8(_mm_or_si128(control, _mm_or_si128(quote, backslash))) != 0;
}
#endif

// Copies `s` to `d` and returns true when none of its bytes needs an escape; returns false (having
// written some of it) as soon as one does. Strings are read 16 (SSE2) or 8 bytes at a time, the last
// piece and short strings as overlapping words, so there is no byte-by-byte tail and no read
// outside `s`.
bool copy_plain(char* d, std::string_view s) {
    const char* const p = s.data();
    const std::size_t n = s.size();
#if defined(__SSE2__)
    if (n >= 16) {
        for (std::size_t i = 0; i + 16 <= n; i += 16) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
            if (has_special16(v)) return false;
            _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i), v);
        }
        const __m128i last = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + n - 16));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d + n - 16), last);
        return !has_special16(last);
    }
    if (n >= 8) {
        const __m128i lo = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
        const __m128i hi = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + n - 8));
        _mm_storel_epi64(reinterpret_cast<__m128i*>(d), lo);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(d + n - 8), hi);
        return !has_special16(_mm_unpacklo_epi64(lo, hi));
    }
#else
    if (n >= 8) {
        std::uint64_t word;
        for (std::size_t i = 0; i + 8 <= n; i += 8) {
            std::memcpy(&word, p + i, 8);
            if (has_special(word)) return false;
            std::memcpy(d + i, &word, 8);
        }
        std::memcpy(&word, p + n - 8, 8);
        std::memcpy(d + n - 8, &word, 8);
        return !has_special(word);
    }
#endif
    if (n >= 4) {
        std::uint32_t lo, hi;
        std::memcpy(&lo, p, 4);
        std::memcpy(&hi, p + n - 4, 4);
        std::memcpy(d, &lo, 4);
        std::memcpy(d + n - 4, &hi, 4);
        return !has_special(std::uint64_t{lo} | std::uint64_t{hi} << 32);
    }
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(p[i]);
        if (c < 0x20 || c == '"' || c == '\\') return false;
        d[i] = p[i];
    }
    return true;
}

// A JSON string. Most have nothing to escape and are copied whole; the others are scanned 8 bytes
// at a time. The escapes are Boost.JSON's (\b \f \n \r \t, \u00xx for the other control
// characters, nothing else), so hits read exactly as Boost.JSON would write them.
void append_string(Writer& w, std::string_view s) {
    char* d = w.room(s.size() * 6 + 2);
    d[0] = '"';
    if (copy_plain(d + 1, s)) {
        d[s.size() + 1] = '"';
        w.advance(d + s.size() + 2);
        return;
    }
    const char* p = s.data();
    const char* const end = p + s.size();
    *d++ = '"';
    while (p < end) {
        if (end - p >= 8) {
            std::uint64_t word;
            std::memcpy(&word, p, 8);
            if (!has_special(word)) {
                std::memcpy(d, &word, 8);
                d += 8;
                p += 8;
                continue;
            }
        }
        const auto c = static_cast<unsigned char>(*p++);
        if (c >= 0x20 && c != '"' && c != '\\') {
            *d++ = static_cast<char>(c);
            continue;
        }
        *d++ = '\\';
        switch (c) {
            case '"': *d++ = '"'; break;
            case '\\': *d++ = '\\'; break;
            case '\n': *d++ = 'n'; break;
            case '\r': *d++ = 'r'; break;
            case '\t': *d++ = 't'; break;
            case '\b': *d++ = 'b'; break;
            case '\f': *d++ = 'f'; break;
            default: d = write_u00xx(d, c);
        }
    }
    *d++ = '"';
    w.advance(d);
}

// A hit's parameters: strings, objects and arrays here (all that a query string gives), any other
// JSON value (from a bulk body's objects) by Boost.JSON.
void append_value(Writer& w, const boost::json::value& v);

void append_params(Writer& w, const php::Params& hit) {
    w.put('{');
    bool first = true;
    for (const auto& p : hit) {
        if (!first) w.put(',');
        first = false;
        append_string(w, p.name);
        w.put(':');
        if (p.is_string()) append_string(w, p.text);
        else append_value(w, *p.json);
    }
    w.put('}');
}

void append_object(Writer& w, const boost::json::object& o) {
    w.put('{');
    bool first = true;
    for (const auto& kv : o) {
        if (!first) w.put(',');
        first = false;
        append_string(w, kv.key());
        w.put(':');
        append_value(w, kv.value());
    }
    w.put('}');
}

void append_value(Writer& w, const boost::json::value& v) {
    switch (v.kind()) {
        case boost::json::kind::string: return append_string(w, v.get_string());
        case boost::json::kind::object: return append_object(w, v.get_object());
        case boost::json::kind::array: {
            w.put('[');
            bool first = true;
            for (const auto& e : v.get_array()) {
                if (!first) w.put(',');
                first = false;
                append_value(w, e);
            }
            w.put(']');
            return;
        }
        default: w.put(boost::json::serialize(v));
    }
}

// env.server or env.cookie: PHP writes an empty array as [].
void append_map(Writer& w, const php::Params& kv) {
    if (kv.empty()) return w.put("[]");
    append_params(w, kv);
}

}  // namespace

void encode_json_into(const RequestSet& set, std::string& out) {
    encode_json_into(
        SetParts{set.requests, set.server, set.cookies, set.token_auth ? &*set.token_auth : nullptr, set.time}, out);
}

void encode_json_into(const SetParts& set, std::string& out) {
    Writer w(out, 512 + 1024 * set.requests.size());
    w.put("{\"requests\":[");
    bool first = true;
    for (const auto& hit : set.requests) {
        if (!first) w.put(',');
        first = false;
        append_params(w, hit);
    }
    w.put("],\"env\":{\"server\":");
    // PHP writes an empty $_SERVER as [], but ours always has REMOTE_ADDR.
    append_map(w, set.server);
    w.put(",\"cookie\":");
    append_map(w, set.cookies);
    w.put("},\"tokenAuth\":");
    if (set.token_auth != nullptr) append_string(w, *set.token_auth);
    else w.put("false");
    w.put(",\"time\":");
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, set.time).ptr;
    w.put(std::string_view(digits, static_cast<std::size_t>(end - digits)));
    w.put('}');
    w.finish();
}

std::string encode_json(const RequestSet& set) {
    std::string out;
    encode_json_into(set, out);
    return out;
}

}  // namespace mgw::queue
