// matomo-geo-bench: the cost of one geolocation per hit: lookups per second and
// nanoseconds per lookup on a .mmdb file, for addresses the database knows and addresses it doesn't.
// Usage: matomo-geo-bench FILE.mmdb [lookups]
#include "geoip/provider.hpp"

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace {

double ns_per_lookup(const mgw::geoip::GeoProvider& geo, const std::vector<std::string>& ips, std::size_t rounds,
                     std::size_t& found) {
    found = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t r = 0; r < rounds; ++r)
        for (const auto& ip : ips) found += geo.lookup(ip).has_value() ? 1 : 0;
    const auto t1 = std::chrono::steady_clock::now();
    return std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(rounds * ips.size());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s FILE.mmdb [lookups]\n", argv[0]);
        return 2;
    }
    const std::size_t lookups = argc > 2 ? std::stoul(argv[2]) : 1'000'000;
    mgw::geoip::GeoProvider geo(argv[1]);
    if (auto error = geo.open()) {
        std::fprintf(stderr, "%s\n", error->c_str());
        return 1;
    }
    // Random public-looking IPv4 addresses (a full database knows most), and the test database's
    // documentation ranges (203.0.113.0/24 and friends) so a small file also has hits.
    std::mt19937 rng(42);  // NOLINT(cert-msc51-cpp): a fixed seed, so every run looks up the same addresses
    std::vector<std::string> ips;
    for (int i = 0; i < 4096; ++i) {
        unsigned a = 1 + rng() % 222, b = rng() % 256, c = rng() % 256, d = 1 + rng() % 254;
        if (i % 4 == 0) ips.push_back("203.0.113." + std::to_string(d));
        else
            ips.push_back(std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c) + "." +
                          std::to_string(d));
    }
    std::size_t found = 0;
    ns_per_lookup(geo, ips, 1, found);  // warm the mapping
    const std::size_t rounds = lookups / ips.size() + 1;
    const double ns = ns_per_lookup(geo, ips, rounds, found);
    std::printf(
        "{\"database\":\"%s\",\"type\":\"%s\",\"lookups\":%zu,\"found\":%zu,\"ns_per_lookup\":%.1f,\"lookups_per_"
        "second\":%.0f}\n",
        argv[1], geo.current()->database_type().c_str(), rounds * ips.size(), found, ns, 1e9 / ns);
    return 0;
}
