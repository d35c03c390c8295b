// queue/small_deflate: the level-1 zlib encoder of queue values. Every stream is inflated by zlib
// itself (the reference implementation, what PHP's gzuncompress uses), some also by the real php,
// and sizes are compared with libdeflate level 1, which it replaces.
#include "queue/small_deflate.hpp"

#include <libdeflate.h>
#include <zlib.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "php/php.hpp"
#include "queue/compressor.hpp"
#include "queue/request_set.hpp"
#include "support/fixtures.hpp"
#include "support/php.hpp"

using mgw::queue::small_deflate_max_input;
using mgw::queue::small_zlib_compress;

namespace {

// A small seeded generator (SplitMix64), so every run compresses the same inputs.
struct Rng {
    std::uint64_t state;
    explicit Rng(std::uint64_t seed) : state(seed) {}
    std::uint32_t operator()() {
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return static_cast<std::uint32_t>((z ^ (z >> 31)) >> 32);
    }
};

// `z` inflated by zlib's uncompress(); `size` is the expected length.
std::string inflate(const std::string& z, std::size_t size) {
    std::string out(size + 1, '\0');
    uLongf out_len = static_cast<uLongf>(out.size());
    const int rc = uncompress(reinterpret_cast<Bytef*>(out.data()), &out_len, reinterpret_cast<const Bytef*>(z.data()),
                              static_cast<uLong>(z.size()));
    INFO("zlib uncompress returned " << rc);
    REQUIRE(rc == Z_OK);
    out.resize(out_len);
    return out;
}

// small_zlib_compress(in), checked: a valid zlib header, at most in.size() + 11 bytes, and zlib
// inflates it back to `in`.
std::string compress_checked(const std::string& in) {
    std::string z;
    REQUIRE(small_zlib_compress(in, z));
    REQUIRE(z.size() >= 2);
    const auto b0 = static_cast<unsigned char>(z[0]), b1 = static_cast<unsigned char>(z[1]);
    CHECK(b0 == 0x78);  // deflate, 32 KiB window
    CHECK((b0 * 256 + b1) % 31 == 0);
    CHECK((b1 & 0x20) == 0);  // no preset dictionary
    CHECK(z.size() <= in.size() + 11);
    CHECK(inflate(z, in.size()) == in);
    return z;
}

// What the gateway wrote before: libdeflate's zlib stream at `level`.
std::string libdeflate_zlib(const std::string& in, int level) {
    libdeflate_compressor* const c = libdeflate_alloc_compressor(level);
    REQUIRE(c != nullptr);
    std::string out(libdeflate_zlib_compress_bound(c, in.size()), '\0');
    out.resize(libdeflate_zlib_compress(c, in.data(), in.size(), out.data(), out.size()));
    libdeflate_free_compressor(c);
    return out;
}

std::string libdeflate_level1(const std::string& in) { return libdeflate_zlib(in, 1); }

std::string random_bytes(Rng& rng, std::size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng() & 0xFF);
    return s;
}

// A request set like the gateway writes for one GET pageview of a JavaScript tracker.
std::string pageview_value(Rng& rng) {
    static const char* const agents[] = {
        "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 "
        "Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
        "Mobile/15E148 Safari/604.1",
    };
    static const char* const languages[] = {"en-US,en;q=0.5", "de-DE,de;q=0.9,en;q=0.8", "fr-FR,fr;q=0.9"};
    static const char* const pages[] = {"https%3A%2F%2Fexample.org%2F", "https%3A%2F%2Fexample.org%2Fblog%2F",
                                        "https%3A%2F%2Fshop.example.org%2Fproduct%2F"};
    auto pick = [&](auto& list) { return list[rng() % std::size(list)]; };
    auto hex = [&](int digits) {
        std::string s;
        for (int i = 0; i < digits; ++i) s += "0123456789abcdef"[rng() % 16];
        return s;
    };
    std::string query = "idsite=" + std::to_string(1 + rng() % 3) + "&rec=1&action_name=Page%20" +
                        std::to_string(rng() % 1000) + "&url=" + pick(pages) + std::to_string(rng() % 500) +
                        "&_id=" + hex(16) + "&apiv=1&r=" + std::to_string(100000 + rng() % 900000) +
                        "&h=" + std::to_string(rng() % 24) + "&m=" + std::to_string(rng() % 60) +
                        "&s=" + std::to_string(rng() % 60) + "&res=1920x1080&cookie=1&pv_id=" + hex(6);
    if (rng() % 3 == 0) query += "&urlref=https%3A%2F%2Fwww.google.com%2F";
    mgw::queue::RequestSet set;
    boost::json::object hit;
    mgw::php::parse_str(query, hit);
    set.requests.emplace_back(std::move(hit));
    set.server = {{"REMOTE_ADDR", "203.0.113." + std::to_string(rng() % 256)},
                  {"REQUEST_METHOD", "GET"},
                  {"HTTP_USER_AGENT", pick(agents)},
                  {"HTTP_ACCEPT_LANGUAGE", pick(languages)}};
    set.time = 1764979200 + static_cast<std::int64_t>(rng() % 86400);
    return mgw::queue::encode_json(set);
}

