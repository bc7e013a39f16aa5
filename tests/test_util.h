#pragma once
// Small helpers shared by the test files: a temporary directory that cleans itself up,
// whole-file reads and writes, a directory listing, and run_w2v(), which runs the built
// `w2v` binary (W2V_BINARY) with stdout and stderr captured.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace w2v::test {

// A fresh directory under ::testing::TempDir(), removed with everything in it on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "w2v_test") {
    std::string tmpl = ::testing::TempDir() + prefix + "_XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr)
      throw std::runtime_error("mkdtemp(" + tmpl + "): " + std::strerror(errno));
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    // A test may have left a file or folder without permissions (the unreadable-corpus case).
    for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
      std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // The path of `name` inside the directory.
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Names (not paths) of the entries of `dir`, sorted; recursive entries are "sub/name".
inline std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir))
    names.push_back(std::filesystem::relative(entry.path(), dir).string());
  std::sort(names.begin(), names.end());
  return names;
}

inline std::string join(const std::vector<std::string>& parts, const std::string& sep = " ") {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

// Lines of `text` without their '\n'; a last line without '\n' is kept.
inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

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

// Runs W2V_BINARY with `args` (fork/exec, no shell), stdin from /dev/null, stdout and stderr
// captured through temporary files (no pipe deadlock however much it prints). A run longer
// than timeout_seconds is killed and reported as timed_out.
inline RunResult run_w2v(const std::vector<std::string>& args, double timeout_seconds = 120) {
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

  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_TRUNC);
    int err = ::open(err_path.c_str(), O_WRONLY | O_TRUNC);
    if (in < 0 || out < 0 || err < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  while (true) {
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) throw std::runtime_error("waitpid failed");
    if (std::chrono::steady_clock::now() > deadline) {
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

}  // namespace w2v::test
