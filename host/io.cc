#include "w2v/io.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "w2v/error.h"

namespace w2v {

void throw_file_error(const std::string& path, const std::string& problem) {
  throw Error(path + ": " + problem);
}

namespace {
std::string errno_text() { return std::strerror(errno); }
}  // namespace

InputFile::InputFile(const std::string& path, std::size_t buffer_bytes) : path_(path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw_file_error(path, "cannot open: " + errno_text());
  if (S_ISDIR(st.st_mode)) throw_file_error(path, "is a directory, not a file");
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_) throw_file_error(path, "cannot open: " + errno_text());
  size_ = static_cast<std::uint64_t>(st.st_size);
  // A small file needs no megabyte of buffer (evaluation files, small vocabularies); a pipe's
  // size says nothing, so it keeps the full one.
  capacity_ = S_ISREG(st.st_mode) ? static_cast<std::size_t>(std::min<std::uint64_t>(
                                        buffer_bytes, std::max<std::uint64_t>(size_, 4096)))
                                  : buffer_bytes;
  buffer_ = static_cast<char*>(std::malloc(capacity_));
  if (!buffer_) throw_file_error(path, "out of memory for the read buffer");
}

InputFile::~InputFile() {
  if (file_) std::fclose(file_);
  std::free(buffer_);
}

bool InputFile::refill() {
  end_ = std::fread(buffer_, 1, capacity_, file_);
  pos_ = 0;
  if (end_ == 0 && std::ferror(file_)) throw_file_error(path_, "read error: " + errno_text());
  return end_ > 0;
}

bool InputFile::skip_prefix(std::string_view prefix) {
  if (pos_ == end_ && !refill()) return false;
  if (end_ - pos_ < prefix.size() || std::memcmp(buffer_ + pos_, prefix.data(), prefix.size()) != 0)
    return false;
  pos_ += prefix.size();
  return true;
}

bool InputFile::read_exact(void* dst, std::size_t n) {
  auto* out = static_cast<char*>(dst);
  std::size_t done = 0;
  while (done < n) {
    if (pos_ == end_ && !refill()) {
      if (done == 0) return false;
      throw_file_error(path_, "unexpected end of file (truncated?)");
    }
    std::size_t take = std::min(n - done, end_ - pos_);
    std::memcpy(out + done, buffer_ + pos_, take);
    pos_ += take;
    done += take;
  }
  return true;
}

bool InputFile::read_line(std::string& line) {
  line.clear();
  bool any = false;
  while (true) {
    if (pos_ == end_ && !refill()) return any;
    any = true;
    const char* start = buffer_ + pos_;
    const void* nl = std::memchr(start, '\n', end_ - pos_);
    if (nl) {
      std::size_t len = static_cast<const char*>(nl) - start;
      line.append(start, len);
      pos_ += len + 1;
      return true;
    }
    line.append(start, end_ - pos_);
    pos_ = end_;
  }
}

MappedFile::MappedFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw_file_error(path, "cannot open: " + errno_text());
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw_file_error(path, "cannot stat: " + errno_text());
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      throw_file_error(path, "cannot mmap: " + errno_text());
    }
    ::madvise(p, size_, MADV_SEQUENTIAL);
    data_ = static_cast<const unsigned char*>(p);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<unsigned char*>(data_), size_);
}

namespace {

// Temporary files of uncommitted AtomicFiles, in fixed slots a signal handler can read without
// allocating: kFree -> kWriting (claimed, path being copied) -> kSet -> kFree.
struct PendingFile {
  enum State { kFree, kWriting, kSet };
  std::atomic<int> state{kFree};
  char path[4096];
};
constexpr int kPendingSlots = 64;
PendingFile g_pending[kPendingSlots];

int remember_pending(const std::string& path) {
  if (path.size() >= sizeof g_pending[0].path) return -1;
  for (int i = 0; i < kPendingSlots; ++i) {
    int expected = PendingFile::kFree;
    if (g_pending[i].state.compare_exchange_strong(expected, PendingFile::kWriting)) {
      std::memcpy(g_pending[i].path, path.c_str(), path.size() + 1);
      g_pending[i].state.store(PendingFile::kSet);
      return i;
    }
  }
  return -1;  // more than kPendingSlots open at once: that one is not removed on a second signal
}

void forget_pending(int slot) {
  if (slot >= 0) g_pending[slot].state.store(PendingFile::kFree);
}

// Deletes PATH.tmp.PID files of processes that no longer run: what a SIGKILL or a power loss
// left. A live PID's file is another process's write in progress and stays.
void remove_stale_temporaries(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const std::string prefix =
      (slash == std::string::npos ? path : path.substr(slash + 1)) + ".tmp.";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string pid_text = name.substr(prefix.size());
    if (pid_text.find_first_not_of("0123456789") != std::string::npos || pid_text.size() > 9)
      continue;
    const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
    if (pid > 0 && pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH)
      ::unlink((dir + name).c_str());
  }
  ::closedir(d);
}

// Makes a rename durable: the directory entry is data of the directory.
void sync_directory_of(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;  // some filesystems do not open directories; the rename stands
  ::fsync(fd);
  ::close(fd);
}

// The first number after `key` in the text file `path`, or 0 where there is none.
std::uint64_t number_in_file(const char* path, const char* key) {
  std::FILE* f = std::fopen(path, "r");
  if (!f) return 0;
  char line[256];
  std::uint64_t value = 0;
  const std::size_t key_length = std::strlen(key);
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, key, key_length) == 0) {
      value = std::strtoull(line + key_length, nullptr, 10);
      break;
    }
  std::fclose(f);
  return value;
}

}  // namespace

