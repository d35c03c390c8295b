// What the load generator sends: complete HTTP/1.1 tracking requests, built as raw bytes.
// `pageview` is one GET pageview (Firefox headers,
// random visitor id); `realistic` mixes what matomo.js and the SDKs send: pageviews, events, goals,
// ecommerce, pings, site search, outlinks, content impressions, form POSTs and bulk JSON POSTs of
// 10 and 100 hits, with varied User-Agent, Accept-Language and X-Forwarded-For.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mgw::bench {

enum class Mix { pageview, realistic };

enum class Kind : unsigned {
    pageview,
    event,
    goal,
    ecommerce_order,
    cart_update,
    ping,
    site_search,
    outlink,
    content,
    form_post,
    bulk_10,
    bulk_100,
    count_
};
inline constexpr std::size_t kKinds = static_cast<std::size_t>(Kind::count_);
std::string_view kind_name(Kind k);

// splitmix64: fast, small, good enough for request contents (not for anything secret).
class Rng {
public:
    explicit Rng(std::uint64_t seed) : s_(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    std::uint64_t below(std::uint64_t n) { return next() % n; }
    bool percent(unsigned p) { return below(100) < p; }

private:
    std::uint64_t s_;
};

struct BuiltRequest {
    unsigned hits = 1;  // tracking hits the request carries (bulk: 10 or 100)
    Kind kind = Kind::pageview;
};

class RequestBuilder {
public:
    // host_header: the Host header value; path: the tracking path, e.g. /matomo.php.
    RequestBuilder(Mix mix, std::string host_header, std::string path, bool keep_alive, std::uint64_t seed);

    // Replaces `out` with one complete request (request line, headers, body).
    BuiltRequest next(std::string& out);

private:
    BuiltRequest pageview(std::string& out);
    BuiltRequest realistic(std::string& out);
    Kind append_hit_params(std::string& q, bool allow_commerce);
    void append_common_headers(std::string& out, bool post);

    Mix mix_;
    std::string host_;
    std::string path_;
    bool keep_alive_;
    Rng rng_;
    std::string params_;  // scratch: one hit's query string
    std::string body_;    // scratch: POST body
};

}  // namespace mgw::bench
