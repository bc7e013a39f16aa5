// The sorted scatter's and the segment sum's own warp code (kernels/scatter_add_warp.cuh) run on
// the CPU under the warp emulator (support/warp_emulator.h), after a CPU stable sort in place
// of CUB's: the bits must be those of the float loop that adds each index's rows in input
// order (support/sorted_sums.h), as on a GPU (ScatterAdd.* there). The sort, the run-length
// encoding and the scan are CUB's and run only on a GPU.
// clang-format off
#include "support/warp_emulator.h"  // first: the CUDA qualifiers and intrinsics the kernels use
// clang-format on

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "scatter_add_warp.cuh"  // CMakeLists.txt: built with -Wno-unknown-pragmas (#pragma unroll)
#include "support/random.h"
#include "support/sorted_sums.h"

namespace w2v {
namespace {

// What CUB gives the warps: positions sorted stably by key (the index, or kSkippedKey for a
// row of scale 0), the sorted keys, and each key's count and offset; unique holds the
// distinct indices, without kSkippedKey.
constexpr std::uint32_t kSkippedKey = 255;  // the launchers' key for V < 255 with 8 key bits
struct SortedRows {
  std::vector<std::uint32_t> keys, order;
  std::vector<std::int32_t> counts, offsets, unique;
  SortedRows(const std::vector<std::int32_t>& idx, const float* row_scale) : order(idx.size()) {
    auto key = [&](std::uint32_t n) {
      return row_scale && row_scale[n] == 0.0f ? kSkippedKey : static_cast<std::uint32_t>(idx[n]);
    };
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::uint32_t a, std::uint32_t b) { return key(a) < key(b); });
    for (std::uint32_t n : order) keys.push_back(key(n));
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (i == 0 || keys[i] != keys[i - 1]) {
        if (keys[i] != kSkippedKey) unique.push_back(static_cast<std::int32_t>(keys[i]));
        offsets.push_back(static_cast<std::int32_t>(i));
        counts.push_back(0);
      }
      ++counts.back();
    }
  }
};

// Runs `warp_code(lane, warp, warps)` for `warps` emulated warps, one after another.
template <class WarpCode>
void run_warps(std::int64_t warps, const WarpCode& warp_code) {
  for (std::int64_t warp = 0; warp < warps; ++warp)
    emulator::run_warp([&](int lane) { warp_code(lane, warp, warps); });
}

// Rows as the launchers pass them: float4 units where d % 4 == 0, floats otherwise.
template <class Unit>
Unit* units(std::vector<float>& v) {
  return reinterpret_cast<Unit*>(v.data());
}

// With scales, every fifth row and every row of index 3 have a scale of 0 and a NaN gradient:
// the rows the sorted paths must skip.
template <class Unit>
void expect_sorted_paths_match_the_float_loop(int d, bool scaled) {
  const std::int64_t V = 200, N = 700;
  static_assert(V < kSkippedKey);
  const int width = d * int(sizeof(float)) / int(sizeof(Unit));
  std::mt19937 gen(200 + d);
  const std::vector<float> table = test::random_floats(V * d, gen);
  std::vector<float> grad = test::random_floats(N * d, gen);
  auto idx = test::random_indices(N, 60, gen);
  for (std::int64_t n = 0; n < N; n += 7) idx[n] = 7;  // a run of 100: found 32 keys at a time
  std::vector<float> row_scale = test::random_floats(N, gen, 0.5f);
  for (float& w : row_scale) w += 1.0f;
  if (scaled)
    for (std::int64_t n = 0; n < N; ++n)
      if (n % 5 == 0 || idx[n] == 3) {
        row_scale[n] = 0.0f;
        std::fill_n(grad.begin() + n * d, d, std::numeric_limits<float>::quiet_NaN());
      }
  const float* scales = scaled ? row_scale.data() : nullptr;
  const SortedRows sorted(idx, scales);
  const std::string what = "d " + std::to_string(d) + (scaled ? " scaled" : "");

  // A few warps, so that each strides over several positions and runs.
  std::vector<float> got = table;
  run_warps(5, [&](int lane, std::int64_t warp, std::int64_t warps) {
    gpu::add_runs_warp(units<Unit>(got), units<const Unit>(grad), scales, width, sorted.keys.data(),
                       sorted.order.data(), N, 0.75f, kSkippedKey, lane, warp, warps);
  });
  const std::vector<float> want = test::sorted_scatter_in_float(table, idx, grad, d, 0.75f, scales);
  EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0)
      << what << ": scatter_add_sorted's warps are not the bits of the float loop";

  const auto num_unique = static_cast<std::int64_t>(sorted.unique.size());
  std::vector<float> summed(sorted.unique.size() * d, -1.0f);
  run_warps(5, [&](int lane, std::int64_t warp, std::int64_t warps) {
    gpu::segment_sum_warp(units<const Unit>(grad), scales, width, sorted.order.data(),
                          sorted.counts.data(), sorted.offsets.data(), num_unique,
                          units<Unit>(summed), lane, warp, warps);
  });
  std::vector<std::int32_t> want_unique;
  std::vector<float> want_summed;
  test::segment_sums_in_input_order(idx, grad, d, scales, want_unique, want_summed);
  EXPECT_EQ(sorted.unique, want_unique) << what;
  if (scaled) {
    EXPECT_FALSE(std::binary_search(want_unique.begin(), want_unique.end(), 3))
        << what << ": index 3, all of whose rows have scale 0, is among the distinct indices";
  }
  EXPECT_EQ(std::memcmp(summed.data(), want_summed.data(), want_summed.size() * sizeof(float)), 0)
      << what << ": segment_sum_rows' warps are not the bits of the float loop";
}

// d 1 and 3 take the float path, 100 and 128 the float4 path (as the launchers choose).
TEST(ScatterEmulated, SortedPathsAddEachIndexsRowsInInputOrder) {
  for (bool scaled : {false, true}) {
    for (int d : {1, 3}) expect_sorted_paths_match_the_float_loop<float>(d, scaled);
    for (int d : {100, 128}) expect_sorted_paths_match_the_float_loop<float4>(d, scaled);
  }
}

}  // namespace
}  // namespace w2v
