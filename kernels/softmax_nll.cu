// Log-softmax + NLL over logits [B, V] with T targets per row (-1 = padding): loss [B] and
// grad [B, V] = softmax - (1/T_b) sum_t onehot(target_t), in two passes over the logits.
//
// Rows are cut into chunks of kChunk columns, one block per (row, chunk), so one row of
// millions of columns still fills the GPU and many short rows do too.
//   1. softmax_partials_kernel: each thread keeps an online (max, sum of exp(x - max)) over its
//      columns; the block merges them into the chunk's pair. The chunk-0 block also sums the
//      row's target logits (read here, before an in-place gradient overwrites them).
//   2. softmax_grad_kernel: every block merges its row's chunk pairs into logsumexp, writes
//      softmax for its chunk (zeros for a row without targets); chunk 0 writes the loss.
//   3. softmax_targets_kernel: subtracts 1/T_b at each valid target (atomics: a repeated
//      target subtracts twice, as the formula says).
// Reduction::kSum scales row b by T_b: softmax times T_b in 2, 1 instead of 1/T_b in 3.
// Workspace: float2 [B * chunks] partials, then float [B] target sums and int [B] counts.
#include <cfloat>

#include "common.cuh"
#include "w2v/kernels/ops.h"

namespace w2v::gpu {
namespace {

constexpr int kBlock = 256;
constexpr std::int64_t kChunk = 8192;

std::int64_t chunks_for(std::int64_t V) { return ceil_div(V, kChunk); }

struct Workspace {
  float2* partials;
  float* target_sum;
  int* target_count;
};

Workspace carve(void* base, std::int64_t B, std::int64_t chunks) {
  auto* p = static_cast<char*>(base);
  Workspace w;
  w.partials = reinterpret_cast<float2*>(p);
  p += sizeof(float2) * B * chunks;
  w.target_sum = reinterpret_cast<float*>(p);
  p += sizeof(float) * B;
  w.target_count = reinterpret_cast<int*>(p);
  return w;
}

// Merge of two (max, sum) pairs of the online softmax.
__device__ __forceinline__ float2 merge(float2 a, float2 b) {
  float m = fmaxf(a.x, b.x);
  if (m == -INFINITY) return make_float2(-INFINITY, 0.0f);
  return make_float2(m, a.y * expf(a.x - m) + b.y * expf(b.x - m));
}

__device__ float2 block_merge(float2 mine, float* scratch) {
  const float m = detail::block_max(mine.x, scratch);
  const float s = m == -INFINITY ? 0.0f : mine.y * expf(mine.x - m);
  return make_float2(m, detail::block_sum(s, scratch));
}

__global__ void softmax_partials_kernel(const float* __restrict__ logits, std::int64_t V,
                                        std::int64_t chunks,
                                        const std::int32_t* __restrict__ targets, int T,
                                        Workspace ws) {
  __shared__ float scratch[32];
  const std::int64_t b = blockIdx.x / chunks, c = blockIdx.x - b * chunks;
  const float* row = logits + b * V;
  const std::int64_t begin = c * kChunk, end = min(begin + kChunk, V);
  float2 mine = make_float2(-INFINITY, 0.0f);
#pragma unroll 4
  for (std::int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    const float x = row[i];
    if (x > mine.x) {
      mine.y = mine.y * expf(mine.x - x) + 1.0f;
      mine.x = x;
    } else {
      mine.y += expf(x - mine.x);
    }
  }
  const float2 chunk = block_merge(mine, scratch);
  if (threadIdx.x == 0) ws.partials[blockIdx.x] = chunk;
  if (c == 0 && threadIdx.x < 32) {
    float sum = 0.0f;
    int count = 0;
    for (int t = threadIdx.x; t < T; t += 32) {
      const std::int32_t target = targets[b * T + t];
      if (target >= 0) {
        sum += row[target];
        ++count;
      }
    }
    sum = detail::warp_sum(sum);
    count = __reduce_add_sync(detail::kFullMask, count);
    if (threadIdx.x == 0) {
      ws.target_sum[b] = sum;
      ws.target_count[b] = count;
    }
  }
}

__global__ void softmax_grad_kernel(const float* logits, std::int64_t V, std::int64_t chunks,
                                    Workspace ws, bool sum, float* __restrict__ loss, float* grad) {
  __shared__ float scratch[32];
  const std::int64_t b = blockIdx.x / chunks, c = blockIdx.x - b * chunks;
  float2 mine = make_float2(-INFINITY, 0.0f);
  for (std::int64_t k = threadIdx.x; k < chunks; k += blockDim.x)
    mine = merge(mine, ws.partials[b * chunks + k]);
  const float2 total = block_merge(mine, scratch);
  const float lse = total.x + logf(total.y);
  const int count = ws.target_count[b];
  if (c == 0 && threadIdx.x == 0)
    loss[b] = count == 0 ? 0.0f
              : sum      ? float(count) * lse - ws.target_sum[b]
                         : lse - ws.target_sum[b] / float(count);
  const float scale = count == 0 ? 0.0f : sum ? float(count) : 1.0f;
  const std::int64_t begin = c * kChunk, end = min(begin + kChunk, V);
  // logits and grad may be the same buffer: each element is read, then written, by one thread.
  for (std::int64_t i = begin + threadIdx.x; i < end; i += blockDim.x)
    grad[b * V + i] = scale * expf(logits[b * V + i] - lse);
}

__global__ void softmax_targets_kernel(std::int64_t B, std::int64_t V,
                                       const std::int32_t* __restrict__ targets, int T, bool sum,
                                       const int* __restrict__ target_count, float* grad) {
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < B * T;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const std::int64_t b = i / T;
    const std::int32_t target = targets[i];
    if (target >= 0) atomicAdd(&grad[b * V + target], sum ? -1.0f : -1.0f / float(target_count[b]));
  }
}

}  // namespace

