// Settings of the public edge (--matomo-origin, --js-dir and the cache), filled by the config library.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace mgw::edge {

struct PublicEdgeOptions {
    std::string matomo_origin;    // http://host[:port][/base]: the private Matomo; empty: none
    std::string js_dir;           // a local directory with matomo.js, piwik.js and js/container_*.js
    std::string js_tracker_file;  // one local file for /matomo.js, /piwik.js and /js/
    // How long a cached object is served without asking the origin again (0: ask every time).
    std::chrono::milliseconds fresh_tracker{10000};
    std::chrono::milliseconds fresh_container{10000};
    std::chrono::milliseconds fresh_configs{5000};
    std::chrono::milliseconds fresh_optout{60000};
    std::size_t cache_bytes = 64UL * 1024 * 1024;  // bodies and gzip variants together
    std::chrono::milliseconds origin_connect_timeout{2000};
    std::chrono::milliseconds origin_timeout{5000};    // request written and response read, after the connect
    std::size_t origin_max_bytes = 8UL * 1024 * 1024;  // one response body

    bool enabled() const { return !matomo_origin.empty() || !js_dir.empty() || !js_tracker_file.empty(); }
};

}  // namespace mgw::edge