// Inputs of every shape: JSON-like text from a small vocabulary, bytes, runs, and copies of
// earlier parts at any distance.
std::string generated_input(Rng& rng) {
    static const char* const words[] = {"\"idsite\":",
                                        "\"1\"",
                                        ",",
                                        "\"url\":\"https:\\/\\/example.org\\/",
                                        "{",
                                        "}",
                                        "[",
                                        "]",
                                        "\"requests\"",
                                        "action_name",
                                        "%20",
                                        "&",
                                        "=",
                                        "\"time\":",
                                        "Mozilla/5.0",
                                        "\u00e9t\u00e9",
                                        "null",
                                        "true",
                                        "false",
                                        " "};
    const std::size_t target = rng() % 8 == 0 ? rng() % (small_deflate_max_input + 1) : rng() % 3000;
    std::string s;
    while (s.size() < target) {
        switch (rng() % 6) {
            case 0: s += words[rng() % std::size(words)]; break;
            case 1: s += std::to_string(rng() % 100000); break;
            case 2: s += random_bytes(rng, 1 + rng() % 16); break;
            case 3: s.append(1 + rng() % 300, static_cast<char>(rng() & 0xFF)); break;
            default:
                if (!s.empty()) {
                    const std::size_t from = rng() % s.size();
                    s += s.substr(from, 1 + rng() % 300);
                }
        }
    }
    s.resize(target);
    return s;
}

}  // namespace

TEST_CASE("small deflate: empty, 1, 2 and 3 byte inputs round-trip") {
    for (const std::string& in : {std::string(), std::string("x"), std::string("{}"), std::string("abc"),
                                  std::string(1, '\0'), std::string("\xff\x00\xff", 3)}) {
        INFO("input of " << in.size() << " bytes");
        compress_checked(in);
    }
    std::string z;
    REQUIRE(small_zlib_compress("", z));
    CHECK(z == std::string("\x78\x01\x03\x00\x00\x00\x00\x01", 8));  // a fixed block with only end of block
}

TEST_CASE("small deflate: runs of one byte, around the longest match of 258") {
    for (const std::size_t n :
         std::vector<std::size_t>{4, 5, 10, 257, 258, 259, 260, 261, 516, 517, 1000, 4096, small_deflate_max_input}) {
        for (const char c : {'a', '\0'}) {
            INFO(n << " bytes of " << int{c});
            const auto z = compress_checked(std::string(n, c));
            if (n >= 4096) CHECK(z.size() * 50 < n);
        }
    }
}

TEST_CASE("small deflate: random bytes are stored, at most 11 bytes over the input") {
    Rng rng(1);
    // 16 random bytes fit a fixed-code block better; from about 100 on a stored block is smallest.
    compress_checked(random_bytes(rng, 16));
    for (const std::size_t n : std::vector<std::size_t>{100, 1000, 5000, small_deflate_max_input}) {
        INFO(n << " random bytes");
        const auto z = compress_checked(random_bytes(rng, n));
        CHECK(z.size() == n + 11);
        CHECK(static_cast<unsigned char>(z[2]) == 0x01);  // BFINAL 1, BTYPE 00
    }
}

