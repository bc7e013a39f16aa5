#pragma once
// Sampling semantics shared by every trainer: subsampling of frequent words, dynamic
// windows and noise words. The tables are plain arrays so the GPU trainer can copy them.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "w2v/corpus.h"
#include "w2v/vocab.h"

namespace w2v {

// splitmix64: tiny state, passes BigCrush, one multiply-xorshift chain per draw.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 24 random bits: exact in float.
  float uniform() { return static_cast<float>(next() >> 40) * 0x1.0p-24f; }
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
  std::uint32_t sample(Rng& rng) const {
    std::uint64_t r = rng.next();
    auto slot = static_cast<std::uint32_t>(((r >> 32) * size_) >> 32);
    return static_cast<std::uint32_t>(r) < threshold_[slot] ? slot : alias_[slot];
  }
  std::size_t size() const { return size_; }
  // Slot i keeps i when the low 32 random bits are below threshold[i], else gives alias[i].
  const std::vector<std::uint32_t>& thresholds() const { return threshold_; }
  const std::vector<std::uint32_t>& aliases() const { return alias_; }
  // The distribution the table encodes, for tests.
  std::vector<double> probabilities() const;

 private:
  std::uint64_t size_ = 0;
  std::vector<std::uint32_t> threshold_, alias_;
};

// word2vec.c's keep probability for a word of relative frequency f = count/total:
// sqrt(t/f) + t/f, capped at 1; t = 0 disables subsampling.
double keep_probability(std::uint64_t count, std::uint64_t total, double sample);

struct SamplingTables {
  std::vector<float> keep;  // [V] probability of keeping each occurrence
  AliasTable noise;         // unigram^exponent
  static SamplingTables build(const Vocab& vocab, double sample, double ns_exponent);
};

// Reads one sentence of the encoded corpus from entries[position] up to its end marker or
// `end`, adds every token to `words` (word2vec.c's count, before subsampling) and keeps each
// in `sentence` with probability keep[id]. Returns the position after the sentence. Every
// trainer reads the corpus through this, so all of them see the same examples.
inline std::size_t read_sentence(const std::uint32_t* entries, std::size_t position,
                                 std::size_t end, const float* keep, Rng& rng,
                                 std::vector<std::uint32_t>& sentence, std::uint64_t& words) {
  sentence.clear();
  while (position < end) {
    std::uint32_t id = entries[position++];
    if (id == kSentenceEnd) break;
    ++words;
    if (keep[id] < 1.0f && rng.uniform() >= keep[id]) continue;
    sentence.push_back(id);
  }
  return position;
}

// The effective window of one center: uniform in 1..window.
inline std::uint32_t draw_window(Rng& rng, std::uint32_t window) { return 1 + rng.below(window); }

}  // namespace w2v
