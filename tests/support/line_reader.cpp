// Reading a child's output line by line: see line_reader.hpp.
#include "support/line_reader.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>

namespace mgw::test {
namespace {

int remaining_ms(Clock::time_point deadline) {
  if (deadline == Clock::time_point::max()) return -1;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 24LL * 3600 * 1000));
}

}  // namespace

std::optional<std::string> LineReader::take_line() {
  auto newline = buffer_.find('\n');
  if (newline == std::string::npos) {
    if (!eof_ || buffer_.empty()) return std::nullopt;
    newline = buffer_.size();  // last line without "\n"
  }
  std::string line = buffer_.substr(0, newline);
  buffer_.erase(0, std::min(newline + 1, buffer_.size()));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

LineReader::Result LineReader::read_line(Clock::time_point deadline, int cancel_fd) {
  for (;;) {
    if (auto line = take_line()) return {Status::line, std::move(*line)};
    if (eof_) return {Status::eof, {}};

    pollfd pfds[2] = {{fd_, POLLIN, 0}, {cancel_fd, POLLIN, 0}};
    int r = ::poll(pfds, 2, remaining_ms(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    if (r == 0) return {Status::timeout, {}};
    if (pfds[1].revents) return {Status::cancelled, {}};

    char chunk[8192];
    ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
      eof_ = true;
    }
  }
}

LineCollector::LineCollector(int fd, std::string echo_prefix)
    : fd_(fd), cancel_fd_(::eventfd(0, EFD_CLOEXEC)), echo_prefix_(std::move(echo_prefix)),
      echo_(std::getenv("MGW_TEST_ECHO") != nullptr) {
  if (cancel_fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  thread_ = std::thread([this] { run(); });
}

LineCollector::~LineCollector() {
  stop();
  ::close(cancel_fd_);
}

void LineCollector::stop() {
  if (!thread_.joinable()) return;
  std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(cancel_fd_, &one, sizeof one);
  thread_.join();
}

void LineCollector::run() {
  LineReader reader(fd_);
  for (;;) {
    auto result = reader.read_line(Clock::time_point::max(), cancel_fd_);
    std::lock_guard lock(mutex_);
    if (result.status != LineReader::Status::line) {
      eof_ = eof_ || result.status == LineReader::Status::eof;
      changed_.notify_all();
      if (result.status != LineReader::Status::timeout) return;
      continue;
    }
    if (echo_) std::cerr << echo_prefix_ << result.line << '\n';
    lines_.push_back(std::move(result.line));
    changed_.notify_all();
  }
}

std::optional<std::string> LineCollector::wait_for(const Predicate& pred, Clock::time_point deadline, std::size_t from,
                                                   std::size_t* index) {
  std::unique_lock lock(mutex_);
  std::size_t next = from;
  for (;;) {
    for (; next < lines_.size(); ++next) {
      if (pred(lines_[next])) {
        if (index) *index = next;
        return lines_[next];
      }
    }
    if (eof_ || !thread_.joinable()) return std::nullopt;
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout && next == lines_.size() && !eof_)
      return std::nullopt;
  }
}

std::vector<std::string> LineCollector::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

std::size_t LineCollector::size() const {
  std::lock_guard lock(mutex_);
  return lines_.size();
}

bool LineCollector::eof() const {
  std::lock_guard lock(mutex_);
  return eof_;
}

}  // namespace mgw::test
