// Builds the tracking requests of the two mixes (see hit_mix.hpp). Everything that goes into a
// query string is already percent-encoded, so a hit's parameters can be used unchanged as a URL
// query, a form body or a JSON string inside a bulk request.
#include "bench/hit_mix.hpp"

#include <charconv>
#include <utility>

namespace mgw::bench {
namespace {

constexpr std::string_view kFirefoxUa = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0";

// Long user agents are split over two lines, with no comma between the halves.
// NOLINTBEGIN(bugprone-suspicious-missing-comma)
constexpr std::string_view kUserAgents[] = {
    kFirefoxUa,
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
    "Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.163 Mobile "
    "Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 "
    "Edg/119.0.2151.72",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "MatomoTrackerSdk/4.0 (Android 13; Mobile)",
};
// NOLINTEND(bugprone-suspicious-missing-comma)

constexpr std::string_view kLanguages[] = {
    "en-US,en;q=0.5",          "de-DE,de;q=0.9,en;q=0.8",    "fr-FR,fr;q=0.9",
    "ja,en-US;q=0.7,en;q=0.3", "pt-BR,pt;q=0.9,en-US;q=0.8", "es-ES,es;q=0.9",
};

constexpr std::string_view kResolutions[] = {"1920x1080", "1366x768", "390x844", "2560x1440", "1536x864"};

constexpr std::string_view kPages[] = {
    "https%3A%2F%2Fexample.org%2F",          "https%3A%2F%2Fexample.org%2Fblog%2F",
    "https%3A%2F%2Fexample.org%2Fpricing",   "https%3A%2F%2Fexample.org%2Fdocs%2Finstall",
    "https%3A%2F%2Fshop.example.org%2Fcart", "https%3A%2F%2Fshop.example.org%2Fproduct%2F",
};

constexpr std::string_view kItems =
    "%5B%5B%22SKU-1%22%2C%22Coffee%20mug%22%2C%22Kitchen%22%2C12.5%2C2%5D%2C"
    "%5B%22SKU-7%22%2C%22T-shirt%22%2C%5B%22Clothes%22%2C%22Summer%22%5D%2C19%2C1%5D%5D";

void append_uint(std::string& s, std::uint64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    s.append(buf, end);
}

void append_hex(std::string& s, std::uint64_t v, int digits) {
    static constexpr char hex[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; --i) s += hex[(v >> (4 * i)) & 0xf];
}

template <std::size_t N>
std::string_view pick(Rng& rng, const std::string_view (&list)[N]) {
    return list[rng.below(N)];
}

}  // namespace

std::string_view kind_name(Kind k) {
    static constexpr std::string_view names[] = {
        "pageview",    "event",   "goal",    "ecommerce_order", "cart_update", "ping",
        "site_search", "outlink", "content", "form_post",       "bulk_10",     "bulk_100",
    };
    return names[static_cast<unsigned>(k)];
}

RequestBuilder::RequestBuilder(Mix mix, std::string host_header, std::string path, bool keep_alive, std::uint64_t seed)
    : mix_(mix), host_(std::move(host_header)), path_(std::move(path)), keep_alive_(keep_alive), rng_(seed) {}

BuiltRequest RequestBuilder::next(std::string& out) {
    out.clear();
    return mix_ == Mix::pageview ? pageview(out) : realistic(out);
}

// The pageview mix: GET pageview, random page and visitor, Firefox headers.
BuiltRequest RequestBuilder::pageview(std::string& out) {
    out += "GET ";
    out += path_;
    out += "?idsite=1&rec=1&action_name=Bench%20page%20";
    append_uint(out, rng_.below(1000));
    out += "&url=https%3A%2F%2Fexample.org%2Fpage%2F";
    append_uint(out, rng_.below(1000));
    out += "&_id=";
    append_hex(out, rng_.next(), 16);
    out += "&apiv=1&r=";
    append_uint(out, 100000 + rng_.below(900000));
    out += "&h=";
    append_uint(out, rng_.below(24));
    out += "&m=";
    append_uint(out, rng_.below(60));
    out += "&s=";
    append_uint(out, rng_.below(60));
    out += "&res=1920x1080 HTTP/1.1\r\nHost: ";
    out += host_;
    out += "\r\nUser-Agent: ";
    out += kFirefoxUa;
    out += "\r\nAccept: image/avif,image/webp,*/*\r\nAccept-Language: en-US,en;q=0.5\r\n";
    if (!keep_alive_) out += "Connection: close\r\n";
    out += "\r\n";
    return {1, Kind::pageview};
}

// One hit's parameters (no leading '?'). Returns the kind of hit written.
Kind RequestBuilder::append_hit_params(std::string& q, bool allow_commerce) {
    q += "idsite=";
    append_uint(q, 1 + rng_.below(3));
    q += "&rec=1&apiv=1&_id=";
    append_hex(q, rng_.next(), 16);
    q += "&r=";
    append_uint(q, 100000 + rng_.below(900000));
    q += "&h=";
    append_uint(q, rng_.below(24));
    q += "&m=";
    append_uint(q, rng_.below(60));
    q += "&s=";
    append_uint(q, rng_.below(60));
    q += "&res=";
    q += pick(rng_, kResolutions);
    q += "&cookie=1&pv_id=";
    append_hex(q, rng_.next(), 6);
    q += "&url=";
    q += pick(rng_, kPages);
    append_uint(q, rng_.below(500));
    if (rng_.percent(30)) q += "&urlref=https%3A%2F%2Fwww.google.com%2F";
    if (rng_.percent(5)) {
        q += "&uid=user";
        append_uint(q, rng_.below(10000));
    }

    // Weights in percent of single hits.
    const auto roll = rng_.below(allow_commerce ? 100 : 90);
    if (roll < 55) {
        q += "&action_name=Page%20";
        append_uint(q, rng_.below(1000));
        q += "&pf_net=";
        append_uint(q, rng_.below(200));
        q += "&pf_srv=";
        append_uint(q, rng_.below(300));
        return Kind::pageview;
    }
    if (roll < 70) {
        q += "&e_c=Video&e_a=Play&e_n=Clip%20";
        append_uint(q, rng_.below(50));
        q += "&e_v=";
        append_uint(q, rng_.below(600));
        return Kind::event;
    }
    if (roll < 80) {
        q += "&ping=1";
        return Kind::ping;
    }
    if (roll < 84) {
        q += "&search=matomo%20queue&search_cat=docs&search_count=";
        append_uint(q, rng_.below(40));
        return Kind::site_search;
    }
    if (roll < 87) {
        q += rng_.percent(50) ? "&link=https%3A%2F%2Fother.example.net%2F"
                              : "&download=https%3A%2F%2Fexample.org%2Ffile.pdf";
        return Kind::outlink;
    }
    if (roll < 90) {
        q += "&c_n=Banner&c_p=%2Fimg%2Fbanner.png&c_t=https%3A%2F%2Fexample.org%2Foffer";
        return Kind::content;
    }
    if (roll < 94) {
        q += "&idgoal=";
        append_uint(q, 1 + rng_.below(3));
        q += "&revenue=";
        append_uint(q, rng_.below(100));
        return Kind::goal;
    }
    if (roll < 97) {
        q += "&idgoal=0&ec_id=";
        append_hex(q, rng_.next(), 12);
        q += "&revenue=44&ec_st=44&ec_tx=4.5&ec_sh=5&ec_dt=0&ec_items=";
        q += kItems;
        return Kind::ecommerce_order;
    }
    q += "&idgoal=0&revenue=44&ec_items=";
    q += kItems;
    return Kind::cart_update;
}

void RequestBuilder::append_common_headers(std::string& out, bool post) {
    out += " HTTP/1.1\r\nHost: ";
    out += host_;
    out += "\r\nUser-Agent: ";
    out += pick(rng_, kUserAgents);
    out += "\r\nAccept-Language: ";
    out += pick(rng_, kLanguages);
    out += post ? "\r\nAccept: */*\r\nOrigin: https://example.org" : "\r\nAccept: image/avif,image/webp,*/*";
    out += "\r\nX-Forwarded-For: ";
    const auto ip = rng_.next();
    append_uint(out, 1 + (ip & 0xff) % 223);
    for (int i = 1; i < 4; ++i) {
        out += '.';
        append_uint(out, (ip >> (8 * i)) & 0xff);
    }
    if (rng_.percent(40)) out += "\r\nReferer: https://example.org/";
    if (!keep_alive_) out += "\r\nConnection: close";
    out += "\r\n";
}

BuiltRequest RequestBuilder::realistic(std::string& out) {
    const auto roll = rng_.below(100);
    if (roll < 80) {  // single GET hit, a third of them with send_image=0 (204)
        params_.clear();
        const Kind k = append_hit_params(params_, true);
        if (rng_.percent(33)) params_ += "&send_image=0";
        out += "GET ";
        out += path_;
        out += '?';
        out += params_;
        append_common_headers(out, false);
        out += "\r\n";
        return {1, k};
    }

    unsigned hits = 1;
    Kind kind = Kind::form_post;
    std::string_view content_type = "application/x-www-form-urlencoded; charset=UTF-8";
    body_.clear();
    if (roll < 92) {  // form POST of one hit (matomo.js with setRequestMethod('POST'))
        append_hit_params(body_, false);
    } else {  // bulk JSON POST (sendBeacon / SDK queue flush)
        hits = roll < 98 ? 10 : 100;
        kind = hits == 10 ? Kind::bulk_10 : Kind::bulk_100;
        content_type = "text/plain; charset=UTF-8";
        body_ += "{\"requests\":[";
        for (unsigned i = 0; i < hits; ++i) {
            if (i) body_ += ',';
            body_ += "\"?";
            append_hit_params(body_, true);
            body_ += '"';
        }
        body_ += "]}";
    }
    out += "POST ";
    out += path_;
    append_common_headers(out, true);
    out += "Content-Type: ";
    out += content_type;
    out += "\r\nContent-Length: ";
    append_uint(out, body_.size());
    out += "\r\n\r\n";
    out += body_;
    return {hits, kind};
}

}  // namespace mgw::bench
