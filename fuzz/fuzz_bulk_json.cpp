// The bulk path of the tracking request builder (gateway::build_tracking) on an arbitrary POST body:
// JSON parsing, bulk entries as URLs or objects, queue grouping, privileged-parameter stripping and
// the request-set encoding. Each input runs twice: stock-compatible without a gateway token, and
// strict with the gateway's token and a location (the enrich path). Every queued value must be the
// JSON object the worker expects (checklist items 7 and 9 of docs/wire-format.md), and a set the gateway's token
// authorises must carry no client-sent privileged parameter, nor a client time outside the no-token window (item 16,
// rule T1).
#include "fuzz/fuzz_check.hpp"
#include "gateway/tracking.hpp"
#include "gateway/validation.hpp"
#include "php/params.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace {

using mgw::gateway::TrackingKind;

constexpr std::int64_t kNow = 1700000000;
constexpr std::int64_t kWindow = 86400;  // TrackingOptions::cdt_no_token_window's default
const std::string kToken = "5f2e8c01d9a4b7e63c0f1a2b9d8e7c64";

// Compared by hash: a plain string comparison in this instrumented file would hand the token to
// libFuzzer's comparison tracing, which would then plant it in inputs as a client token.
bool is_gateway_token(std::string_view s) {
    static const std::size_t expected = std::hash<std::string_view>{}(kToken);
    return std::hash<std::string_view>{}(s) == expected;
}

void check_result(const mgw::gateway::TrackingResult& r, bool gateway_token) {
    if (r.kind != TrackingKind::queue) {
        MGW_FUZZ_CHECK(r.sets.empty());
        return;
    }
    std::size_t hits = 0;
    for (const auto& set : r.sets) {
        boost::system::error_code ec;
        auto doc = boost::json::parse(set.value, ec);
        MGW_FUZZ_CHECK(!ec && doc.is_object());
        const auto& o = doc.as_object();
        MGW_FUZZ_CHECK(o.size() == 4 && o.contains("requests") && o.contains("env") && o.contains("tokenAuth") &&
                       o.contains("time"));
        MGW_FUZZ_CHECK(o.at("requests").is_array() && !o.at("requests").as_array().empty());
        for (const auto& hit : o.at("requests").as_array()) MGW_FUZZ_CHECK(hit.is_object());
        hits += o.at("requests").as_array().size();
        const bool ours = o.at("tokenAuth").is_string() && is_gateway_token(o.at("tokenAuth").as_string());
        if (gateway_token && ours) {
            for (const auto& hit : o.at("requests").as_array()) {
                const auto& h = hit.as_object();
                for (std::string_view p : {"token_auth", "cip"}) MGW_FUZZ_CHECK(!h.contains(p));
                // A client time survives only when the time it gives is inside the no-token window.
                std::int64_t when = kNow;
                if (h.contains("cdt")) {
                    auto cdt = mgw::php::value_string(h.at("cdt"));
                    auto t = cdt ? mgw::gateway::parse_cdt_exact(*cdt) : std::nullopt;
                    MGW_FUZZ_CHECK(t && *t <= kNow && kNow - *t < kWindow);
                    when = *t;
                }
                if (h.contains("cdo")) {
                    auto cdo = mgw::php::value_string(h.at("cdo"));
                    MGW_FUZZ_CHECK(cdo && !cdo->empty() && cdo->size() <= 10 &&
                                   cdo->find_first_not_of("0123456789") == std::string::npos);
                    MGW_FUZZ_CHECK(kNow - (when - std::stoll(*cdo)) < kWindow);
                }
                // The gateway's location values replace the client's.
                MGW_FUZZ_CHECK(!h.contains("country") || h.at("country") == "de");
                MGW_FUZZ_CHECK(!h.contains("city") || h.at("city") == "Berlin");
            }
        }
    }
    MGW_FUZZ_CHECK(hits == r.hits);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace http = boost::beast::http;
    mgw::gateway::Request req{http::verb::post, "/matomo.php", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.set(http::field::user_agent, "fuzz");
    req.body().assign(reinterpret_cast<const char*>(data), size);
    req.prepare_payload();

    static const mgw::gateway::TrackingOptions compatible = [] {
        mgw::gateway::TrackingOptions o;
        o.compression_level = 0;  // plain JSON, so the check can read it back
        o.max_bulk_hits = 200;
        return o;
    }();
    static const mgw::gateway::TrackingOptions strict = [] {
        mgw::gateway::TrackingOptions o = compatible;
        o.validation = mgw::gateway::Validation::strict;
        o.max_param_bytes = 1024;
        o.honor_dnt = true;
        o.strip_url_params = {"gclid", "fbclid"};
        return o;
    }();
    static const mgw::geoip::GeoResult geo{"de", "BE", "Berlin", 52.52, 13.405, {}};

    mgw::gateway::EdgeContext plain;
    plain.client_ip = "203.0.113.5";
    plain.remote_addr = "203.0.113.5";
    check_result(mgw::gateway::build_tracking(req, plain, compatible, kNow), false);

    mgw::gateway::EdgeContext enriched = plain;
    enriched.geo = &geo;
    enriched.gateway_token = &kToken;
    check_result(mgw::gateway::build_tracking(req, enriched, strict, kNow), true);
    return 0;
}
