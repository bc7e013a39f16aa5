#pragma once
// Sampling semantics shared by every trainer: subsampling of frequent words, dynamic
// windows and noise words. The tables are plain arrays so the GPU trainer can copy them.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "w2v/checkpoint.h"
#include "w2v/config.h"
#include "w2v/corpus.h"
#include "w2v/kernels/draws.h"
#include "w2v/vocab.h"

namespace w2v {

// splitmix64: tiny state, passes BigCrush, one multiply-xorshift chain per draw.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  // The whole state: Rng(state()) continues the same stream.
  std::uint64_t state() const { return state_; }
  static constexpr std::uint64_t kIncrement = 0x9E3779B97F4A7C15ULL;
  std::uint64_t next() { return output(state_ += kIncrement); }
  // Uniform in [0, 1) with 24 random bits: exact in float.
  float uniform() { return uniform_of(next()); }
  // The draw a state gives, for loops that keep the state in a register: next() is
  // output(state += kIncrement).
  static std::uint64_t output(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  static float uniform_of(std::uint64_t draw) {
    return static_cast<float>(draw >> 40) * 0x1.0p-24f;
  }
  // Uniform in [0, n) by multiply-shift (Lemire); bias below 2^-32, irrelevant here.
  std::uint32_t below(std::uint32_t n) {
    return static_cast<std::uint32_t>(((next() >> 32) * static_cast<std::uint64_t>(n)) >> 32);
  }

 private:
  std::uint64_t state_;
};

// Per-worker RNG seeds: worker w of a run seeded s gets an independent stream.
inline std::uint64_t worker_seed(std::uint64_t seed, std::uint64_t worker) {
  Rng mix(seed ^ (0xD1B54A32D192ED03ULL * (worker + 1)));
  return mix.next();
}

// Walker/Vose alias table: O(1) draws from a discrete distribution.
class AliasTable {
 public:
  AliasTable() = default;
  explicit AliasTable(const std::vector<double>& weights);
  // alias_draw's choice, from one 8-byte entry: a draw is one random access, one cache miss
  // in a large vocabulary, where two arrays would make it two.
  std::uint32_t sample(Rng& rng) const {
    const std::uint64_t r = rng.next();
    const std::uint32_t slot =
        alias_slot(static_cast<std::uint32_t>(r >> 32), static_cast<std::uint32_t>(size_));
    const Slot entry = slots_[slot];
    return static_cast<std::uint32_t>(r) < entry.threshold ? slot : entry.alias;
  }
  std::size_t size() const { return size_; }
  // Slot i keeps i when the low 32 random bits are below threshold[i], else gives alias[i]:
  // the arrays alias_draw (and the GPU) take.
  std::vector<std::uint32_t> thresholds() const;
  std::vector<std::uint32_t> aliases() const;
  // The distribution the table encodes, for tests.
  std::vector<double> probabilities() const;

 private:
  struct Slot {
    std::uint32_t threshold, alias;
  };
  std::uint64_t size_ = 0;
  std::vector<Slot> slots_;
};

// word2vec.c's keep probability for a word of relative frequency f = count/total:
// sqrt(t/f) + t/f, capped at 1; t = 0 disables subsampling.
double keep_probability(std::uint64_t count, std::uint64_t total, double sample);
double keep_probability(double frequency, double sample);  // f given directly

// --loss hs: the Huffman tree of the vocabulary's counts (word2vec.c's CreateBinaryTree), so
// that a word's path, and the cost of predicting it, is short for frequent words. Inner node
// n (0 .. V-2) is the output table's row n; V - 2 is the root. A word's path lists its inner
// nodes from the root down, each with the branch taken: code 0 is the node's label 1 (the
// sigmoid of its score is the probability of branch 0).
class HuffmanTree {
 public:
  // counts[w] of every word; at least 2 words.
  static HuffmanTree build(const std::vector<std::uint64_t>& counts);
  std::size_t words() const { return offsets_.empty() ? 0 : offsets_.size() - 1; }
  std::size_t path_length(std::uint32_t word) const {
    return static_cast<std::size_t>(offsets_[word + 1] - offsets_[word]);
  }
  const std::uint32_t* nodes(std::uint32_t word) const { return nodes_.data() + offsets_[word]; }
  const std::uint8_t* codes(std::uint32_t word) const { return codes_.data() + offsets_[word]; }

