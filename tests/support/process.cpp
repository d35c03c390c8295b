// Child processes for integration tests: see process.hpp.
#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace mgw::test {
namespace {

// Writing to a pipe whose reader has exited must not kill the test process; write() then
// fails with EPIPE, which the callers report. Children get the default disposition back.
const bool sigpipe_ignored = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();

std::string errno_text(const std::string& what, int err) { return what + ": " + std::strerror(err); }

void close_fd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

struct Pipe {
  int read = -1;
  int write = -1;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(errno_text("pipe2", errno));
    read = fds[0];
    write = fds[1];
  }
  ~Pipe() {
    close_fd(read);
    close_fd(write);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
};

int decode_wait_status(int raw) {
  if (WIFEXITED(raw)) return WEXITSTATUS(raw);
  if (WIFSIGNALED(raw)) return 128 + WTERMSIG(raw);
  return -1;
}

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 24LL * 3600 * 1000));
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) {
    if (!out.empty()) out += ' ';
    out += arg;
  }
  return out;
}

}  // namespace

Process::Process(std::vector<std::string> argv, ProcessOptions options) : argv_(std::move(argv)) {
  if (argv_.empty()) throw std::invalid_argument("Process: empty argv");
  (void)sigpipe_ignored;

  // Everything the child needs is prepared before fork(): after fork() in a multi-threaded
  // process the child may only call async-signal-safe functions until execvp().
  std::vector<char*> c_argv;
  for (auto& arg : argv_) c_argv.push_back(arg.data());
  c_argv.push_back(nullptr);

  std::optional<Pipe> in, out, err;
  if (options.pipe_stdin) in.emplace();
  if (options.capture_stdout) out.emplace();
  if (options.capture_stderr) err.emplace();
  Pipe exec_error;  // CLOEXEC: closed by a successful execvp, carries errno otherwise
  const pid_t parent = ::getpid();

  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(errno_text("fork", errno));
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);

    int stdin_source = in ? in->read : ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    bool redirected = stdin_source >= 0 && ::dup2(stdin_source, 0) >= 0 && (!out || ::dup2(out->write, 1) >= 0) &&
                      (!err || ::dup2(err->write, 2) >= 0);
    if (redirected) ::execvp(c_argv[0], c_argv.data());
    int error = errno;
    [[maybe_unused]] auto written = ::write(exec_error.write, &error, sizeof error);
    ::_exit(127);
  }

  close_fd(exec_error.write);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_error.read, &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    reap_blocking();
    throw std::runtime_error(errno_text("cannot execute " + argv_[0], child_errno));
  }

  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd_ < 0) {
    int error = errno;
    ::kill(pid_, SIGKILL);
    reap_blocking();
    throw std::runtime_error(errno_text("pidfd_open", error));
  }
  if (in) std::swap(stdin_fd_, in->write);
  if (out) std::swap(stdout_fd_, out->read);
  if (err) std::swap(stderr_fd_, err->read);
}

Process::~Process() {
  if (!status_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    reap_blocking();
  }
  close_fd(pidfd_);
  close_fd(stdin_fd_);
  close_fd(stdout_fd_);
  close_fd(stderr_fd_);
}

void Process::signal(int signo) {
  if (!status_ && pid_ > 0) ::kill(pid_, signo);
}

void Process::reap_blocking() {
  int raw = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &raw, 0);
  } while (r < 0 && errno == EINTR);
  status_ = r == pid_ ? decode_wait_status(raw) : -1;
}

std::optional<int> Process::try_wait() {
  if (status_) return status_;
  int raw = 0;
  pid_t r = ::waitpid(pid_, &raw, WNOHANG);
  if (r == pid_) status_ = decode_wait_status(raw);
  return status_;
}

int Process::wait(std::chrono::milliseconds timeout) {
  if (status_) return *status_;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    pollfd pfd{pidfd_, POLLIN, 0};
    int r = ::poll(&pfd, 1, remaining_ms(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r > 0) break;
    if (r == 0 && Clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      reap_blocking();
      throw std::runtime_error(argv_[0] + " did not exit within " + std::to_string(timeout.count()) + " ms; killed it");
    }
    if (r < 0) throw std::runtime_error(errno_text("poll(pidfd)", errno));
  }
  reap_blocking();
  return *status_;
}

void Process::close_stdin() { close_fd(stdin_fd_); }

std::string describe_exit_status(int status) {
  if (status < 0) return "unknown exit status";
  if (status > 128) {
    int signo = status - 128;
    return "killed by signal " + std::to_string(signo) + " (" + ::strsignal(signo) + ")";
  }
  return "exit status " + std::to_string(status);
}

CommandResult run_command(std::vector<std::string> argv, std::string_view input, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const std::string name = command_line(argv);
  Process child(std::move(argv), {.pipe_stdin = true, .capture_stdout = true, .capture_stderr = true});
  CommandResult result;
  int in_fd = child.stdin_fd(), out_fd = child.stdout_fd(), err_fd = child.stderr_fd();
  ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
  if (input.empty()) {
    child.close_stdin();
    in_fd = -1;
  }
  std::size_t written = 0;

  while (in_fd >= 0 || out_fd >= 0 || err_fd >= 0) {
    pollfd pfds[3] = {{in_fd, POLLOUT, 0}, {out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    int r = ::poll(pfds, 3, remaining_ms(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw std::runtime_error(errno_text("poll", errno));
    if (r == 0) {
      child.signal(SIGKILL);
      throw std::runtime_error(name + ": did not finish within " + std::to_string(timeout.count()) + " ms");
    }
    if (in_fd >= 0 && pfds[0].revents) {
      ssize_t n = ::write(in_fd, input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
        child.close_stdin();  // done, or the child stopped reading (EPIPE)
        in_fd = -1;
      }
    }
    struct Output {
      int poll_index;
      int* fd;
      std::string* sink;
    };
    for (auto [index, fd, sink] : {Output{1, &out_fd, &result.out}, Output{2, &err_fd, &result.err}}) {
      if (*fd < 0 || !pfds[index].revents) continue;
      char buffer[65536];
      ssize_t n = ::read(*fd, buffer, sizeof buffer);
      if (n > 0) {
        sink->append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        *fd = -1;  // EOF; the Process still owns and closes the descriptor
      }
    }
  }
  result.status = child.wait(std::chrono::duration_cast<std::chrono::milliseconds>(
      std::max(deadline - Clock::now(), Clock::duration(std::chrono::seconds(1)))));
  return result;
}

}  // namespace mgw::test
