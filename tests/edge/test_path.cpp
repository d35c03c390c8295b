// The allow-list (edge/path.cpp) and Accept-Encoding parsing, without a network.
#include "edge/object.hpp"
#include "edge/path.hpp"

#include <catch2/catch.hpp>

using mgw::edge::classify;
using mgw::edge::container_kind;
using mgw::edge::Kind;

namespace {

// Every target is refused, for `reason`.
template <std::size_t N>
void check_refused(const char* const (&targets)[N], std::string_view reason) {
    for (const char* t : targets) {
        INFO(t);
        auto r = classify(t);
        CHECK_FALSE(r.target);
        CHECK(r.reason == reason);
    }
}

}  // namespace

TEST_CASE("edge paths: the listed paths and the canonical origin target built for each") {
    struct Case {
        const char* target;
        Kind kind;
        const char* origin;
    };
    const Case cases[] = {
        {"/matomo.js", Kind::tracker, "/matomo.js"},
        {"/matomo.js?v=5.1", Kind::tracker, "/matomo.js"},
        {"/piwik.js", Kind::tracker, "/piwik.js"},
        {"/js/", Kind::tracker, "/js/"},
        {"/js/index.php", Kind::tracker, "/js/"},
        {"/js/container_AbCd1234.js", Kind::container, "/js/container_AbCd1234.js"},
        {"/js/container_AbCd1234.js?cb=1", Kind::container, "/js/container_AbCd1234.js"},
        {"/js/container_AbCd1234_preview.js", Kind::preview, "/js/container_AbCd1234_preview.js"},
        {"/js/container_AbCd1234_dev_0123456789abcdef01234567.js", Kind::container,
         "/js/container_AbCd1234_dev_0123456789abcdef01234567.js"},
        {"/plugins/HeatmapSessionRecording/configs.php?idsite=1&trackerid=x1&url=https%3A%2F%2Fa", Kind::configs,
         "/plugins/HeatmapSessionRecording/configs.php?idsite=1&trackerid=x1&url=https%3A%2F%2Fa"},
        {"/index.php?module=CoreAdminHome&action=optOutJS", Kind::optout,
         "/index.php?module=CoreAdminHome&action=optOutJS"},
        {"/index.php?action=optOut&language=fr&module=CoreAdminHome&token_auth=abc&a[]=1", Kind::optout,
         "/index.php?module=CoreAdminHome&action=optOut&language=fr"},
        {"/index.php?module=Core%41dminHome&action=optOutJS", Kind::optout,
         "/index.php?module=CoreAdminHome&action=optOutJS"},
    };
    for (const auto& c : cases) {
        INFO(c.target);
        auto r = classify(c.target);
        REQUIRE(r.target);
        CHECK(r.target->kind == c.kind);
        CHECK(r.target->origin_target == c.origin);
    }
    CHECK(std::size(cases) == 13);
}

TEST_CASE("edge paths: everything else is refused, encoded and traversing variants as probes") {
    const char* not_listed[] = {"/",
                                "/index.php",
                                "/index.php?module=Login",
                                "/index.php?module=API&method=SitesManager.getSitesWithAdminAccess",
                                "/index.php?module=CoreAdminHome&action=optOutJS&module=API",
                                "/index.php?module=CoreAdminHome&action=optOutJS&action=optOut",
                                "/index.php?module=CoreAdminHome",
                                "/js/?idsite=1",
                                "/js/container_AbCd123.js",
                                "/js/container_AbCd1234_preview.js.map",
                                "/js/container_AbCd1234_dev_0123456789abcdef0123456.js",
                                "/js/container_AbCd1234_d-v_0123456789abcdef01234567.js",
                                "/js/sub/container_AbCd1234.js",
                                "/config/config.ini.php",
                                "/plugins/HeatmapSessionRecording/configs.php.bak",
                                "matomo.js",
                                "http://x/matomo.js"};
    check_refused(not_listed, "edge_not_listed");
    const char* probes[] = {"/js/../config/config.ini.php",
                            "/js/%2e%2e/config/config.ini.php",
                            "/%252e%252e/x",
                            "/js\\container_AbCd1234.js",
                            "/matomo.js;jsessionid=1",
                            "//matomo.js",
                            "/./matomo.js",
                            "/matomo.js/.",
                            "/js/container_AbCd1234.js%00",
                            "/plugins/HeatmapSessionRecording/configs.php?a=<b>",
                            "/plugins/HeatmapSessionRecording/configs.php?a=%zz"};
    check_refused(probes, "edge_path_refused");
}

TEST_CASE("edge paths: Tag Manager container file names") {
    CHECK(container_kind("container_abcdEFGH.js") == Kind::container);
    CHECK(container_kind("container_abcdEFGH_preview.js") == Kind::preview);
    CHECK(container_kind("container_abcdEFGH_staging_aaaaaaaaaaaaaaaaaaaaaaaa.js") == Kind::container);
    CHECK_FALSE(container_kind("container_abcdEFG_.js"));
    CHECK_FALSE(container_kind("container_abcdEFGH_.js"));
    CHECK_FALSE(container_kind("container_abcdEFGH__aaaaaaaaaaaaaaaaaaaaaaaa.js"));
    CHECK_FALSE(container_kind("container_abcdEFGH_staging_aaaaaaaaaaaaaaaaaaaaaaaz.js"));
    CHECK_FALSE(container_kind("container_abcdEFGH_Preview.js"));
}

TEST_CASE("edge: Accept-Encoding allows gzip unless it is refused") {
    using mgw::edge::accepts_gzip;
    CHECK(accepts_gzip("gzip, deflate, br"));
    CHECK(accepts_gzip("br;q=1.0, gzip;q=0.8"));
    CHECK(accepts_gzip("*"));
    CHECK(accepts_gzip("x-gzip"));
    CHECK_FALSE(accepts_gzip(""));
    CHECK_FALSE(accepts_gzip("deflate, br"));
    CHECK_FALSE(accepts_gzip("gzip;q=0"));
    CHECK_FALSE(accepts_gzip("gzip;q=0.000, *"));
    CHECK_FALSE(accepts_gzip("identity"));
}
