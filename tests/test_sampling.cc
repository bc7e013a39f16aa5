#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "w2v/error.h"
#include "w2v/sampling.h"

namespace w2v {
namespace {

// Pearson's chi-square statistic of observed counts against expected probabilities.
double chi_square(const std::vector<std::uint64_t>& observed, const std::vector<double>& p,
                  std::uint64_t draws) {
  double chi = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    double expected = p[i] * static_cast<double>(draws);
    double d = static_cast<double>(observed[i]) - expected;
    chi += d * d / expected;
  }
  return chi;
}

// Upper bound well past the 99.9th percentile of chi-square with k degrees of freedom
// (Wilson-Hilferty, z = 4.0): a correct sampler fails it about once in 30,000 runs.
double chi_square_bound(double k) {
  double z = 4.0, t = 2.0 / (9.0 * k);
  return k * std::pow(1.0 - t + z * std::sqrt(t), 3.0);
}

TEST(AliasTable, FrequenciesMatchZipfTargetByChiSquare) {
  std::vector<double> weights(1000);
  for (std::size_t i = 0; i < weights.size(); ++i) weights[i] = std::pow(1.0 / (i + 1), 0.75);
  AliasTable table(weights);
  double sum = std::accumulate(weights.begin(), weights.end(), 0.0);
  std::vector<double> p(weights.size());
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = weights[i] / sum;
  // The table encodes the distribution exactly up to 32-bit thresholds.
  std::vector<double> encoded = table.probabilities();
  for (std::size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(encoded[i], p[i], 1e-9);

  Rng rng(42);
  const std::uint64_t draws = 5'000'000;
  std::vector<std::uint64_t> counts(p.size(), 0);
  for (std::uint64_t n = 0; n < draws; ++n) ++counts[table.sample(rng)];
  double chi = chi_square(counts, p, draws);
  EXPECT_LT(chi, chi_square_bound(p.size() - 1)) << "chi-square " << chi;
  // And the test can fail: the same counts against a different target are rejected.
  std::vector<double> flat(p.size(), 1.0 / p.size());
  EXPECT_GT(chi_square(counts, flat, draws), chi_square_bound(p.size() - 1));
}

TEST(AliasTable, HandlesDegenerateDistributions) {
  AliasTable single(std::vector<double>{3.0});
  Rng rng(1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(single.sample(rng), 0u);
  AliasTable with_zero(std::vector<double>{0.0, 1.0, 0.0, 1.0});
  for (int i = 0; i < 10000; ++i) {
    std::uint32_t s = with_zero.sample(rng);
    EXPECT_TRUE(s == 1 || s == 3) << s;
  }
  EXPECT_THROW(AliasTable(std::vector<double>{}), Error);
  EXPECT_THROW(AliasTable(std::vector<double>{0.0, 0.0}), Error);
}

// The CPU draws from the table's interleaved entries, the GPU (and alias_draw) from its two
// arrays: the same word for the same random bits.
TEST(AliasTable, SampleIsAliasDrawOnItsArrays) {
  std::mt19937_64 gen(5);
  std::vector<double> weights(1000);
  for (auto& w : weights) w = std::pow(double(gen() % 100000 + 1), 0.75);
  const AliasTable table(weights);
  const std::vector<std::uint32_t> threshold = table.thresholds(), alias = table.aliases();
  Rng rng(3), copy(3);
  std::size_t from_alias = 0;
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t r = copy.next();
    const std::uint32_t want =
        alias_draw(static_cast<std::uint32_t>(r >> 32), static_cast<std::uint32_t>(r),
                   threshold.data(), alias.data(), static_cast<std::uint32_t>(weights.size()));
    ASSERT_EQ(table.sample(rng), want) << "draw " << i;
    from_alias += want != static_cast<std::uint32_t>(((r >> 32) * weights.size()) >> 32);
  }
  EXPECT_GT(from_alias, 10000u);  // both branches of the choice are exercised
}

TEST(Subsampling, KeepProbabilityFollowsWord2vecFormula) {
  const std::uint64_t total = 1'000'000;
  const double t = 1e-4;
  // f = 0.05: sqrt(t/f) + t/f.
  EXPECT_NEAR(keep_probability(50'000, total, t), std::sqrt(1e-4 / 0.05) + 1e-4 / 0.05, 1e-12);
  // Rare words (f <= t) are always kept.
  EXPECT_EQ(keep_probability(100, total, t), 1.0);
  EXPECT_EQ(keep_probability(1, total, t), 1.0);
  // Off when t = 0.
  EXPECT_EQ(keep_probability(500'000, total, 0.0), 1.0);
  // Monotone: the more frequent, the more often dropped.
  EXPECT_LT(keep_probability(200'000, total, t), keep_probability(20'000, total, t));
}

TEST(Subsampling, EmpiricalKeepRateMatchesTable) {
  Vocab vocab =
      Vocab::from_counts({"the", "of", "cat", "rare"}, {600'000, 300'000, 99'000, 1'000}, "test");
  SamplingTables tables = SamplingTables::build(vocab, 1e-3, 0.75);
  Rng rng(7);
  for (std::uint32_t w = 0; w < vocab.size(); ++w) {
    const int n = 200'000;
    int kept = 0;
    for (int i = 0; i < n; ++i) kept += rng.uniform() < tables.keep[w];
    double p = tables.keep[w];
    double sd = std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(static_cast<double>(kept) / n, p, 5 * sd + 1e-12) << vocab.word(w);
  }
  EXPECT_LT(tables.keep[0], tables.keep[2]);
  EXPECT_EQ(tables.keep[3], 1.0f);
}

// SentenceStream reads a sentence in one branch-free loop; this is what it must equal, token
// by token: a word with keep < 1 draws Rng::uniform() and is dropped when the draw is >= keep.
struct PlainWalk {
  const std::vector<std::uint32_t>& entries;
  const std::vector<float>& keep;
  CorpusRange range;
  std::uint32_t epochs, epoch = 0;
  std::size_t position;
  Rng rng;
  bool next(std::vector<std::uint32_t>& sentence, std::uint64_t& words) {
    sentence.clear();
    while (position >= range.end) {
      if (++epoch >= epochs) return false;
      position = range.begin;
    }
    while (position < range.end) {
      const std::uint32_t id = entries[position++];
      if (id == kSentenceEnd) break;
      ++words;
      if (keep[id] < 1.0f && rng.uniform() >= keep[id]) continue;
      sentence.push_back(id);
    }
    return true;
  }
};

TEST(SentenceStream, KeepsTheTokenByTokenWalkAndItsRandomStream) {
  std::mt19937_64 gen(20261206);
  const std::uint32_t vocab = 500;
  std::vector<float> keep(vocab);
  for (auto& k : keep) k = gen() % 3 == 0 ? 1.0f : std::uniform_real_distribution<float>(0, 1)(gen);
  std::vector<std::uint32_t> entries;
  for (int s = 0; s < 400; ++s) {
    // Empty sentences, short ones and one of the longest length.
    const std::size_t length = s == 17 ? kMaxSentenceTokens : gen() % (s % 5 == 0 ? 3 : 60);
    for (std::size_t i = 0; i < length; ++i) entries.push_back(gen() % vocab);
    entries.push_back(kSentenceEnd);
  }
  for (int i = 0; i < 7; ++i) entries.push_back(gen() % vocab);  // the range ends mid-sentence
  const CorpusRange range{0, entries.size()};
  SentenceStream stream(entries.data(), keep.data(), range, 3, 99);
  PlainWalk plain{entries, keep, range, 3, 0, range.begin, Rng(99)};
  std::vector<std::uint32_t> got, want;
  std::uint64_t got_words = 0, want_words = 0;
  std::size_t sentences = 0;
  while (true) {
    const bool more = stream.next(got, got_words);
    ASSERT_EQ(more, plain.next(want, want_words)) << "sentence " << sentences;
    if (!more) break;
    ASSERT_EQ(got, want) << "sentence " << sentences;
    ASSERT_EQ(got_words, want_words) << "sentence " << sentences;
    ASSERT_EQ(stream.rng().state(), plain.rng.state()) << "sentence " << sentences;
    ASSERT_EQ(stream.epoch(), plain.epoch);
    // The trainers draw windows and noise words from the same stream between sentences.
    if (sentences % 3 == 0) {
      ASSERT_EQ(stream.rng().next(), plain.rng.next());
    }
    ++sentences;
  }
  EXPECT_EQ(sentences, 3u * 401);
}

TEST(SentenceStream, CutsARunLongerThanTheLongestSentence) {
  std::vector<std::uint32_t> entries(2 * kMaxSentenceTokens + 5, 0);
  entries.push_back(kSentenceEnd);
  const std::vector<float> keep{1.0f};
  SentenceStream stream(entries.data(), keep.data(), {0, entries.size()}, 1, 1);
  std::vector<std::uint32_t> sentence;
  std::uint64_t words = 0;
  for (std::size_t expected : {kMaxSentenceTokens, kMaxSentenceTokens, std::size_t{5}}) {
    ASSERT_TRUE(stream.next(sentence, words));
    EXPECT_EQ(sentence.size(), expected);
  }
  EXPECT_FALSE(stream.next(sentence, words));
  EXPECT_EQ(words, 2 * kMaxSentenceTokens + 5);
}

TEST(NoiseDistribution, IsUnigramToThePower) {
  Vocab vocab = Vocab::from_counts({"a", "b", "c"}, {1000, 100, 10}, "test");
  SamplingTables tables = SamplingTables::build(vocab, 0, 0.75);
  std::vector<double> p = tables.noise.probabilities();
  double z = std::pow(1000, 0.75) + std::pow(100, 0.75) + std::pow(10, 0.75);
  EXPECT_NEAR(p[0], std::pow(1000, 0.75) / z, 1e-9);
  EXPECT_NEAR(p[2], std::pow(10, 0.75) / z, 1e-9);
  SamplingTables uniform = SamplingTables::build(vocab, 0, 0.0);
  for (double q : uniform.noise.probabilities()) EXPECT_NEAR(q, 1.0 / 3, 1e-9);
}

TEST(DynamicWindow, UniformOverOneToWindow) {
  Rng rng(3);
  const std::uint32_t window = 7;
  const std::uint64_t draws = 700'000;
  std::vector<std::uint64_t> counts(window, 0);
  for (std::uint64_t i = 0; i < draws; ++i) {
    std::uint32_t b = draw_window(rng, window);
    ASSERT_GE(b, 1u);
    ASSERT_LE(b, window);
    ++counts[b - 1];
  }
  std::vector<double> p(window, 1.0 / window);
  EXPECT_LT(chi_square(counts, p, draws), chi_square_bound(window - 1));
}

TEST(Rng, WorkersGetDistinctReproducibleStreams) {
  Rng a(worker_seed(1, 0)), b(worker_seed(1, 1)), a2(worker_seed(1, 0)), other(worker_seed(2, 0));
  std::uint64_t x = a.next();
  EXPECT_EQ(x, a2.next());
  EXPECT_NE(x, b.next());
  EXPECT_NE(x, other.next());
  Rng u(9);
  double mean = 0;
  for (int i = 0; i < 100000; ++i) {
    float f = u.uniform();
    ASSERT_GE(f, 0.0f);
    ASSERT_LT(f, 1.0f);
    mean += f;
  }
  EXPECT_NEAR(mean / 100000, 0.5, 0.005);
}

// The codes a tree gives, as strings of '0'/'1' from the root.
std::vector<std::string> huffman_codes(const HuffmanTree& tree) {
  std::vector<std::string> codes(tree.words());
  for (std::uint32_t w = 0; w < tree.words(); ++w)
    for (std::size_t k = 0; k < tree.path_length(w); ++k)
      codes[w] += static_cast<char>('0' + tree.codes(w)[k]);
  return codes;
}

// The least weighted path length of any binary code for these counts: the sum of the merges
// of the textbook priority-queue Huffman algorithm.
std::uint64_t optimal_weighted_length(const std::vector<std::uint64_t>& counts) {
  std::priority_queue<std::uint64_t, std::vector<std::uint64_t>, std::greater<>> queue(
      counts.begin(), counts.end());
  std::uint64_t cost = 0;
  while (queue.size() > 1) {
    const std::uint64_t a = queue.top();
    queue.pop();
    const std::uint64_t b = queue.top();
    queue.pop();
    cost += a + b;
    queue.push(a + b);
  }
  return cost;
}

TEST(HuffmanTree, GivesTheTextbookCodeLengths) {
  // 1 + 2 = 3, 3 + 3 = 6, 4 + 5 = 9, 6 + 9 = 15.
  const HuffmanTree tree = HuffmanTree::build({5, 4, 3, 2, 1});
  const std::vector<std::size_t> lengths = {2, 2, 2, 3, 3};
  for (std::uint32_t w = 0; w < 5; ++w) EXPECT_EQ(tree.path_length(w), lengths[w]) << w;
  for (std::uint32_t w = 0; w < 5; ++w) EXPECT_EQ(tree.nodes(w)[0], 3u) << "the root, V - 2";
}

// On fresh random counts (Zipf-like, with ties), in any order: a prefix-free code of a full
// binary tree (Kraft's sum exactly 1) whose weighted length is the optimum; every prefix of a
// code reaches one inner node, every inner node (0 .. V-2) is reached.
TEST(HuffmanTree, IsAnOptimalPrefixCodeOverTheInnerNodes) {
  std::mt19937 gen(2026);
  for (const std::size_t words : {2, 3, 17, 1000, 30000}) {
    SCOPED_TRACE(words);
    std::vector<std::uint64_t> counts(words);
    for (std::size_t w = 0; w < words; ++w)
      counts[w] = 1 + static_cast<std::uint64_t>(1e6 / static_cast<double>(w + 1)) + gen() % 3;
    std::shuffle(counts.begin(), counts.end(), gen);
    const HuffmanTree tree = HuffmanTree::build(counts);
    ASSERT_EQ(tree.words(), words);
    std::vector<std::string> codes = huffman_codes(tree);
    double kraft = 0;
    std::uint64_t weighted = 0;
    std::map<std::string, std::uint32_t> node_of_prefix;
    for (std::uint32_t w = 0; w < words; ++w) {
      ASSERT_GE(codes[w].size(), 1u);
      kraft += std::ldexp(1.0, -static_cast<int>(codes[w].size()));
      weighted += counts[w] * codes[w].size();
      for (std::size_t k = 0; k < codes[w].size(); ++k) {
        const std::uint32_t node = tree.nodes(w)[k];
        ASSERT_LT(node, words - 1);
        const auto [at, added] = node_of_prefix.emplace(codes[w].substr(0, k), node);
        EXPECT_EQ(at->second, node) << "prefix '" << codes[w].substr(0, k) << "'";
      }
    }
    EXPECT_DOUBLE_EQ(kraft, 1.0);
    EXPECT_EQ(weighted, optimal_weighted_length(counts));
    EXPECT_EQ(node_of_prefix.size(), words - 1) << "one prefix per inner node";
    std::sort(codes.begin(), codes.end());
    for (std::size_t i = 1; i < words; ++i)
      EXPECT_NE(codes[i].rfind(codes[i - 1], 0), 0u) << codes[i - 1] << " prefixes " << codes[i];
  }
}

TEST(HuffmanTree, NeedsTwoWords) {
  EXPECT_THROW(HuffmanTree::build({7}), Error);
  EXPECT_THROW(HuffmanTree::build({}), Error);
}

// --loss hs builds the tree with the run's tables; the other losses do not.
TEST(SamplingTables, BuildTheTreeForHierarchicalSoftmax) {
  const Vocab vocab = Vocab::from_counts({"a", "b", "c"}, {9, 4, 1}, "test");
  TrainConfig c;
  EXPECT_EQ(SamplingTables::build(vocab, c).tree.words(), 0u);
  c.loss = LossKind::kHierarchicalSoftmax;
  const SamplingTables t = SamplingTables::build(vocab, c);
  ASSERT_EQ(t.tree.words(), 3u);
  EXPECT_EQ(t.tree.path_length(0), 1u);
  EXPECT_EQ(t.tree.path_length(2), 2u);
}

}  // namespace
}  // namespace w2v
