#pragma once
// File helpers shared by every reader and writer: buffered streaming input, read-only mmap,
// and writes that land all at once (temporary file, then rename) or not at all.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace w2v {

// Where the library's one-line status messages go ("building vocabulary ...", the GPU trainer's
// setup): the CLI prints them on stderr. Null: nowhere.
using LogLine = void (*)(const std::string& line);

// Sequential reader with a large buffer; never holds the whole file.
class InputFile {
 public:
  explicit InputFile(const std::string& path, std::size_t buffer_bytes = 1 << 20);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  // Next byte, or -1 at end of file.
  int get() {
    if (pos_ == end_ && !refill()) return -1;
    return static_cast<unsigned char>(buffer_[pos_++]);
  }
  // Reads exactly n bytes; false at a clean end of file before the first byte, throws when
  // the file ends part-way.
  bool read_exact(void* dst, std::size_t n);
  // Reads a line without its '\n'; false at end of file.
  bool read_line(std::string& line);
  // Before the first read: skips `prefix` (a byte-order mark) where the file begins with it.
  bool skip_prefix(std::string_view prefix);
  std::uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  bool refill();
  std::string path_;
  std::FILE* file_ = nullptr;
  char* buffer_ = nullptr;
  std::size_t capacity_ = 0, pos_ = 0, end_ = 0;
  std::uint64_t size_ = 0;
};

// A read-only memory map of a whole file.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const unsigned char* data() const { return data_; }
  std::size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
};

// Writes to "PATH.tmp.PID"; commit() flushes, fsyncs and renames onto PATH, then fsyncs the
// directory, so PATH is the old file or the whole new one even across a power loss. Destroyed
// without commit() (an exception, a failed run), it deletes the temporary file, so a reader
// never sees a partial PATH. Temporary files of PATH left by a killed process (one whose PID
// no longer runs) are deleted when the next AtomicFile of PATH opens. A PATH that is a device
// or a pipe (/dev/null, /dev/stdout, a FIFO) is written in place, with none of this.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, std::size_t n);
  void write(std::string_view s) { write(s.data(), s.size()); }
  // Writes `n` bytes over the start of the file, for a writer that learns its header only at
  // the end (after a placeholder of the same size); the next write goes after them.
  void rewrite_start(const void* data, std::size_t n);
  // What is written so far handed to the kernel: a full disk shows now (Error naming the file).
  void flush();
  std::FILE* stream() { return file_; }
  void commit();
  const std::string& path() const { return path_; }

 private:
  std::string path_, temp_path_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
  bool in_place_ = false;
  int pending_slot_ = -1;  // where remove_unfinished_files() finds the temporary file
  std::uint64_t appended_ = 0, written_back_ = 0;  // bytes given to write(), and sent to disk
};

// Whether `path` exists and is neither a regular file nor a directory: a device or a pipe
// (/dev/stdout, /dev/null, a FIFO), which AtomicFile writes in place.
bool is_device_or_pipe(const std::string& path);

// The bytes this process may still allocate: the kernel's MemAvailable, less where a cgroup v2
// limit (a container) or an address-space limit (ulimit -v) leaves less room.
std::uint64_t available_host_memory();

// Deletes the temporary files of every AtomicFile not yet committed. Async-signal-safe: for a
// signal handler that exits at once (a second Ctrl-C), so that nothing partial is left behind.
void remove_unfinished_files() noexcept;

// An exclusive advisory lock (flock) on PATH, a file (created if needed) or a directory, held
// until destruction; the kernel drops it when the process dies, so a killed holder never
// blocks the next run.
class FileLock {
 public:
  // Waits for the lock; `on_wait` (if set) is called once first when another process holds it.
  // While it waits, a non-zero `stop_signal` (if set) ends the wait with StoppedError.
  FileLock(const std::string& path, LogLine on_wait, const std::function<int()>& stop_signal = {});
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

bool file_exists(const std::string& path);
// Size and modification time, used to tell whether a cached encoding is stale.
struct FileStamp {
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
};
FileStamp file_stamp(const std::string& path);

}  // namespace w2v
