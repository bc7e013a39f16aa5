#pragma once
// Runs device code written for one warp on the CPU, so that CI (which has no GPU) exercises
// the fused kernel's own code, not only its reference: the 32 lanes are fibers on one thread,
// each runs until it reaches a warp collective (__shfl_sync, __shfl_xor_sync, __any_sync), and
// when all 32 have reached it the collective is computed and they go on. A lane that finishes
// while others wait at a collective, or lanes at different kinds of collective, are divergence,
// undefined on a GPU: the emulation stops with an error naming it. (Lanes at two different
// shuffles are not told apart.)
//
// Include it before the device code (kernels/*.cuh). It defines CUDA's qualifiers as nothing,
// and the intrinsics and types the emulated kernels use; atomicAdd is a plain add (one lane runs
// at a time).
// Warps run one after another, so it checks what one warp computes, not races between warps.
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>

#if defined(__CUDACC__)
#error "tests/support/warp_emulator.h is for the host compiler"
#endif

// In a CUDA build the toolkit's headers define the qualifiers for host compilers (as nothing,
// __forceinline__ as an always-inline) and float4: they come first, so that nothing is defined
// twice.
#ifdef W2V_HAVE_CUDA
#include <cuda_runtime_api.h>
#include <vector_functions.h>
#else
struct alignas(16) float4 {
  float x, y, z, w;
};
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
#endif
#ifndef __device__
#define __device__
#endif
#ifndef __host__
#define __host__
#endif
#ifndef __global__
#define __global__
#endif
#ifndef __forceinline__
#define __forceinline__ inline
#endif
#ifndef __launch_bounds__
#define __launch_bounds__(...)
#endif

namespace w2v::emulator {

// Runs body(lane) for lanes 0..31 as one warp; throws w2v::Error on divergence.
void run_warp(const std::function<void(int lane)>& body);
// For the intrinsics below: the running lane, and the collective itself. Every lane passes its
// value and, for a shuffle, the lane it reads; `any` ORs the values over the warp, `ballot`
// gives every lane the mask of the lanes whose value is not 0. Only whole-warp collectives are
// emulated: another mask is an error.
enum class Collective { kShuffle, kAny, kBallot };
int lane();
std::uint64_t collective(unsigned mask, Collective kind, std::uint64_t value, int source_lane);

template <class T>
std::uint64_t to_bits(T x) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "32- or 64-bit values, as CUDA's shuffles");
  if constexpr (sizeof(T) == 4)
    return std::bit_cast<std::uint32_t>(x);
  else
    return std::bit_cast<std::uint64_t>(x);
}
template <class T>
T from_bits(std::uint64_t bits) {
  if constexpr (sizeof(T) == 4)
    return std::bit_cast<T>(static_cast<std::uint32_t>(bits));
  else
    return std::bit_cast<T>(bits);
}

}  // namespace w2v::emulator

template <class T>
T __shfl_sync(unsigned mask, T x, int source_lane) {
  return w2v::emulator::from_bits<T>(w2v::emulator::collective(
      mask, w2v::emulator::Collective::kShuffle, w2v::emulator::to_bits(x), source_lane & 31));
}
template <class T>
T __shfl_xor_sync(unsigned mask, T x, int lane_mask) {
  const int lane = w2v::emulator::lane(), source = lane ^ lane_mask;
  return __shfl_sync(mask, x, source < 32 ? source : lane);  // past the warp: its own value
}
inline bool __any_sync(unsigned mask, bool predicate) {
  return w2v::emulator::collective(mask, w2v::emulator::Collective::kAny, predicate ? 1 : 0, 0) !=
         0;
}
inline unsigned __ballot_sync(unsigned mask, bool predicate) {
  return static_cast<unsigned>(
      w2v::emulator::collective(mask, w2v::emulator::Collective::kBallot, predicate ? 1 : 0, 0));
}
inline int __ffs(int x) { return __builtin_ffs(x); }
inline float __fadd_rn(float x, float y) { return x + y; }
inline float __fmaf_rn(float x, float y, float z) { return std::fma(x, y, z); }
template <class T>
T atomicAdd(T* address, T value) {
  const T old = *address;
  *address = old + value;
  return old;
}
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
