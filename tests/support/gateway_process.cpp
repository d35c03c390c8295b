// The matomo-gateway binary under test: see gateway_process.hpp.
#include "support/gateway_process.hpp"

#include <csignal>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "support/http.hpp"
#include "support/redis_server.hpp"

#ifndef MGW_GATEWAY_BINARY
#error "MGW_GATEWAY_BINARY must be defined (tests/CMakeLists.txt does it)"
#endif

namespace mgw::test {
namespace {

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += "  " + line + "\n";
  return out;
}

}  // namespace

std::optional<ListeningLine> parse_listening_line(std::string_view line) {
  boost::system::error_code ec;
  auto value = boost::json::parse(line, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto& object = value.as_object();
  auto text = [&](const char* key) -> std::optional<std::string> {
    auto it = object.find(key);
    if (it == object.end() || !it->value().is_string()) return std::nullopt;
    return std::string(it->value().as_string());
  };
  auto event = text("event"), listener = text("listener"), address = text("address");
  if (event != "listening" || !listener || !address) return std::nullopt;

  auto colon = address->rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  unsigned port = 0;
  const char* first = address->data() + colon + 1;
  const char* last = address->data() + address->size();
  auto [end, error] = std::from_chars(first, last, port);
  if (error != std::errc() || end != last || port == 0 || port > 65535) return std::nullopt;
  return ListeningLine{*listener, *address, static_cast<std::uint16_t>(port)};
}

std::string GatewayProcess::binary() {
  if (const char* path = std::getenv("MGW_GATEWAY_BINARY"); path && *path) return path;
  return MGW_GATEWAY_BINARY;
}

GatewayProcess::GatewayProcess(std::vector<std::string> extra_args, std::chrono::milliseconds startup_timeout)
    : GatewayProcess(std::move(extra_args), {}, startup_timeout) {}

GatewayProcess::GatewayProcess(std::vector<std::string> extra_args, std::vector<std::string> launcher,
                               std::chrono::milliseconds startup_timeout) {
  std::vector<std::string> argv = std::move(launcher);
  argv.insert(argv.end(), {binary(), "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"});
  // Every gateway gets a spool of its own: a shared default directory would let one test's spooled
  // hits replay into the next test's Redis (and the directory lock would refuse the second one).
  if (std::find(extra_args.begin(), extra_args.end(), "--spool-dir") == extra_args.end()) {
    spool_dir_ = make_temp_dir("mgw-spool");
    argv.insert(argv.end(), {"--spool-dir", spool_dir_});
  }
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = std::make_unique<Process>(argv, ProcessOptions{.capture_stdout = true});
  output_ = std::make_unique<LineCollector>(process_->stdout_fd(), "[gateway] ");

  const auto deadline = Clock::now() + startup_timeout;
  for (const char* listener : {"tracking", "admin"}) {
    auto line = output_->wait_for(
        [&](std::string_view text) {
          auto parsed = parse_listening_line(text);
          return parsed && parsed->listener == listener;
        },
        deadline);
    if (!line) {
      std::string why = output_->eof()
                            ? "exited (" + describe_exit_status(process_->wait(std::chrono::seconds(5))) + ")"
                            : "did not report it within " + std::to_string(startup_timeout.count()) + " ms";
      throw std::runtime_error("matomo-gateway: no \"listening\" line for the " + std::string(listener) +
                               " listener; the gateway " + why + "; stdout:\n" + joined(output_->lines()));
    }
    auto port = parse_listening_line(*line)->port;
    (std::string_view(listener) == "tracking" ? tracking_port_ : admin_port_) = port;
  }
}

GatewayProcess::~GatewayProcess() {
  // Kill first, then stop the drain thread, and only then close the pipe (Process destructor).
  if (process_->running()) {
    process_->signal(SIGKILL);
    try {
      process_->wait(std::chrono::seconds(10));
    } catch (const std::exception&) {}
  }
  output_.reset();
  process_.reset();
  if (!spool_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(spool_dir_, ignored);
  }
}

void GatewayProcess::wait_until_ready(std::chrono::milliseconds timeout, bool redis_connected) {
  const auto deadline = Clock::now() + timeout;
  const std::string request =
      build_request("GET", "/readyz", {{"Host", "127.0.0.1:" + std::to_string(admin_port_)}, {"Connection", "close"}});
  const std::string metrics =
      build_request("GET", "/metrics", {{"Host", "127.0.0.1:" + std::to_string(admin_port_)}, {"Connection", "close"}});
  std::string last_answer = "no answer";
  do {
    if (!process_->running())
      throw std::runtime_error("matomo-gateway exited while waiting for /readyz; stdout:\n" + joined(output_->lines()));
    try {
      const HttpResponse response = send_request(admin_port_, request, std::chrono::seconds(5));
      if (response.status == 200 && !redis_connected) return;
      if (response.status == 200) {
        const HttpResponse m = send_request(admin_port_, metrics, std::chrono::seconds(5));
        const auto at = m.body.find("\nmatomo_gateway_redis_up ");
        if (at != std::string::npos && std::stod(m.body.substr(at + 25)) >= 1) return;
        last_answer = "200, but no Redis connection up yet";
        continue;
      }
      last_answer = std::to_string(response.status) + " " + response.body;
    } catch (const std::runtime_error& error) {
      last_answer = error.what();
    }
  } while (Clock::now() < deadline);
  throw std::runtime_error("matomo-gateway not ready within " + std::to_string(timeout.count()) +
                           " ms; last /readyz answer: " + last_answer + "; stdout:\n" + joined(output_->lines()));
}

std::optional<std::string> GatewayProcess::wait_for_line(const LineCollector::Predicate& pred,
                                                         std::chrono::milliseconds timeout, std::size_t from) {
  return output_->wait_for(pred, Clock::now() + timeout, from);
}

int GatewayProcess::terminate(std::chrono::milliseconds timeout) {
  process_->signal(SIGTERM);
  return process_->wait(timeout);
}

}  // namespace mgw::test
