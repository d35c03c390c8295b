// The matomo-gateway binary under test as a child process.
//
// Starts MGW_GATEWAY_BINARY (compile definition; the environment variable of the same name
// overrides it) with the given arguments plus "--listen 127.0.0.1:0 --admin-listen 127.0.0.1:0",
// waits (deadline) for the two JSON "listening" lines on stdout, and takes the ports from them.
// stdout keeps being drained on a background thread; all lines (access log included) stay
// available to the test. stderr is inherited. Call wait_until_ready() before sending hits that
// must be queued. The destructor kills a gateway still running.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/line_reader.hpp"
#include "support/process.hpp"

namespace mgw::test {

class GatewayProcess {
 public:
  explicit GatewayProcess(std::vector<std::string> extra_args,
                          std::chrono::milliseconds startup_timeout = std::chrono::seconds(20));
  // The gateway started through a launcher that execs it in place (same pid), e.g.
  // {"prlimit", "--nofile=64:64", "--"} to run it under a resource limit.
  GatewayProcess(std::vector<std::string> extra_args, std::vector<std::string> launcher,
                 std::chrono::milliseconds startup_timeout = std::chrono::seconds(20));
  ~GatewayProcess();

  GatewayProcess(const GatewayProcess&) = delete;
  GatewayProcess& operator=(const GatewayProcess&) = delete;

  static std::string binary();

  std::uint16_t tracking_port() const { return tracking_port_; }
  std::uint16_t admin_port() const { return admin_port_; }
  pid_t pid() const { return process_->pid(); }

  // Readiness polling: GET /readyz on the admin listener until it answers 200 (the gateway logs
  // "listening" before its Redis connection is up and answers hits 503 until then). Throws with
  // the last answer if not ready within the timeout or if the gateway exits.
  // With `redis_connected` (the default) it also waits until the Redis connection is up: with the
  // spool, /readyz is 200 before that (hits would be spooled and reach Redis only later).
  void wait_until_ready(std::chrono::milliseconds timeout = std::chrono::seconds(10), bool redis_connected = true);

  // Every stdout line so far.
  std::vector<std::string> output_lines() const { return output_->lines(); }
  std::size_t output_line_count() const { return output_->size(); }

  // Waits for a stdout line (index >= from) satisfying pred; nullopt on timeout or EOF.
  std::optional<std::string> wait_for_line(const LineCollector::Predicate& pred,
                                           std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                           std::size_t from = 0);

  // SIGTERM, then waits for the exit (deadline) and returns the exit status (0 = clean drain).
  int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Sends a signal without waiting.
  void signal(int signo) { process_->signal(signo); }

 private:
  std::unique_ptr<Process> process_;
  std::unique_ptr<LineCollector> output_;
  std::uint16_t tracking_port_ = 0;
  std::uint16_t admin_port_ = 0;
  std::string spool_dir_;  // a private spool unless the test passes --spool-dir
};

struct ListeningLine {
  std::string listener;  // "tracking" or "admin"
  std::string address;   // "127.0.0.1:41234"
  std::uint16_t port = 0;
};

// Parses {"event":"listening","listener":...,"address":...}; nullopt for any other line.
std::optional<ListeningLine> parse_listening_line(std::string_view line);

}  // namespace mgw::test
