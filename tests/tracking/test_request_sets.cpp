// Stage 3 on its own: env.server, env.cookie, grouping and the sets' bytes.
#include "tracking/request_sets.hpp"

#include "support/params.hpp"

#include <libdeflate.h>
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <vector>

using namespace mgw::tracking;
using mgw::gateway::TrackingOptions;
namespace json = boost::json;

namespace {

std::string inflate(const std::string& z) {
    std::string out(std::size_t{64} * 1024, '\0');
    auto* d = libdeflate_alloc_decompressor();
    std::size_t n = 0;
    const auto r = libdeflate_zlib_decompress(d, z.data(), z.size(), out.data(), out.size(), &n);
    libdeflate_free_decompressor(d);
    REQUIRE(r == LIBDEFLATE_SUCCESS);
    out.resize(n);
    return out;
}

}  // namespace

TEST_CASE("env.server: REMOTE_ADDR and REQUEST_METHOD and the headers the worker reads and never proxy headers") {
    std::vector<Header> h{{"Host", "e.org"},
                          {"user-agent", "UA"},
                          {"X-Forwarded-For", "1.2.3.4"},
                          {"Accept-Language", "de"},
                          {"Sec-CH-UA-Platform", "\"Linux\""},
                          {"Via", "a"},
                          {"via", "b"}};
    RequestView req{"GET", "/matomo.php", h, {}};
    auto env = build_server_env(req, "203.0.113.0");
    const std::vector<std::pair<std::string, std::string>> expected{{"REMOTE_ADDR", "203.0.113.0"},
                                                                    {"REQUEST_METHOD", "GET"},
                                                                    {"HTTP_USER_AGENT", "UA"},
                                                                    {"HTTP_ACCEPT_LANGUAGE", "de"},
                                                                    {"HTTP_SEC_CH_UA_PLATFORM", "\"Linux\""},
                                                                    {"HTTP_VIA", "a, b"}};
    CHECK(mgw::test::pairs(env) == expected);
}

TEST_CASE("env.cookie keeps only the ignore and third-party cookies and the id is used only in that mode") {
    std::vector<Header> h{{"Cookie", "_pk_id.1=x; matomo_ignore=1"}, {"cookie", "_pk_uid=0%3Dabc"}};
    RequestView req{"GET", "/matomo.php", h, {}};
    TrackingOptions opts;
    auto c = read_cookies(req, opts);
    CHECK(mgw::test::pairs(c.kept) ==
          std::vector<std::pair<std::string, std::string>>{{"matomo_ignore", "1"}, {"_pk_uid", "0=abc"}});
    CHECK(c.has_ignore_cookie);
    CHECK(c.third_party.empty());
    opts.queue.third_party_cookie = true;
    CHECK(read_cookies(req, opts).third_party == "0=abc");
    RequestView none{"GET", "/matomo.php", {}, {}};
    auto n = read_cookies(none, opts);
    CHECK(n.kept.empty());
    CHECK_FALSE(n.has_ignore_cookie);
}

TEST_CASE("grouping: per queue in order of first appearance and token owners apart and problem hits alone") {
    SetGrouper g(4);
    g.add(mgw::php::Params(json::object{{"n", "1"}}), 2, false, false);
    g.add(mgw::php::Params(json::object{{"n", "2"}}), 0, false, false);
    g.add(mgw::php::Params(json::object{{"n", "3"}}), 2, false, false);
    g.add(mgw::php::Params(json::object{{"n", "4"}}), 2, true, false);
    g.add(mgw::php::Params(json::object{{"n", "5"}}), 2, false, true);
    g.add(mgw::php::Params(json::object{{"n", "6"}}), 2, false, false);
    auto& groups = g.groups();
    REQUIRE(groups.size() == 4);
    CHECK(groups[0].queue == 2);
    CHECK(groups[0].hits.size() == 3);  // 1, 3, 6
    CHECK(groups[0].hits[2].text("n") == "6");
    CHECK(groups[1].queue == 0);
    CHECK(groups[2].by_gateway);
    CHECK(groups[3].hits.size() == 1);
    CHECK(groups[3].hits[0].text("n") == "5");
}

TEST_CASE("encode_sets: one compressed request set per group and the gateway's token on its own sets") {
    SetGrouper g(4);
    g.add(mgw::php::Params(json::object{{"idsite", "1"}}), 1, false, false);
    g.add(mgw::php::Params(json::object{{"idsite", "2"}}), 1, true, false);
    const std::string gateway_token = "gw";
    SetEnvelope env{{{"REMOTE_ADDR", "127.0.0.1"}}, {}, std::nullopt, &gateway_token, 1700000000};
    auto sets = encode_sets(g.groups(), env, 1);
    REQUIRE(sets.size() == 2);
    CHECK(sets[0].key == "trackingQueueV1_1");
    CHECK(sets[0].hits == 1);
    CHECK(static_cast<unsigned char>(sets[0].value[0]) == 0x78);  // RFC 1950 header
    auto first = json::parse(inflate(sets[0].value)).as_object();
    CHECK(first.at("tokenAuth") == false);
    CHECK(first.at("env").at("server").at("REMOTE_ADDR") == "127.0.0.1");
    CHECK(first.at("env").at("cookie") == json::array{});
    CHECK(first.at("time") == 1700000000);
    auto second = json::parse(inflate(sets[1].value)).as_object();
    CHECK(second.at("tokenAuth") == "gw");
    CHECK(second.at("requests").at(0).at("idsite") == "2");
    CHECK(second.at("env").at("server").at("REMOTE_ADDR") == "127.0.0.1");
    // Level 0 writes the JSON as it is.
    SetGrouper plain(1);
    plain.add(mgw::php::Params(json::object{{"idsite", "1"}}), 0, false, false);
    SetEnvelope env0{{{"REMOTE_ADDR", "::1"}}, {}, std::string("t"), nullptr, 1};
    auto raw = encode_sets(plain.groups(), env0, 0);
    REQUIRE(raw.size() == 1);
    CHECK(raw[0].key == "trackingQueueV1");
    CHECK(
        raw[0].value ==
        R"({"requests":[{"idsite":"1"}],"env":{"server":{"REMOTE_ADDR":"::1"},"cookie":[]},"tokenAuth":"t","time":1})");
}
