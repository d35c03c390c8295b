// tests/php/php_differential_test.cpp — compares parse_str and matomo_sanitize with the real `php`
// CLI over a fixed corpus of tricky inputs plus seeded random ones. php runs once per test case: the
// inputs go to a temp file, hex-encoded one per line, and php prints one result per line.
// A missing php fails the test (popen's shell exits 127) rather than skipping it.
#include "php/php.hpp"
#include "support/params.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace json = boost::json;

namespace {

std::string to_hex(std::string_view s) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (const unsigned char c : s) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

// A file in the temp directory, removed when the object goes away.
struct TempFile {
    std::string path;
    explicit TempFile(const std::string& contents) {
        std::string tmpl = (std::filesystem::temp_directory_path() / "mgw-php-diff-XXXXXX").string();
        const int fd = ::mkstemp(tmpl.data());
        REQUIRE(fd >= 0);
        ::close(fd);
        path = tmpl;
        std::ofstream(path, std::ios::binary) << contents;
    }
    ~TempFile() { std::filesystem::remove(path); }
};

// Runs `php` once: `body` is PHP code run for each input `$s`, and must echo one line.
std::vector<std::string> run_php(const std::string& body, const std::vector<std::string>& inputs) {
    std::string corpus;
    for (const auto& in : inputs) corpus += to_hex(in) + "\n";
    const TempFile corpus_file(corpus);
    const TempFile script("<?php\nforeach (file($argv[1], FILE_IGNORE_NEW_LINES) as $h) {\n$s = hex2bin($h);\n" + body +
                          "\n}\n");
    // -n: no php.ini, so PHP's built-in defaults apply; limits set to match ParseLimits{}.
    const std::string cmd = "php -n -d max_input_vars=1000 -d max_input_nesting_level=64 -d display_errors=0 " +
                            script.path + " " + corpus_file.path;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::string output;
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) output.append(buf, n);
    const int status = ::pclose(pipe);
    INFO("command: " << cmd);
    INFO("php must be installed and on PATH (exit status 127 means it was not found)");
    REQUIRE(status == 0);
    std::vector<std::string> lines;
    for (std::size_t pos = 0, nl; (nl = output.find('\n', pos)) != std::string::npos; pos = nl + 1)
        lines.push_back(output.substr(pos, nl - pos));
    REQUIRE(lines.size() == inputs.size());
    return lines;
}

// Random strings built from fragments that exercise the parser; all of them valid UTF-8 after
// URL-decoding (no hex letter can follow a lone '%'), as invalid UTF-8 is where we deliberately
// differ from PHP.
std::vector<std::string> random_queries(std::size_t count) {
    static const std::vector<std::string> atoms = {
        "k",
        "q",
        "0",
        "1",
        "5",
        "-",
        "05",
        "=",
        "=",
        "&",
        "&",
        "[",
        "[",
        "]",
        "]",
        "[]",
        ".",
        " ",
        "+",
        "%",
        "%00",
        "%20",
        "%2E",
        "%5B",
        "%5D",
        "%26",
        "%3D",
        "%2B",
        "%zz",
        "%C3%A9",
        "\xE2\x82\xAC",
        "\t",
        "_",
        "x",
    };
    std::mt19937 rng(20240607);  // fixed seed: the corpus is the same on every run
    std::uniform_int_distribution<std::size_t> pick(0, atoms.size() - 1), len(1, 24);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < count; ++i) {
        std::string s;
        for (std::size_t n = len(rng); n > 0; --n) s += atoms[pick(rng)];
        out.push_back(s);
    }
    return out;
}

