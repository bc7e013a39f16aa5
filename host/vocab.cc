#include "w2v/vocab.h"

#include <algorithm>
#include <charconv>
#include <numeric>

#include "w2v/error.h"

namespace w2v {

namespace {
constexpr bool is_space(int c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
constexpr std::uint64_t kFnvOffset = 1469598103934665603ULL;
constexpr std::uint64_t kFnvPrime = 1099511628211ULL;
std::uint64_t fnv1a(std::uint64_t h, std::string_view s) {
  for (unsigned char c : s) h = (h ^ c) * kFnvPrime;
  return h;
}
}  // namespace

std::size_t StringHash::operator()(std::string_view s) const noexcept {
  return static_cast<std::size_t>(fnv1a(kFnvOffset, s));
}

Tokenizer::Tokenizer(const std::string& path, TokenizerOptions options)
    : in_(path), options_(options) {
  in_.skip_prefix(kUtf8ByteOrderMark);
}

bool Tokenizer::next(std::string_view& token, bool& sentence_end) {
  int c = pending_ == -2 ? in_.get() : pending_;
  pending_ = -2;
  while (c != -1 && is_space(c)) {
    // A newline ends the sentence of the token before it; if that token was already
    // reported, the sentence end is reported with it by the look-ahead below.
    c = in_.get();
  }
  if (c == -1) return false;
  std::size_t len = 0;
  while (c != -1 && !is_space(c)) {
    // Text never holds NUL; a file that does is binary (an image, a compressed or UTF-16
    // file) and would otherwise train on garbage or fail later with a puzzling message.
    if (c == 0)
      throw_file_error(in_.path(), "contains a NUL byte: binary data, not text (decompress it, "
                                   "or convert UTF-16 to UTF-8)");
    if (len < kMaxTokenBytes) {
      if (options_.lowercase && c >= 'A' && c <= 'Z') c += 'a' - 'A';
      token_[len++] = static_cast<char>(c);
    }
    c = in_.get();
  }
  // Look ahead through spaces and tabs for the newline that would end this sentence.
  while (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f') c = in_.get();
  ++tokens_in_sentence_;
  sentence_end = c == '\n' || c == -1 || tokens_in_sentence_ >= kMaxSentenceTokens;
  if (sentence_end) tokens_in_sentence_ = 0;
  pending_ = c;
  token = std::string_view(token_, len);
  return true;
}

Vocab Vocab::build(const std::string& corpus_path, TokenizerOptions options,
                   std::uint64_t min_count, std::size_t max_vocab) {
  Tokenizer tokenizer(corpus_path, options);
  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> first_seen;
  std::vector<std::string> words;
  std::vector<std::uint64_t> counts;
  std::string_view token;
  bool sentence_end = false;
  std::uint64_t tokens = 0;
  while (tokenizer.next(token, sentence_end)) {
    ++tokens;
    auto it = first_seen.find(token);
    if (it == first_seen.end()) {
      first_seen.emplace(std::string(token), static_cast<std::uint32_t>(words.size()));
      words.emplace_back(token);
      counts.push_back(1);
    } else {
      ++counts[it->second];
    }
  }
  if (tokens == 0) throw_file_error(corpus_path, "the corpus is empty (no tokens)");
  first_seen.clear();

  std::vector<std::uint32_t> order;
  for (std::uint32_t i = 0; i < words.size(); ++i)
    if (counts[i] >= min_count) order.push_back(i);
  if (order.empty())
    throw_file_error(corpus_path, "no word occurs at least " + std::to_string(min_count) +
                                      " times (--min-count); the vocabulary would be empty");
  std::stable_sort(order.begin(), order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return counts[a] > counts[b]; });
  if (max_vocab > 0 && order.size() > max_vocab) order.resize(max_vocab);
  std::vector<std::string> kept_words;
  std::vector<std::uint64_t> kept_counts;
  kept_words.reserve(order.size());
  kept_counts.reserve(order.size());
  for (std::uint32_t i : order) {
    kept_words.push_back(std::move(words[i]));
    kept_counts.push_back(counts[i]);
  }
  return from_counts(std::move(kept_words), std::move(kept_counts), corpus_path);
}

Vocab Vocab::from_counts(std::vector<std::string> words, std::vector<std::uint64_t> counts,
                         const std::string& source) {
  Vocab v;
  v.words_ = std::move(words);
  v.counts_ = std::move(counts);
  v.index(source);
  return v;
}

void Vocab::index(const std::string& source) {
  if (words_.size() != counts_.size())
    throw_file_error(source, "words and counts differ in length");
  if (words_.empty()) throw_file_error(source, "the vocabulary is empty");
  if (words_.size() >= kNotFound) throw_file_error(source, "too many words for 32-bit ids");
  ids_.clear();
  ids_.reserve(words_.size());
  hash_ = kFnvOffset;
  total_ = 0;
  for (std::uint32_t i = 0; i < words_.size(); ++i) {
    if (!ids_.emplace(words_[i], i).second)
      throw_file_error(source, "word '" + words_[i] + "' appears twice in the vocabulary");
    hash_ = fnv1a(hash_, words_[i]);
    hash_ = (hash_ ^ 0xFFu) * kFnvPrime;  // separator: {"ab","c"} != {"a","bc"}
    if (counts_[i] > ~std::uint64_t{0} - total_)
      throw_file_error(source, "the word counts add up to more than 2^64 (corrupt)");
    total_ += counts_[i];
  }
}

std::uint32_t Vocab::find(std::string_view word) const {
  auto it = ids_.find(word);
  return it == ids_.end() ? kNotFound : it->second;
}

Vocab Vocab::load(const std::string& path) {
  InputFile in(path);
  std::vector<std::string> words;
  std::vector<std::uint64_t> counts;
  std::string line;
  std::size_t line_no = 0;
  while (in.read_line(line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto space = line.rfind(' ');
    const char* first = line.data() + (space == std::string::npos ? 0 : space + 1);
    const char* last = line.data() + line.size();
    std::uint64_t count = 0;
    auto [ptr, ec] = std::from_chars(first, last, count);
    if (space == std::string::npos || space == 0 || ec != std::errc() || ptr != last)
      throw_file_error(path, "line " + std::to_string(line_no) +
                                 ": expected 'word count' (word2vec vocabulary format)");
    std::string word = line.substr(0, space);
    // A word is what the tokenizer yields: no whitespace (it could never match a token, and
    // no vector file could hold it).
    if (std::any_of(word.begin(), word.end(), [](char c) { return is_space(c); }))
      throw_file_error(path, "line " + std::to_string(line_no) + ": the word '" + word +
                                 "' contains whitespace");
    words.push_back(std::move(word));
    counts.push_back(count);
  }
  if (words.empty()) throw_file_error(path, "the vocabulary file is empty");
  return from_counts(std::move(words), std::move(counts), path);
}

void Vocab::save(const std::string& path) const {
  AtomicFile out(path);
  std::string line;
  for (std::size_t i = 0; i < words_.size(); ++i) {
    line.assign(words_[i]).append(" ").append(std::to_string(counts_[i])).append("\n");
    out.write(line);
  }
  out.commit();
}

}  // namespace w2v
