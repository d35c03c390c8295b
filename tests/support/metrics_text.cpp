// Reading one sample out of the Prometheus text exposition: see metrics_text.hpp.
#include "support/metrics_text.hpp"

#include <chrono>
#include <exception>

#include "support/http.hpp"

namespace mgw::test {

std::optional<double> metric_sample(std::string_view exposition, std::string_view series) {
  std::size_t pos = 0;
  while ((pos = exposition.find(series, pos)) != std::string_view::npos) {
    const std::size_t after = pos + series.size();
    const bool line_start = pos == 0 || exposition[pos - 1] == '\n';
    if (line_start && after < exposition.size() && exposition[after] == ' ') {
      const auto end = exposition.find('\n', after);
      try {
        return std::stod(
            std::string(exposition.substr(after + 1, end == std::string_view::npos ? end : end - after - 1)));
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
    pos = after;
  }
  return std::nullopt;
}

std::optional<double> scrape_metric(std::uint16_t admin_port, std::string_view series) {
  try {
    const auto r =
        send_request(admin_port, build_request("GET", "/metrics", {{"Host", "127.0.0.1"}, {"Connection", "close"}}),
                     std::chrono::seconds(10));
    if (r.status != 200) return std::nullopt;
    return metric_sample(r.body, series);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace mgw::test