std::vector<std::string> query_corpus() {
    std::vector<std::string> c = {
        "a.b=1&c+d=2&e[]=3&f=%2B+x&dup=1&dup=2",
        "",
        "&&&",
        "a=1&&b=2&",
        "=x&a",
        "a==b=c",
        "a=1=2",
        "a",
        "a=",
        "=",
        "a[]=1&a[]=2&a[]=3",
        "a[x]=1&a[y]=2",
        "a[x][y][z]=1",
        "a[x][][y]=1&a[x][][y]=2",
        "a[=1",
        "a[",
        "a[b=1",
        "a[b][c=1",
        "a[][c=1",
        "a[b]x=1",
        "a[b]x[c]=1",
        "a b[c.d=1",
        "a]=1",
        "a[b[c]=1",
        "a[b]]=1",
        "a[]]=1",
        "a[ ]=1&a[ x]=2&a[x ]=3",
        "a[\t]=1&a[\n]=2&a[\v]=3&a[\f]=4&a[\r]=5",
        "a[  ]=1",
        "a[x] [y]=1",
        "a [x]=1",
        "a[.b c]=1",
        "a[x].y=1",
        "a[x][y=1",
        "a%5B=1",
        "a[%00]=1",
        "a[5]=x&a[]=y",
        "a[-5]=x&a[]=y",
        "a[05]=x&a[]=y",
        "a[-0]=x&a[0]=y&a[]=z",
        "a[9223372036854775807]=1&a[]=2",
        "a[9223372036854775808]=1&a[]=2",
        "a[-9223372036854775808]=1&a[]=2",
        "a[-9223372036854775809]=1&a[]=2",
        "a[99999999999999999999]=1&a[]=2",
        "a[0]=x&a[1]=y",
        "a[1]=x&a[0]=y",
        "a[0]=x&a[2]=y",
        "5=a&7=b",
        "0=a&1=b",
        "0[]=1&0[]=2",
        "-1=1&-1[]=2",
        "%00a=1",
        "a%00b=1",
        "a=b%00c",
        "a[b%00c]=1",
        "%00=1&b=2",
        "%=1&a=%zz&b=%2&c=%%41&d=%4",
        "a=%2b%2B+%20",
        "+a+=1",
        "%20%20a=1",
        ".a=1",
        "a.b.c=1&a_b_c=2",
        "dup=1&dup[]=2",
        "dup[]=1&dup=2",
        "x=1&a=2&x[y]=3",
        "a[x]=1&a=2&a[y]=3",
        "a[b][c]=1&a[b]=2&a[b][]=3",
        "a[x]=1&a[x][y]=2",
        "a[]=1&a[x]=2&a[]=3",
        "a[10]=1&a[]=2&a[5]=3&a[]=4",
        "arr[]=&arr[]",
        "a%5B%5D=1&a%5Bx%5D=2",
        "a%2Eb=1",
        "a[]=1&a[]=2&b[]=3&a[]=4",
        "a[x][]=1&a[x][]=2&a[y][z]=3",
        "a[b][]=1&a[b][5]=2&a[b][]=3",
        "%C3%A9%20x.y[%20a%20]=1",
        "..Host-x=1&__Host-y=2& __Host-z=3",
        "_.Secure-x=1&__Secure-y=2",
        "__Host-[x]=1&..Host-[x]=2",
        "uid=john%26amp%3Bdoe&cid=%26%2339%3B&_id=%26lt%3Bx%26gt%3B",
        "uid=O%27Brien%20%22x%22&_id=%3Cscript%3E&q=%27%22%3C%3E%26amp%3B",
        "%E2%82%AC=%F0%9F%98%80&na%C3%AFve=caf%C3%A9",
        "\xE2\x82\xAC=\xF0\x9F\x98\x80",
        "a[\xE2\x82\xAC]=1&a[\xC3\xA9][]=2",
        "idsite=1&rec=1&url=https%3A%2F%2Fexample.com%2F%3Fa%3D1%26b%3D2&_cvar=%7B%221%22%3A%5B%22k%22%2C%22v%22%5D%7D",
    };
    std::string deep = "a";
    for (int i = 0; i < 64; ++i) deep += "[x]";
    c.push_back(deep + "=1");                      // exactly max_input_nesting_level: kept
    c.push_back("a=1&b=2&" + deep + "[x]=1&c=3");  // one deeper: `a` disappears entirely
    c.push_back("a=1&" + deep + "[=1");            // depth check happens before the ']' search
    std::string many;
    for (int i = 0; i < 1005; ++i) many += "v" + std::to_string(i % 1001) + "=" + std::to_string(i) + "&&";
    c.push_back(many);  // over max_input_vars (empty tokens not counted)
    for (auto& q : random_queries(400)) c.push_back(std::move(q));
    return c;
}

}  // namespace

