#pragma once
// Tokenizer and vocabulary. A token is a run of bytes between ASCII whitespace; '\n' ends a
// sentence; bytes are never interpreted, so UTF-8 passes through untouched.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "w2v/io.h"

namespace w2v {

inline constexpr std::size_t kMaxTokenBytes = 100;        // longer tokens are truncated
inline constexpr std::size_t kMaxSentenceTokens = 10000;  // longer lines are cut
// Dropped at the start of each input file (Windows editors begin UTF-8 text with it): it
// would otherwise glue itself to the first word, a second "the" in the vocabulary.
inline constexpr std::string_view kUtf8ByteOrderMark = "\xef\xbb\xbf";

struct TokenizerOptions {
  bool lowercase = false;  // ASCII A-Z only; other bytes unchanged
};

// Streams tokens from a file. next() returns false at end of input; `sentence_end` is true
// when the token is the last of its sentence (a newline followed it, the line reached
// kMaxSentenceTokens, or the file ended).
class Tokenizer {
 public:
  Tokenizer(const std::string& path, TokenizerOptions options);
  bool next(std::string_view& token, bool& sentence_end);
  std::uint64_t bytes_total() const { return in_.size(); }
  const std::string& path() const { return in_.path(); }

 private:
  InputFile in_;
  TokenizerOptions options_;
  char token_[kMaxTokenBytes];
  std::size_t tokens_in_sentence_ = 0;
  int pending_ = -2;  // one byte of look-ahead; -2 = none
};

// Transparent hashing so lookups by string_view do not allocate.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept;
};

class Vocab {
 public:
  static constexpr std::uint32_t kNotFound = 0xFFFFFFFFu;

  // Counts every token of the file in one streaming pass (memory grows with distinct
  // words, not corpus size), keeps words with count >= min_count, sorts by descending count
  // (ties keep first-occurrence order), then keeps the first max_vocab (0 = all).
  static Vocab build(const std::string& corpus_path, TokenizerOptions options,
                     std::uint64_t min_count, std::size_t max_vocab);
  // word2vec.c's -save-vocab / -read-vocab format: one "word count" line per word.
  static Vocab load(const std::string& path);
  void save(const std::string& path) const;
  // Builds from words and counts already in the final order (tests, and load()).
  static Vocab from_counts(std::vector<std::string> words, std::vector<std::uint64_t> counts,
                           const std::string& source);

  std::size_t size() const { return words_.size(); }
  const std::string& word(std::uint32_t id) const { return words_[id]; }
  std::uint64_t count(std::uint32_t id) const { return counts_[id]; }
  const std::vector<std::string>& words() const { return words_; }
  const std::vector<std::uint64_t>& counts() const { return counts_; }
  std::uint32_t find(std::string_view word) const;
  // Sum of counts: the in-vocabulary tokens of the corpus.
  std::uint64_t total_count() const { return total_; }
  // FNV-1a over the words in id order: an encoded corpus records it so that it is never
  // read with another vocabulary.
  std::uint64_t hash() const { return hash_; }

 private:
  void index(const std::string& source);
  std::vector<std::string> words_;
  std::vector<std::uint64_t> counts_;
  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> ids_;
  std::uint64_t total_ = 0;
  std::uint64_t hash_ = 0;
};

}  // namespace w2v
