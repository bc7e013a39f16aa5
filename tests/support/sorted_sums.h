#pragma once
// What kernels/scatter_add.cu's sorted scatter and segment sum promise, in float on the CPU:
// the GPU tests (tests/test_kernels.cc) and the emulated warps (tests/test_scatter_emulated.cc)
// must give these bits exactly.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace w2v::test {

// The rows of each index summed in input order, one rounding per addition (one fma with a row
// scale), indices ascending; rows of scale 0 left out.
inline void segment_sums_in_input_order(const std::vector<std::int32_t>& idx,
                                        const std::vector<float>& grad, int d,
                                        const float* row_scale, std::vector<std::int32_t>& unique,
                                        std::vector<float>& summed) {
  auto skipped = [&](std::size_t n) { return row_scale && row_scale[n] == 0.0f; };
  unique.clear();
  for (std::size_t n = 0; n < idx.size(); ++n)
    if (!skipped(n)) unique.push_back(idx[n]);
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  summed.assign(unique.size() * d, 0.0f);
  for (std::size_t n = 0; n < idx.size(); ++n) {
    if (skipped(n)) continue;
    const std::size_t u = std::lower_bound(unique.begin(), unique.end(), idx[n]) - unique.begin();
    for (int k = 0; k < d; ++k) {
      float& s = summed[u * d + k];
      const float g = grad[n * d + k];
      s = row_scale ? std::fma(row_scale[n], g, s) : s + g;
    }
  }
}

// ... then each table row += scale x its sum, one rounding.
inline std::vector<float> sorted_scatter_in_float(std::vector<float> table,
                                                  const std::vector<std::int32_t>& idx,
                                                  const std::vector<float>& grad, int d,
                                                  float scale, const float* row_scale) {
  std::vector<std::int32_t> unique;
  std::vector<float> summed;
  segment_sums_in_input_order(idx, grad, d, row_scale, unique, summed);
  for (std::size_t u = 0; u < unique.size(); ++u)
    for (int k = 0; k < d; ++k) {
      float& t = table[std::size_t(unique[u]) * d + k];
      t = std::fma(scale, summed[u * d + k], t);
    }
  return table;
}

}  // namespace w2v::test