TEST_CASE("differential: parse_str matches PHP 8 parse_str() on tricky and random query strings") {
    const auto corpus = query_corpus();
    REQUIRE(corpus.size() >= 60);
    const auto php = run_php(
        "parse_str($s, $r);\necho json_encode((object)$r, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), \"\\n\";",
        corpus);
    for (std::size_t i = 0; i < corpus.size(); ++i) {
        json::object ours;
        mgw::php::parse_str(corpus[i], ours);
        json::parse_options deep;
        deep.max_depth = 128;  // the corpus nests 65 levels
        const json::value expected = json::parse(php[i], {}, deep);
        INFO("input (hex) " << to_hex(corpus[i]) << ": " << corpus[i].substr(0, 300));
        INFO("php  " << php[i].substr(0, 600));
        INFO("ours " << json::serialize(ours).substr(0, 600));
        CHECK(json::value(ours) == expected);
        CHECK(json::serialize(ours) == json::serialize(expected));  // same key order as well
        mgw::php::Params flat;                                      // the hit path's form
        mgw::php::parse_str(corpus[i], flat);
        CHECK(json::serialize(mgw::test::to_object(flat)) == json::serialize(expected));
    }
}

// Matomo's Common::sanitizeInputValue() for a string (core/Common.php: sanitizeLineBreaks, then
// sanitizeString with HTML_ENCODING_QUOTE_STYLE = ENT_QUOTES, including its utf8_encode fallback).
static const char* const kMatomoSanitize = R"php(
$v = str_replace(["\n", "\r"], '', $s);
$v = html_entity_decode($v, ENT_QUOTES, 'UTF-8');
$v = str_replace(["\0"], '', $v);
$t = @htmlspecialchars($v, ENT_QUOTES, 'UTF-8');
if ($v !== '' && $t === '') { $t = htmlspecialchars(@utf8_encode($v), ENT_QUOTES, 'UTF-8'); }
echo bin2hex($t), "\n";
)php";

TEST_CASE("differential: matomo_sanitize matches the sanitizeInputValue steps of Matomo run by PHP") {
    std::vector<std::string> corpus = {
        "",
        "abc",
        "1234567890abcdef",
        "john&amp;doe",
        "O'Brien",
        "&#39;",
        "&#039;",
        "&#x27;",
        "&apos;",
        "&quot;x&quot;",
        "<script>",
        "&lt;script&gt;",
        "&amp;amp;",
        "&AMP;",
        "&lt",
        "&lt;",
        "&#65",
        "&#65;",
        "&#x41;",
        "&#X41;",
        "&#x0x41;",
        "&#0x41;",
        "&#;",
        "&#x;",
        "&;",
        "&",
        "&&",
        "&&&&",
        "a&b",
        "&#0;",
        "&#9;&#10;&#13;&#11;&#31;&#32;&#126;&#127;&#160;",
        "&#xD800;&#xDFFF;&#xE000;&#xFFFE;&#xFFFF;&#x10FFFF;&#x110000;&#99999999999999999999;",
        "&#0000065;",
        "&nbsp;&euro;&hellip;&Aacute;&aacute;&thetasym;&zwnj;&Nbsp;",
        "a\nb\r\nc",
        "&\nlt;",
        std::string("a\0b", 3),
        std::string("&#0;\0&amp;", 10),
        "caf\xC3\xA9",
        "caf\xE9",
        "\xC3\xA9\xFF",
        "\xED\xA0\x80",
        "\xF0\x9F\x98\x80",
        "\"'<>&",
        "uid=1&x=2",
        "&#38;&#x26;",
        "&#60;&#62;&#34;",
    };
    static const std::vector<std::string> atoms = {
        "&",
        "#",
        "x",
        "X",
        "0",
        "3",
        "9",
        ";",
        "a",
        "amp",
        "lt",
        "gt",
        "quot",
        "apos",
        "nbsp",
        "euro",
        "\n",
        "\r",
        std::string(1, '\0'),
        "'",
        "\"",
        "<",
        ">",
        "\xC3\xA9",
        "\xC3",
        "\xE2\x82\xAC",
        " ",
        "&#",
        "&#x",
    };
    std::mt19937 rng(424242);
    std::uniform_int_distribution<std::size_t> pick(0, atoms.size() - 1), len(1, 16);
    for (int i = 0; i < 400; ++i) {
        std::string s;
        for (std::size_t n = len(rng); n > 0; --n) s += atoms[pick(rng)];
        corpus.push_back(s);
    }
    const auto php = run_php(kMatomoSanitize, corpus);
    for (std::size_t i = 0; i < corpus.size(); ++i) {
        INFO("input (hex) " << to_hex(corpus[i]));
        CHECK(to_hex(mgw::php::matomo_sanitize(corpus[i])) == php[i]);
    }
}
