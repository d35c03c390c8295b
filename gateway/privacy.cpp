// IP anonymisation, query-parameter stripping and the DNT rule (see privacy.hpp for the contracts).
#include "gateway/privacy.hpp"

#include "gateway/client_ip.hpp"

#include <algorithm>

namespace mgw::gateway {

std::string anonymize_ip(std::string_view ip, int ipv4_bytes, int ipv6_level) {
    auto addr = parse_ip(ip);
    if (!addr) return "0.0.0.0";
    if (addr->v4) {
        const int n = std::clamp(ipv4_bytes, 0, 3);
        for (int i = 0; i < n; ++i) addr->bytes[3 - i] = 0;
    } else {
        // Matomo's masks: ffff:ffff:ffff:ffff:: (/64), ffff:ffff:ffff:: (/48), ffff:ff00:: (/24).
        static constexpr unsigned keep_bits[] = {128, 64, 48, 24};
        const unsigned keep = keep_bits[std::clamp(ipv6_level, 0, 3)];
        for (unsigned bit = keep; bit < 128; ++bit)
            addr->bytes[bit / 8] = static_cast<std::uint8_t>(addr->bytes[bit / 8] & ~(0x80u >> (bit % 8)));
    }
    return to_string(*addr);
}

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }

// A query key as PHP would read it (percent-decoded, '+' as space), lower-cased and cut at '[' so
// that e%6Dail, EMAIL and email[] all name the parameter "email".
std::string normalised_key(std::string_view key) {
    std::string out;
    for (std::size_t i = 0; i < key.size(); ++i) {
        char c = key[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && i + 2 < key.size() && hex_value(key[i + 1]) >= 0 && hex_value(key[i + 2]) >= 0) {
            c = static_cast<char>(hex_value(key[i + 1]) * 16 + hex_value(key[i + 2]));
            i += 2;
        }
        if (c == '[') break;
        out += ascii_lower(c);
    }
    return out;
}

bool listed(std::string_view pair, std::span<const std::string> names) {
    const auto key = normalised_key(pair.substr(0, pair.find('=')));
    return std::any_of(names.begin(), names.end(), [&](const std::string& n) {
        return key.size() == n.size() &&
               std::equal(key.begin(), key.end(), n.begin(), [](char a, char b) { return a == ascii_lower(b); });
    });
}

}  // namespace

std::string strip_query_params(std::string_view url, std::span<const std::string> names) {
    const auto hash = url.find('#');
    const auto q = url.substr(0, hash).find('?');
    if (q == std::string_view::npos || names.empty()) return std::string(url);
    const auto query = url.substr(q + 1, hash == std::string_view::npos ? std::string_view::npos : hash - q - 1);

    std::string kept;
    bool removed = false, first = true;
    std::size_t start = 0;
    while (start <= query.size()) {
        auto amp = query.find('&', start);
        auto pair = query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
        if (!pair.empty() && listed(pair, names)) {
            removed = true;
        } else {
            if (!first) kept += '&';
            kept += pair;
            first = false;
        }
        if (amp == std::string_view::npos) break;
        start = amp + 1;
    }
    if (!removed) return std::string(url);

    std::string out(url.substr(0, q));
    if (!kept.empty()) out.append("?").append(kept);
    if (hash != std::string_view::npos) out += url.substr(hash);
    return out;
}

bool dnt_requested(std::string_view dnt, std::string_view x_do_not_track) {
    return x_do_not_track == "1" || (!dnt.empty() && dnt.front() == '1');
}

}  // namespace mgw::gateway
