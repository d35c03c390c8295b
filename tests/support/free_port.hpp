// Ports on 127.0.0.1 for tests.
//
// free_port(): an ephemeral port that was free a moment ago (bind port 0, read the port the kernel
// chose, close). Another process may take it before it is used, so callers that bind it
// themselves (e.g. RedisServer) retry with a new port when the bind fails.
//
// RefusingPort: a port held bound but never listening. Connections to it are refused at once
// (RST), and no other process (e.g. a redis-server of a test running in parallel) can take it
// while the object lives (see free_port.cpp for the one weaker case): the reliable way to point
// a client at "nothing listens here".
#pragma once

#include <cstdint>

namespace mgw::test {

std::uint16_t free_port();

class RefusingPort {
 public:
  RefusingPort();                             // an ephemeral port
  explicit RefusingPort(std::uint16_t port);  // that port; throws if another socket holds it
  ~RefusingPort();

  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;

  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace mgw::test
