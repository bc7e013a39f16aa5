#pragma once
// Fresh random inputs for the tests and the benchmarks (never all zeros).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <thread>
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

// The same from w2v::Rng (splitmix64) and a seed. Floats uniform in [lo, hi); indices uniform
// in [0, bound), bound < 2^32. Value i of the floats is draw i + 1 of Rng(seed), so threads
// fill a large vector in slices with the values one thread would: the benchmarks' inputs
// reach 600M values, seconds of a GPU session on one thread.
inline std::vector<float> random_floats(std::size_t n, float lo, float hi, std::uint64_t seed) {
  std::vector<float> v(n);
  auto fill = [&](std::size_t from, std::size_t to) {
    std::uint64_t state = seed + from * Rng::kIncrement;
    for (std::size_t i = from; i < to; ++i)
      v[i] = lo + (hi - lo) * Rng::uniform_of(Rng::output(state += Rng::kIncrement));
  };
  const std::size_t threads =
      n < (std::size_t(1) << 22) ? 1 : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> slices;
  for (std::size_t t = 1; t < threads; ++t)
    slices.emplace_back(fill, n * t / threads, n * (t + 1) / threads);
  fill(0, n / threads);
  for (std::thread& slice : slices) slice.join();
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
