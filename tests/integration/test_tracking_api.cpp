// The tracking HTTP surface against the checklist of docs/wire-format.md: one test per item, each
// through the real gateway into a real redis-server, values decoded by php like the worker does.
#include "tracking_env.hpp"

#include <catch2/catch.hpp>

#include <chrono>

using namespace mgw::test;
namespace json = boost::json;

namespace {

const HeaderList kBrowser = {{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
                             {"Accept-Language", "en-US,en;q=0.5"}};

long long now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

const json::array& requests_of(const Landed& l) { return l.state.at("requests").as_array(); }

}  // namespace

TEST_CASE("item 4: one RPUSH per request and queue, no other list mutation") {
    TrackingEnv env({"--queues", "4"});
    env.redis.command({"CONFIG", "RESETSTAT"});
    std::string bulk = R"({"requests":["?idsite=1&rec=1&_id=1110000000000001","?idsite=1&rec=1&_id=2220000000000002",)"
                       R"("?idsite=1&rec=1&_id=1110000000000003","?idsite=1&rec=1&_id=3330000000000004"]})";
    REQUIRE(env.send("POST", "/matomo.php", {{"Content-Type", "application/json"}}, bulk).status == 200);
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1&_id=0123456789abcdef").status == 200);
    CHECK(env.command_calls("rpush") == 4);  // 3 queues for the bulk, 1 for the GET
    for (auto cmd : {"lpush", "lset", "lrem", "ltrim", "linsert", "del", "expire", "set"}) {
        INFO(cmd);
        CHECK(env.command_calls(cmd) == 0);
    }
    const auto landed = env.landed();
    CHECK(landed.size() == 4);  // every RPUSH stored one value
    for (const auto& l : landed) CHECK(l.raw.size() > 2);
}

TEST_CASE("item 5: bulk hits of one queue share a set in order, sets pushed by first appearance") {
    TrackingEnv env({"--queues", "4"});
    // Queue of 111... is 1 (0x111 % 4), 222... is 2, 333... is 3: the lab's 4-hit bulk.
    std::string bulk = R"({"requests":["?idsite=1&rec=1&action_name=A&_id=1110000000000001",)"
                       R"("?idsite=1&rec=1&action_name=B&_id=2220000000000002",)"
                       R"("?idsite=1&rec=1&action_name=C&_id=1110000000000003",)"
                       R"("?idsite=1&rec=1&action_name=D&_id=3330000000000004"]})";
    REQUIRE(env.send("POST", "/matomo.php", {}, bulk).status == 200);
    auto landed = env.landed();
    REQUIRE(landed.size() == 3);
    CHECK(landed[0].key == "trackingQueueV1_1");
    REQUIRE(requests_of(landed[0]).size() == 2);
    CHECK(requests_of(landed[0])[0].at("action_name") == "A");
    CHECK(requests_of(landed[0])[1].at("action_name") == "C");
    CHECK(requests_of(landed[1])[0].at("action_name") == "B");
    CHECK(requests_of(landed[2])[0].at("action_name") == "D");
    // Push order: RPUSH timestamps are not observable, but first appearance is 1, 2, 3 = key order here.
}

TEST_CASE("item 6: values are zlib streams starting 0x78, or plain JSON at compression level 0") {
    {
        TrackingEnv env;
        REQUIRE(env.get("/matomo.php?idsite=1&rec=1").status == 200);
        auto l = env.landed();
        REQUIRE(l.size() == 1);
        CHECK(static_cast<unsigned char>(l[0].raw[0]) == 0x78);
        CHECK(l[0].state.contains("requests"));
    }
    TrackingEnv plain({"--compression-level", "0"});
    REQUIRE(plain.get("/matomo.php?idsite=1&rec=1").status == 200);
    auto l = plain.landed();
    REQUIRE(l.size() == 1);
    CHECK(l[0].raw.front() == '{');
    CHECK(l[0].state.at("requests").as_array().size() == 1);
}

TEST_CASE("items 7, 8, 9: exactly requests, env, tokenAuth and time; time is now; requests are objects") {
    TrackingEnv env;
    REQUIRE(env.get("/matomo.php?idsite=1&rec=1&_id=0123456789abcdef", kBrowser).status == 200);
    auto l = env.landed();
    REQUIRE(l.size() == 1);
    const auto& s = l[0].state;
    CHECK(s.size() == 4);
    for (auto m : {"requests", "env", "tokenAuth", "time"}) CHECK(s.contains(m));
    REQUIRE(s.at("time").is_int64());
    CHECK(std::llabs(s.at("time").as_int64() - now_seconds()) <= 2);
    REQUIRE(!s.at("requests").as_array().empty());
    for (const auto& r : s.at("requests").as_array()) CHECK(r.is_object());
}

TEST_CASE("item 10: GET and form POST parameters are PHP-mangled strings and GET wins over POST") {
    TrackingEnv env;
    auto r = env.send("POST", "/matomo.php?idsite=1&dup=get",
                      {{"Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"}},
                      "rec=1&a.b=1&c+d=2&e[]=3&f=%2B+x&dup=post&x=1&x=2");
    REQUIRE(r.status == 200);
    auto l = env.landed();
    REQUIRE(l.size() == 1);
    CHECK(json::serialize(requests_of(l[0])[0]) ==
          R"({"idsite":"1","dup":"get","rec":"1","a_b":"1","c_d":"2","e":["3"],"f":"+ x","x":"2"})");
}

TEST_CASE("item 11: bulk hits given as objects keep their JSON types") {
    TrackingEnv env;
    auto r = env.send("POST", "/matomo.php", {{"Content-Type", "application/json"}},
                      R"({"requests":[{"idsite":1,"rec":1,"e_c":"V","e_a":"P","e_v":12.5,"new_visit":true}]})");
    REQUIRE(r.status == 200);
    auto l = env.landed();
    REQUIRE(l.size() == 1);
    const auto& hit = requests_of(l[0])[0].as_object();
    CHECK(hit.at("idsite").is_int64());
    CHECK(hit.at("e_v").is_double());
    CHECK(hit.at("e_v").as_double() == 12.5);
    CHECK(hit.at("new_visit").is_bool());
    CHECK(l[0].state.at("tokenAuth") == "");  // bulk default (docs/wire-format.md)
}

TEST_CASE("items 24, 25: GIF with no-store for GET, 204 No Response for send_image=0 in query or form") {
    TrackingEnv env;
    auto gif = env.get("/matomo.php?idsite=1&rec=1");
    CHECK(gif.status == 200);
    CHECK(gif.header("Content-Type") == "image/gif");
    CHECK(gif.header("Content-Length") == "43");
    CHECK(gif.header("Cache-Control") == "no-store");
    CHECK(gif.body.size() == 43);
    CHECK(gif.body.substr(0, 6) == "GIF89a");
    auto q = env.get("/matomo.php?idsite=1&rec=1&send_image=0");
    CHECK(q.status == 204);
    CHECK(q.reason == "No Response");
    CHECK(q.body.empty());
    auto form = env.send("POST", "/matomo.php", {{"Content-Type", "application/x-www-form-urlencoded"}},
                         "idsite=1&rec=1&send_image=0");
    CHECK(form.status == 204);
    CHECK(env.landed().size() == 3);
}

TEST_CASE("item 26: a bulk POST without send_image=0 in the URL gets the GIF even with send_image 0 in the body") {
    TrackingEnv env;
    auto r = env.send("POST", "/matomo.php", {}, R"({"requests":["?idsite=1&rec=1"],"send_image":0})");
    CHECK(r.status == 200);
    CHECK(r.body.size() == 43);
    auto r2 = env.send("POST", "/matomo.php?send_image=0", {}, R"({"requests":["?idsite=1&rec=1"]})");
    CHECK(r2.status == 204);
}

TEST_CASE("items 27, 28: no parameters, empty POST or invalid bulk JSON give an empty 200 and nothing queued") {
    TrackingEnv env;
    auto empty_get = env.get("/matomo.php");
    CHECK(empty_get.status == 200);
    CHECK(empty_get.body.empty());
    CHECK(empty_get.header("Content-Type") == "text/html; charset=UTF-8");
    CHECK(env.send("POST", "/matomo.php", {}, "").status == 200);
    auto bad = env.send("POST", "/matomo.php", {{"Content-Type", "application/json"}}, R"({"requests": [ "?idsite=1)");
    CHECK(bad.status == 200);
    CHECK(bad.body.empty());
    CHECK(env.landed().empty());
}

TEST_CASE("item 29 and deviation D1: every non-GET response carries the CORS pair") {
    TrackingEnv env;
    auto gif = env.send("POST", "/matomo.php",
                        {{"Origin", "https://shop.example"}, {"Content-Type", "application/x-www-form-urlencoded"}},
                        "idsite=1&rec=1");
    CHECK(gif.status == 200);
    CHECK(gif.header("Access-Control-Allow-Origin") == "https://shop.example");
    CHECK(gif.header("Access-Control-Allow-Credentials") == "true");
    auto none = env.send("POST", "/matomo.php", {}, "");
    CHECK(none.header("Access-Control-Allow-Origin") == "*");
    CHECK(none.header("Access-Control-Allow-Credentials") == "true");
}

TEST_CASE("item 30: an OPTIONS preflight gets 204 with the allow headers") {
    TrackingEnv env;
    auto r = env.send("OPTIONS", "/matomo.php",
                      {{"Origin", "https://a.example"}, {"Access-Control-Request-Method", "POST"}});
    CHECK(r.status == 204);
    CHECK(r.header("Access-Control-Allow-Methods") == "GET, POST");
    CHECK(r.header("Access-Control-Allow-Headers") == "*");
    CHECK(r.header("Access-Control-Allow-Origin") == "*");
    auto plain = env.send("OPTIONS", "/matomo.php");
    CHECK(plain.status == 200);  // not a preflight: a request without hits (answer R2)
    CHECK(env.landed().empty());
}

TEST_CASE("item 31: GET responses carry no Access-Control headers unless cors_domains is configured") {
    {
        TrackingEnv env;
        auto r = env.get("/matomo.php?idsite=1&rec=1", {{"Origin", "https://a.example"}});
        CHECK(r.header_count("Access-Control-Allow-Origin") == 0);
        CHECK(r.header_count("Access-Control-Allow-Credentials") == 0);
    }
    TrackingEnv cors({"--cors-domains", "https://a.example"});
    auto listed = cors.get("/matomo.php?idsite=1&rec=1", {{"Origin", "https://a.example"}});
    CHECK(listed.header("Access-Control-Allow-Origin") == "https://a.example");
    CHECK(listed.header("Vary") == "Origin");
    auto other = cors.get("/matomo.php?idsite=1&rec=1", {{"Origin", "https://b.example"}});
    CHECK(other.header_count("Access-Control-Allow-Origin") == 0);
    CHECK(other.header("Vary") == "Origin");
}

TEST_CASE("item 32: HEAD with tracking parameters is queued like GET, without body or Cache-Control") {
    TrackingEnv env;
    Connection c(env.gateway.tracking_port());
    c.write(build_request("HEAD", "/matomo.php?idsite=1&rec=1&_id=0123456789abcdef",
                          {{"Host", "x"}, {"Connection", "close"}}));
    auto r = c.read_response(true);
    CHECK(r.status == 200);
    CHECK(r.header("Content-Length") == "43");
    CHECK(r.header_count("Cache-Control") == 0);
    CHECK(r.body.empty());
    REQUIRE(env.landed().size() == 1);
    CHECK(env.landed()[0].state.at("env").at("server").at("REQUEST_METHOD") == "HEAD");
}

TEST_CASE("item 33: /piwik.php, /js/?params and POST /js/ behave like /matomo.php") {
    TrackingEnv env;
    CHECK(env.get("/piwik.php?idsite=1&rec=1").status == 200);
    CHECK(env.get("/js/?idsite=1&rec=1").status == 200);
    CHECK(env.send("POST", "/js/", {{"Content-Type", "application/x-www-form-urlencoded"}}, "idsite=1&rec=1").status ==
          200);
    CHECK(env.landed().size() == 3);
    TrackingEnv extra({"--tracking-paths", "/analytics/t.php,/m.php"});
    CHECK(extra.get("/analytics/t.php?idsite=1&rec=1").status == 200);
    CHECK(extra.get("/m.php?idsite=1&rec=1&send_image=0").status == 204);
    CHECK(extra.get("/other.php?idsite=1&rec=1").status == 404);
    CHECK(extra.landed().size() == 2);
}

TEST_CASE("item 34: /js/ without a query serves the configured tracker file") {
    std::string dir = "/tmp/mgw-js-" + std::to_string(::getpid());
    std::string file = dir + "/matomo.js";
    REQUIRE(run_command({"mkdir", "-p", dir}, "").status == 0);
    REQUIRE(run_command({"sh", "-c", "printf '/* tracker */ var _paq = [];' > " + file}, "").status == 0);
    TrackingEnv env({"--js-tracker-file", file});
    auto r = env.get("/js/");
    CHECK(r.status == 200);
    CHECK(r.header("Content-Type") == "application/javascript; charset=UTF-8");
    CHECK(r.body == "/* tracker */ var _paq = [];");
    auto etag = r.header("ETag");
    REQUIRE(etag);
    CHECK(env.get("/matomo.js", {{"If-None-Match", *etag}}).status == 304);
    auto gz = env.get("/piwik.js", {{"Accept-Encoding", "gzip, deflate"}});
    CHECK(gz.header("Content-Encoding") == "gzip");
    CHECK(static_cast<unsigned char>(gz.body[0]) == 0x1f);
    CHECK(env.landed().empty());
    run_command({"rm", "-rf", dir}, "");
}

TEST_CASE("item 35: a bulk body is recognised by \"requests\" whatever the Content-Type") {
    TrackingEnv env({"--queues", "4"});
    auto r = env.send(
        "POST", "/matomo.php", {{"Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"}},
        R"({"requests":["?idsite=1&rec=1&_id=1110000000000001","?idsite=1&rec=1&_id=2220000000000002"],"send_image":0})");
    CHECK(r.status == 200);
    auto l = env.landed();
    REQUIRE(l.size() == 2);
    for (const auto& x : l) CHECK(requests_of(x)[0].as_object().size() == 3);  // no junk $_POST keys merged
}

TEST_CASE("item 36: bulk strings without ? are skipped and CR/LF anywhere are removed") {
    TrackingEnv env;
    auto r = env.send("POST", "/matomo.php", {},
                      "{\"requests\":[\"no-query\",\r\n\"?idsite=1&rec=1&action_name=Li\r\nne\"]}");
    CHECK(r.status == 200);
    auto l = env.landed();
    REQUIRE(l.size() == 1);
    REQUIRE(requests_of(l[0]).size() == 1);
    CHECK(requests_of(l[0])[0].at("action_name") == "Line");
}

TEST_CASE("item 37: third-party cookie mode sets _pk_uid and P3P per queued hit, unless the ignore cookie is sent") {
    TrackingEnv env({"--third-party-cookie", "true", "--queues", "16", "--trusted-proxies", "127.0.0.1"});
    auto r = env.get("/matomo.php?idsite=1&rec=1&_id=0123456789abcdef");
    REQUIRE(r.status == 200);
    auto cookie = r.header("Set-Cookie");
    REQUIRE(cookie);
    CHECK(cookie->rfind("_pk_uid=0%3DMDEyMzQ1Njc4OWFiY2RlZg%3D%3D; expires=", 0) == 0);
    CHECK(cookie->find("; SameSite=Lax") != std::string::npos);
    CHECK(r.header("P3P") == "CP='OTI DSP COR NID STP UNI OTPa OUR'");
    auto https = env.get("/matomo.php?idsite=1&rec=1&_id=0123456789abcdef", {{"X-Forwarded-Proto", "https"}});
    CHECK(https.header("Set-Cookie")->find("; secure; SameSite=None") != std::string::npos);
    auto ignored = env.get("/matomo.php?idsite=1&rec=1", {{"Cookie", "matomo_ignore=ignore%3DKg%3D%3D"}});
    CHECK(ignored.status == 200);
    CHECK(ignored.header_count("Set-Cookie") == 0);
    // The incoming cookie decides the queue (queue example Q12) and reaches env.cookie.
    auto with_cookie = env.get("/matomo.php?idsite=1&rec=1&_id=0123456789abcdef&action_name=cookie",
                               {{"Cookie", "_pk_uid=0%3DZmVkY2JhOTg3NjU0MzIxMA%3D%3D"}});
    CHECK(with_cookie.status == 200);
    const auto landed = env.landed();
    REQUIRE(landed.size() == 4);  // the ignore cookie suppresses Set-Cookie, not queuing
    bool found = false;
    for (const auto& l : landed) {
        if (requests_of(l)[0].as_object().contains("action_name")) {
            found = true;
            CHECK(l.key == "trackingQueueV1_13");
            CHECK(l.state.at("env").at("cookie").at("_pk_uid") == "0=ZmVkY2JhOTg3NjU0MzIxMA==");
        }
    }
    CHECK(found);
    TrackingEnv off;
    CHECK(off.get("/matomo.php?idsite=1&rec=1&_id=0123456789abcdef").header_count("Set-Cookie") == 0);
}

TEST_CASE("item 43 and deviation D2: invalid UTF-8 in parameters and headers still decodes, as U+FFFD") {
    TrackingEnv env;
    auto r = env.get("/matomo.php?idsite=1&rec=1&action_name=%FF%C3&url=ok%E2%82", {{"User-Agent", "bad\xff agent"}});
    CHECK(r.status == 200);
    auto l = env.landed();
    REQUIRE(l.size() == 1);
    REQUIRE(!l[0].state.empty());  // php decoded it: valid JSON
    CHECK(requests_of(l[0])[0].at("action_name") == "\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK(requests_of(l[0])[0].at("url") == "ok\xEF\xBF\xBD");
    CHECK(l[0].state.at("env").at("server").at("HTTP_USER_AGENT") == "bad\xEF\xBF\xBD agent");
}

TEST_CASE("deviation D3: a hit the worker would reject travels alone, so later hits of its bulk survive") {
    TrackingEnv env({"--queues", "1"});
    std::string bulk = R"({"requests":["?idsite=1&rec=1&action_name=A&_id=1110000000000001",)"
                       R"("?idsite=1&rec=1&action_name=Bad&_id=1110000000000002&country=de",)"
                       R"("?idsite=1&rec=1&action_name=C&_id=1110000000000003"]})";
    REQUIRE(env.send("POST", "/matomo.php", {}, bulk).status == 200);
    auto l = env.landed();
    REQUIRE(l.size() == 2);
    CHECK(requests_of(l[0]).size() == 2);  // A and C share the queue's set
    CHECK(requests_of(l[1]).size() == 1);  // the hit with an unauthorised override is alone
    CHECK(requests_of(l[1])[0].at("action_name") == "Bad");
}

TEST_CASE("validation=strict: what the worker would drop is refused with 400 and a reason, valid hits still land") {
    TrackingEnv env({"--validation", "strict", "--sites", "1,2"});
    auto no_site = env.get("/matomo.php?rec=1&_id=7a7a7a7a7a7a7a7a");
    CHECK(no_site.status == 400);
    CHECK(no_site.body == "idsite_invalid");
    CHECK(env.get("/matomo.php?idsite=999&rec=1").body == "idsite_not_allowed");
    CHECK(env.get("/matomo.php?idsite=1&action_name=x").body == "rec_missing");
    CHECK(env.get("/matomo.php?idsite=1&rec=1&cid=zzzzzzzzzzzzzzzz").body == "visitor_id_invalid");
    CHECK(env.get("/matomo.php?idsite=1&rec=1&cid=abc").body == "cid_invalid_length");
    CHECK(env.get("/matomo.php?idsite=1&rec=1&_id=xyz").body == "visitor_id_invalid");
    CHECK(env.get("/matomo.php?idsite=1&rec=1&e_c=&e_a=Play").body == "event_without_category_or_action");
    CHECK(env.landed().empty());
    std::string bulk = R"({"requests":["?idsite=1&rec=1&action_name=ok","?idsite=7&rec=1"]})";
    CHECK(env.send("POST", "/matomo.php", {}, bulk).status == 200);
    auto l = env.landed();
    REQUIRE(l.size() == 1);
    CHECK(requests_of(l[0]).size() == 1);
    CHECK(env.gateway.wait_for_line(
        [](std::string_view s) { return s.find("\"reason\":\"idsite_not_allowed\"") != std::string::npos; }));
}
