#pragma once
// What the libFuzzer harnesses share: the fuzz input as a file a reader opens by path, and
// the check that turns a broken invariant into a crash the fuzzer records.
//
// The file is a memfd rewritten in place each run (no disk I/O), opened by the reader through
// /proc/self/fd/N: each open is a fresh description at offset 0, as a real file would give.
// Where the name matters (the vector reader breaks a format tie on a ".bin" extension) a
// symlink with that name in a private temporary directory points at it (removed at exit; a
// crashed run leaves /tmp/w2v-fuzz-*/ behind).
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace w2v::fuzz {

[[noreturn]] inline void die(const char* what) {
  std::fprintf(stderr, "fuzz harness: %s: %s\n", what, std::strerror(errno));
  std::abort();
}

// A broken invariant in what a reader returned: abort, so libFuzzer keeps the input.
#define W2V_FUZZ_CHECK(cond)                                                            \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

class FuzzFile {
 public:
  // `name` (e.g. "vectors.bin"): reach the memfd through a symlink of that name; null: use
  // /proc/self/fd/N directly.
  explicit FuzzFile(const char* name = nullptr) {
    fd_ = ::memfd_create("w2v-fuzz", MFD_CLOEXEC);
    if (fd_ < 0) die("memfd_create");
    path_ = "/proc/self/fd/" + std::to_string(fd_);
    if (name) {
      std::string tmpl = "/tmp/w2v-fuzz-XXXXXX";
      if (!::mkdtemp(tmpl.data())) die("mkdtemp");
      dir_ = tmpl;
      std::string link = dir_ + "/" + name;
      if (::symlink(path_.c_str(), link.c_str()) != 0) die("symlink");
      path_ = link;
    }
  }
  ~FuzzFile() {
    if (!dir_.empty()) {
      ::unlink(path_.c_str());
      ::rmdir(dir_.c_str());
    }
    ::close(fd_);
  }
  FuzzFile(const FuzzFile&) = delete;
  FuzzFile& operator=(const FuzzFile&) = delete;

  // Replaces the file's contents with data[size]; returns the path to open. Overwrites, then
  // cuts the tail: the memfd keeps its pages from run to run.
  const std::string& write(const std::uint8_t* data, std::size_t size) {
    std::size_t done = 0;
    while (done < size) {
      ssize_t n = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) die("pwrite");
      done += static_cast<std::size_t>(n);
    }
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) die("ftruncate");
    return path_;
  }

 private:
  int fd_ = -1;
  std::string dir_;
  std::string path_;
};

}  // namespace w2v::fuzz
