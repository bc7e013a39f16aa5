#pragma once
// The fused kernel's score reduction (kernels/fused_ns_warp.cuh), run on the CPU too by the warp
// emulator (FusedTransposedSum.* in tests/test_fused_emulated.cc).
//
// Every lane holds kValues partial sums (one per target); each value must be summed over the
// warp's 32 lanes. Reducing them one by one costs kValues * 5 shuffles, and every lane then
// holds every sum and computes every sigmoid. The transposed reduction halves the values a
// lane holds at each of the first log2(kValues) steps: across lane mask m, the lane with the
// mask bit set keeps the upper half of its values and sends the lower half, its partner the
// reverse, and each adds what it receives to what it kept. Then the remaining masks sum the
// one value left as usual. For 8 values: 4 + 2 + 1 + 2 = 9 shuffles instead of 40, and each
// lane ends with the whole sum of one value, transposed_sum_value(lane), for which it alone
// computes the sigmoid. Lane transposed_sum_lane(k) (among lanes 0..kValues-1) holds value k.
#include "device_math.cuh"

namespace w2v::gpu {
namespace {  // as fused_ns_warp.cuh's: the device and the emulated compilations stay apart

// The value whose sum lane `lane` holds: the lane's low log2(kValues) bits reversed (the first
// step, mask 1, decides the highest bit of the value's index). An involution, so the lane that
// holds value k is the same function of k.
template <int kValues>
__host__ __device__ constexpr int transposed_sum_value(int lane) {
  int value = 0;
  for (int half = kValues / 2, bit = 1; half >= 1; half /= 2, bit *= 2)
    if (lane & bit) value += half;
  return value;
}
template <int kValues>
__host__ __device__ constexpr int transposed_sum_lane(int value) {
  return transposed_sum_value<kValues>(value);
}

// One halving step across lane mask kValues / (2 kHalf), then the next. Recursion rather than
// a loop: every index into v must be a constant for v to stay in registers (nvcc left a
// 16-value loop partly rolled, and v in local memory).
template <int kHalf, int kValues>
__device__ __forceinline__ void transposed_halve(int lane, float (&v)[kValues]) {
  if constexpr (kHalf >= 1) {
    constexpr int kMask = kValues / (2 * kHalf);
    const bool upper = (lane & kMask) != 0;
#pragma unroll
    for (int j = 0; j < kHalf; ++j) {
      const float keep = upper ? v[j + kHalf] : v[j];
      const float give = upper ? v[j] : v[j + kHalf];
      v[j] = keep + __shfl_xor_sync(detail::kFullMask, give, kMask);
    }
    transposed_halve<kHalf / 2>(lane, v);
  }
}

template <int kValues>
__device__ __forceinline__ float transposed_warp_sum(int lane, float (&v)[kValues]) {
  static_assert(kValues >= 1 && kValues <= 32 && (kValues & (kValues - 1)) == 0,
                "a power of two, at most the warp's width");
  transposed_halve<kValues / 2>(lane, v);
  float sum = v[0];
#pragma unroll
  for (int mask = kValues; mask < 32; mask *= 2)
    sum += __shfl_xor_sync(detail::kFullMask, sum, mask);
  return sum;
}

}  // namespace
}  // namespace w2v::gpu
