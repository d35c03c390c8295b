// JSON encoding of a request set. Hand-written around boost::json::serialize so that env.server and
// env.cookie keep PHP's shapes (an empty cookie map is [] as PHP writes it) without building an
// intermediate document per hit.
#include "queue/request_set.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

namespace mgw::queue {
namespace {

void append_string(std::string& out, std::string_view s) {
    out.push_back('"');
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20) {
                    static constexpr char hex[] = "0123456789abcdef";
                    out += "\\u00";
                    out.push_back(hex[c >> 4]);
                    out.push_back(hex[c & 0xF]);
                } else {
                    out.push_back(static_cast<char>(c));
                }
        }
    }
    out.push_back('"');
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
        out += boost::json::serialize(hit);
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
    out += std::to_string(set.time);
    out.push_back('}');
    return out;
}

}  // namespace mgw::queue
