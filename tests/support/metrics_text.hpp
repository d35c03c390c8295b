// Reading one sample out of the gateway's Prometheus text exposition (the admin /metrics).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mgw::test {

// The value of `series` in `exposition`, e.g. "matomo_gateway_spool_records" or
// "matomo_gateway_redis_cluster_redirects_total{kind=\"moved\"}" (labels exactly as exported);
// nullopt when no line carries it.
std::optional<double> metric_sample(std::string_view exposition, std::string_view series);

// Scrapes the admin listener on 127.0.0.1:`admin_port` once; nullopt when the series is absent or
// the scrape fails.
std::optional<double> scrape_metric(std::uint16_t admin_port, std::string_view series);

}  // namespace mgw::test
