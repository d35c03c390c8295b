// encode_json (queue/request_set.cpp) writes the request-set document by hand, with its own string
// escaping: it must read exactly as Boost.JSON would write the same document.
#include "queue/request_set.hpp"
#include "support/params.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <random>
#include <string>

using mgw::queue::encode_json;
using mgw::queue::RequestSet;

namespace {

boost::json::value map_value(const mgw::php::Params& kv) {
    if (kv.empty()) return boost::json::array();
    return mgw::test::to_object(kv);
}

// The same document built as a Boost.JSON value and serialised by Boost.JSON.
std::string reference(const RequestSet& set) {
    boost::json::object doc;
    boost::json::array requests;
    for (const auto& hit : set.requests) requests.push_back(mgw::test::to_object(hit));
    doc["requests"] = std::move(requests);
    doc["env"] = boost::json::object{{"server", map_value(set.server)}, {"cookie", map_value(set.cookies)}};
    if (set.token_auth) doc["tokenAuth"] = *set.token_auth;
    else doc["tokenAuth"] = false;
    doc["time"] = set.time;
    return boost::json::serialize(doc);
}

}  // namespace

TEST_CASE("encode_json: every byte value, in keys and values, escaped as Boost.JSON escapes it") {
    RequestSet set;
    std::string all;
    for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
    boost::json::object hit;
    hit["idsite"] = "1";
    hit["all"] = all;
    hit[all.substr(0, 40)] = "key with control characters";
    hit["quote\"and\\backslash"] = "\"\\\"\\";
    set.requests.emplace_back(hit);
    set.server = {{"REMOTE_ADDR", "192.0.2.1"}, {"HTTP_USER_AGENT", all}};
    set.token_auth = "tok\"en";
    set.time = 1764979200;
    CHECK(encode_json(set) == reference(set));
}

TEST_CASE("encode_json: nested arrays, objects, numbers, booleans and null of bulk hits") {
    RequestSet set;
    set.requests.emplace_back(boost::json::parse(R"({"idsite":1,"rec":true,"x":null,"f":1.5,"n":-7,)"
                                                 R"("a":["1",{"b":["c",2]}],"o":{"k":"v\u0001"}})")
                                  .as_object());
    set.requests.emplace_back(boost::json::parse(R"({"idsite":"2","e_v":1e300})").as_object());
    set.cookies = {{"_pk_ignore", "*"}};
    set.server = {{"REMOTE_ADDR", "2001:db8::"}};
    const std::string json = encode_json(set);
    CHECK(json == reference(set));
    CHECK(boost::json::parse(json).at("requests").as_array().size() == 2);
}

TEST_CASE("encode_json: empty env.cookie is [] and a missing token is false") {
    RequestSet set;
    set.server = {{"REMOTE_ADDR", "127.0.0.1"}};
    set.time = 7;
    CHECK(encode_json(set) ==
          R"({"requests":[],"env":{"server":{"REMOTE_ADDR":"127.0.0.1"},"cookie":[]},"tokenAuth":false,"time":7})");
}

TEST_CASE("encode_json: random strings of every length around the 8-byte scan match Boost.JSON") {
    std::mt19937 rng(20261206);
    // Mostly plain characters, with now and then one that needs an escape, at every offset.
    const std::string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789%&=?/.:-_ \"\\\n\t\x01\x1f\x7f\xc3\xa9";
    std::size_t checked = 0;
    for (std::size_t len = 0; len < 70; ++len) {
        for (int round = 0; round < 20; ++round) {
            std::string value;
            for (std::size_t i = 0; i < len; ++i) value.push_back(alphabet[rng() % alphabet.size()]);
            RequestSet set;
            boost::json::object hit;
            hit["url"] = value;
            hit[value] = "k";
            set.requests.emplace_back(std::move(hit));
            set.server = {{"REMOTE_ADDR", "127.0.0.1"}, {"HTTP_REFERER", value}};
            REQUIRE(encode_json(set) == reference(set));
            ++checked;
        }
    }
    CHECK(checked == std::size_t{70} * 20);
}

TEST_CASE("encode_json: one byte to escape at every position of strings up to 24 bytes, and none") {
    // Short strings are checked as two overlapping words or byte by byte, longer ones word by word
    // with an overlapping last word: an escape at any position must be seen.
    std::size_t checked = 0;
    for (std::size_t len = 0; len <= 24; ++len) {
        for (std::size_t pos = 0; pos <= len; ++pos) {  // pos == len: nothing to escape
            for (const char special : {'"', '\\', '\n', '\x01', '\x1f'}) {
                std::string value(len, 'a');
                if (pos < len) value[pos] = special;
                RequestSet set;
                boost::json::object hit;
                hit["v"] = value;
                hit[value] = "k";
                set.requests.emplace_back(std::move(hit));
                set.server = {{"REMOTE_ADDR", "127.0.0.1"}, {"HTTP_REFERER", value}};
                REQUIRE(encode_json(set) == reference(set));
                ++checked;
            }
        }
    }
    CHECK(checked == std::size_t{5} * (25 * 26 / 2));  // len + 1 positions for each len
}
