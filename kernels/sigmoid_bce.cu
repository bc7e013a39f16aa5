// Fused masked sigmoid binary cross-entropy: loss per row and gradient w.r.t. the logits in
// one pass over logits, labels and mask [B, L].
//
// One warp per row (L is the context + noise width, tens of slots): the lanes first sum the
// mask to get the row's valid count n, then each lane handles slots lane, lane + 32, ...:
// grad = mask (sigmoid(x) - label) / n, and the softplus terms reduce to the row's loss.
// A row with n = 0 writes loss 0 and zero gradients. Reduction::kSum does not divide by n.
#include "common.cuh"
#include "w2v/kernels/ops.h"

namespace w2v::gpu {
namespace {

__global__ void sigmoid_bce_masked_kernel(const float* __restrict__ logits,
                                          const float* __restrict__ labels,
                                          const float* __restrict__ mask, std::int64_t B, int L,
                                          bool sum, float* __restrict__ loss,
                                          float* __restrict__ grad) {
  const int lane = threadIdx.x & 31;
  const std::int64_t warps = std::int64_t(gridDim.x) * (blockDim.x >> 5);
  for (std::int64_t b = (blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x) >> 5; b < B;
       b += warps) {
    const std::int64_t base = b * L;
    float n = 0.0f;
    for (int j = lane; j < L; j += 32) n += mask[base + j];
    n = detail::warp_sum(n);
    const float inv = n > 0.0f ? (sum ? 1.0f : 1.0f / n) : 0.0f;
    float row_loss = 0.0f;
    for (int j = lane; j < L; j += 32) {
      const float m = mask[base + j], x = logits[base + j];
      const bool positive = labels[base + j] > 0.5f;
      if (m != 0.0f) row_loss += m * detail::softplus(positive ? -x : x);
      grad[base + j] = m * inv * (detail::sigmoid(x) - (positive ? 1.0f : 0.0f));
    }
    row_loss = detail::warp_sum(row_loss);
    if (lane == 0) loss[b] = row_loss * inv;
  }
}

}  // namespace

void sigmoid_bce_masked(const float* logits, const float* labels, const float* mask, std::int64_t B,
                        int L, float* loss, float* grad, Reduction reduction,
                        const Launch& launch) {
  constexpr const char* kOp = "sigmoid_bce_masked";
  const cudaStream_t stream = launch.stream;
  detail::require_size(B, 0, kOp, "B");
  detail::require_size(L, 1, kOp, "L");
  if (B == 0) return;
  detail::require_pointer(logits, kOp, "logits");
  detail::require_pointer(labels, kOp, "labels");
  detail::require_pointer(mask, kOp, "mask");
  detail::require_pointer(loss, kOp, "loss");
  detail::require_pointer(grad, kOp, "grad");
  NvtxRange range(kOp);
  constexpr int kBlock = 256;
  sigmoid_bce_masked_kernel<<<detail::grid_for(B * 32, kBlock), kBlock, 0, stream>>>(
      logits, labels, mask, B, L, reduction == Reduction::kSum, loss, grad);
  W2V_CHECK_LAUNCH(kOp, stream);
}

}  // namespace w2v::gpu
