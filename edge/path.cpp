// Allow-list matching and canonical origin targets (see path.hpp).
#include "edge/path.hpp"

#include <array>
#include <vector>

namespace mgw::edge {
namespace {

constexpr std::size_t max_query_bytes = 4096;

bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool all_of(std::string_view s, bool (*pred)(char)) {
    for (char c : s)
        if (!pred(c)) return false;
    return true;
}

bool plain_path_char(char c) { return alnum(c) || c == '.' || c == '_' || c == '/' || c == '-'; }

// RFC 3986 query characters (and brackets), with '%' only as the start of a valid escape. Spaces, quotes, angle
// brackets, backslashes, control and non-ASCII bytes are refused rather than re-encoded: no browser
// sends them unencoded to these endpoints.
bool clean_query(std::string_view q) {
    if (q.size() > max_query_bytes) return false;
    for (std::size_t i = 0; i < q.size(); ++i) {
        const char c = q[i];
        if (alnum(c)) continue;
        switch (c) {
            case '-':
            case '.':
            case '_':
            case '~':
            case '!':
            case '$':
            case '&':
            case '\'':
            case '(':
            case ')':
            case '*':
            case '+':
            case ',':
            case ';':
            case '=':
            case ':':
            case '@':
            case '/':
            case '?':
            case '[':
            case ']':  // brackets: browsers send PHP array names unencoded
                continue;
            case '%':
                if (i + 2 < q.size() && hex(q[i + 1]) && hex(q[i + 2])) {
                    i += 2;
                    continue;
                }
                return false;
            default: return false;
        }
    }
    return true;
}

// Percent-decoding as PHP does for $_GET names and values ('+' is a space).
std::string url_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out.push_back(' ');
        } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) && hex(s[i + 2])) {
            out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

bool word_char(char c) { return alnum(c) || c == '_'; }

// Matomo 5's opt-out: index.php?module=CoreAdminHome&action=optOutJS (the embeddable script) or
// action=optOut (the legacy iframe). The query is rebuilt: module and action first, exactly once
// each, then the other parameters whose names are plain words, in their order; anything PHP could
// read as another module or action (arrays, odd names) and any token is dropped.
std::optional<std::string> optout_query(std::string_view q) {
    if (!clean_query(q)) return std::nullopt;
    std::string action;
    int modules = 0, actions = 0;
    std::string rest;
    std::size_t start = 0;
    while (start <= q.size()) {
        std::size_t amp = q.find('&', start);
        if (amp == std::string_view::npos) amp = q.size();
        std::string_view pair = q.substr(start, amp - start);
        start = amp + 1;
        if (pair.empty()) continue;
        const std::size_t eq = pair.find('=');
        const std::string name = url_decode(pair.substr(0, eq));
        const std::string value = eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1));
        if (name == "module") {
            if (++modules > 1 || value != "CoreAdminHome") return std::nullopt;
        } else if (name == "action") {
            if (++actions > 1 || (value != "optOut" && value != "optOutJS")) return std::nullopt;
            action = value;
        } else if (!name.empty() && all_of(name, word_char) && name != "token_auth" && name != "force_api_session") {
            rest.push_back('&');
            rest.append(pair);
        }
    }
    if (modules != 1 || actions != 1) return std::nullopt;
    return "module=CoreAdminHome&action=" + action + rest;
}

bool has_dot_segment_or_empty(std::string_view path) {
    // "//", "/./", "/../" and a trailing "/." or "/..": never part of a listed path.
    std::size_t start = 1;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        const bool last = end == std::string_view::npos;
        if (last) end = path.size();
        const std::string_view seg = path.substr(start, end - start);
        if (seg == "." || seg == "..") return true;
        if (seg.empty() && !last) return true;
        start = end + 1;
    }
    return false;
}

}  // namespace

std::optional<Kind> container_kind(std::string_view name) {
    constexpr std::string_view prefix = "container_", suffix = ".js";
    if (name.size() < prefix.size() + 8 + suffix.size() || name.substr(0, prefix.size()) != prefix ||
        name.substr(name.size() - suffix.size()) != suffix)
        return std::nullopt;
    std::string_view rest = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    if (!all_of(rest.substr(0, 8), alnum)) return std::nullopt;
    if (rest.size() == 8) return Kind::container;
    rest.remove_prefix(8);
    if (rest == "_preview") return Kind::preview;
    // _{environment}_{first 24 hex digits of a sha1}
    if (rest.size() < 1 + 1 + 1 + 24 || rest[0] != '_') return std::nullopt;
    std::string_view hash = rest.substr(rest.size() - 24);
    std::string_view env = rest.substr(1, rest.size() - 1 - 25);
    if (rest[rest.size() - 25] != '_' || env.empty() || env.size() > 64) return std::nullopt;
    if (!all_of(env, alnum) || !all_of(hash, hex)) return std::nullopt;
    return Kind::container;
}

Classified classify(std::string_view request_target) {
    Classified out;
    out.reason = "edge_not_listed";
    if (request_target.empty() || request_target[0] != '/') return out;
    const std::size_t qpos = request_target.find('?');
    const std::string_view path = request_target.substr(0, qpos);
    const std::string_view query =
        qpos == std::string_view::npos ? std::string_view() : request_target.substr(qpos + 1);
    if (!all_of(path, plain_path_char) || has_dot_segment_or_empty(path)) {
        out.reason = "edge_path_refused";
        return out;
    }
    Target t;
    if (path == "/matomo.js" || path == "/piwik.js") {
        // A cache-busting query is ignored, as a static file server does.
        t.kind = Kind::tracker;
        t.origin_target = std::string(path);
        t.file_name = std::string(path.substr(1));
    } else if (path == "/js/" || path == "/js/index.php" || path == "/js/tracker.php") {
        // With a query these are tracking requests (the session routes them before asking the edge).
        if (!query.empty()) return out;
        t.kind = Kind::tracker;
        t.origin_target = "/js/";
        t.file_name = "matomo.js";
    } else if (path.substr(0, 4) == "/js/" && path.find('/', 4) == std::string_view::npos) {
        auto kind = container_kind(path.substr(4));
        if (!kind) return out;
        t.kind = *kind;
        t.origin_target = std::string(path);
        t.file_name = std::string(path.substr(1));
    } else if (path == "/plugins/HeatmapSessionRecording/configs.php") {
        if (!clean_query(query)) {
            out.reason = "edge_path_refused";
            return out;
        }
        t.kind = Kind::configs;
        t.origin_target = std::string(path);
        if (!query.empty()) t.origin_target += "?" + std::string(query);
    } else if (path == "/index.php") {
        auto q = optout_query(query);
        if (!q) return out;
        t.kind = Kind::optout;
        t.origin_target = "/index.php?" + *q;
    } else {
        return out;
    }
    t.cache_key = t.origin_target;
    out.target = std::move(t);
    out.reason = {};
    return out;
}

}  // namespace mgw::edge
