#pragma once
// The device math the kernels share: warp reductions, stable sigmoid and softplus. Apart from
// common.cuh (which adds the host-side checks and block reductions) so that the CPU's warp
// emulation (tests/support/warp_emulator.h) compiles what the fused kernel runs.
#include <cmath>

namespace w2v::gpu::detail {

constexpr unsigned kFullMask = 0xffffffffu;

__device__ __forceinline__ float warp_sum(float x) {
  for (int offset = 16; offset > 0; offset >>= 1) x += __shfl_xor_sync(kFullMask, x, offset);
  return x;
}
__device__ __forceinline__ float warp_max(float x) {
  for (int offset = 16; offset > 0; offset >>= 1)
    x = fmaxf(x, __shfl_xor_sync(kFullMask, x, offset));
  return x;
}

// Stable for any finite x: no overflow in exp, no log(0).
__device__ __forceinline__ float softplus(float x) {
  return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
}
__device__ __forceinline__ float sigmoid(float x) {
  float e = expf(-fabsf(x));
  float s = 1.0f / (1.0f + e);
  return x >= 0.0f ? s : e * s;
}

}  // namespace w2v::gpu::detail
