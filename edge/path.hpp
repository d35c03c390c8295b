// The public edge's allow-list (a security boundary, docs/security.md): which request targets the
// gateway answers from the private Matomo, and the canonical origin target it builds for each.
//
// Nothing of the client's target is forwarded as it came. A path is accepted only if it is made of
// plain characters ([A-Za-z0-9._/-]) and equals one of the listed paths exactly, so percent-encoded,
// double-encoded, backslash, ';'-parameter and dot-segment variants never match anything. The origin
// target is then written from the recognised parts; queries are kept only where Matomo needs them
// (configs.php, the opt-out) and only after a strict character check.
#pragma once

#include "metrics/metrics.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace mgw::edge {

using Kind = metrics::EdgeKind;

struct Target {
    Kind kind = Kind::tracker;
    std::string origin_target;  // canonical path[?query] sent to the origin
    std::string cache_key;      // what the cache files it under
    std::string file_name;      // the file a local directory serves it from ("matomo.js", "js/container_x.js")
};

struct Classified {
    std::optional<Target> target;
    std::string_view reason;  // when not allowed: "edge_not_listed" or "edge_path_refused"
};

// `request_target` as it came on the request line.
Classified classify(std::string_view request_target);

// Tag Manager's container file names (Context/BaseContext.php, getJsTargetPath):
// container_{id}.js (live), container_{id}_preview.js, container_{id}_{environment}_{24 hex}.js;
// ids are 8 characters [a-zA-Z0-9], environments [a-zA-Z0-9]. nullopt when `name` is none of them.
std::optional<Kind> container_kind(std::string_view name);

}  // namespace mgw::edge