std::size_t softmax_nll_workspace_bytes(std::int64_t B, std::int64_t V) {
  return sizeof(float2) * B * chunks_for(V) + (sizeof(float) + sizeof(int)) * B;
}

void softmax_nll(const float* logits, std::int64_t B, std::int64_t V, const std::int32_t* targets,
                 int T, float* loss, float* grad, Reduction reduction, const Launch& launch) {
  constexpr const char* kOp = "softmax_nll";
  const cudaStream_t stream = launch.stream;
  void* const workspace = launch.workspace;
  detail::require_vocab_loss(kOp, logits, B, V, targets, T, loss, grad);
  if (B == 0) return;
  detail::require_workspace(workspace, launch.workspace_bytes, softmax_nll_workspace_bytes(B, V),
                            kOp);
  detail::require(detail::aligned16(workspace), kOp, "workspace is not 16-byte aligned");
  detail::check_indices_if_enabled(targets, B * T, V, "softmax_nll targets", stream,
                                   /*allow_padding=*/true);
  NvtxRange range(kOp);
  const std::int64_t chunks = chunks_for(V);
  detail::require(B * chunks < (std::int64_t(1) << 31), kOp, "B x chunks exceeds the grid");
  Workspace ws = carve(workspace, B, chunks);
  softmax_partials_kernel<<<unsigned(B * chunks), kBlock, 0, stream>>>(logits, V, chunks, targets,
                                                                       T, ws);
  W2V_CHECK_LAUNCH(kOp, stream);
  const bool sum = reduction == Reduction::kSum;
  softmax_grad_kernel<<<unsigned(B * chunks), kBlock, 0, stream>>>(logits, V, chunks, ws, sum, loss,
                                                                   grad);
  W2V_CHECK_LAUNCH(kOp, stream);
  softmax_targets_kernel<<<detail::grid_for(B * T, kBlock), kBlock, 0, stream>>>(
      B, V, targets, T, sum, ws.target_count, grad);
  W2V_CHECK_LAUNCH(kOp, stream);
}

}  // namespace w2v::gpu
