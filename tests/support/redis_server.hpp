// A throw-away redis-server (from PATH) for one test: 127.0.0.1 on a free port, optionally a unix
// socket too, its own temporary directory, no persistence (--save "" --appendonly no).
//
// Start-up waits (10 s deadline) for redis's "Ready to accept connections" log line on its stdout
// pipe and then for a PING answer (connect-retry loop that retries only on "connection refused");
// if the port was taken in the meantime, it retries with another port. The destructor stops the
// server and removes the directory. Helper calls go through a hiredis connection.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/line_reader.hpp"
#include "support/process.hpp"
#include "support/redis_client.hpp"

namespace mgw::test {

// A fresh directory under the system temp dir, named <prefix>-XXXXXX.
std::string make_temp_dir(const std::string& prefix);

// Log lines indented one per line, for failure messages.
std::string join_lines(const std::vector<std::string>& lines);

// A client of a Redis (or Sentinel) process that just logged that it listens: PING until PONG,
// retrying only on "connection refused", until `deadline` or the process exits.
RedisClient connect_when_listening(std::uint16_t port, Clock::time_point deadline, Process& process,
                                   const std::string& what = "redis-server");

struct RedisServerOptions {
  bool unix_socket = false;
  // AOF with appendfsync always: what Redis acknowledged survives a SIGKILL of Redis itself, so a
  // count after kill() + restart() measures the gateway, not Redis's own persistence settings.
  bool append_only = false;
  // Cluster node: --cluster-enabled yes with its nodes.conf in the server's own directory.
  bool cluster = false;
};

class RedisServer {
 public:
  explicit RedisServer(RedisServerOptions options = {});
  ~RedisServer();

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(int db = 0) const;       // redis://127.0.0.1:PORT/0
  std::string unix_url(int db = 0) const;  // unix:///tmp/.../redis.sock?db=0 (needs unix_socket)
  const std::string& unix_socket_path() const { return socket_path_; }

  // Stops the server (SIGTERM, waits for the exit). Helper calls fail afterwards.
  void stop();
  bool running() const { return process_ != nullptr; }
  // Fault injection: SIGKILL (the directory stays), start again on the same port and directory,
  // and SIGSTOP / SIGCONT.
  void kill();
  void restart();
  void pause();
  void resume();

  RedisReply command(const std::vector<std::string>& argv);
  std::vector<std::string> lrange_all(const std::string& key);
  std::vector<std::string> queue_keys();                             // the trackingQueueV1* keys, sorted
  std::map<std::string, std::vector<std::string>> queue_contents();  // key -> raw values
  void flushall();

  std::vector<std::string> log_lines() const;  // redis's own stdout, for diagnostics

 private:
  bool try_start(std::uint16_t port);
  RedisClient& client();

  RedisServerOptions options_;
  std::string dir_;
  std::string socket_path_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
  std::unique_ptr<LineCollector> log_;
  std::vector<std::string> last_log_;
  std::optional<RedisClient> client_;
};

}  // namespace mgw::test
