#include "w2v/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "w2v/error.h"

namespace w2v {

AliasTable::AliasTable(const std::vector<double>& weights) : size_(weights.size()) {
  const std::size_t n = weights.size();
  if (n == 0 || n > 0xFFFFFFFFull) throw Error("alias table: need 1 to 2^32-1 weights");
  double sum = std::accumulate(weights.begin(), weights.end(), 0.0);
  if (!(sum > 0) || !std::isfinite(sum))
    throw Error("alias table: weights must have a positive sum");
  // Vose's method on scaled probabilities p_i * n: slots below 1 borrow from slots above 1.
  std::vector<double> scaled(n);
  std::vector<std::uint32_t> small, large;
  for (std::size_t i = 0; i < n; ++i) {
    scaled[i] = weights[i] * static_cast<double>(n) / sum;
    (scaled[i] < 1.0 ? small : large).push_back(static_cast<std::uint32_t>(i));
  }
  slots_.resize(n);
  for (std::size_t i = 0; i < n; ++i) slots_[i] = {0xFFFFFFFFu, static_cast<std::uint32_t>(i)};
  while (!small.empty() && !large.empty()) {
    std::uint32_t s = small.back(), l = large.back();
    small.pop_back();
    slots_[s].threshold =
        static_cast<std::uint32_t>(std::clamp(scaled[s] * 4294967296.0, 0.0, 4294967295.0));
    slots_[s].alias = l;
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // Left-overs are 1 up to rounding: they keep their own index always.
}

std::vector<std::uint32_t> AliasTable::thresholds() const {
  std::vector<std::uint32_t> t(size_);
  for (std::size_t i = 0; i < size_; ++i) t[i] = slots_[i].threshold;
  return t;
}

std::vector<std::uint32_t> AliasTable::aliases() const {
  std::vector<std::uint32_t> a(size_);
  for (std::size_t i = 0; i < size_; ++i) a[i] = slots_[i].alias;
  return a;
}

std::vector<double> AliasTable::probabilities() const {
  std::vector<double> p(size_, 0.0);
  for (std::size_t i = 0; i < size_; ++i) {
    // threshold 0xFFFFFFFF means "always keep": the one missing draw of 2^32 is rounding.
    const std::uint32_t threshold = slots_[i].threshold;
    double keep = threshold == 0xFFFFFFFFu ? 1.0 : threshold / 4294967296.0;
    p[i] += keep / static_cast<double>(size_);
    p[slots_[i].alias] += (1.0 - keep) / static_cast<double>(size_);
  }
  return p;
}

double keep_probability(std::uint64_t count, std::uint64_t total, double sample) {
  if (count == 0) return 1.0;
  return keep_probability(static_cast<double>(count) / static_cast<double>(total), sample);
}

double keep_probability(double f, double sample) {
  if (sample <= 0) return 1.0;
  return std::min(1.0, std::sqrt(sample / f) + sample / f);
}

SamplingTables SamplingTables::build(const Vocab& vocab, double sample, double ns_exponent) {
  SamplingTables t;
  t.keep.resize(vocab.size());
  std::vector<double> weights(vocab.size());
  for (std::uint32_t i = 0; i < vocab.size(); ++i) {
    t.keep[i] = static_cast<float>(keep_probability(vocab.count(i), vocab.total_count(), sample));
    weights[i] = std::pow(static_cast<double>(vocab.count(i)), ns_exponent);
  }
  t.noise = AliasTable(weights);
  return t;
}

HuffmanTree HuffmanTree::build(const std::vector<std::uint64_t>& counts) {
  const std::size_t words = counts.size();
  if (words < 2)
    throw Error("--loss hs: the vocabulary has " + std::to_string(words) +
                " word(s); a Huffman tree needs at least 2");
  if (words > std::numeric_limits<std::uint32_t>::max() / 2)
    throw Error("--loss hs: a vocabulary of " + std::to_string(words) + " words is too large");
  // Two queues in increasing count: the leaves (sorted once) and the inner nodes, which are
  // made in increasing count, so the two smallest are always at their fronts. Node ids: a
  // leaf's is its word's, inner node n's is V + n, so a parent's id is above its children's.
  std::vector<std::uint32_t> leaves(words);
  std::iota(leaves.begin(), leaves.end(), 0u);
  std::stable_sort(leaves.begin(), leaves.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return counts[a] < counts[b]; });
  const std::size_t inner = words - 1;
  std::vector<std::uint64_t> inner_count(inner);
  std::vector<std::uint32_t> parent(words + inner);  // by node id (leaf: its word id)
  std::vector<std::uint8_t> branch(words + inner);
  std::size_t next_leaf = 0, next_inner = 0;
  // The smallest node not yet joined, of the leaves and the `made` inner nodes. A leaf on
  // ties (word2vec.c takes the inner node; either gives an optimal tree).
  auto take_smallest = [&](std::size_t made) -> std::pair<std::uint32_t, std::uint64_t> {
    if (next_leaf < words &&
        (next_inner == made || counts[leaves[next_leaf]] <= inner_count[next_inner])) {
      const std::uint32_t w = leaves[next_leaf++];
      return {w, counts[w]};
    }
    const std::size_t n = next_inner++;
    return {static_cast<std::uint32_t>(words + n), inner_count[n]};
  };
  for (std::size_t n = 0; n < inner; ++n) {
    const auto [first, first_count] = take_smallest(n);
    const auto [second, second_count] = take_smallest(n);
    inner_count[n] = first_count + second_count;
    const auto id = static_cast<std::uint32_t>(words + n);
    parent[first] = parent[second] = id;
    branch[first] = 0;
    branch[second] = 1;
  }
  const std::uint32_t root = static_cast<std::uint32_t>(words + inner - 1);
  std::vector<std::uint32_t> depth(words + inner, 0);
  for (std::uint32_t node = root; node-- > 0;) depth[node] = depth[parent[node]] + 1;
  HuffmanTree t;
  t.offsets_.resize(words + 1);
  for (std::uint32_t w = 0; w < words; ++w) t.offsets_[w + 1] = t.offsets_[w] + depth[w];
  t.nodes_.resize(t.offsets_[words]);
  t.codes_.resize(t.offsets_[words]);
  for (std::uint32_t w = 0; w < words; ++w) {
    // Walked up from the leaf, written from the end of its path: the root comes first.
    std::uint64_t at = t.offsets_[w + 1];
    for (std::uint32_t node = w; node != root; node = parent[node]) {
      --at;
      t.nodes_[at] = static_cast<std::uint32_t>(parent[node] - words);
      t.codes_[at] = branch[node];
    }
  }
  return t;
}

}  // namespace w2v
