// The php -S origin for the public-edge tests: see php_origin.hpp.
#include "support/php_origin.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/free_port.hpp"
#include "support/poll.hpp"
#include "support/redis_server.hpp"

namespace mgw::test {
namespace {

constexpr const char* router = R"php(<?php
$dir = dirname($_SERVER['DOCUMENT_ROOT']);
$uri = $_SERVER['REQUEST_URI'];
$ims = $_SERVER['HTTP_IF_MODIFIED_SINCE'] ?? '';
$inm = $_SERVER['HTTP_IF_NONE_MATCH'] ?? '';
file_put_contents("$dir/requests.log", "$uri|$ims|$inm\n", FILE_APPEND | LOCK_EX);
$deadline = microtime(true) + 20;
while (file_exists("$dir/gate") && microtime(true) < $deadline) usleep(10000);
if (file_exists("$dir/fail")) { http_response_code(500); echo "origin failure\n"; return true; }
$path = parse_url($uri, PHP_URL_PATH);
header('Set-Cookie: MATOMO_SESSID=origin-session-secret; path=/');
if ($path === '/plugins/HeatmapSessionRecording/configs.php') {
    header('Content-Type: application/javascript; charset=utf-8');
    header('Access-Control-Allow-Origin: *');
    echo 'Piwik.HeatmapSessionRecording.configs(' . json_encode($_SERVER['QUERY_STRING'] ?? '') . ');';
    return true;
}
if ($path === '/index.php') {
    if (($_GET['module'] ?? '') === 'CoreAdminHome' && ($_GET['action'] ?? '') === 'optOutJS') {
        header('Content-Type: application/javascript; charset=utf-8');
        header('Cache-Control: no-store');
        echo '/* opt-out */ var query = ' . json_encode($_SERVER['QUERY_STRING']) . ';';
        return true;
    }
    echo "ADMIN PAGE: never public\n";
    return true;
}
$file = null;
if ($path === '/matomo.js' || $path === '/piwik.js' || $path === '/js/') $file = $path === '/js/' ? '/matomo.js' : $path;
elseif (preg_match('#^/js/container_[A-Za-z0-9_]+\.js$#', $path)) $file = $path;
if ($file === null) { echo "ADMIN PAGE: never public\n"; return true; }
$full = $_SERVER['DOCUMENT_ROOT'] . $file;
if (!is_file($full)) { http_response_code(404); echo "not found\n"; return true; }
clearstatcache();
$body = file_get_contents($full);
$lm = gmdate('D, d M Y H:i:s', filemtime($full)) . ' GMT';
$etag = '"' . md5($body) . '"';
header_remove('Set-Cookie');
header('Last-Modified: ' . $lm);
header('ETag: ' . $etag);
header('Cache-Control: public, must-revalidate');
header('Vary: Accept-Encoding');
header('Content-Disposition: inline; filename=' . basename($file));
header('Expires: ' . gmdate('D, d M Y H:i:s', time() + 86400 * 10) . ' GMT');
if ($inm === $etag || ($inm === '' && $ims === $lm)) { http_response_code(304); return true; }
header('Content-Type: application/javascript; charset=UTF-8');
echo $body;
return true;
)php";

bool accepts(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

PhpOrigin::PhpOrigin() : dir_(make_temp_dir("mgw-origin")), docroot_(dir_ + "/root") {
  std::filesystem::create_directories(docroot_ + "/js");
  std::ofstream(dir_ + "/router.php") << router;
  std::ofstream(dir_ + "/requests.log").close();  // created empty
  for (int attempt = 0; attempt < 5; ++attempt)
    if (try_start(free_port())) return;
  throw std::runtime_error("php -S: could not start on a free port");
}

PhpOrigin::~PhpOrigin() {
  process_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

bool PhpOrigin::try_start(std::uint16_t port) {
  process_ = std::make_unique<Process>(
      std::vector<std::string>{"php", "-S", "127.0.0.1:" + std::to_string(port), "-t", docroot_, dir_ + "/router.php"},
      ProcessOptions{false, true, true});
  const bool up =
      poll_until(Clock::now() + std::chrono::seconds(10), [&] { return !process_->running() || accepts(port); });
  if (up && process_->running()) {
    port_ = port;
    return true;
  }
  process_.reset();
  return false;
}

void PhpOrigin::write(const std::string& relative, const std::string& content) const {
  const std::string path = docroot_ + "/" + relative;
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp, std::ios::binary) << content;
  std::filesystem::rename(tmp, path);
}

std::vector<std::string> PhpOrigin::requests() const {
  std::vector<std::string> out;
  std::istringstream in(read_file(dir_ + "/requests.log"));
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::size_t PhpOrigin::count(const std::string& prefix) const {
  std::size_t n = 0;
  for (const auto& r : requests())
    if (r.rfind(prefix, 0) == 0) ++n;
  return n;
}

void PhpOrigin::stop() {
  process_->signal(SIGKILL);
  process_->wait();
  process_.reset();
}

void PhpOrigin::start() {
  if (!try_start(port_)) throw std::runtime_error("php -S: could not restart on port " + std::to_string(port_));
}

}  // namespace mgw::test
