#include "support/metrics_scrape.hpp"

#include "support/http.hpp"

#include <chrono>
#include <exception>

namespace mgw::test {

std::string scrape_metrics(std::uint16_t admin_port) {
  try {
    const auto r =
        send_request(admin_port, build_request("GET", "/metrics", {{"Host", "127.0.0.1"}, {"Connection", "close"}}),
                     std::chrono::seconds(10));
    return r.status == 200 ? r.body : std::string();
  } catch (const std::exception&) {
    return {};
  }
}

double scrape_metric(std::uint16_t admin_port, const std::string& series) {
  const std::string body = scrape_metrics(admin_port);
  std::size_t pos = 0;
  while ((pos = body.find(series + " ", pos)) != std::string::npos) {
    if (pos == 0 || body[pos - 1] == '\n') return std::stod(body.substr(pos + series.size() + 1));
    pos += series.size();
  }
  return -1;
}

}  // namespace mgw::test