bool is_device_or_pipe(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

std::uint64_t available_host_memory() {
  std::uint64_t available = number_in_file("/proc/meminfo", "MemAvailable:") * 1024;
  if (available == 0) {
    const long pages = ::sysconf(_SC_AVPHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
    available = pages > 0 && page > 0 ? std::uint64_t(pages) * std::uint64_t(page) : ~0ull;
  }
  // A container's own limit ("max" where there is none, which reads as 0 here).
  const std::uint64_t limit = number_in_file("/sys/fs/cgroup/memory.max", "");
  const std::uint64_t used = number_in_file("/sys/fs/cgroup/memory.current", "");
  if (limit > 0) available = std::min(available, limit > used ? limit - used : 0);
  struct rlimit address_space {};
  if (::getrlimit(RLIMIT_AS, &address_space) == 0 && address_space.rlim_cur != RLIM_INFINITY) {
    const std::uint64_t mapped = number_in_file("/proc/self/status", "VmSize:") * 1024;
    const std::uint64_t cap = address_space.rlim_cur;
    available = std::min(available, cap > mapped ? cap - mapped : 0);
  }
  return available;
}

void remove_unfinished_files() noexcept {
  for (PendingFile& p : g_pending)
    if (p.state.load() == PendingFile::kSet) ::unlink(p.path);
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  struct stat st {};
  // Found now, not by the rename after the whole file is written.
  if (::stat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw_file_error(path_, "is a directory");
  if (is_device_or_pipe(path_)) {
    // Nothing to replace, and a rename onto it would replace the device node itself.
    file_ = std::fopen(path_.c_str(), "wb");
    if (!file_) throw_file_error(path_, "cannot write: " + errno_text());
    in_place_ = true;
    return;
  }
  remove_stale_temporaries(path_);
  temp_path_ = path_ + ".tmp." + std::to_string(::getpid());
  pending_slot_ = remember_pending(temp_path_);
  file_ = std::fopen(temp_path_.c_str(), "wb");
  if (!file_) {
    forget_pending(pending_slot_);
    throw_file_error(path_, "cannot write: " + errno_text());
  }
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    if (file_) std::fclose(file_);
    if (!in_place_) std::remove(temp_path_.c_str());
  }
  forget_pending(pending_slot_);
}

void AtomicFile::write(const void* data, std::size_t n) {
  if (n && std::fwrite(data, 1, n, file_) != n)
    throw_file_error(path_, "write failed: " + errno_text());
  appended_ += n;
  // Start the disk writes of what is written so far, without waiting for them, so that the
  // fsync of commit() waits only for the last of a large file (a 240 MB corpus cache's fsync
  // went from about 0.1 s to 0.01 s). A failure here shows again at that fsync.
  constexpr std::uint64_t kWritebackBytes = std::uint64_t(32) << 20;
  if (appended_ - written_back_ >= kWritebackBytes && std::fflush(file_) == 0) {
    ::sync_file_range(::fileno(file_), static_cast<off_t>(written_back_),
                      static_cast<off_t>(appended_ - written_back_), SYNC_FILE_RANGE_WRITE);
    written_back_ = appended_;
  }
}

void AtomicFile::flush() {
  if (std::fflush(file_) != 0) throw_file_error(path_, "write failed: " + errno_text());
}

void AtomicFile::rewrite_start(const void* data, std::size_t n) {
  if (std::fflush(file_) != 0 || std::fseek(file_, 0, SEEK_SET) != 0 ||
      std::fwrite(data, 1, n, file_) != n)
    throw_file_error(path_, "cannot rewrite the header: " + errno_text());
}

void AtomicFile::commit() {
  // The first failure's errno names the cause (a full disk shows at fflush or fsync).
  std::string failure;
  if (std::fflush(file_) != 0 || std::ferror(file_) ||
      (!in_place_ && ::fsync(::fileno(file_)) != 0))  // a device or pipe may not fsync
    failure = errno_text();
  if (std::fclose(file_) != 0 && failure.empty()) failure = errno_text();
  file_ = nullptr;
  if (!failure.empty()) throw_file_error(path_, "write failed: " + failure);
  if (in_place_) {
    committed_ = true;
    return;
  }
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0)
    throw_file_error(path_, "cannot rename the temporary file into place: " + errno_text());
  committed_ = true;
  sync_directory_of(path_);
}

FileLock::FileLock(const std::string& path, LogLine on_wait,
                   const std::function<int()>& stop_signal) {
  struct stat st {};
  const bool directory = ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  fd_ = directory ? ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                  : ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw_file_error(path, "cannot open for locking: " + errno_text());
  if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
  if (errno != EWOULDBLOCK) {
    ::close(fd_);
    throw_file_error(path, "cannot lock: " + errno_text());
  }
  if (on_wait) on_wait("waiting for another process that holds " + path);
  // Asked again every 50 ms, not blocked in flock: a stop signal restarts a blocked flock
  // (SA_RESTART), and the holder may run for hours.
  while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      ::close(fd_);
      throw_file_error(path, "cannot lock: " + errno_text());
    }
    if (const int signal = stop_signal ? stop_signal() : 0) {
      ::close(fd_);
      throw StoppedError(signal);
    }
    ::usleep(50'000);
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the lock
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

FileStamp file_stamp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw_file_error(path, "cannot open: " + errno_text());
  return {static_cast<std::uint64_t>(st.st_size),
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec};
}

}  // namespace w2v
