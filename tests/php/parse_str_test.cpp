// tests/php/parse_str_test.cpp — literal expectations for parse_str, parse_cookies and
// scrub_utf8. Every expectation here was checked against PHP 8.2 (parse_str() for query strings,
// `php -S` with a Cookie header for cookies), except invalid UTF-8, where we deliberately differ.
#include "php/php.hpp"
#include "support/params.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <string>

namespace json = boost::json;
using mgw::php::ParseLimits;
using mgw::php::ParseResult;
using namespace std::string_view_literals;

namespace {

// json::object equality ignores key order, but PHP arrays are ordered: compare both.
void check_same(const json::object& got, const std::string& expected_json) {
    const json::value expected = json::parse(expected_json);
    INFO("got      " << json::serialize(got));
    INFO("expected " << expected_json);
    CHECK(json::value(got) == expected);
    CHECK(json::serialize(got) == json::serialize(expected));
}

// The object form, checked against the hit path's flat list of the same query: same members in the
// same order, same counts.
json::object query(std::string_view q, const ParseLimits& limits = {}) {
    json::object out;
    const ParseResult full = mgw::php::parse_str(q, out, limits);
    mgw::php::Params flat;
    const ParseResult r = mgw::php::parse_str(q, flat, limits);
    CHECK(json::serialize(mgw::test::to_object(flat)) == json::serialize(out));
    CHECK(r.vars == full.vars);
    CHECK(r.over_max_vars == full.over_max_vars);
    return out;
}

json::object cookies(std::string_view header) {
    json::object out;
    mgw::php::parse_cookies(header, out);
    return out;
}

}  // namespace

TEST_CASE(
    "item 10: GET/POST hit parameters are stored as strings, with PHP name mangling (a.b → a_b), [] arrays, "
    "last-duplicate-wins") {
    json::object out;
    const ParseResult r = mgw::php::parse_str("a.b=1&c+d=2&e[]=3&f=%2B+x&dup=1&dup=2", out);
    check_same(out, R"({"a_b":"1","c_d":"2","e":["3"],"f":"+ x","dup":"2"})");
    CHECK(r.vars == 6);
    CHECK_FALSE(r.over_max_vars);
}

TEST_CASE("parse_str: a repeated name overwrites the value in its first position") {
    check_same(query("a=1&b=2&a=3"), R"({"a":"3","b":"2"})");
    check_same(query("x=1&a=2&x[y]=3"), R"({"x":{"y":"3"},"a":"2"})");
    check_same(query("a[x]=1&a=2"), R"({"a":"2"})");
    check_same(query("a[b][c]=1&a[b]=2&a[b][]=3"), R"({"a":{"b":["3"]}})");
}

TEST_CASE("parse_str: names and values are URL-decoded, invalid % escapes are kept literally") {
    check_same(query("%=1&a=%zz&b=%2&c=%%41&d=%2b%2B+%20"), R"({"%":"1","a":"%zz","b":"%2","c":"%A","d":"++  "})");
    check_same(query("a%5B%5D=1&a%5B%5D=2&a%2Eb=3"), R"({"a":["1","2"],"a_b":"3"})");
    check_same(query("a==b=c&=x&y&&&"), R"({"a":"=b=c","y":""})");
    check_same(query("+a+=1&%20%20b=2&.c=3"), R"({"a_":"1","b":"2","_c":"3"})");
}

TEST_CASE("parse_str: brackets build nested arrays, and gap-free 0..n-1 arrays become JSON lists") {
    check_same(query("a[x][y][]=1&a[x][y][]=2"), R"({"a":{"x":{"y":["1","2"]}}})");
    check_same(query("a[1]=x&a[0]=y&b[0]=x&b[1]=y&c[0]=x&c[2]=y"),
               R"({"a":{"1":"x","0":"y"},"b":["x","y"],"c":{"0":"x","2":"y"}})");
    check_same(query("0=a&1=b"), R"({"0":"a","1":"b"})");  // the top level always stays an object
    check_same(query("a[ ]=1&a[ x]=2&a[\t]=3&a[  ]=4"), R"({"a":{"0":"1"," x":"2","1":"3","  ":"4"}})");
    check_same(query("a[.b c]=1&a[x].y=2&a[y] [z]=3&a [q]=4"), R"({"a":{".b c":"1","x":"2","y":"3"},"a_":{"q":"4"}})");
}

