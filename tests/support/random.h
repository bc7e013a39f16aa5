#pragma once
// Fresh random inputs for the tests and the benchmarks (never all zeros).
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "w2v/sampling.h"

namespace w2v::test {

// Uniform in [-scale, scale), from the caller's generator: a test draws all of a case's inputs
// from one seeded generator.
inline std::vector<float> random_floats(std::size_t n, std::mt19937& gen, float scale = 1.0f) {
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = u(gen);
  return v;
}

// Uniform in [0, bound), repeats allowed (as gathered and scattered rows are).
inline std::vector<std::int32_t> random_indices(std::size_t n, std::int64_t bound,
                                                std::mt19937& gen) {
  std::uniform_int_distribution<std::int64_t> u(0, bound - 1);
  std::vector<std::int32_t> v(n);
  for (auto& x : v) x = static_cast<std::int32_t>(u(gen));
  return v;
}

// The same from w2v::Rng (splitmix64) and a seed: fast enough for the benchmarks' inputs of up
// to 256M values. Floats uniform in [lo, hi); indices uniform in [0, bound), bound < 2^32.
inline std::vector<float> random_floats(std::size_t n, float lo, float hi, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = lo + (hi - lo) * rng.uniform();
  return v;
}
inline std::vector<std::int32_t> random_indices(std::size_t n, std::int64_t bound,
                                                std::uint64_t seed) {
  Rng rng(seed);
  std::vector<std::int32_t> v(n);
  for (auto& x : v) x = static_cast<std::int32_t>(rng.below(static_cast<std::uint32_t>(bound)));
  return v;
}

}  // namespace w2v::test
