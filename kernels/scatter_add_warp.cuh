#pragma once
// What one warp of the sorted scatter and the segment sum does once the rows are sorted by
// index (kernels/scatter_add.cu has the sort, the launchers and the figures), apart from them
// so that the CPU's warp emulation (tests/support/warp_emulator.h, ScatterEmulated.*) runs the
// same code in CI, after a CPU sort. Included by scatter_add.cu and that test only; its
// anonymous namespace keeps the two compilations of it (device and emulated) apart.
#include <cstdint>

#include "device_math.cuh"

namespace w2v::gpu {
namespace {

// Rows are read as float4 where d % 4 == 0 and the pointers allow, else as float; each lane
// owns whole units, so the per-element order of additions is the same either way.
template <class Unit>
__device__ __forceinline__ Unit zero_unit();
template <>
__device__ __forceinline__ float zero_unit<float>() {
  return 0.0f;
}
template <>
__device__ __forceinline__ float4 zero_unit<float4>() {
  return make_float4(0.0f, 0.0f, 0.0f, 0.0f);
}

// s + w g, rounded once (fma) with a row scale, plain addition without.
__device__ __forceinline__ float add_row(float s, float g, bool scaled, float w) {
  return scaled ? __fmaf_rn(w, g, s) : __fadd_rn(s, g);
}
__device__ __forceinline__ float4 add_row(float4 s, float4 g, bool scaled, float w) {
  return make_float4(add_row(s.x, g.x, scaled, w), add_row(s.y, g.y, scaled, w),
                     add_row(s.z, g.z, scaled, w), add_row(s.w, g.w, scaled, w));
}
// t + scale s, rounded once.
__device__ __forceinline__ float add_scaled(float t, float scale, float s) {
  return __fmaf_rn(scale, s, t);
}
__device__ __forceinline__ float4 add_scaled(float4 t, float scale, float4 s) {
  return make_float4(add_scaled(t.x, scale, s.x), add_scaled(t.y, scale, s.y),
                     add_scaled(t.z, scale, s.z), add_scaled(t.w, scale, s.w));
}

// Unit k of the sum of rows order[begin, end), added in that order. Four rows' loads are in
// flight at once (a frequent word's run is hundreds of rows long); their additions stay in
// order, so the bits are those of one row at a time.
template <class Unit>
__device__ __forceinline__ Unit sum_run(const Unit* __restrict__ grad,
                                        const float* __restrict__ row_scale, int width,
                                        const std::uint32_t* __restrict__ order, std::int64_t begin,
                                        std::int64_t end, int k) {
  const bool scaled = row_scale != nullptr;
  Unit s = zero_unit<Unit>();
  std::int64_t r = begin;
  for (; r + 4 <= end; r += 4) {
    std::uint32_t n[4];
    Unit g[4];
    float w[4];
#pragma unroll
    for (int j = 0; j < 4; ++j) n[j] = order[r + j];
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      g[j] = grad[std::int64_t(n[j]) * width + k];
      w[j] = scaled ? row_scale[n[j]] : 1.0f;
    }
#pragma unroll
    for (int j = 0; j < 4; ++j) s = add_row(s, g[j], scaled, w[j]);
  }
  for (; r < end; ++r) {
    const std::uint32_t n = order[r];
    s = add_row(s, grad[std::int64_t(n) * width + k], scaled, scaled ? row_scale[n] : 1.0f);
  }
  return s;
}

// Warp `warp` of `warps` (its lane `lane`): one warp per distinct index u < unique, from warp
// and then every warps-th, adds its rows in order and writes the sum once.
template <class Unit>
__device__ void segment_sum_warp(const Unit* __restrict__ grad, const float* __restrict__ row_scale,
                                 int width, const std::uint32_t* __restrict__ order,
                                 const std::int32_t* __restrict__ counts,
                                 const std::int32_t* __restrict__ offsets, std::int64_t unique,
                                 Unit* __restrict__ summed, int lane, std::int64_t warp,
                                 std::int64_t warps) {
  for (std::int64_t u = warp; u < unique; u += warps) {
    const std::int64_t begin = offsets[u], end = begin + counts[u];
    for (int k = lane; k < width; k += 32)
      summed[u * width + k] = sum_run(grad, row_scale, width, order, begin, end, k);
  }
}

// One warp per sorted position; the warp at the first position of an index's run finds the
// run's end 32 keys at a time and adds scale x the run's sum to that table row, the only
// write the row gets. The run of `skipped_key` (rows whose scale is 0) is left alone.
template <class Unit>
__device__ void add_runs_warp(Unit* table, const Unit* __restrict__ grad,
                              const float* __restrict__ row_scale, int width,
                              const std::uint32_t* __restrict__ keys,
                              const std::uint32_t* __restrict__ order, std::int64_t N, float scale,
                              std::uint32_t skipped_key, int lane, std::int64_t warp,
                              std::int64_t warps) {
  for (std::int64_t i = warp; i < N; i += warps) {
    const std::uint32_t key = keys[i];
    // Both the same for the whole warp.
    if (key == skipped_key || (i > 0 && keys[i - 1] == key)) continue;
    std::int64_t end = i + 1;
    for (;;) {
      const std::int64_t at = end + lane;
      const unsigned same = __ballot_sync(detail::kFullMask, at < N && keys[at] == key);
      if (same != detail::kFullMask) {
        end += __ffs(~same) - 1;
        break;
      }
      end += 32;
    }
    Unit* row = table + std::int64_t(key) * width;
    for (int k = lane; k < width; k += 32)
      row[k] = add_scaled(row[k], scale, sum_run(grad, row_scale, width, order, i, end, k));
  }
}

}  // namespace
}  // namespace w2v::gpu
