#pragma once
// run_w2v(): runs the built `w2v` binary (W2V_BINARY) with stdout and stderr captured, for the
// tests of the command line.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.h"

namespace w2v::test {

struct RunResult {
  int exit_status = -1;  // WEXITSTATUS; -1 when the process did not exit normally
  int signal = 0;        // the signal that killed it, 0 if none
  bool timed_out = false;
  std::string out, err;
  std::string command;

  bool exited() const { return signal == 0 && !timed_out && exit_status >= 0; }
  // For failure messages: the command, how it ended and what it printed.
  std::string describe() const {
    std::string how =
        timed_out ? "timed out"
        : signal  ? "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")"
                  : "exit " + std::to_string(exit_status);
    return "$ " + command + "\n" + how + "\n--- stdout ---\n" + out.substr(0, 2000) +
           "\n--- stderr ---\n" + err.substr(0, 4000);
  }
};

namespace detail {
inline std::string temp_capture_file() {
  std::string tmpl = ::testing::TempDir() + "w2v_run_XXXXXX";
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) throw std::runtime_error("mkstemp(" + tmpl + "): " + std::strerror(errno));
  ::close(fd);
  return tmpl;
}
}  // namespace detail

// How run_w2v() treats the child beyond capturing its output.
struct RunOptions {
  double timeout_seconds = 120;
  // Once stderr contains `signal_after_err` ("" = at once), send each of `signals` in turn,
  // `signal_gap_seconds` apart.
  std::string signal_after_err;
  std::vector<int> signals;
  double signal_gap_seconds = 0;
  long file_size_limit = -1;  // RLIMIT_FSIZE in bytes for the child (-1: none)
  long address_space_limit = -1;  // RLIMIT_AS in bytes for the child (-1: none)
  std::string working_directory;  // the child's ("" = this process's)
};

// Runs W2V_BINARY with `args` (fork/exec, no shell), stdin from /dev/null, stdout and stderr
// captured through temporary files (no pipe deadlock however much it prints). A run longer
// than the timeout is killed and reported as timed_out.
inline RunResult run_w2v(const std::vector<std::string>& args, const RunOptions& options) {
  RunResult r;
  r.command = W2V_BINARY;
  for (const auto& a : args) r.command.append(1, ' ').append(a);
  const std::string out_path = detail::temp_capture_file(), err_path = detail::temp_capture_file();
  // Everything the child needs is built before fork(): after it, only async-signal-safe calls.
  std::vector<std::string> argv_storage;
  argv_storage.push_back(W2V_BINARY);
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  struct rlimit fsize {};
  fsize.rlim_cur = fsize.rlim_max = static_cast<rlim_t>(options.file_size_limit);
  struct rlimit address_space {};
  address_space.rlim_cur = address_space.rlim_max =
      static_cast<rlim_t>(options.address_space_limit);

  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_TRUNC);
    int err = ::open(err_path.c_str(), O_WRONLY | O_TRUNC);
    if (in < 0 || out < 0 || err < 0) ::_exit(126);
    if (options.file_size_limit >= 0 && ::setrlimit(RLIMIT_FSIZE, &fsize) != 0) ::_exit(125);
    if (options.address_space_limit >= 0 && ::setrlimit(RLIMIT_AS, &address_space) != 0)
      ::_exit(125);
    if (!options.working_directory.empty() && ::chdir(options.working_directory.c_str()) != 0)
      ::_exit(124);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  std::size_t signals_sent = 0;
  auto next_signal_at = std::chrono::steady_clock::time_point::max();
  if (!options.signals.empty() && options.signal_after_err.empty())
    next_signal_at = std::chrono::steady_clock::now();
  int status = 0;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                              std::chrono::duration<double>(options.timeout_seconds));
  while (true) {
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) throw std::runtime_error("waitpid failed");
    const auto now = std::chrono::steady_clock::now();
    if (signals_sent < options.signals.size()) {
      if (next_signal_at == std::chrono::steady_clock::time_point::max() &&
          read_file(err_path).find(options.signal_after_err) != std::string::npos)
        next_signal_at = now;
      if (now >= next_signal_at) {
        ::kill(pid, options.signals[signals_sent++]);
        next_signal_at = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                   std::chrono::duration<double>(options.signal_gap_seconds));
      }
    }
    if (now > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      r.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (!r.timed_out) {
    if (WIFEXITED(status)) r.exit_status = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  }
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  std::remove(out_path.c_str());
  std::remove(err_path.c_str());
  return r;
}

inline RunResult run_w2v(const std::vector<std::string>& args, double timeout_seconds = 120) {
  RunOptions options;
  options.timeout_seconds = timeout_seconds;
  return run_w2v(args, options);
}

}  // namespace w2v::test
