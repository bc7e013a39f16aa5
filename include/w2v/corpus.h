#pragma once
// The encoded corpus: the text tokenized once into uint32 vocabulary ids, read back with
// mmap. Sentence ends are kept as a sentinel entry; out-of-vocabulary tokens are dropped.
//
// File layout (little-endian):
//   CorpusHeader (80 bytes)
//   entry_count x uint32: a vocabulary id, or kSentenceEnd
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "w2v/io.h"
#include "w2v/vocab.h"

namespace w2v {

class Trace;

inline constexpr std::uint32_t kSentenceEnd = 0xFFFFFFFFu;

struct CorpusHeader {
  static constexpr char kMagic[8] = {'W', '2', 'V', 'T', 'O', 'K', 'S', '\0'};
  static constexpr std::uint32_t kVersion = 3;
  char magic[8];
  std::uint32_t version;
  std::uint32_t vocab_size;
  std::uint64_t vocab_hash;
  std::uint64_t token_count;  // in-vocabulary tokens: the words of "words/s"
  std::uint64_t entry_count;  // tokens plus sentence ends
  // The text it came from, to detect a stale cache: its size in bytes (every file's, summed)
  // and corpus_stamp() of its files (names, sizes, modification times).
  std::uint64_t source_size;
  std::uint64_t source_stamp;
  std::uint32_t lowercase;
  std::uint32_t reserved;
  std::uint64_t entries_checksum;  // XXH3-64 of the entries, verified on load
  std::uint64_t reserved2;

  // The header of an encoding with `vocab`: `tokens` token ids and `entries` entries (ids and
  // sentence ends), from text of `source_size` bytes stamped `source_stamp` (0, 0: no text).
  static CorpusHeader make(const Vocab& vocab, std::uint64_t tokens, std::uint64_t entries,
                           std::uint64_t source_size, std::uint64_t source_stamp, bool lowercase);
};
static_assert(sizeof(CorpusHeader) == 80);

// Writes an encoded corpus through AtomicFile: a placeholder header, the entries (hashed as
// they go), then finish() writes the real header, which an encoder knows only at the end,
// and commits the file.
class EncodedCorpusWriter {
 public:
  explicit EncodedCorpusWriter(std::string path);
  ~EncodedCorpusWriter();
  void write(const std::uint32_t* entries, std::size_t count);
  // `header` from CorpusHeader::make; its checksum is filled in here.
  void finish(CorpusHeader header);
  const std::string& path() const { return out_.path(); }

 private:
  AtomicFile out_;
  struct Hash;
  std::unique_ptr<Hash> hash_;
};

// A half-open range of entries that starts at the beginning of a sentence.
struct CorpusRange {
  std::size_t begin = 0, end = 0;
};

// `parts` ranges of near-equal size covering entries [0, count), each starting at a sentence:
// a cut at count*p/parts moves forward to the next sentence start. 64-bit throughout, so
// corpora past 2^32 entries split as small ones do.
std::vector<CorpusRange> split_at_sentences(const std::uint32_t* entries, std::size_t count,
                                            std::size_t parts);

class EncodedCorpus {
 public:
  // Streams one plain text file once on one thread and writes the encoding through
  // AtomicFile: the reference that build_encoded_corpus() must equal byte for byte.
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
  std::vector<CorpusRange> split(std::size_t parts) const {
    return split_at_sentences(entries_, entry_count(), parts);
  }

 private:
  std::unique_ptr<MappedFile> file_;
  CorpusHeader header_{};
  const std::uint32_t* entries_ = nullptr;
};

// How build_encoded_corpus() counts and encodes.
struct CorpusBuildOptions {
  TokenizerOptions tokenizer;
  std::uint64_t min_count = 5;
  std::size_t max_vocab = 0;
  std::size_t max_count_words = 0;  // count_words_cap()
  const Vocab* vocab = nullptr;  // given: encode with it, count nothing
  unsigned threads = 0;          // 0: all cores
  std::string name;              // the corpus in error messages (the --corpus argument)
  // Tuning, for the tests: text bytes per block a thread tokenizes (0: 8 MiB), provisional
  // ids kept in memory before the rest spill to a scratch file (0: 2^30).
  std::size_t block_bytes = 0, memory_budget_ids = 0;
  LogLine log = nullptr;          // progress lines
  double progress_interval = 1.0;  // seconds between them
  Trace* trace = nullptr;          // --trace: its stages on the "prepare" track
  // Polled as the text is read and as the encoding is written: a non-zero signal stops the
  // build with StoppedError, leaving no file behind.
  std::function<int()> stop_signal;
};

// The distinct words counting may hold, all threads together: `max_count_words`, or where
// that is 0, as many as a quarter of the physical memory holds. Past it, each thread's table
// forgets its rarest words (word2vec.c's vocabulary reduction).
std::size_t count_words_cap(std::size_t max_count_words);

// The vocabulary of the text `files` (one corpus, their bytes concatenated; compressed ones
// decompressed while read: include/w2v/text_input.h) and its encoding at out_path, in one
// parallel pass over the text: threads tokenize byte ranges cut between tokens and count
// into their own tables, writing provisional ids; once the counts are merged and the
// vocabulary sorted and cut, one pass maps the provisional ids to the final ones. The
// vocabulary and the file are those Vocab::build and EncodedCorpus::encode give, byte for
// byte, whatever the thread count, unless the corpus has more distinct words than
// count_words_cap(): then the rarest are forgotten while counting (a log line says so), a
// forgotten word's earlier tokens are not encoded, and the result depends on the thread
// count. Returns the vocabulary (the given one, if any).
Vocab build_encoded_corpus(const std::vector<std::string>& files, const CorpusBuildOptions& options,
                           const std::string& out_path);

// What `w2v train` needs from a corpus argument: the vocabulary and its encoding, built or
// taken from the cache.
struct CorpusOptions {
  std::string corpus_path;  // text (files, a directory: text_input.h), or an encoded file
  std::string vocab_path;   // "" = cache file; an existing file is read, else written
  std::string cache_dir;    // where cached vocabulary/encoding live; "" = "."
  TokenizerOptions tokenizer;
  std::uint64_t min_count = 5;
  std::size_t max_vocab = 0;
  std::size_t max_count_words = 0;  // count_words_cap()
  unsigned threads = 0;  // for counting and encoding; 0: all cores
  bool rebuild = false;  // build the cache again even where it looks current
  double progress_interval = 1.0;  // seconds between progress lines while preparing
  Trace* trace = nullptr;          // --trace: the preparation's stages on the "prepare" track
  std::function<int()> stop_signal;  // CorpusBuildOptions::stop_signal
};

struct PreparedCorpus {
  Vocab vocab;
  std::string encoded_path;
  bool reused_cache = false;  // the cache's files were taken as they were (rebuild can redo them)
};

// `log` receives one-line status messages ("building vocabulary ..."). Processes preparing
// the same cache directory at once take turns (a lock on the directory): one builds, the
// others wait and reuse what it built.
PreparedCorpus prepare_corpus(const CorpusOptions& options, LogLine log = nullptr);

}  // namespace w2v
