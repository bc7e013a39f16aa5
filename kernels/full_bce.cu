// One-vs-all sigmoid BCE over the whole vocabulary with multi-hot targets: logits [B, V],
// targets [B, T] (-1 padding, a repeated target counts once):
//   loss [B] = sum_v softplus(x) - y x,   grad [B, V] = sigmoid(x) - y.
//
// One pass over the logits:
//   1. full_bce_targets_kernel (one warp per row): loss[b] = -sum of the row's distinct target
//      logits (read before an in-place gradient overwrites them).
//   2. full_bce_kernel (one block per chunk of a row): grad = sigmoid(x); the block's sum of
//      softplus(x) is added to loss[b] with one atomic.
//   3. full_bce_subtract_kernel: grad[b, t] -= 1 at each distinct target.
// The atomics make the loss's last bits depend on block order; the gradient is exact.
#include "common.cuh"
#include "w2v/kernels/ops.h"

namespace w2v::gpu {
namespace {

constexpr int kBlock = 256;
constexpr std::int64_t kChunk = 8192;

// Whether targets[t] is the first occurrence of its value in the row (and not padding).
__device__ __forceinline__ bool first_occurrence(const std::int32_t* row_targets, int t) {
  const std::int32_t v = row_targets[t];
  if (v < 0) return false;
  for (int k = 0; k < t; ++k)
    if (row_targets[k] == v) return false;
  return true;
}

__global__ void full_bce_targets_kernel(const float* __restrict__ logits, std::int64_t B,
                                        std::int64_t V, const std::int32_t* __restrict__ targets,
                                        int T, float* __restrict__ loss) {
  const int lane = threadIdx.x & 31;
  const std::int64_t warps = std::int64_t(gridDim.x) * (blockDim.x >> 5);
  for (std::int64_t b = (blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x) >> 5; b < B;
       b += warps) {
    const std::int32_t* row_targets = targets + b * T;
    float sum = 0.0f;
    for (int t = lane; t < T; t += 32)
      if (first_occurrence(row_targets, t)) sum += logits[b * V + row_targets[t]];
    sum = detail::warp_sum(sum);
    if (lane == 0) loss[b] = -sum;
  }
}

__global__ void full_bce_kernel(const float* logits, std::int64_t V, std::int64_t chunks,
                                float* __restrict__ loss, float* grad) {
  __shared__ float scratch[32];
  const std::int64_t b = blockIdx.x / chunks, c = blockIdx.x - b * chunks;
  const std::int64_t begin = c * kChunk, end = min(begin + kChunk, V);
  float sum = 0.0f;
  // logits and grad may be the same buffer: each element is read, then written, by one thread.
  for (std::int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    const float x = logits[b * V + i];
    sum += detail::softplus(x);
    grad[b * V + i] = detail::sigmoid(x);
  }
  sum = detail::block_sum(sum, scratch);
  if (threadIdx.x == 0) atomicAdd(&loss[b], sum);
}

__global__ void full_bce_subtract_kernel(std::int64_t B, std::int64_t V,
                                         const std::int32_t* __restrict__ targets, int T,
                                         float* grad) {
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < B * T;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const std::int64_t b = i / T;
    const int t = int(i - b * T);
    if (first_occurrence(targets + b * T, t)) grad[b * V + targets[i]] -= 1.0f;
  }
}

}  // namespace

void full_bce(const float* logits, std::int64_t B, std::int64_t V, const std::int32_t* targets,
              int T, float* loss, float* grad, const Launch& launch) {
  constexpr const char* kOp = "full_bce";
  const cudaStream_t stream = launch.stream;
  detail::require_vocab_loss(kOp, logits, B, V, targets, T, loss, grad);
  if (B == 0) return;
  detail::check_indices_if_enabled(targets, B * T, V, "full_bce targets", stream,
                                   /*allow_padding=*/true);
  NvtxRange range(kOp);
  const std::int64_t chunks = ceil_div(V, kChunk);
  detail::require(B * chunks < (std::int64_t(1) << 31), kOp, "B x chunks exceeds the grid");
  full_bce_targets_kernel<<<detail::grid_for(B * 32, kBlock), kBlock, 0, stream>>>(
      logits, B, V, targets, T, loss);
  W2V_CHECK_LAUNCH(kOp, stream);
  full_bce_kernel<<<unsigned(B * chunks), kBlock, 0, stream>>>(logits, V, chunks, loss, grad);
  W2V_CHECK_LAUNCH(kOp, stream);
  full_bce_subtract_kernel<<<detail::grid_for(B * T, kBlock), kBlock, 0, stream>>>(B, V, targets, T,
                                                                                   grad);
  W2V_CHECK_LAUNCH(kOp, stream);
}

}  // namespace w2v::gpu
