// One series of the gateway's admin /metrics, for tests that wait for a value.
#pragma once

#include <cstdint>
#include <string>

namespace mgw::test {

// The value of `series` exactly as exposed, e.g. "matomo_gateway_spool_records" or
// "matomo_gateway_queue_length{queue=\"1\"}"; -1 when absent or the scrape fails.
double scrape_metric(std::uint16_t admin_port, const std::string& series);

// The whole exposition ("" when the scrape fails).
std::string scrape_metrics(std::uint16_t admin_port);

}  // namespace mgw::test
