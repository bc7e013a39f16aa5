#pragma once
// Shared by the kernel files: host-side argument checks for the launchers, and the device
// math (warp/block reductions, stable sigmoid and softplus) that every loss kernel uses.
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "device_math.cuh"
#include "w2v/error.h"
#include "w2v/kernels/cuda_check.h"

namespace w2v::gpu::detail {

// ---- host: launcher argument checks; a failed check is a caller bug, reported by name.
inline void require(bool ok, const char* op, const std::string& problem) {
  if (!ok) throw Error(std::string(op) + ": " + problem);
}
inline void require_pointer(const void* p, const char* op, const char* name) {
  require(p != nullptr, op, std::string(name) + " is null");
}
inline void require_size(std::int64_t value, std::int64_t min, const char* op, const char* name) {
  require(value >= min, op,
          std::string(name) + " = " + std::to_string(value) + ", must be at least " +
              std::to_string(min));
}
inline void require_workspace(const void* workspace, std::size_t have, std::size_t need,
                              const char* op) {
  require_pointer(workspace, op, "workspace");
  require(have >= need, op,
          "workspace of " + std::to_string(have) + " bytes, needs " + std::to_string(need));
}
// The shared arguments of the losses over the vocabulary: logits [B, V], targets [B, T].
inline void require_vocab_loss(const char* op, const float* logits, std::int64_t B, std::int64_t V,
                               const std::int32_t* targets, int T, const float* loss,
                               const float* grad) {
  require_size(B, 0, op, "B");
  require_size(V, 1, op, "V");
  require_size(T, 1, op, "T");
  if (B == 0) return;
  require_pointer(logits, op, "logits");
  require_pointer(targets, op, "targets");
  require_pointer(loss, op, "loss");
  require_pointer(grad, op, "grad");
}
inline bool aligned16(const void* p) { return (reinterpret_cast<std::uintptr_t>(p) & 15) == 0; }

// Blocks for a grid-stride loop over `work` items: enough to fill the device, no more.
inline unsigned grid_for(std::int64_t work, int block) {
  static int max_blocks = [] {
    int device = 0, sms = 0;
    W2V_CUDA_CHECK(cudaGetDevice(&device));
    W2V_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    return sms * 16;
  }();
  std::int64_t blocks = ceil_div(work, block);
  if (blocks < 1) blocks = 1;
  return static_cast<unsigned>(blocks < max_blocks ? blocks : max_blocks);
}

// Indices are checked on the device before an op in builds with W2V_CHECK_INDICES; with
// allow_padding, -1 is accepted too.
void check_indices_if_enabled(const std::int32_t* idx, std::int64_t n, std::int64_t bound,
                              const char* what, cudaStream_t stream, bool allow_padding = false);
// The check itself: throws naming the first idx[i] outside [lowest, bound).
void check_index_range(const std::int32_t* idx, std::int64_t n, std::int64_t lowest,
                       std::int64_t bound, const char* what, cudaStream_t stream);

// ---- device math: the block reductions (the warp reductions, sigmoid and softplus are in
// device_math.cuh)
// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the
// result. `scratch` holds 32 floats of shared memory; the call synchronises the block.
__device__ __forceinline__ float block_sum(float x, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  x = warp_sum(x);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = x;
  __syncthreads();
  x = lane < warps ? scratch[lane] : 0.0f;
  return warp_sum(x);
}
__device__ __forceinline__ float block_max(float x, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  x = warp_max(x);
  __syncthreads();
  if (lane == 0) scratch[warp] = x;
  __syncthreads();
  x = lane < warps ? scratch[lane] : -INFINITY;
  return warp_max(x);
}

}  // namespace w2v::gpu::detail
