// A stand-in for a private Matomo, for the public-edge tests: Debian's `php -S` (a real HTTP
// server) on 127.0.0.1 with a router script that
//   * appends every request it receives to a log ("URI|If-Modified-Since|If-None-Match"), so a test
//     can count origin requests exactly;
//   * serves matomo.js, piwik.js, /js/ and /js/container_*.js from its document root as stock's
//     ProxyHttp does (Last-Modified, an ETag, 304 on a matching conditional request);
//   * answers configs.php and the opt-out with small scripts (the opt-out also tries to set a
//     session cookie), and anything else with a page that must never reach a browser;
//   * holds a request while the file `gate` exists next to the document root (for overlapping
//     requests), and answers 500 while the file `fail` exists.
// stop() kills the server; start() brings it back on the same port.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace mgw::test {

class PhpOrigin {
 public:
  PhpOrigin();
  ~PhpOrigin();
  PhpOrigin(const PhpOrigin&) = delete;
  PhpOrigin& operator=(const PhpOrigin&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& docroot() const { return docroot_; }
  std::string gate_file() const { return dir_ + "/gate"; }
  std::string fail_file() const { return dir_ + "/fail"; }

  // Writes a file under the document root (replaced with a rename, as a deployment does).
  void write(const std::string& relative, const std::string& content) const;
  // Every request received so far, one "URI|IMS|INM" line each.
  std::vector<std::string> requests() const;
  // Requests whose URI starts with `prefix`.
  std::size_t count(const std::string& prefix) const;

  void stop();
  void start();

 private:
  bool try_start(std::uint16_t port);
  std::string dir_;
  std::string docroot_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
};

// A file's contents ("" when missing).
std::string read_file(const std::string& path);

}  // namespace mgw::test