TEST_CASE("small deflate: matches as far back as the window allows") {
    Rng rng(2);
    const std::string marker = random_bytes(rng, 300);
    std::string text;
    while (text.size() + marker.size() < small_deflate_max_input) text += static_cast<char>('a' + rng() % 26);
    const std::string far = marker + text.substr(0, small_deflate_max_input - 2 * marker.size()) + marker;
    REQUIRE(far.size() == small_deflate_max_input);
    const auto with_copy = compress_checked(far);
    // The second copy of the marker, 32468 bytes back, costs a match instead of 300 random bytes.
    std::string without_copy = far;
    for (std::size_t i = far.size() - marker.size(); i < far.size(); ++i) without_copy[i] = static_cast<char>(rng());
    CHECK(with_copy.size() + 200 < compress_checked(without_copy).size());
}

TEST_CASE("small deflate: inputs over 32 KiB are left to libdeflate") {
    Rng rng(3);
    std::string big;
    while (big.size() <= small_deflate_max_input) big += pageview_value(rng);
    std::string out = "unchanged";
    CHECK_FALSE(small_zlib_compress(big, out));
    CHECK(out == "unchanged");
    CHECK(inflate(mgw::queue::compress_value(big, 1), big.size()) == big);
    const std::string limit = big.substr(0, small_deflate_max_input);
    CHECK(small_zlib_compress(limit, out));
    CHECK(mgw::queue::compress_value(limit, 1) == out);
}

TEST_CASE("small deflate: compress_value uses it at level 1 only") {
    Rng rng(4);
    const std::string json = pageview_value(rng);
    std::string small;
    REQUIRE(small_zlib_compress(json, small));
    CHECK(mgw::queue::compress_value(json, 1) == small);
    for (int level = 2; level <= 9; ++level) {
        INFO("level " << level);
        CHECK(mgw::queue::compress_value(json, level) == libdeflate_zlib(json, level));
    }
}

TEST_CASE("small deflate: every recorded QueuedTracking value, inflated by zlib and by PHP") {
    std::vector<std::string> texts, ours, theirs;
    for (const auto& name : mgw::test::fixture_names()) {
        for (const auto& entry : mgw::test::load_fixture(name).new_entries) {
            texts.push_back(entry.decompressed_text);
            ours.push_back(compress_checked(entry.decompressed_text));
            theirs.push_back(libdeflate_level1(entry.decompressed_text));
        }
    }
    REQUIRE(texts.size() >= 20);
    std::size_t ours_total = 0, theirs_total = 0;
    for (std::size_t i = 0; i < texts.size(); ++i) ours_total += ours[i].size(), theirs_total += theirs[i].size();
    CHECK(ours_total <= theirs_total);
    // The worker's own decoding: gzuncompress + json_decode in the real php.
    const auto decoded = mgw::test::php_decode_queue_values(ours);
    const auto reference = mgw::test::php_decode_queue_values(theirs);
    REQUIRE(decoded.size() == texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
        INFO("value " << i);
        CHECK_FALSE(decoded[i].is_null());
        CHECK(decoded[i] == reference[i]);
    }
}

TEST_CASE("small deflate: pageview request sets come out no larger than with libdeflate level 1") {
    Rng rng(5);
    std::size_t ours_total = 0, theirs_total = 0, count = 0;
    for (; count < 500; ++count) {
        const std::string json = pageview_value(rng);
        ours_total += compress_checked(json).size();
        theirs_total += libdeflate_level1(json).size();
    }
    INFO("500 pageviews: " << ours_total << " bytes, libdeflate level 1 " << theirs_total);
    CHECK(ours_total <= theirs_total);
    // Bulk request sets: several hits in one value.
    ours_total = theirs_total = 0;
    for (int i = 0; i < 50; ++i) {
        std::string bulk = "{\"requests\":[";
        const int hits = 2 + static_cast<int>(rng() % 30);
        for (int h = 0; h < hits; ++h) {
            const std::string one = pageview_value(rng);
            const auto start = one.find('[') + 1, end = one.find(']');
            bulk += (h != 0 ? "," : "") + one.substr(start, end - start);
        }
        bulk += "],\"env\":{\"server\":{}},\"tokenAuth\":null,\"time\":1764979200}";
        ours_total += compress_checked(bulk).size();
        theirs_total += libdeflate_level1(bulk).size();
    }
    INFO("50 bulk sets: " << ours_total << " bytes, libdeflate level 1 " << theirs_total);
    CHECK(ours_total <= theirs_total);
}

