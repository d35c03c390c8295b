// A minimal synchronous Redis client for test assertions (hiredis 0.14 sync API): connect over
// TCP or a unix socket with a timeout, run one command given as argv (binary-safe), get the reply
// as a plain value tree.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

struct redisContext;

namespace mgw::test {

struct RedisReply {
  enum class Type { string, array, integer, nil, status, error };
  Type type = Type::nil;
  std::string str;  // string, status and error replies
  long long integer = 0;
  std::vector<RedisReply> elements;  // array replies
};

class RedisClient {
 public:
  // Throws RedisConnectError when the connection cannot be made.
  static RedisClient connect_tcp(const std::string& host, std::uint16_t port,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(5));
  static RedisClient connect_unix(const std::string& path, std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Sends one command and returns its reply. Error replies are returned (type error), not thrown;
  // I/O errors throw std::runtime_error.
  RedisReply command(const std::vector<std::string>& argv);

 private:
  struct Free {
    void operator()(redisContext* context) const;
  };
  explicit RedisClient(redisContext* context) : context_(context) {}
  std::unique_ptr<redisContext, Free> context_;
};

struct RedisConnectError : std::runtime_error {
  RedisConnectError(const std::string& message, bool refused)
      : std::runtime_error(message), connection_refused(refused) {}
  bool connection_refused;  // ECONNREFUSED (TCP) or no socket file yet (unix)
};

}  // namespace mgw::test
