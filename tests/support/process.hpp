// Child processes for integration tests: fork/execvp with optional stdin/stdout/stderr pipes,
// signals, and waiting for the exit with a deadline (pidfd + poll(), never a sleep).
//
// Exit statuses use the shell convention: the exit code for a normal exit, 128 + the signal number
// when the child was killed by a signal. A child still running when its Process is destroyed is
// killed with SIGKILL and reaped. Children also get SIGKILL if the test process dies
// (PR_SET_PDEATHSIG), so a crashed test never leaves redis-server or gateway processes behind; the
// signal is tied to the thread that spawned the child, so spawn from the test's main thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mgw::test {

using Clock = std::chrono::steady_clock;

struct ProcessOptions {
  bool pipe_stdin = false;      // otherwise stdin is /dev/null
  bool capture_stdout = false;  // otherwise inherited from the test process
  bool capture_stderr = false;  // otherwise inherited from the test process
};

class Process {
 public:
  // Starts argv[0] (looked up in PATH). Throws std::runtime_error if it cannot be executed,
  // e.g. "php: No such file or directory".
  explicit Process(std::vector<std::string> argv, ProcessOptions options = {});
  ~Process();

  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const std::vector<std::string>& argv() const { return argv_; }

  // Sends a signal; does nothing once the child has been reaped.
  void signal(int signo);

  // Waits for the exit and returns the exit status (see above). If the child has not exited
  // within the timeout it is killed with SIGKILL, reaped, and std::runtime_error is thrown.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // The exit status if the child has exited (reaping it), otherwise nullopt. Never blocks.
  std::optional<int> try_wait();

  bool running() { return !try_wait().has_value(); }

  // Pipe ends owned by this object (-1 when not requested or already closed).
  int stdin_fd() const { return stdin_fd_; }
  int stdout_fd() const { return stdout_fd_; }
  int stderr_fd() const { return stderr_fd_; }
  void close_stdin();

 private:
  void reap_blocking();

  std::vector<std::string> argv_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  std::optional<int> status_;
};

// "exit status 0", "exit status 3", "killed by signal 9 (Killed)".
std::string describe_exit_status(int status);

struct CommandResult {
  int status = -1;  // exit status as above
  std::string out;  // everything written to stdout
  std::string err;  // everything written to stderr
};

// Runs a command to completion, feeding `input` to its stdin while collecting stdout and stderr
// (one poll() loop, so large inputs and outputs cannot deadlock). Throws std::runtime_error if the
// command cannot be executed or does not finish within the timeout (it is then killed).
CommandResult run_command(std::vector<std::string> argv, std::string_view input,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace mgw::test
