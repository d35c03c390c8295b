// Stage 1 on its own: request forms, parameters, the token and send_image (docs/wire-format.md: "Answers", R1-R4).
#include "tracking/request_form.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace mgw::tracking;
using mgw::gateway::TrackingOptions;

namespace {

struct Req {
    std::vector<Header> headers;
    RequestView view;
    Req(std::string_view method, std::string_view target, std::vector<Header> h = {}, std::string_view body = {})
        : headers(std::move(h)), view{method, target, headers, body} {}
};

std::string str(const mgw::php::Params& hit, std::string_view k) { return std::string(hit.text(k).value()); }

}  // namespace

TEST_CASE("request view: first field by name and any case and query after the first '?'") {
    Req r("GET", "/matomo.php?idsite=1&a=?b", {{"user-agent", "UA1"}, {"User-Agent", "UA2"}, {"DNT", ""}});
    CHECK(r.view.header("User-Agent") == "UA1");
    CHECK(r.view.header("USER-AGENT") == "UA1");
    CHECK(r.view.has_header("dnt"));
    CHECK_FALSE(r.view.has_header("Cookie"));
    CHECK(r.view.header("Cookie").empty());
    CHECK(r.view.query() == "idsite=1&a=?b");
    CHECK(Req("GET", "/matomo.php").view.query().empty());
}

TEST_CASE("request view: names compare equal in ASCII case only, for every pair of bytes") {
    std::size_t equal_pairs = 0;
    for (int x = 0; x < 256; ++x) {
        for (int y = 0; y < 256; ++y) {
            const char a[] = {'H', static_cast<char>(x)}, b[] = {'h', static_cast<char>(y)};
            const auto lower = [](int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; };
            const bool expected = lower(x) == lower(y);
            equal_pairs += expected ? 1 : 0;
            if (iequals(std::string_view(a, 2), std::string_view(b, 2)) != expected) FAIL("bytes " << x << ", " << y);
        }
    }
    CHECK(equal_pairs == 256 + 2 * 26);  // every byte with itself, and each letter with its other case
    CHECK(iequals("User-Agent", "user-agent"));
    CHECK_FALSE(iequals("User-Agent", "User-Agents"));
    CHECK_FALSE(iequals("X-Moz", "X\x0dMoz"));
}

TEST_CASE("R1: a preflight is OPTIONS with Access-Control-Request-Method or -Headers") {
    CHECK(is_preflight(Req("OPTIONS", "/matomo.php", {{"Access-Control-Request-Method", "POST"}}).view));
    CHECK(is_preflight(Req("OPTIONS", "/matomo.php", {{"access-control-request-headers", "x"}}).view));
    CHECK_FALSE(is_preflight(Req("OPTIONS", "/matomo.php").view));
    CHECK_FALSE(is_preflight(Req("GET", "/matomo.php", {{"Access-Control-Request-Method", "POST"}}).view));
}

TEST_CASE("form and bulk recognition") {
    CHECK(is_form("application/x-www-form-urlencoded"));
    CHECK(is_form("Application/X-WWW-Form-Urlencoded ; charset=UTF-8"));
    CHECK_FALSE(is_form("application/json"));
    CHECK_FALSE(is_form(""));
    CHECK(is_bulk(R"({"requests":["?idsite=1"]})"));
    CHECK(is_bulk("{'requests':[]}"));
    CHECK_FALSE(is_bulk(R"("requests")"));  // at offset 0: not bulk (BulkTracking's strpos > 0)
    CHECK_FALSE(is_bulk("idsite=1&rec=1"));
}

TEST_CASE("GET: one hit from the query and send_image=0 read from it and the hit's token is the set's") {
    auto in = read_hits(Req("GET", "/matomo.php?idsite=1&rec=1&send_image=0&token_auth=abc").view, TrackingOptions{});
    REQUIRE(in.kind == Incoming::Kind::hits);
    REQUIRE(in.hits.size() == 1);
    CHECK(str(in.hits[0], "idsite") == "1");
    CHECK_FALSE(in.send_image);
    REQUIRE(in.token);
    CHECK(*in.token == "abc");
}

TEST_CASE("form POST: $_GET wins over $_POST for the same name and other bodies are not parameters") {
    Req form("POST", "/matomo.php?idsite=2", {{"Content-Type", "application/x-www-form-urlencoded"}},
             "idsite=1&rec=1&action_name=x");
    auto in = read_hits(form.view, TrackingOptions{});
    REQUIRE(in.hits.size() == 1);
    CHECK(str(in.hits[0], "idsite") == "2");
    CHECK(str(in.hits[0], "action_name") == "x");
    CHECK_FALSE(in.token);
    Req text("POST", "/matomo.php?idsite=2", {{"Content-Type", "text/plain"}}, "rec=1");
    auto plain = read_hits(text.view, TrackingOptions{});
    REQUIRE(plain.hits.size() == 1);
    CHECK_FALSE(plain.hits[0].contains("rec"));
}

TEST_CASE("bulk: string and object entries and the query's token wins and the default token is empty") {
    Req bulk("POST", "/matomo.php", {},
             R"({"requests":["?idsite=1&rec=1","no-query",{"idsite":"3"}],"token_auth":"body"})");
    auto in = read_hits(bulk.view, TrackingOptions{});
    REQUIRE(in.kind == Incoming::Kind::hits);
    REQUIRE(in.hits.size() == 2);
    CHECK(str(in.hits[0], "idsite") == "1");
    CHECK(str(in.hits[1], "idsite") == "3");
    CHECK(in.token == std::optional<std::string>("body"));
    Req query_token("POST", "/matomo.php?token_auth=q", {}, R"({"requests":["?idsite=1"],"token_auth":"body"})");
    CHECK(read_hits(query_token.view, TrackingOptions{}).token == std::optional<std::string>("q"));
    Req none("POST", "/matomo.php", {}, R"({"requests":["?idsite=1"]})");
    CHECK(read_hits(none.view, TrackingOptions{}).token == std::optional<std::string>(""));
}

TEST_CASE("R2 and refusals: no hits and invalid bulk JSON and too many bulk hits and too many parameters") {
    auto empty = read_hits(Req("GET", "/matomo.php?send_image=0").view, TrackingOptions{});
    CHECK(empty.kind == Incoming::Kind::hits);  // send_image alone is a parameter, so a hit
    auto nothing = read_hits(Req("GET", "/matomo.php").view, TrackingOptions{});
    CHECK(nothing.kind == Incoming::Kind::no_hits);
    CHECK(nothing.send_image);
    CHECK(nothing.reason.empty());
    auto invalid = read_hits(Req("POST", "/matomo.php", {}, R"(x"requests":[)").view, TrackingOptions{});
    CHECK(invalid.kind == Incoming::Kind::no_hits);
    CHECK(invalid.reason == "bulk_invalid_json");
    TrackingOptions small;
    small.max_bulk_hits = 1;
    auto many = read_hits(Req("POST", "/matomo.php", {}, R"({"requests":["?a=1","?a=2"]})").view, small);
    CHECK(many.kind == Incoming::Kind::reject);
    CHECK(many.status == 413);
    CHECK(many.reason == "bulk_too_many_hits");
    TrackingOptions few;
    few.parse_limits.max_vars = 2;
    auto vars = read_hits(Req("GET", "/matomo.php?a=1&b=2&c=3").view, few);
    CHECK(vars.kind == Incoming::Kind::reject);
    CHECK(vars.status == 400);
    CHECK(vars.reason == "too_many_parameters");
}
