// config::check_startup: what start-up verifies before it binds or connects, in one place for
// --check-config and the start (config.hpp). Start-up opens the same things again to use them; what
// can only fail then (a port in use, a spool locked by another process, Redis) names the option too.
#include "config/config.hpp"

#include "gateway/enrich.hpp"
#include "gateway/server.hpp"
#include "geoip/geo.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mgw::config {
namespace {

std::optional<std::string> check_listen(const char* option, const std::string& value) {
    std::string error;
    if (!gateway::parse_endpoint(value, error)) return std::string(option) + ": " + error;
    return std::nullopt;
}

// The spool creates its directory (not its parents) and writes segment files in it.
std::optional<std::string> check_spool_dir(const std::string& dir) {
    struct stat st {};
    std::string target = dir;
    if (::stat(dir.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode)) return "spool-dir: '" + dir + "' is not a directory";
    } else if (errno == ENOENT) {
        auto slash = dir.find_last_of('/');
        target = slash == std::string::npos ? "." : slash == 0 ? "/" : dir.substr(0, slash);
        if (::stat(target.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            return "spool-dir: '" + dir + "' does not exist and its parent '" + target + "' is not a directory";
    } else {
        return "spool-dir: '" + dir + "': " + std::strerror(errno);
    }
    if (::access(target.c_str(), W_OK | X_OK) != 0)
        return "spool-dir: '" + target + "' is not writable by this user (uid " + std::to_string(::geteuid()) + ")";
    return std::nullopt;
}

}  // namespace

std::optional<std::string> check_startup(const gateway::Options& o) {
    if (auto e = check_listen("listen", o.server.listen)) return e;
    if (auto e = check_listen("admin-listen", o.server.admin_listen)) return e;
    // The token file before the database: its own errors say more than a missing database.
    if (!o.edge.matomo_token_file.empty()) {
        std::string token;
        if (auto e = gateway::read_token_file(o.edge.matomo_token_file, token)) return "matomo-token-file: " + *e;
        if (o.edge.geoip_database.empty())
            return "matomo-token-file: only used with geoip-database (the token authorises the location parameters)";
    }
    if (!o.edge.geoip_database.empty()) {
        std::string error;
        if (!geoip::GeoDatabase::open(o.edge.geoip_database, error)) return "geoip-database: " + error;
    }
    if (const auto& file = o.public_edge.js_tracker_file; !file.empty() && ::access(file.c_str(), R_OK) != 0)
        return "js-tracker-file: cannot read '" + file + "': " + std::strerror(errno);
    if (const auto& dir = o.public_edge.js_dir; !dir.empty() && ::access(dir.c_str(), R_OK | X_OK) != 0)
        return "js-dir: cannot read '" + dir + "': " + std::strerror(errno);
    const auto& spool = o.durability.spool;
    if (spool.segment_bytes * 4 > spool.max_bytes)
        return "spool-segment-bytes: at most a quarter of spool-max-bytes (" + std::to_string(spool.max_bytes / 4) +
               "), as disk is freed a segment at a time";
    if (o.durability.ack != spool::AckMode::redis) {
        if (auto e = check_spool_dir(spool.dir)) return e;
    }
    return std::nullopt;
}

}  // namespace mgw::config
