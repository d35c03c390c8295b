// Raw HTTP/1.1 for tests: write exact request bytes to 127.0.0.1:port over a plain socket and
// parse one response with Boost.Beast's response_parser (status, reason phrase, headers in wire
// order with their original spelling, body). Every read and write has a deadline.
//
// send_request() uses one connection per request; Connection keeps one socket open for several
// requests (keep-alive) and can tell whether the server closed it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mgw::test {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  unsigned version = 11;  // 11 = HTTP/1.1
  int status = 0;
  std::string reason;
  HeaderList headers;  // in wire order, names as sent
  std::string body;
  bool keep_alive = false;  // what Beast concludes from the version and Connection header

  // The first header with that name (case-insensitive), if any.
  std::optional<std::string> header(std::string_view name) const;
  std::size_t header_count(std::string_view name) const;
};

// "METHOD target HTTP/1.1\r\n" + headers + "\r\n" + body. Adds Content-Length when the body is
// non-empty and the headers have none; adds nothing else (no Host, no Connection).
std::string build_request(std::string_view method, std::string_view target, const HeaderList& headers,
                          std::string_view body = {});

class Connection {
 public:
  explicit Connection(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~Connection();

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Writes the bytes and reads one response. A HEAD request (by its first word) is parsed as a
  // response without a body. Throws std::runtime_error on timeout or a broken response.
  HttpResponse send(std::string_view raw_request);

  void write(std::string_view bytes);
  // Half-closes the connection (no more bytes from us), as a client that gives up mid-request.
  void shutdown_write();
  HttpResponse read_response(bool head_request = false);

  // True if the server closed the connection (EOF or reset) before the deadline, false if it was
  // still open then. Bytes that arrive instead are kept for read_response().
  bool closed_by_peer(std::chrono::milliseconds wait = std::chrono::seconds(5));

 private:
  bool read_some(std::chrono::steady_clock::time_point deadline);  // false on EOF

  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string buffer_;  // received but not yet parsed
  bool eof_ = false;
};

// One request on a fresh connection.
HttpResponse send_request(std::uint16_t port, std::string_view raw_request,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace mgw::test
