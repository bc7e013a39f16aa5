#include "w2v/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>

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

}  // namespace w2v
