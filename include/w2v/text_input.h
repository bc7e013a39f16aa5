#pragma once
// The corpus as one stream of bytes: a file, a comma-separated list of files, or a directory
// (its regular files in sorted order), each plain or compressed (.gz, .xz, .zst: decompressed
// while read, never whole in memory). The files' bytes are concatenated in order: shards
// equal the concatenated file.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace w2v {

// The paths a --corpus argument lists (comma-separated), as given: files or directories.
std::vector<std::string> corpus_items(const std::string& corpus);

// The files a --corpus argument names, in order. Throws w2v::Error naming the path when one
// is missing, or a directory holds no regular file.
std::vector<std::string> corpus_files(const std::string& corpus);

// One 64-bit stamp of every file's name, size and modification time: a cache built from
// the files is stale when it differs. `total_bytes` receives their summed (on-disk) size.
std::uint64_t corpus_stamp(const std::vector<std::string>& files, std::uint64_t& total_bytes);

// Reads the concatenated (decompressed) bytes of `files`. Errors (unreadable, truncated or
// corrupt compressed data) throw w2v::Error naming the file.
class TextReader {
 public:
  explicit TextReader(std::vector<std::string> files);
  ~TextReader();
  TextReader(const TextReader&) = delete;
  TextReader& operator=(const TextReader&) = delete;

  // Up to `max` bytes into dst; 0 at the end of the last file.
  std::size_t read(char* dst, std::size_t max);
  // On-disk bytes of the files consumed so far, and in all: for progress.
  std::uint64_t input_bytes_read() const { return input_done_ + input_in_file_; }
  // The file that holds decompressed byte `offset` of the stream (for error messages; any
  // thread may ask while another reads).
  std::string file_at(std::uint64_t offset) const;

  class Decoder;  // one file's bytes, decompressed (host/text_input.cc)

 private:
  bool open_next();
  std::vector<std::string> files_;
  mutable std::mutex starts_mutex_;
  std::vector<std::uint64_t> starts_;  // decompressed offset where each opened file begins
  std::size_t next_ = 0;
  std::unique_ptr<Decoder> decoder_;
  char head_[3];  // a file's first bytes, read to look for a byte-order mark, not yet returned
  std::size_t head_begin_ = 0, head_end_ = 0;
  std::uint64_t offset_ = 0, input_done_ = 0, input_in_file_ = 0;
};

}  // namespace w2v
