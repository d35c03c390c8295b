// php/sanitize.cpp — Matomo's Common::sanitizeInputValue() for one string, byte for byte:
//   sanitizeLineBreaks   str_replace(["\n", "\r"], '', $v)
//   sanitizeString       html_entity_decode($v, ENT_QUOTES, 'UTF-8')   (ENT_QUOTES implies ENT_HTML401)
//                        str_replace("\0", '', $v)                     (sanitizeNullBytes)
//                        @htmlspecialchars($v, ENT_QUOTES, 'UTF-8'), and when that returns '' for a
//                        non-empty $v (invalid UTF-8) htmlspecialchars(utf8_encode($v), ...) instead.
// The entity decoder mirrors ext/standard/html.c traverse_for_entities() for the HTML 4.01 doctype.
#include "php/php.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

namespace mgw::php {
namespace {

struct NamedEntity {
    std::string_view name;
    std::string_view utf8;
};

constexpr NamedEntity kEntities[] = {
#include "php/html_entities.inc"
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
int hex_digit(char c) {
    if (is_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// unicode_cp_is_allowed() for HTML 4.01: which numeric entities html_entity_decode decodes.
bool html401_allows(std::uint32_t cp) {
    return cp == 0x09 || cp == 0x0A || cp == 0x0D || (cp >= 0x20 && cp <= 0x7E) || (cp >= 0xA0 && cp <= 0xD7FF) ||
           (cp >= 0xE000 && cp <= 0x10FFFF);
}

// process_numeric_entity(): s[i] is the byte after "&#". PHP parses the digits with strtol, so for
// the hex form strtol's own optional "0x" prefix is accepted too ("&#x0x41;" is "A").
bool numeric_entity(std::string_view s, std::size_t i, std::size_t& semi, std::uint32_t& cp) {
    const auto at = [&](std::size_t k) { return k < s.size() ? s[k] : '\0'; };
    const bool hex = at(i) == 'x' || at(i) == 'X';
    if (hex) ++i;
    if (hex ? hex_digit(at(i)) < 0 : !is_digit(at(i))) return false;
    if (hex && at(i) == '0' && (at(i + 1) == 'x' || at(i + 1) == 'X') && hex_digit(at(i + 2)) >= 0) i += 2;
    std::uint64_t v = 0;
    for (;; ++i) {
        const int d = hex ? hex_digit(at(i)) : (is_digit(at(i)) ? at(i) - '0' : -1);
        if (d < 0) break;
        v = std::min<std::uint64_t>(v * (hex ? 16 : 10) + static_cast<std::uint64_t>(d), 0x110000);  // saturate
    }
    if (at(i) != ';' || v > 0x10FFFF) return false;
    semi = i;
    cp = static_cast<std::uint32_t>(v);
    return true;
}

const NamedEntity* find_entity(std::string_view name) {
    const auto* end = std::end(kEntities);
    const auto* it = std::lower_bound(std::begin(kEntities), end, name,
                                      [](const NamedEntity& e, std::string_view n) { return e.name < n; });
    return (it != end && it->name == name) ? it : nullptr;
}

// html_entity_decode($s, ENT_QUOTES | ENT_HTML401, 'UTF-8'). Named entities are case-sensitive and
// &apos; is not HTML 4.01; a malformed entity is copied as is and scanning resumes after its '&'.
std::string entity_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    const std::size_t n = s.size();
    for (std::size_t i = 0; i < n;) {
        if (s[i] != '&' || i + 3 >= n) {  // PHP: no entity is shorter than 4 bytes ("&lt;")
            out += s[i++];
            continue;
        }
        std::size_t semi = 0;
        if (s[i + 1] == '#') {
            std::uint32_t cp = 0;
            if (numeric_entity(s, i + 2, semi, cp) && html401_allows(cp)) {
                append_utf8(out, cp);
                i = semi + 1;
                continue;
            }
        } else {
            semi = i + 1;
            while (semi < n && is_alnum(s[semi])) ++semi;
            if (semi < n && s[semi] == ';' && semi > i + 1) {
                if (const auto* e = find_entity(s.substr(i + 1, semi - i - 1))) {
                    out += e->utf8;
                    i = semi + 1;
                    continue;
                }
            }
        }
        out += s[i++];
    }
    return out;
}

// htmlspecialchars($s, ENT_QUOTES | ENT_HTML401, 'UTF-8') on valid UTF-8, double_encode on.
void append_escaped(std::string& out, std::string_view s) {
    for (const char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#039;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            default: out += c;
        }
    }
}

// utf8_encode(): every byte taken as ISO-8859-1.
std::string latin1_to_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size() * 2);
    for (const char c : s) append_utf8(out, static_cast<unsigned char>(c));
    return out;
}

}  // namespace

bool sanitize_keeps(std::string_view value) {
    bool non_ascii = false;
    for (const char c : value) {
        switch (c) {
            case '\n':
            case '\r':
            case '&':
            case '\0':
            case '<':
            case '>':
            case '"':
            case '\'': return false;
            default: non_ascii |= static_cast<unsigned char>(c) >= 0x80;
        }
    }
    return !non_ascii || valid_utf8(value);
}

std::string matomo_sanitize(std::string_view value) {
    // Fast path: nothing that any step would change (ids and hashes are plain ASCII).
    if (sanitize_keeps(value)) return std::string(value);

    std::string v;
    v.reserve(value.size());
    for (const char c : value)
        if (c != '\n' && c != '\r') v += c;
    if (v.find('&') != std::string::npos) v = entity_decode(v);
    std::erase(v, '\0');
    // htmlspecialchars() returns '' for invalid UTF-8; Matomo then re-reads the bytes as Latin-1.
    if (!valid_utf8(v)) v = latin1_to_utf8(v);
    std::string out;
    out.reserve(v.size() + 16);
    append_escaped(out, v);
    return out;
}

}  // namespace mgw::php
