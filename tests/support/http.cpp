// Raw HTTP/1.1 for tests: see http.hpp.
#include "support/http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace mgw::test {
namespace {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 3600LL * 1000));
}

// Waits until fd is ready for `events`; false when the deadline passed first.
bool wait_ready(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd pfd{fd, events, 0};
    int r = ::poll(&pfd, 1, remaining_ms(deadline));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
  }
}

bool is_head(std::string_view raw_request) { return raw_request.substr(0, 5) == "HEAD "; }

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (boost::beast::iequals(key, name)) return value;
  return std::nullopt;
}

std::size_t HttpResponse::header_count(std::string_view name) const {
  return static_cast<std::size_t>(std::count_if(headers.begin(), headers.end(),
                                                [&](const auto& h) { return boost::beast::iequals(h.first, name); }));
}

std::string build_request(std::string_view method, std::string_view target, const HeaderList& headers,
                          std::string_view body) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  bool has_length = false;
  for (const auto& [name, value] : headers) {
    has_length = has_length || boost::beast::iequals(name, "Content-Length");
    out.append(name).append(": ").append(value).append("\r\n");
  }
  if (!body.empty() && !has_length) out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  out.append("\r\n").append(body);
  return out;
}

Connection::Connection(std::uint16_t port, std::chrono::milliseconds timeout) : timeout_(timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const auto deadline = Clock::now() + timeout_;
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int error = errno;
    if (error == EINPROGRESS) {
      socklen_t len = sizeof error;
      if (!wait_ready(fd_, POLLOUT, deadline))
        error = ETIMEDOUT;
      else
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len);
    }
    if (error != 0) {
      ::close(fd_);
      throw std::runtime_error("connect 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(error));
    }
  }
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

void Connection::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

void Connection::write(std::string_view bytes) {
  const auto deadline = Clock::now() + timeout_;
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!wait_ready(fd_, POLLOUT, deadline)) throw std::runtime_error("HTTP write timed out");
    } else if (errno != EINTR) {
      throw std::runtime_error(std::string("HTTP write: ") + std::strerror(errno));
    }
  }
}

bool Connection::read_some(Clock::time_point deadline) {
  for (;;) {
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0 || errno == ECONNRESET) {
      eof_ = true;
      return false;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!wait_ready(fd_, POLLIN, deadline))
        throw std::runtime_error("HTTP read timed out after " + std::to_string(timeout_.count()) + " ms");
    } else if (errno != EINTR) {
      throw std::runtime_error(std::string("HTTP read: ") + std::strerror(errno));
    }
  }
}

HttpResponse Connection::read_response(bool head_request) {
  const auto deadline = Clock::now() + timeout_;
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  parser.skip(head_request);
  parser.body_limit(std::uint64_t{64} * 1024 * 1024);

  while (!parser.is_done()) {
    if (!buffer_.empty()) {
      boost::system::error_code ec;
      std::size_t used = parser.put(boost::asio::buffer(buffer_.data(), buffer_.size()), ec);
      buffer_.erase(0, used);
      if (ec && ec != http::error::need_more) throw std::runtime_error("malformed HTTP response: " + ec.message());
      if (parser.is_done()) break;
      if (used > 0 && !ec) continue;
    }
    if (eof_ || !read_some(deadline)) {
      // Closed before the first byte of an answer: the server never took the request (a keep-alive
      // connection it closed as idle), which a client may send again.
      if (!parser.got_some() && buffer_.empty())
        throw std::runtime_error("connection closed before any HTTP response byte");
      boost::system::error_code ec;
      parser.put_eof(ec);  // completes a body delimited by the end of the connection
      if (ec) throw std::runtime_error("connection closed before a complete HTTP response: " + ec.message());
    }
  }

  auto message = parser.release();
  HttpResponse response;
  response.version = message.version();
  response.status = static_cast<int>(message.result_int());
  response.reason = std::string(message.reason());
  for (const auto& field : message) response.headers.emplace_back(field.name_string(), field.value());
  response.body = std::move(message.body());
  response.keep_alive = message.keep_alive();
  return response;
}

HttpResponse Connection::send(std::string_view raw_request) {
  write(raw_request);
  return read_response(is_head(raw_request));
}

bool Connection::closed_by_peer(std::chrono::milliseconds wait) {
  if (eof_) return true;
  const auto deadline = Clock::now() + wait;
  if (!buffer_.empty()) return false;
  if (!wait_ready(fd_, POLLIN, deadline)) return false;
  try {
    return !read_some(deadline);
  } catch (const std::runtime_error&) {
    return true;
  }
}

HttpResponse send_request(std::uint16_t port, std::string_view raw_request, std::chrono::milliseconds timeout) {
  Connection connection(port, timeout);
  return connection.send(raw_request);
}

}  // namespace mgw::test
