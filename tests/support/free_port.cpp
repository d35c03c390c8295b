// Ports on 127.0.0.1 for tests: see free_port.hpp.
#include "support/free_port.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace mgw::test {
namespace {

// A TCP socket bound to 127.0.0.1:port (0 = ephemeral, updated to the real port), never
// listening. Returns the fd, or -1 with the errno value in `error`.
int try_bind_loopback(std::uint16_t& port, bool reuse_address, int& error) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = errno;
    return -1;
  }
  int one = 1;
  if (reuse_address) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    error = errno;
    ::close(fd);
    return -1;
  }
  port = ntohs(addr.sin_port);
  return fd;
}

[[noreturn]] void bind_failed(std::uint16_t port, int error) {
  throw std::runtime_error("bind 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(error));
}

}  // namespace

std::uint16_t free_port() {
  std::uint16_t port = 0;
  int error = 0;
  int fd = try_bind_loopback(port, false, error);
  if (fd < 0) bind_failed(0, error);
  ::close(fd);
  return port;
}

RefusingPort::RefusingPort() {
  int error = 0;
  fd_ = try_bind_loopback(port_, false, error);
  if (fd_ < 0) bind_failed(0, error);
}

// Without SO_REUSEADDR no other socket can bind the port at all. But a port a server has just
// closed is often still blocked by its TIME_WAIT connections, and then only SO_REUSEADDR binds it
// (other SO_REUSEADDR sockets could then bind it too: the weaker case).
RefusingPort::RefusingPort(std::uint16_t port) : port_(port) {
  int error = 0;
  fd_ = try_bind_loopback(port_, false, error);
  if (fd_ < 0 && error == EADDRINUSE) fd_ = try_bind_loopback(port_, true, error);
  if (fd_ < 0) bind_failed(port, error);
}

RefusingPort::~RefusingPort() { ::close(fd_); }

}  // namespace mgw::test
