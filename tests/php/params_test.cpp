// tests/php/params_test.cpp — a hit's flat parameter list: PHP's array operations on it, the query
// parse into it (views into the input, decoded values in text the list owns), and that its views
// stay valid when the list moves.
#include "php/params.hpp"
#include "php/php.hpp"
#include "support/params.hpp"

#include <boost/json.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <catch2/catch.hpp>

#include <string>
#include <utility>

namespace json = boost::json;
using mgw::php::Params;

namespace {

std::string listed(const Params& p) { return json::serialize(mgw::test::to_object(p)); }

bool views_into(std::string_view view, std::string_view buffer) {
    return view.data() >= buffer.data() && view.data() + view.size() <= buffer.data() + buffer.size();
}

}  // namespace

TEST_CASE("params: plain names and values are views into the query, decoded values are owned") {
    const std::string q = "idsite=1&url=https%3A%2F%2Fe.org%2F&rec=1&action_name=A+b&_id=0123456789abcdef";
    Params p;
    const auto r = mgw::php::parse_str(q, p);
    CHECK(r.vars == 5);
    CHECK(listed(p) ==
          R"({"idsite":"1","url":"https://e.org/","rec":"1","action_name":"A b","_id":"0123456789abcdef"})");
    REQUIRE(p.size() == 5);
    std::size_t in_query = 0;
    for (const auto& e : p) {
        CHECK(views_into(e.name, q));
        in_query += views_into(e.text, q) ? 1 : 0;
    }
    CHECK(in_query == 3);  // idsite, rec, _id; url and action_name were decoded
    CHECK_FALSE(views_into(p.find("url")->text, q));
}

TEST_CASE("params: the views survive a move, from the heap and from an arena") {
    const std::string q = "a=%41%42&b=x+y&c=plain";
    Params heap;
    mgw::php::parse_str(q, heap);
    Params moved(std::move(heap));
    Params assigned;
    assigned = std::move(moved);
    CHECK(listed(assigned) == R"({"a":"AB","b":"x y","c":"plain"})");

    json::monotonic_resource arena;
    Params in_arena{json::storage_ptr(&arena)};
    mgw::php::parse_str(q, in_arena);
    in_arena.set("d", std::string("set later"));
    Params from_arena(std::move(in_arena));
    CHECK(listed(from_arena) == R"({"a":"AB","b":"x y","c":"plain","d":"set later"})");
}

TEST_CASE("params: a repeated name keeps its first place and its last value, also past the name filter") {
    // rec and res have the same length and first letter, like many pairs of names.
    Params p;
    mgw::php::parse_str("rec=1&res=800x600&rec=2&a=1&res=1x1&a=%32", p);
    CHECK(listed(p) == R"({"rec":"2","res":"1x1","a":"2"})");
}

TEST_CASE("params: a name PHP changes sends the whole query through the full parse, whatever came before") {
    for (const std::string q : {"a=1&b.c=2&a=3", "x=%41&a[]=1&a[]=2&y=z", "a=1&=2&b=3", "a=1& b=2", "a%5Bk%5D=1&c=2"}) {
        json::object full;
        const auto fr = mgw::php::parse_str(q, full);
        Params p;
        const auto r = mgw::php::parse_str(q, p);
        INFO(q);
        CHECK(listed(p) == json::serialize(full));
        CHECK(r.vars == fr.vars);
    }
    Params nested;
    mgw::php::parse_str("a[]=1&a[]=2&b=3", nested);
    REQUIRE(nested.find("a") != nullptr);
    CHECK_FALSE(nested.find("a")->is_string());
    CHECK(nested.string("a") == std::nullopt);  // getParam(..., 'string') of an array
    CHECK(nested.text("b") == "3");
}

TEST_CASE("params: empty pairs, pairs without '=' and '=' inside a value read as PHP reads them") {
    Params p;
    const auto r = mgw::php::parse_str("&&a&b=&c=1=2&&", p);
    CHECK(r.vars == 3);
    CHECK(listed(p) == R"({"a":"","b":"","c":"1=2"})");
}

TEST_CASE("params: invalid UTF-8 in a value, raw or decoded, becomes U+FFFD") {
    const std::string q = "a=%FF&b=x\xC3&c=ok";
    Params p;
    mgw::php::parse_str(q, p);
    CHECK(listed(p) == "{\"a\":\"\xEF\xBF\xBD\",\"b\":\"x\xEF\xBF\xBD\",\"c\":\"ok\"}");
}

TEST_CASE("params: max_input_vars counts every pair but stores the first ones only") {
    Params p;
    const auto r = mgw::php::parse_str("a=1&b=%32&c=3&d=4", p, mgw::php::ParseLimits{2, 64});
    CHECK(r.vars == 4);
    CHECK(r.over_max_vars);
    CHECK(listed(p) == R"({"a":"1","b":"2"})");
}

TEST_CASE("params: erase keeps the order, set replaces in place or appends, and string() reads PHP's way") {
    Params p(json::parse(R"({"a":"1","n":5,"t":true,"f":false,"x":1.5,"o":{"k":"v"},"z":null})").as_object());
    CHECK(p.string("n") == "5");
    CHECK(p.string("t") == "1");
    CHECK(p.string("f") == "");
    CHECK(p.string("x") == "1.5");
    CHECK(p.string("o") == std::nullopt);
    CHECK(p.string("z") == std::nullopt);
    CHECK(p.string("missing") == std::nullopt);
    CHECK(p.text("n") == std::nullopt);  // not a string
    CHECK(p.erase("n") == 1);
    CHECK(p.erase("n") == 0);
    p.set("a", "2");
    p.set("new", "3");
    CHECK(listed(p) == R"({"a":"2","t":true,"f":false,"x":1.5E0,"o":{"k":"v"},"z":null,"new":"3"})");
}

TEST_CASE("params: union_with appends the other list's new names in its order and keeps what they view") {
    Params get;
    mgw::php::parse_str("a=1&b=%32", get);
    Params post;
    {
        const std::string body = "b=x&c=%33&d[]=4";
        mgw::php::parse_str(body, post);
        // What post views of `body` must not be needed after this scope: use owned text only.
        post = Params(mgw::test::to_object(post));
    }
    get.union_with(std::move(post));
    CHECK(listed(get) == R"({"a":"1","b":"2","c":"3","d":["4"]})");
    CHECK(post.empty());  // NOLINT(bugprone-use-after-move): union_with leaves it empty
}
