// Client-IP resolution (gateway/client_ip) and the PROXY protocol v1/v2 parser on arbitrary bytes.
//
// The whole input goes to parse_proxy_header. It is also read as lines: the peer address, the
// --trusted-proxies list, then "Name: value" header lines (X-Forwarded-For, Forwarded, X-Real-IP).
// Checks: addresses round-trip through their canonical text, the resolved client IP is canonical,
// and a PROXY header that parses is only ever "need more" when cut short.
#include "fuzz/fuzz_check.hpp"
#include "gateway/client_ip.hpp"
#include "gateway/proxy_protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace mgw::gateway;

void check_address(std::string_view text) {
    if (auto ip = parse_ip(text)) {
        const std::string canonical = to_string(*ip);
        auto again = parse_ip(canonical);
        MGW_FUZZ_CHECK(again && *again == *ip);
        MGW_FUZZ_CHECK(canonical_ip(canonical) == canonical);
    }
}

void check_proxy_header(std::string_view bytes) {
    const auto r = parse_proxy_header(bytes);
    if (r.status != ProxyParseStatus::ok) return;
    MGW_FUZZ_CHECK(r.consumed > 0 && r.consumed <= bytes.size() && r.consumed <= proxy_header_max_bytes);
    MGW_FUZZ_CHECK(r.version == 1 || r.version == 2);
    if (!r.source_address.empty()) MGW_FUZZ_CHECK(canonical_ip(r.source_address) == r.source_address);
    for (std::size_t cut : {std::size_t{1}, r.consumed / 2, r.consumed - 1}) {
        if (cut == 0 || cut >= r.consumed) continue;
        MGW_FUZZ_CHECK(parse_proxy_header(bytes.substr(0, cut)).status == ProxyParseStatus::need_more);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check_proxy_header(input);

    std::vector<std::string_view> lines;
    for (std::size_t pos = 0; pos <= input.size();) {
        const std::size_t nl = input.find('\n', pos);
        const std::size_t end = nl == std::string_view::npos ? input.size() : nl;
        lines.push_back(input.substr(pos, end - pos));
        if (nl == std::string_view::npos) break;
        pos = nl + 1;
    }
    for (auto line : lines) check_address(line);

    const std::string_view peer = lines.empty() ? std::string_view() : lines[0];
    const std::string_view trusted_list = lines.size() > 1 ? lines[1] : std::string_view();
    std::string error;
    auto trusted = TrustedProxies::parse(trusted_list, error);
    MGW_FUZZ_CHECK(trusted.has_value() || !error.empty());
    if (!trusted) trusted = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1, fd00::/8", error);

    std::vector<std::pair<std::string_view, std::string_view>> headers;
    for (std::size_t i = 2; i < lines.size(); ++i) {
        const auto colon = lines[i].find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view value = lines[i].substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        headers.emplace_back(lines[i].substr(0, colon), value);
    }
    const HeaderValues values = [&headers](std::string_view name) {
        std::vector<std::string_view> v;
        for (const auto& [n, val] : headers)
            if (n.size() == name.size() &&
                std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) { return (a | 0x20) == (b | 0x20); }))
                v.push_back(val);
        return v;
    };
    for (const auto& opts : {ClientIpOptions{}, ClientIpOptions{{ProxyHeader::x_forwarded_for}},
                             ClientIpOptions{{ProxyHeader::forwarded}}, ClientIpOptions{{ProxyHeader::x_real_ip}}}) {
        const auto r = resolve_client_ip(peer, values, *trusted, opts);
        MGW_FUZZ_CHECK(canonical_ip(r.ip) == r.ip);
        // Nothing a header says is believed unless the peer is a trusted proxy.
        if (!trusted->contains(peer)) MGW_FUZZ_CHECK(r.source == ClientIpSource::peer);
    }

    std::string list_error;
    (void)parse_proxy_headers(trusted_list, list_error);
    return 0;
}
