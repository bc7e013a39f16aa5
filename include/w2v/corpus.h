#pragma once
// The encoded corpus: the text tokenized once into uint32 vocabulary ids, read back with
// mmap. Sentence ends are kept as a sentinel entry; out-of-vocabulary tokens are dropped.
//
// File layout (little-endian):
//   CorpusHeader (64 bytes)
//   entry_count x uint32: a vocabulary id, or kSentenceEnd
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "w2v/io.h"
#include "w2v/vocab.h"

namespace w2v {

inline constexpr std::uint32_t kSentenceEnd = 0xFFFFFFFFu;

struct CorpusHeader {
  static constexpr char kMagic[8] = {'W', '2', 'V', 'T', 'O', 'K', 'S', '\0'};
  static constexpr std::uint32_t kVersion = 1;
  char magic[8];
  std::uint32_t version;
  std::uint32_t vocab_size;
  std::uint64_t vocab_hash;
  std::uint64_t token_count;  // in-vocabulary tokens: the words of "words/s"
  std::uint64_t entry_count;  // tokens plus sentence ends
  std::uint64_t source_size;  // the text it came from, to detect a stale cache
  std::int64_t source_mtime_ns;
  std::uint32_t lowercase;
  std::uint32_t reserved;
};
static_assert(sizeof(CorpusHeader) == 64);

// A half-open range of entries that starts at the beginning of a sentence.
struct CorpusRange {
  std::size_t begin = 0, end = 0;
};

class EncodedCorpus {
 public:
  // Streams the text once and writes the encoding through AtomicFile.
  static void encode(const std::string& text_path, const Vocab& vocab, TokenizerOptions options,
                     const std::string& out_path);
  // True when the file starts with the encoded-corpus magic.
  static bool is_encoded(const std::string& path);
  // Reads only the header; throws on a bad magic or version.
  static CorpusHeader read_header(const std::string& path);

  // Maps the file and validates it fully against `vocab`: header, size, every id.
  EncodedCorpus(const std::string& path, const Vocab& vocab);

  const std::uint32_t* entries() const { return entries_; }
  std::size_t entry_count() const { return header_.entry_count; }
  std::uint64_t token_count() const { return header_.token_count; }
  const CorpusHeader& header() const { return header_; }
  const std::string& path() const { return file_->path(); }
  // `parts` ranges of near-equal size covering all entries, each starting at a sentence.
  std::vector<CorpusRange> split(std::size_t parts) const;

 private:
  std::unique_ptr<MappedFile> file_;
  CorpusHeader header_{};
  const std::uint32_t* entries_ = nullptr;
};

// What `w2v train` needs from a corpus argument: the vocabulary and its encoding, built or
// taken from the cache.
struct CorpusOptions {
  std::string corpus_path;  // text, or an already encoded file
  std::string vocab_path;   // "" = cache file; an existing file is read, else written
  std::string cache_dir;    // where cached vocabulary/encoding live; "" = "."
  TokenizerOptions tokenizer;
  std::uint64_t min_count = 5;
  std::size_t max_vocab = 0;
};

struct PreparedCorpus {
  Vocab vocab;
  std::string encoded_path;
  bool reused_cache = false;
};

// `log` receives one-line status messages ("building vocabulary ...").
PreparedCorpus prepare_corpus(const CorpusOptions& options, LogLine log = nullptr);

}  // namespace w2v
