// Reading a child's output line by line without ever sleeping.
//
// LineReader reads one line at a time from a pipe with a deadline (poll()).
// LineCollector drains a pipe on a background thread (so a chatty child never blocks on a full
// pipe), keeps every line, and lets a test wait, with a deadline, for a line matching a predicate.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace mgw::test {

using Clock = std::chrono::steady_clock;

class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}  // does not own fd

  enum class Status { line, eof, timeout, cancelled };
  struct Result {
    Status status;
    std::string line;  // without the trailing "\n" (and "\r\n")
  };

  // Returns the next line, or eof / timeout (deadline passed) / cancelled (cancel_fd became
  // readable). A last line without "\n" before EOF is returned as a line.
  Result read_line(Clock::time_point deadline, int cancel_fd = -1);

 private:
  std::optional<std::string> take_line();

  int fd_;
  std::string buffer_;
  bool eof_ = false;
};

class LineCollector {
 public:
  using Predicate = std::function<bool(std::string_view)>;

  // Starts draining fd (not owned; keep it open until this object is destroyed). Every line is
  // also echoed to stderr with the prefix when the environment variable MGW_TEST_ECHO is set.
  LineCollector(int fd, std::string echo_prefix);
  ~LineCollector();  // stops the thread

  LineCollector(const LineCollector&) = delete;
  LineCollector& operator=(const LineCollector&) = delete;

  // Waits for the first line with index >= from that satisfies pred; returns it and, through
  // index, its position. nullopt if the deadline passes or the pipe reaches EOF first.
  std::optional<std::string> wait_for(const Predicate& pred, Clock::time_point deadline, std::size_t from = 0,
                                      std::size_t* index = nullptr);

  std::vector<std::string> lines() const;
  std::size_t size() const;
  bool eof() const;

  // Stops the background thread (idempotent). Lines already collected stay available.
  void stop();

 private:
  void run();

  int fd_;
  int cancel_fd_;
  std::string echo_prefix_;
  bool echo_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
  bool eof_ = false;
  std::thread thread_;
};

}  // namespace mgw::test
