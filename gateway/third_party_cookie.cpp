// Formats follow Matomo's Cookie class: rawurlencode("0=" . base64(id)), PHP date format
// "l, d-M-Y H:i:s T" in UTC, domain with a leading dot and without "www." or a port.
#include "gateway/third_party_cookie.hpp"

#include "gateway/ascii.hpp"
#include "queue/queue_choice.hpp"

#include <boost/beast/core/detail/base64.hpp>

#include <ctime>
#include <random>

namespace mgw::gateway {
namespace {

std::string rawurlencode(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xF]);
        }
    }
    return out;
}

std::string random_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char hex[] = "0123456789abcdef";
    std::string id(16, '0');
    auto v = rng();
    for (int i = 0; i < 16; ++i) id[static_cast<std::size_t>(i)] = hex[(v >> (4 * i)) & 0xF];
    return id;
}

bool is_safari(std::string_view ua) {
    if (ua.find("Safari/") == std::string_view::npos) return false;
    for (auto other : {"Chrome/", "Chromium/", "CriOS/", "FxiOS/", "Edg/", "OPR/", "Android"})
        if (ua.find(other) != std::string_view::npos) return false;
    return true;
}

}  // namespace

std::string third_party_set_cookie(const php::Params& hit, std::string_view existing_id, std::int64_t now, bool https,
                                   std::string_view user_agent, const TrackingOptions& opts) {
    std::string id(existing_id);
    if (id.empty()) {
        auto own = hit.string("_id");
        if (own && own->size() >= 16) id = own->substr(0, 16);
    }
    if (id.empty()) id = random_id();
    std::string payload = "0=";
    if (all_digits(id)) {
        payload += id;
    } else {
        std::string b64(boost::beast::detail::base64::encoded_size(id.size()), '\0');
        b64.resize(boost::beast::detail::base64::encode(b64.data(), id.data(), id.size()));
        payload += b64;
    }
    std::time_t expires = static_cast<std::time_t>(now + opts.cookie_expire);
    std::tm tm{};
    gmtime_r(&expires, &tm);
    char date[64];
    std::size_t n = std::strftime(date, sizeof date, "%A, %d-%b-%Y %H:%M:%S UTC", &tm);
    std::string out = opts.third_party_cookie_name + "=" + rawurlencode(payload) + "; expires=" + std::string(date, n);
    if (!opts.cookie_path.empty()) out += "; path=" + opts.cookie_path;
    if (!opts.cookie_domain.empty()) {
        std::string domain = opts.cookie_domain;
        if (domain.rfind("www.", 0) == 0) domain = domain.substr(4);
        if (auto colon = domain.find(':'); colon != std::string::npos) domain = domain.substr(0, colon);
        if (!domain.empty() && domain.front() != '.') domain = "." + domain;
        out += "; domain=" + domain;
    }
    if (https) {
        out += "; secure";
        if (!is_safari(user_agent)) out += "; SameSite=None";
    } else {
        out += "; SameSite=Lax";
    }
    return out;
}

}  // namespace mgw::gateway
