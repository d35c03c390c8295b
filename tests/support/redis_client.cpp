// A minimal synchronous Redis client for test assertions: see redis_client.hpp.
#include "support/redis_client.hpp"

#include <hiredis/hiredis.h>

#include <sys/time.h>
#include <cerrno>
#include <cstring>

namespace mgw::test {
namespace {

timeval to_timeval(std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  return tv;
}

RedisReply convert(const redisReply* reply) {
  RedisReply out;
  switch (reply->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::string;
      out.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::status;
      out.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::error;
      out.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::integer;
      out.integer = reply->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::array;
      for (std::size_t i = 0; i < reply->elements; ++i) out.elements.push_back(convert(reply->element[i]));
      break;
    default: out.type = RedisReply::Type::nil;
  }
  return out;
}

// hiredis keeps the connect errno only in errstr; errno itself is usually still intact.
bool refused(const redisContext* context, int saved_errno, bool unix_socket) {
  if (unix_socket)
    return saved_errno == ENOENT || saved_errno == ECONNREFUSED ||
           std::strstr(context->errstr, "No such file") != nullptr ||
           std::strstr(context->errstr, "refused") != nullptr;
  return saved_errno == ECONNREFUSED || std::strstr(context->errstr, "refused") != nullptr;
}

}  // namespace

void RedisClient::Free::operator()(redisContext* context) const { redisFree(context); }

RedisClient RedisClient::connect_tcp(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout) {
  errno = 0;
  redisContext* context = redisConnectWithTimeout(host.c_str(), port, to_timeval(timeout));
  int saved_errno = errno;
  if (context == nullptr) throw RedisConnectError("redis connect: out of memory", false);
  RedisClient client(context);
  if (context->err)
    throw RedisConnectError("redis connect " + host + ":" + std::to_string(port) + ": " + context->errstr,
                            refused(context, saved_errno, false));
  redisSetTimeout(context, to_timeval(timeout));
  return client;
}

RedisClient RedisClient::connect_unix(const std::string& path, std::chrono::milliseconds timeout) {
  errno = 0;
  redisContext* context = redisConnectUnixWithTimeout(path.c_str(), to_timeval(timeout));
  int saved_errno = errno;
  if (context == nullptr) throw RedisConnectError("redis connect: out of memory", false);
  RedisClient client(context);
  if (context->err)
    throw RedisConnectError("redis connect " + path + ": " + context->errstr, refused(context, saved_errno, true));
  redisSetTimeout(context, to_timeval(timeout));
  return client;
}

RedisReply RedisClient::command(const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<std::size_t> lengths;
  for (const auto& arg : argv) {
    args.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(context_.get(), static_cast<int>(args.size()), args.data(), lengths.data()));
  if (reply == nullptr) throw std::runtime_error(std::string("redis command failed: ") + context_->errstr);
  RedisReply out = convert(reply);
  freeReplyObject(reply);
  return out;
}

}  // namespace mgw::test
