// JSON encoding of a request set. Hand-written around boost::json::serialize so that env.server and
// env.cookie keep PHP's shapes (an empty cookie map is [] as PHP writes it) without building an
// intermediate document per hit.
#include "queue/request_set.hpp"

#include <boost/json/serializer.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <charconv>

namespace mgw::queue {
namespace {

// Characters that need no escape are appended in runs: most values have none to escape.
void append_string(std::string& out, std::string_view s) {
    out.push_back('"');
    std::size_t plain = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(s.data() + plain, i - plain);
        plain = i + 1;
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default: {
                static constexpr char hex[] = "0123456789abcdef";
                out += "\\u00";
                out.push_back(hex[c >> 4]);
                out.push_back(hex[c & 0xF]);
            }
        }
    }
    out.append(s.data() + plain, s.size() - plain);
    out.push_back('"');
}

// A hit's object serialised straight into `out` (no intermediate string per hit).
void append_value(std::string& out, const boost::json::object& hit) {
    boost::json::serializer sr;
    sr.reset(&hit);
    while (!sr.done()) {
        const std::size_t old = out.size();
        out.resize(old + 512);
        const auto part = sr.read(out.data() + old, 512);
        out.resize(old + part.size());
    }
}

void append_map(std::string& out, const std::vector<std::pair<std::string, std::string>>& kv) {
    if (kv.empty()) {
        out += "[]";
        return;
    }
    out.push_back('{');
    bool first = true;
    for (const auto& [k, v] : kv) {
        if (!first) out.push_back(',');
        first = false;
        append_string(out, k);
        out.push_back(':');
        append_string(out, v);
    }
    out.push_back('}');
}

}  // namespace

std::string encode_json(const RequestSet& set) {
    std::string out;
    out.reserve(256 + 512 * set.requests.size());
    out += "{\"requests\":[";
    bool first = true;
    for (const auto& hit : set.requests) {
        if (!first) out.push_back(',');
        first = false;
        append_value(out, hit);
    }
    out += "],\"env\":{\"server\":";
    // PHP writes an empty $_SERVER as [], but ours always has REMOTE_ADDR.
    append_map(out, set.server);
    out += ",\"cookie\":";
    append_map(out, set.cookies);
    out += "},\"tokenAuth\":";
    if (set.token_auth) append_string(out, *set.token_auth);
    else out += "false";
    out += ",\"time\":";
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, set.time).ptr;
    out.append(digits, end);
    out.push_back('}');
    return out;
}

}  // namespace mgw::queue
