// Option A of docs/wire-format.md (override parameters plus a Write token) rather than Option B (MM_* server
// variables): it works with Matomo's default location provider settings, needs no change of the
// provider to "geoip2server", and keeps Matomo's own geolocation for hits the gateway cannot place.
// Its danger, a token authorising what a client sent, is closed by authorise_with_gateway_geo().
#include "gateway/enrich.hpp"

#include "gateway/ascii.hpp"
#include "gateway/validation.hpp"

#include <algorithm>
#include <fstream>

namespace mgw::gateway {

std::optional<std::string> read_token_file(const std::string& path, std::string& token) {
    std::ifstream in(path);
    if (!in) return "cannot read '" + path + "'";
    std::getline(in, token);
    auto b = token.find_first_not_of(" \t\r\n");
    auto e = token.find_last_not_of(" \t\r\n");
    token = b == std::string::npos ? std::string() : token.substr(b, e - b + 1);
    if (token.empty()) return "'" + path + "' holds no token";
    return std::nullopt;
}

std::size_t authorise_with_gateway_geo(php::Params& hit, const geoip::GeoResult& geo, const TrackingOptions& opts,
                                       std::int64_t now) {
    std::size_t removed = 0;
    // Names are matched after PHP name normalisation, whatever the value's type (cip[]=... too).
    for (auto name : {"token_auth", "cip", "country", "region", "city", "lat", "long"}) removed += hit.erase(name);
    // The worker requires a token for a hit time older than the no-token window, and this set will
    // carry ours: keep a client cdt / cdo only when the time they give is provably inside the window.
    std::optional<std::int64_t> kept_cdt;
    if (auto cdt = hit.string("cdt")) {
        auto t = parse_cdt_exact(*cdt);
        if (!t || *t > now || now - *t >= opts.cdt_no_token_window) removed += hit.erase("cdt");
        else kept_cdt = t;
    } else if (hit.contains("cdt")) {
        removed += hit.erase("cdt");
    }
    // cdo is subtracted from cdt (or from the enqueue time), so the age that counts is that of the
    // result: a recent cdt plus a recent cdo can reach far past the window. Only a plain decimal is
    // kept: PHP reads "1e9" as 10^9 where a C parser stops at the 'e'.
    if (auto cdo = hit.string("cdo")) {
        const bool plain = cdo->size() <= 10 && all_digits(*cdo);
        const std::int64_t offset = plain ? std::stoll(*cdo) : 0;
        if (!plain || now - (kept_cdt.value_or(now) - offset) >= opts.cdt_no_token_window) removed += hit.erase("cdo");
    } else if (hit.contains("cdo")) {
        removed += hit.erase("cdo");
    }
    for (auto& [name, value] : geoip::geo_override_params(geo)) hit.set(name, value);
    return removed;
}

}  // namespace mgw::gateway
