// The whole rules over a request view, and the folder's promise: no HTTP library in tracking/.
#include "tracking/tracking.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

using namespace mgw::tracking;
using mgw::gateway::EdgeContext;
using mgw::gateway::TrackingOptions;

namespace {

constexpr std::int64_t kNow = 1700000000;

TrackingResult run(std::string_view method, std::string_view target, std::vector<Header> headers = {},
                   std::string_view body = {}, const TrackingOptions& opts = {}) {
    RequestView req{method, target, headers, body};
    EdgeContext edge{"127.0.0.1", "127.0.0.1"};
    return build_tracking(req, edge, opts, kNow);
}

}  // namespace

TEST_CASE("a pageview becomes one set and send_image=0 asks for 204") {
    auto r = run("GET", "/matomo.php?idsite=1&rec=1&send_image=0");
    CHECK(r.kind == TrackingKind::queue);
    CHECK(r.hits == 1);
    REQUIRE(r.sets.size() == 1);
    CHECK(r.sets[0].hits == 1);
    CHECK_FALSE(r.send_image);
}

TEST_CASE("preflight and no hits and refusals") {
    CHECK(run("OPTIONS", "/matomo.php", {{"Access-Control-Request-Method", "POST"}}).kind == TrackingKind::preflight);
    CHECK(run("GET", "/matomo.php").kind == TrackingKind::no_hits);
    auto cip = run("GET", "/matomo.php?idsite=1&rec=1&cip=1.2.3.4");
    CHECK(cip.kind == TrackingKind::reject);
    CHECK(cip.status == 400);
    CHECK(cip.reason == "cip_without_token");
    TrackingOptions reject;
    reject.reject_client_tokens = true;
    auto tok = run("GET", "/matomo.php?idsite=1&rec=1&token_auth=x", {}, {}, reject);
    CHECK(tok.kind == TrackingKind::reject);
    CHECK(tok.status == 403);
}

TEST_CASE("Do-Not-Track when honoured: answered as queued and nothing stored") {
    TrackingOptions dnt;
    dnt.honor_dnt = true;
    auto r = run("GET", "/matomo.php?idsite=1&rec=1", {{"DNT", "1"}}, {}, dnt);
    CHECK(r.kind == TrackingKind::queue);
    CHECK(r.reason == "do_not_track");
    CHECK(r.sets.empty());
}

TEST_CASE("strict mode: a bulk keeps its valid hits and counts the refused ones and all refused is 400") {
    TrackingOptions strict;
    strict.validation = mgw::gateway::Validation::strict;
    auto some = run("POST", "/matomo.php", {}, R"({"requests":["?idsite=1&rec=1","?rec=1"]})", strict);
    CHECK(some.kind == TrackingKind::queue);
    CHECK(some.hits == 1);
    CHECK(some.rejected_hits == 1);
    auto none = run("POST", "/matomo.php", {}, R"({"requests":["?rec=1","?rec=1"]})", strict);
    CHECK(none.kind == TrackingKind::reject);
    CHECK(none.status == 400);
    CHECK(none.rejected_hits == 2);
}

TEST_CASE("the tracking rules include no HTTP library") {
    const std::filesystem::path dir = std::filesystem::path(MGW_SOURCE_DIR) / "tracking";
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        const auto ext = entry.path().extension();
        if (ext != ".hpp" && ext != ".cpp") continue;
        ++files;
        std::ifstream in(entry.path());
        std::stringstream text;
        text << in.rdbuf();
        INFO(entry.path().filename().string());
        CHECK(text.str().find("boost/beast") == std::string::npos);
    }
    CHECK(files == 10);
}
