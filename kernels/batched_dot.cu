// Batched dot products and their backward, for skip-gram and CBOW scoring.
//
// batched_dot: scores [B, L] = <v[b], u[b, j]>, v [B, d], u [B, L, d]. One warp per (b, j)
//   pair, lanes striding over d (coalesced 128-byte loads of u), a shuffle reduction.
// context_mean: h [B, d] = mean of ctx [B, C, d] over the first count[b] slots; one thread
//   per output element, looping over the slots.
// batched_dot_backward: one thread per (b, k) loops over j: it reads u[b, j, k] once, adds
//   g[b, j] u[b, j, k] to grad_v[b, k] and writes grad_u[b, j, k] = g[b, j] v[b, k].
// context_mean_backward: one thread per grad_ctx element (kSum: grad_h undivided).
#include "common.cuh"
#include "w2v/kernels/ops.h"

namespace w2v::gpu {
namespace {

constexpr int kBlock = 256;

__global__ void batched_dot_kernel(const float* __restrict__ v, const float* __restrict__ u,
                                   std::int64_t pairs, int L, int d, float* __restrict__ scores) {
  const int lane = threadIdx.x & 31;
  const std::int64_t warps = std::int64_t(gridDim.x) * (blockDim.x >> 5);
  for (std::int64_t p = (blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x) >> 5; p < pairs;
       p += warps) {
    const float* vb = v + (p / L) * d;
    const float* up = u + p * d;
    float s = 0.0f;
    for (int k = lane; k < d; k += 32) s = fmaf(vb[k], up[k], s);
    s = detail::warp_sum(s);
    if (lane == 0) scores[p] = s;
  }
}

__global__ void context_mean_kernel(const float* __restrict__ ctx,
                                    const std::int32_t* __restrict__ count, std::int64_t total,
                                    int C, int d, float* __restrict__ h) {
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < total;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const std::int64_t b = i / d, k = i - b * d;
    const int n = count[b];
    const float* row = ctx + b * C * d + k;
    float s = 0.0f;
    for (int c = 0; c < n; ++c) s += row[std::int64_t(c) * d];
    h[i] = n > 0 ? s / float(n) : 0.0f;
  }
}

__global__ void batched_dot_backward_kernel(const float* __restrict__ v,
                                            const float* __restrict__ u,
                                            const float* __restrict__ g, std::int64_t total, int L,
                                            int d, float* __restrict__ grad_v,
                                            float* __restrict__ grad_u) {
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < total;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const std::int64_t b = i / d, k = i - b * d;
    const float vk = v[i];
    float acc = 0.0f;
    for (int j = 0; j < L; ++j) {
      const std::int64_t at = (b * L + j) * d + k;
      const float gj = g[b * L + j];
      if (grad_v) acc = fmaf(gj, u[at], acc);
      if (grad_u) grad_u[at] = gj * vk;
    }
    if (grad_v) grad_v[i] = acc;
  }
}

__global__ void context_mean_backward_kernel(const float* __restrict__ grad_h,
                                             const std::int32_t* __restrict__ count,
                                             std::int64_t total, int C, int d, bool sum,
                                             float* __restrict__ grad_ctx) {
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < total;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const std::int64_t k = i % d, slot = i / d, b = slot / C, c = slot - b * C;
    const int n = count[b];
    grad_ctx[i] = c < n ? (sum ? grad_h[b * d + k] : grad_h[b * d + k] / float(n)) : 0.0f;
  }
}

void check_shape(const char* op, std::int64_t B, int L, int d) {
  detail::require_size(B, 0, op, "B");
  detail::require_size(L, 1, op, "L");
  detail::require_size(d, 1, op, "d");
}

}  // namespace

void batched_dot(const float* v, const float* u, std::int64_t B, int L, int d, float* scores,
                 const Launch& launch) {
  constexpr const char* kOp = "batched_dot";
  const cudaStream_t stream = launch.stream;
  check_shape(kOp, B, L, d);
  if (B == 0) return;
  detail::require_pointer(v, kOp, "v");
  detail::require_pointer(u, kOp, "u");
  detail::require_pointer(scores, kOp, "scores");
  NvtxRange range(kOp);
  const std::int64_t pairs = B * L;
  batched_dot_kernel<<<detail::grid_for(pairs * 32, kBlock), kBlock, 0, stream>>>(v, u, pairs, L, d,
                                                                                  scores);
  W2V_CHECK_LAUNCH(kOp, stream);
}

void context_mean(const float* ctx, const std::int32_t* count, std::int64_t B, int C, int d,
                  float* h, const Launch& launch) {
  constexpr const char* kOp = "context_mean";
  const cudaStream_t stream = launch.stream;
  check_shape(kOp, B, C, d);
  if (B == 0) return;
  detail::require_pointer(ctx, kOp, "ctx");
  detail::require_pointer(count, kOp, "count");
  detail::require_pointer(h, kOp, "h");
  detail::check_indices_if_enabled(count, B, C + 1, "context_mean count", stream);
  NvtxRange range(kOp);
  context_mean_kernel<<<detail::grid_for(B * d, kBlock), kBlock, 0, stream>>>(ctx, count, B * d, C,
                                                                              d, h);
  W2V_CHECK_LAUNCH(kOp, stream);
}

void batched_dot_backward(const float* v, const float* u, const float* grad_scores, std::int64_t B,
                          int L, int d, float* grad_v, float* grad_u, const Launch& launch) {
  constexpr const char* kOp = "batched_dot_backward";
  const cudaStream_t stream = launch.stream;
  check_shape(kOp, B, L, d);
  if (B == 0 || (!grad_v && !grad_u)) return;
  detail::require_pointer(v, kOp, "v");
  detail::require_pointer(u, kOp, "u");
  detail::require_pointer(grad_scores, kOp, "grad_scores");
  NvtxRange range(kOp);
  batched_dot_backward_kernel<<<detail::grid_for(B * d, kBlock), kBlock, 0, stream>>>(
      v, u, grad_scores, B * d, L, d, grad_v, grad_u);
  W2V_CHECK_LAUNCH(kOp, stream);
}

void context_mean_backward(const float* grad_h, const std::int32_t* count, std::int64_t B, int C,
                           int d, float* grad_ctx, Reduction reduction, const Launch& launch) {
  constexpr const char* kOp = "context_mean_backward";
  const cudaStream_t stream = launch.stream;
  check_shape(kOp, B, C, d);
  if (B == 0) return;
  detail::require_pointer(grad_h, kOp, "grad_h");
  detail::require_pointer(count, kOp, "count");
  detail::require_pointer(grad_ctx, kOp, "grad_ctx");
  detail::check_indices_if_enabled(count, B, C + 1, "context_mean_backward count", stream);
  NvtxRange range(kOp);
  const std::int64_t total = B * C * d;
  context_mean_backward_kernel<<<detail::grid_for(total, kBlock), kBlock, 0, stream>>>(
      grad_h, count, total, C, d, reduction == Reduction::kSum, grad_ctx);
  W2V_CHECK_LAUNCH(kOp, stream);
}

}  // namespace w2v::gpu
