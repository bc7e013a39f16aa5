#pragma once
// Errors by layer: library code throws, only main() prints and exits.
#include <stdexcept>
#include <string>

namespace w2v {

// Something the user can fix: a bad file, a bad flag value. The message is one line that
// names the file or flag and the problem.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Training produced a NaN or infinite loss.
class DivergedError : public Error {
 public:
  using Error::Error;
};

// A stop signal (SIGINT, SIGTERM) ended the work before it finished; what it was writing is
// deleted.
class StoppedError : public Error {
 public:
  explicit StoppedError(int signal)
      : Error("stopped by signal " + std::to_string(signal)), signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

// "PATH: problem" — the shape of every file error.
[[noreturn]] void throw_file_error(const std::string& path, const std::string& problem);

}  // namespace w2v
