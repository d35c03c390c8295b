// A throw-away redis-server for one test: see redis_server.hpp.
#include "support/redis_server.hpp"

#include <csignal>
#include <cstdlib>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "support/free_port.hpp"

namespace mgw::test {
namespace {

constexpr auto start_timeout = std::chrono::seconds(10);
constexpr int port_attempts = 5;

std::vector<std::string> values_of(const RedisReply& reply, const std::string& what) {
  if (reply.type != RedisReply::Type::array) throw std::runtime_error(what + ": unexpected reply " + reply.str);
  std::vector<std::string> out;
  for (const auto& element : reply.elements) out.push_back(element.str);
  return out;
}

}  // namespace

RedisServer::RedisServer(RedisServerOptions options) : options_(options), dir_(make_temp_dir("mgw-redis")) {
  if (options_.unix_socket) socket_path_ = dir_ + "/redis.sock";
  try {
    for (int attempt = 0; attempt < port_attempts; ++attempt) {
      if (try_start(free_port())) return;
    }
    throw std::runtime_error("redis-server: no free port after " + std::to_string(port_attempts) +
                             " attempts; last log:\n" + join_lines(last_log_));
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    throw;
  }
}

RedisServer::~RedisServer() {
  client_.reset();
  log_.reset();
  process_.reset();  // SIGKILL if stop() was not called; nothing is persisted anyway
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

// Returns false only when the port was taken (the caller retries); throws on anything else.
bool RedisServer::try_start(std::uint16_t port) {
  std::vector<std::string> argv = {"redis-server",
                                   "--port",
                                   std::to_string(port),
                                   "--bind",
                                   "127.0.0.1",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   options_.append_only ? "yes" : "no",
                                   "--appendfsync",
                                   "always",
                                   "--dir",
                                   dir_,
                                   "--daemonize",
                                   "no",
                                   "--logfile",
                                   "",
                                   "--loglevel",
                                   "notice"};
  if (options_.unix_socket) {
    argv.insert(argv.end(), {"--unixsocket", socket_path_, "--unixsocketperm", "700"});
  }
  if (options_.cluster) {
    // The bus port explicitly: the default (port + 10000) fails for ports above 55535.
    argv.insert(argv.end(), {"--cluster-enabled", "yes", "--cluster-config-file", dir_ + "/nodes.conf",
                             "--cluster-node-timeout", "5000", "--cluster-port", std::to_string(free_port())});
  }
  auto process = std::make_unique<Process>(argv, ProcessOptions{.capture_stdout = true});
  auto log = std::make_unique<LineCollector>(process->stdout_fd(), "[redis " + std::to_string(port) + "] ");
  const auto deadline = Clock::now() + start_timeout;

  auto ready = log->wait_for(
      [](std::string_view line) { return line.find("Ready to accept connections") != std::string_view::npos; },
      deadline);
  if (!ready) {
    bool exited = log->eof();
    log->stop();
    last_log_ = log->lines();
    bool port_taken = std::any_of(last_log_.begin(), last_log_.end(), [](const std::string& line) {
      return line.find("Address already in use") != std::string::npos;
    });
    if (exited && port_taken) return false;
    throw std::runtime_error(std::string("redis-server ") +
                             (exited ? "exited during start-up" : "not ready within 10 s") + "; log:\n" +
                             join_lines(last_log_));
  }

  // The log line says the listener is up; PING proves it.
  client_.emplace(connect_when_listening(port, deadline, *process));
  port_ = port;
  process_ = std::move(process);
  log_ = std::move(log);
  return true;
}

std::string make_temp_dir(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  return pattern;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += "  " + line + "\n";
  return out;
}

RedisClient connect_when_listening(std::uint16_t port, Clock::time_point deadline, Process& process,
                                   const std::string& what) {
  for (;;) {
    try {
      auto client = RedisClient::connect_tcp("127.0.0.1", port);
      auto pong = client.command({"PING"});
      if (pong.str != "PONG") throw std::runtime_error(what + " answered PING with " + pong.str);
      return client;
    } catch (const RedisConnectError& error) {
      if (!error.connection_refused || Clock::now() >= deadline || !process.running()) throw;
    }
  }
}

std::string RedisServer::url(int db) const {
  return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
}

std::string RedisServer::unix_url(int db) const {
  if (socket_path_.empty()) throw std::logic_error("RedisServer was started without a unix socket");
  return "unix://" + socket_path_ + "?db=" + std::to_string(db);
}

void RedisServer::stop() {
  if (!process_) return;
  client_.reset();
  process_->signal(SIGTERM);
  int status = process_->wait(std::chrono::seconds(10));
  log_->stop();
  last_log_ = log_->lines();
  log_.reset();
  process_.reset();
  if (status != 0) throw std::runtime_error("redis-server stopped with " + describe_exit_status(status));
}

void RedisServer::kill() {
  if (!process_) return;
  client_.reset();
  process_->signal(SIGKILL);
  process_->wait(std::chrono::seconds(10));
  log_->stop();
  last_log_ = log_->lines();
  log_.reset();
  process_.reset();
}

void RedisServer::restart() {
  if (process_) throw std::logic_error("RedisServer::restart: still running");
  if (!try_start(port_))
    throw std::runtime_error("redis-server: port " + std::to_string(port_) + " was taken meanwhile");
}

void RedisServer::pause() {
  if (process_) process_->signal(SIGSTOP);
}

void RedisServer::resume() {
  if (process_) process_->signal(SIGCONT);
}

RedisClient& RedisServer::client() {
  if (!process_) throw std::logic_error("RedisServer is stopped");
  if (!client_) client_.emplace(RedisClient::connect_tcp("127.0.0.1", port_));
  return *client_;
}

RedisReply RedisServer::command(const std::vector<std::string>& argv) { return client().command(argv); }

std::vector<std::string> RedisServer::lrange_all(const std::string& key) {
  return values_of(command({"LRANGE", key, "0", "-1"}), "LRANGE " + key);
}

std::vector<std::string> RedisServer::queue_keys() {
  auto keys = values_of(command({"KEYS", "trackingQueueV1*"}), "KEYS");
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::map<std::string, std::vector<std::string>> RedisServer::queue_contents() {
  std::map<std::string, std::vector<std::string>> contents;
  for (const auto& key : queue_keys()) contents[key] = lrange_all(key);
  return contents;
}

void RedisServer::flushall() {
  auto reply = command({"FLUSHALL"});
  if (reply.type != RedisReply::Type::status) throw std::runtime_error("FLUSHALL failed: " + reply.str);
}

std::vector<std::string> RedisServer::log_lines() const { return log_ ? log_->lines() : last_log_; }

}  // namespace mgw::test
