// Stage 2 on its own: one hit's authorisation, validation and queue.
#include "tracking/hit_rules.hpp"

#include "queue/queue_choice.hpp"

#include <catch2/catch.hpp>

using namespace mgw::tracking;
using mgw::gateway::EdgeContext;
using mgw::gateway::TrackingOptions;
namespace json = boost::json;

namespace {

constexpr std::int64_t kNow = 1700000000;
const mgw::geoip::GeoResult kGeo{"de", "BY", "Munich", 48.137, 11.575, {}};
const std::string kGatewayToken = "0123456789abcdef0123456789abcdef";

unsigned ip_queue(std::string_view ip, unsigned queues) {
    return mgw::queue::queue_from_key(mgw::queue::md5_hex(ip), queues);
}

}  // namespace

TEST_CASE("a plain pageview is queued by its visitor id or else by REMOTE_ADDR") {
    TrackingOptions opts;
    opts.queue.queues = 4;
    EdgeContext edge{"203.0.113.9", "203.0.113.9"};
    const HitContext ctx{edge, opts, kNow};
    mgw::php::Params with_id(json::object{{"idsite", "1"}, {"rec", "1"}, {"_id", "a1b2c3d4e5f60718"}});
    auto v = judge_hit(with_id, ctx);
    CHECK(v.kind == HitVerdict::Kind::queue);
    CHECK(v.queue == 3);
    CHECK_FALSE(v.by_gateway);
    CHECK(v.problem.empty());
    mgw::php::Params anonymous(json::object{{"idsite", "1"}, {"rec", "1"}});
    CHECK(judge_hit(anonymous, ctx).queue == ip_queue("203.0.113.9", 4));
}

TEST_CASE("a hit the worker would throw on is queued with its problem (alone) but refused in strict mode") {
    TrackingOptions opts;
    EdgeContext edge{"127.0.0.1", "127.0.0.1"};
    mgw::php::Params short_cid(json::object{{"idsite", "1"}, {"rec", "1"}, {"cid", "abc"}});
    auto v = judge_hit(short_cid, HitContext{edge, opts, kNow});
    CHECK(v.kind == HitVerdict::Kind::queue);
    CHECK(v.problem == "cid_invalid_length");
    opts.validation = mgw::gateway::Validation::strict;
    mgw::php::Params again(json::object{{"idsite", "1"}, {"rec", "1"}, {"cid", "abc"}});
    auto strict = judge_hit(again, HitContext{edge, opts, kNow});
    CHECK(strict.kind == HitVerdict::Kind::refused);
    CHECK(strict.problem == v.problem);
}

TEST_CASE("cip without any token refuses the request and with the set's token it picks the queue") {
    TrackingOptions opts;
    opts.queue.queues = 16;
    EdgeContext edge{"127.0.0.1", "127.0.0.1"};
    mgw::php::Params hit(json::object{{"idsite", "1"}, {"rec", "1"}, {"cip", "198.51.100.7"}});
    mgw::php::Params no_site(json::object{{"rec", "1"}});
    // Strict refuses what the worker skips quietly too (an invalid idsite).
    opts.validation = mgw::gateway::Validation::strict;
    CHECK(judge_hit(no_site, HitContext{edge, opts, kNow}).problem == "idsite_invalid");
    opts.validation = mgw::gateway::Validation::compatible;
    CHECK(judge_hit(hit, HitContext{edge, opts, kNow}).kind == HitVerdict::Kind::cip_without_token);
    auto v = judge_hit(hit, HitContext{edge, opts, kNow, true});
    CHECK(v.kind == HitVerdict::Kind::queue);
    CHECK(v.queue == ip_queue("198.51.100.7", 16));
}

TEST_CASE("with the gateway token and a location a hit without a client token is authorised and enriched") {
    TrackingOptions opts;
    EdgeContext edge{"203.0.113.9", "203.0.113.9", false, &kGeo, &kGatewayToken};
    mgw::php::Params hit(json::object{{"idsite", "1"}, {"rec", "1"}, {"country", "fr"}, {"cip", "1.2.3.4"}});
    auto v = judge_hit(hit, HitContext{edge, opts, kNow});
    CHECK(v.kind == HitVerdict::Kind::queue);
    CHECK(v.by_gateway);
    CHECK(v.params_removed == 2);
    CHECK(hit.text("country") == "de");
    CHECK_FALSE(hit.contains("cip"));
    // A client token keeps the set the client's: nothing is removed or added.
    mgw::php::Params client(json::object{{"idsite", "1"}, {"rec", "1"}, {"country", "fr"}, {"token_auth", "x"}});
    auto c = judge_hit(client, HitContext{edge, opts, kNow});
    CHECK_FALSE(c.by_gateway);
    CHECK(c.params_removed == 0);
    CHECK(client.text("country") == "fr");
}

TEST_CASE("configured URL parameters are stripped from url and urlref") {
    TrackingOptions opts;
    opts.strip_url_params = {"email"};
    EdgeContext edge{"127.0.0.1", "127.0.0.1"};
    mgw::php::Params hit(json::object{
        {"idsite", "1"}, {"rec", "1"}, {"url", "https://e.org/?a=1&email=x"}, {"urlref", "https://r.org/?email=y"}});
    judge_hit(hit, HitContext{edge, opts, kNow});
    CHECK(hit.text("url") == "https://e.org/?a=1");
    CHECK(hit.text("urlref") == "https://r.org/");
}