 private:
  std::vector<std::uint64_t> offsets_;  // [V + 1]: word w's path is [offsets[w], offsets[w+1])
  std::vector<std::uint32_t> nodes_;
  std::vector<std::uint8_t> codes_;
};

struct SamplingTables {
  std::vector<float> keep;  // [V] probability of keeping each occurrence
  AliasTable noise;         // unigram^exponent
  HuffmanTree tree;         // --loss hs only
  static SamplingTables build(const Vocab& vocab, double sample, double ns_exponent);
  // A run's tables: its --sample and its --ns-exponent as resolved for its model.
  static SamplingTables build(const Vocab& vocab, const TrainConfig& config) {
    SamplingTables t = build(vocab, config.sample, config.noise_exponent());
    if (config.loss == LossKind::kHierarchicalSoftmax) t.tree = HuffmanTree::build(vocab.counts());
    return t;
  }
};

// The one walk over the corpus that every trainer and packer makes: the sentences of `range`,
// `epochs` times, each subsampled as it is read. It owns the worker's RNG, which the caller
// goes on drawing windows and noise words from, so that all of them see the same examples.
class SentenceStream {
 public:
  SentenceStream(const EncodedCorpus& corpus, const SamplingTables& tables, CorpusRange range,
                 std::uint32_t epochs, std::uint64_t seed)
      : SentenceStream(corpus.entries(), tables.keep.data(), range, epochs, seed) {}
  // `entries`: an encoded corpus's entries; `keep`: SamplingTables::keep.
  SentenceStream(const std::uint32_t* entries, const float* keep, CorpusRange range,
                 std::uint32_t epochs, std::uint64_t seed)
      : entries_(entries),
        keep_(keep),
        range_(range),
        epochs_(epochs),
        position_(range.begin),
        rng_(seed) {}

  // Reads the next sentence: every token up to its end marker adds to `words` (word2vec.c's
  // count, before subsampling) and is kept, in order, with probability keep[id]: the kept
  // tokens go to `out`, which has room for kMaxSentenceTokens, and their number to `kept`.
  // False when every epoch of the range has been read. A sentence ends after
  // kMaxSentenceTokens tokens at the latest (an encoded corpus has none longer).
  bool next(std::uint32_t* out, std::size_t& kept, std::uint64_t& words) {
    while (position_ >= range_.end) {
      if (++epoch_ >= epochs_) return false;
      position_ = range_.begin;
    }
    // Locals, not members, in the loop: stores to `out` could alias the members, which would
    // then go through memory on every token. Whether a token is kept is a coin toss for a
    // frequent word, so it is selected, not branched on; the RNG state advances only for
    // words that subsampling may drop, as Rng::uniform() would.
    std::size_t at = position_, n = 0;
    const std::size_t stop = std::min(range_.end, position_ + kMaxSentenceTokens);
    std::uint64_t state = rng_.state();
    bool ended = false;
    while (at < stop) {
      const std::uint32_t id = entries_[at++];
      if (id == kSentenceEnd) {
        ended = true;
        break;
      }
      const float keep = keep_[id];
      // A word kept always (keep 1) leaves the state as it is and passes u < keep with any u.
      state += Rng::kIncrement & (0 - static_cast<std::uint64_t>(keep < 1.0f));
      out[n] = id;
      n += Rng::uniform_of(Rng::output(state)) < keep;
    }
    words += at - position_ - ended;
    if (!ended && at < range_.end && entries_[at] == kSentenceEnd) ++at;
    position_ = at;
    rng_ = Rng(state);
    kept = n;
    return true;
  }
  bool next(std::vector<std::uint32_t>& sentence, std::uint64_t& words) {
    std::size_t n = 0;
    const bool read = next(buffer_.data(), n, words);
    sentence.assign(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n));
    return read;
  }
  // The next sentence with at least one (center, context) pair: at least 2 kept tokens.
  bool next_with_context(std::uint32_t* out, std::size_t& kept, std::uint64_t& words) {
    while (next(out, kept, words))
      if (kept >= 2) return true;
    kept = 0;
    return false;
  }
  bool next_with_context(std::vector<std::uint32_t>& sentence, std::uint64_t& words) {
    while (next(sentence, words))
      if (sentence.size() >= 2) return true;
    sentence.clear();
    return false;
  }

  Rng& rng() { return rng_; }
  // The pass over the range the last sentence read belongs to (0-based).
  std::uint32_t epoch() const { return epoch_; }

  // Where the walk stands; restore() continues from such a state, which must come from a
  // stream over the same range and epochs (a checkpoint's is checked by valid_state first).
  // The sentence fields are the packers' (WalkerState), left empty here.
  WalkerState state() const { return {position_, epoch_, rng_.state(), {}, 0}; }
  bool valid_state(const WalkerState& s, std::size_t vocab) const {
    bool ids_ok = s.sentence.size() <= kMaxSentenceTokens && s.next_center <= s.sentence.size();
    for (const std::uint32_t id : s.sentence) ids_ok = ids_ok && id < vocab;
    return ids_ok && s.position >= range_.begin && s.position <= range_.end && s.epoch <= epochs_ &&
           (s.position == range_.begin || entries_[s.position - 1] == kSentenceEnd);
  }
  void restore(const WalkerState& s) {
    position_ = static_cast<std::size_t>(s.position);
    epoch_ = s.epoch;
    rng_ = Rng(s.rng);
  }

 private:
  const std::uint32_t* entries_;
  const float* keep_;
  CorpusRange range_;
  std::uint32_t epochs_, epoch_ = 0;
  std::size_t position_;
  Rng rng_;
  std::vector<std::uint32_t> buffer_ = std::vector<std::uint32_t>(kMaxSentenceTokens);
};

// The effective window of one center: uniform in 1..window.
inline std::uint32_t draw_window(Rng& rng, std::uint32_t window) { return 1 + rng.below(window); }

}  // namespace w2v