TEST_CASE("parse_str: integer keys follow PHP (5 and -3 are integers, 05 and -0 are strings)") {
    check_same(query("a[5]=x&a[]=y"), R"({"a":{"5":"x","6":"y"}})");
    check_same(query("a[-5]=x&a[]=y"), R"({"a":{"-5":"x","-4":"y"}})");
    check_same(query("a[05]=x&a[]=y&a[-0]=z"), R"({"a":{"05":"x","0":"y","-0":"z"}})");
    check_same(query("a[10]=1&a[]=2&a[5]=3&a[]=4"), R"({"a":{"10":"1","11":"2","5":"3","12":"4"}})");
    // PHP_INT_MAX is the last index: a further append is refused.
    check_same(query("a[9223372036854775807]=1&a[]=2"), R"({"a":{"9223372036854775807":"1"}})");
    check_same(query("a[9223372036854775808]=1&a[]=2"), R"({"a":{"9223372036854775808":"1","0":"2"}})");
}

TEST_CASE("parse_str: an unmatched opening bracket becomes _ and the rest of the name is mangled") {
    check_same(query("a[=1&b[c.d e[f=2&g"), R"({"a_":"1","b_c_d_e_f":"2","g":""})");
    check_same(query("a b[c.d=1&a]=2"), R"({"a_b_c_d":"1","a]":"2"})");
    check_same(query("a[b][c=1&d[][c=2"), R"({"a":{"b":"1"},"d":["2"]})");
    check_same(query("a[b[c]=1&a[b]]=2"), R"({"a":{"b[c":"1","b":"2"}})");
}

TEST_CASE("parse_str: mangling may not forge the __Host- and __Secure- prefixes") {
    check_same(query("..Host-x=1&__Host-y=2& __Host-z=3&_.Secure-w=4&__Secure-v=5"),
               R"({"__Host-y":"2","__Host-z":"3","__Secure-v":"5"})");
}

TEST_CASE("parse_str: a NUL byte ends a name but stays in a value") {
    check_same(query("a%00b=1&c=d%00e&%00f=2&g[h%00]=3"), R"({"a":"1","c":"d\u0000e","g_h":"3"})");
    // Raw NUL bytes (possible in a POST body) are handled the same way, as PHP's POST reader does.
    check_same(query("a\0b=1&c=d\0e"sv), R"({"a":"1","c":"d\u0000e"})");
}

TEST_CASE("parse_str: invalid UTF-8 becomes U+FFFD per maximal ill-formed subpart") {
    json::object out;
    ParseResult r = mgw::php::parse_str("v=%FF%C3&n%C3=1&ok=%C3%A9", out);
    CHECK(r.vars == 3);
    check_same(out, R"({"v":"\uFFFD\uFFFD","n\uFFFD":"1","ok":"\u00E9"})");

    out.clear();
    r = mgw::php::parse_str("s=a%E2%82b%F0%9F%98%C0%ED%A0%80%F4%90%80%80z", out);
    check_same(out, R"({"s":"a\uFFFDb\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFDz"})");

    out.clear();
    r = mgw::php::parse_str("e=%E2%82%AC&f=%F0%9F%98%80", out);
    check_same(out, R"({"e":"\u20AC","f":"\uD83D\uDE00"})");  // valid sequences stay as they are
}

TEST_CASE("parse_str: pairs beyond max_input_vars are counted but not stored") {
    json::object out;
    ParseResult r = mgw::php::parse_str("a=1&b=2&&c=3&d=4&e=5", out, ParseLimits{3, 64});
    check_same(out, R"({"a":"1","b":"2","c":"3"})");
    CHECK(r.vars == 5);
    CHECK(r.over_max_vars);

    out.clear();
    r = mgw::php::parse_str("a=1&b=2&=3", out, ParseLimits{3, 64});  // the nameless pair still counts
    CHECK(r.vars == 3);
    CHECK_FALSE(r.over_max_vars);
}

TEST_CASE("parse_str: nesting deeper than max_input_nesting_level drops the whole variable") {
    const ParseLimits limits{1000, 2};
    check_same(query("a=1&a[x][y]=2", limits), R"({"a":{"x":{"y":"2"}}})");
    check_same(query("a=1&b=2&a[x][y][z]=3&c=4", limits), R"({"b":"2","c":"4"})");
    check_same(query("a[x][y][", limits), R"({})");  // the depth check comes before the ']' search
}

TEST_CASE("parse_str: parsing into a non-empty object continues its arrays") {
    json::object out = json::parse(R"({"a":["x"],"b":"s"})").as_object();
    mgw::php::parse_str("a[]=y&b[k]=v&c=1", out);
    check_same(out, R"({"a":["x","y"],"b":{"k":"v"},"c":"1"})");
    mgw::php::parse_str("b[7]=w&d[-2]=1", out);
    mgw::php::parse_str("b[]=z&d[]=2&a[]=t", out);  // appends continue after the largest integer key
    check_same(out, R"({"a":["x","y","t"],"b":{"k":"v","7":"w","8":"z"},"c":"1","d":{"-2":"1","-1":"2"}})");
}

