// What a client may keep of its hit time in a set the gateway's token authorises (rule T1 and
// checklist item 16 of docs/wire-format.md): only a cdt / cdo whose resulting time is provably inside the no-token
// window.
#include "gateway/enrich.hpp"
#include "gateway/validation.hpp"
#include "support/params.hpp"

#include <catch2/catch.hpp>

using namespace mgw::gateway;
namespace json = boost::json;

namespace {

constexpr std::int64_t kNow = 1700000000;
const mgw::geoip::GeoResult kGeo{"de", "BY", "Munich", 48.137, 11.575, {}};

json::object authorised(json::object object) {
    mgw::php::Params hit(std::move(object));
    authorise_with_gateway_geo(hit, kGeo, TrackingOptions{}, kNow);
    return mgw::test::to_object(hit);
}

}  // namespace

TEST_CASE("item 16: a recent cdt and a recent cdo that together reach past the no-token window lose the cdo") {
    const std::string recent = std::to_string(kNow - 80000);
    auto hit = authorised({{"cdt", recent}, {"cdo", "80000"}});
    CHECK(hit.at("cdt") == json::value(recent));
    CHECK(!hit.contains("cdo"));
    auto inside = authorised({{"cdt", recent}, {"cdo", "400"}});
    CHECK(inside.at("cdo") == "400");
    auto alone = authorised({{"cdo", "3600"}});
    CHECK(alone.at("cdo") == "3600");
}

TEST_CASE("item 16: a cdt or cdo the worker would read differently from us is removed") {
    // strtotime() reads the relative part; PHP's int cast reads the exponent.
    CHECK(!authorised({{"cdt", "2023-11-14 20:00:00 -3 days"}}).contains("cdt"));
    CHECK(!authorised({{"cdo", "1e9"}}).contains("cdo"));
    CHECK(!authorised({{"cdo", " 5"}}).contains("cdo"));
    CHECK(!authorised({{"cdo", "-5"}}).contains("cdo"));
    CHECK(!authorised({{"cdo", json::array{"5"}}}).contains("cdo"));
    // The mobile SDKs' format with a zone stays when recent.
    CHECK(authorised({{"cdt", "2023-11-14 21:13:20+0000"}}).contains("cdt"));
}

TEST_CASE("cdt: the exact parser reads only whole timestamps") {
    CHECK(parse_cdt_exact("1700000000") == 1700000000);
    CHECK(parse_cdt_exact("2023-11-14 22:13:20Z") == 1700000000);
    CHECK(parse_cdt_exact("2023-11-14T23:13:20+01:00") == 1700000000);
    CHECK(parse_cdt_exact("2023-11-14 22:13:20 yesterday") == std::nullopt);
    CHECK(parse_cdt_exact("2023-11-14") == std::nullopt);
    CHECK(parse_cdt_exact("") == std::nullopt);
}