TEST_CASE("small deflate: a thread reuses its last code while it fits, and builds a new one when it does not") {
    using mgw::queue::detail::small_deflate_codes_built;
    // On a thread of its own, so that no earlier value of this test binary left a code behind.
    std::vector<std::string> inputs, outputs;
    std::vector<std::uint64_t> built;
    Rng rng(8);
    const std::string first = pageview_value(rng);
    // The same bytes in another order: every symbol has a codeword in the first value's code.
    std::string shuffled = first;
    std::reverse(shuffled.begin() + 20, shuffled.end() - 20);
    const std::string longer = first + first + first;  // three times as long
    inputs = {first, shuffled, first + "~~~", first, longer};
    for (int i = 0; i < 40; ++i) inputs.push_back(first);
    std::thread([&] {
        for (const std::string& in : inputs) {
            std::string z;
            if (!small_zlib_compress(in, z)) return;
            outputs.push_back(z);
            built.push_back(small_deflate_codes_built());
        }
    }).join();
    REQUIRE(outputs.size() == inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) CHECK(inflate(outputs[i], inputs[i].size()) == inputs[i]);
    CHECK(built[0] == 1);  // the first value builds one
    CHECK(built[1] == 1);  // the shuffled copy uses it
    CHECK(built[2] == 2);  // '~' has no codeword in it: a new code
    CHECK(built[3] == 2);  // the new code has every symbol of the first value
    CHECK(built[4] == 3);  // three times the length: a new code
    // The longer value's code is kept for values of a third of its length: the next value builds one,
    // which then serves 32 values before the next is built.
    CHECK(built[5] == 4);
    CHECK(built[5 + 32] == 4);
    CHECK(built[5 + 33] == 5);
    // A reused code costs little: the value written with the first value's code is at most 3% longer
    // than the same value compressed on its own.
    std::string alone;
    std::thread([&] { small_zlib_compress(shuffled, alone); }).join();
    INFO("reused: " << outputs[1].size() << " bytes, own code: " << alone.size());
    CHECK(outputs[1].size() * 100 <= alone.size() * 103);
}

TEST_CASE("small deflate: thousands of generated inputs round-trip") {
    Rng rng(6);
    std::string z;
    int round_trips = 0;
    for (int i = 0; i < 3000; ++i) {
        const std::string in = generated_input(rng);
        REQUIRE(small_zlib_compress(in, z));
        REQUIRE(z.size() <= in.size() + 11);
        REQUIRE((static_cast<unsigned char>(z[0]) * 256 + static_cast<unsigned char>(z[1])) % 31 == 0);
        if (inflate(z, in.size()) == in) ++round_trips;
    }
    CHECK(round_trips == 3000);
}

TEST_CASE("small deflate: Huffman lengths stay within their limits and fill the code") {
    using mgw::queue::detail::small_deflate_code_lengths;
    auto kraft_full = [](const std::vector<std::uint8_t>& lens, unsigned max_len) {
        std::uint64_t sum = 0;
        for (const auto len : lens)
            if (len != 0) sum += std::uint64_t{1} << (max_len - len);
        return sum == (std::uint64_t{1} << max_len);
    };
    // Fibonacci frequencies make the deepest Huffman trees: 24 symbols would need 23 bits.
    std::vector<std::uint16_t> fib = {1, 1};
    while (fib.size() < 24) fib.push_back(static_cast<std::uint16_t>(fib[fib.size() - 1] + fib[fib.size() - 2]));
    for (const unsigned max_len : {15u, 7u}) {
        const std::vector<std::uint16_t> freq(fib.begin(), fib.begin() + (max_len == 7 ? 19 : 24));
        const auto lens = small_deflate_code_lengths(freq, max_len);
        INFO("limit " << max_len);
        CHECK(*std::max_element(lens.begin(), lens.end()) == max_len);
        CHECK(kraft_full(lens, max_len));
        for (std::size_t i = 1; i < lens.size(); ++i) CHECK(lens[i] <= lens[i - 1]);  // more frequent, not longer
    }
    // Within the limit the lengths are the optimal ones.
    const auto lens = small_deflate_code_lengths({5, 0, 1, 1, 2, 9}, 15);
    CHECK(lens == std::vector<std::uint8_t>{2, 0, 4, 4, 3, 1});
    // One symbol or none: two codewords of length 1.
    CHECK(small_deflate_code_lengths({0, 0, 7}, 15) == std::vector<std::uint8_t>{1, 0, 1});
    CHECK(small_deflate_code_lengths({0, 0, 0}, 15) == std::vector<std::uint8_t>{1, 1, 0});
}