TEST_CASE("cookies: first occurrence wins, values raw-URL-decoded (+ kept), names mangled not decoded") {
    check_same(cookies("x=1; x=2; y=a+b%2Bc; z.w=3"), R"({"x":"1","y":"a+b+c","z_w":"3"})");
    check_same(cookies("_pk_id.1.1fff=abc"), R"({"_pk_id_1_1fff":"abc"})");
    check_same(cookies(" =1;  ;b; c%41=1; d=%41+; e==1"), R"({"b":"","c%41":"1","d":"A+","e":"=1"})");
    check_same(cookies("\tf=1;\vg=2"), R"({"f":"1","g":"2"})");
    check_same(cookies("..Host-a=1; ..Secure-b=2; __Host-c=3"), R"({"__Host-c":"3"})");
}

TEST_CASE("cookies: first-wins applies to top-level names only, arrays behave as in the query string") {
    check_same(cookies("a[x]=1; a[x]=2"), R"({"a":{"x":"2"}})");
    check_same(cookies("a=1; a[x]=2"), R"({"a":{"x":"2"}})");
    check_same(cookies("a[x]=2; a=1"), R"({"a":{"x":"2"}})");
    check_same(cookies("a[]=1; a[]=2"), R"({"a":["1","2"]})");
}

TEST_CASE("cookies: nameless cookies are not counted, the header ends at a NUL byte") {
    json::object out;
    const ParseResult r = mgw::php::parse_cookies("a=1; ; =2; b=%FF; c=3\0d=4"sv, out);
    check_same(out, R"({"a":"1","b":"\uFFFD","c":"3"})");
    CHECK(r.vars == 3);
}

TEST_CASE("scrub_utf8: one U+FFFD per maximal ill-formed subpart (Unicode / WHATWG)") {
    const std::string r = "\xEF\xBF\xBD";
    const auto scrub = [](std::string s) {
        const bool changed = mgw::php::scrub_utf8(s);
        return std::make_pair(changed, s);
    };
    CHECK(scrub("plain \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") ==
          std::make_pair(false, std::string("plain \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80")));
    CHECK(scrub("\xC0\xAF") == std::make_pair(true, r + r));          // overlong
    CHECK(scrub("\xED\xA0\x80") == std::make_pair(true, r + r + r));  // surrogate
    CHECK(scrub("x\xE2\x82") == std::make_pair(true, "x" + r));       // truncated at the end
    CHECK(scrub("\xE2\x82"
                "A") == std::make_pair(true, r + "A"));                       // truncated by ASCII
    CHECK(scrub("\xF4\x90\x80\x80") == std::make_pair(true, r + r + r + r));  // above U+10FFFF
    CHECK(scrub("\xF8\x88\x80\x80\x80") == std::make_pair(true, r + r + r + r + r));
    CHECK(scrub("\xF0\x9F\x98\xC3\xA9") == std::make_pair(true, r + "\xC3\xA9"));
}

TEST_CASE("parse_str: one non-ASCII byte at every position of values up to 24 bytes is found") {
    // Values are checked for ASCII a word at a time, the last word and short values as overlapping
    // words: a stray byte anywhere must still become U+FFFD, and a valid sequence anywhere must stay.
    std::size_t checked = 0;
    for (std::size_t len = 1; len <= 24; ++len) {
        for (std::size_t pos = 0; pos < len; ++pos) {
            std::string stray(len, 'a'), expected(len, 'a');
            stray.replace(pos, 1, "%FF");
            expected.replace(pos, 1, "\xEF\xBF\xBD");
            const json::object out = query("v=" + stray + "&w=" + std::string(pos, 'b') + "%C3%A9");
            REQUIRE(out.size() == 2);
            CHECK(out.at("v").as_string() == expected);
            CHECK(out.at("w").as_string() == std::string(pos, 'b') + "\xC3\xA9");
            ++checked;
        }
    }
    CHECK(checked == std::size_t{24} * 25 / 2);
}

TEST_CASE("parse_str: a value with nothing to decode is stored as it is, one with + or % decoded, in any order") {
    check_same(query("a=plain&b=x+y&c=%41&d=plain2&b=last"), R"({"a":"plain","b":"last","c":"A","d":"plain2"})");
    // In cookies '+' is kept and only %XX decoded.
    const json::object c = cookies("a=x+y; b=%41%42; c=plain");
    check_same(c, R"({"a":"x+y","b":"AB","c":"plain"})");
}
