#pragma once
// The CUDA kernel library: the ops the GPU trainer's modular path is built from. Every launcher
// takes device pointers and, last, a Launch (its stream, scratch memory, cuBLAS handle);
// validates shapes and pointers on the host (w2v::Error on a bad call), launches, checks the
// launch, and opens an NVTX range named after the op. fp32, row-major; `d` is any value >= 1.
// Each op has a CPU reference of the same name and the same arguments before the Launch in
// include/w2v/reference.h (namespace w2v::ref), which the tests and benchmarks compare with
// and the CPU twin of the GPU trainer runs.
//
// Indices are int32. An index outside [0, V) is a caller bug: builds with W2V_CHECK_INDICES
// (the default for Debug builds) check every index on the device before the op and throw;
// Release builds skip that pass and require it as a precondition. check_indices() runs the
// same check on demand.
//
// Only declared when the build has CUDA (W2V_HAVE_CUDA).
#include <cstddef>
#include <cstdint>

#include "w2v/kernels/launch.h"
#include "w2v/kernels/reduction.h"

namespace w2v::gpu {

// Throws w2v::Error naming the first index of idx [n] outside [0, bound). Synchronises the
// stream.
void check_indices(const std::int32_t* idx, std::int64_t n, std::int64_t bound, const char* what,
                   const Launch& launch);

// ---- Gather.
// out [N, d] = table [V, d] rows idx [N]. 16-byte loads and stores when d % 4 == 0 and both
// pointers are 16-byte aligned; a scalar path otherwise.
void gather_rows(const float* table, std::int64_t V, int d, const std::int32_t* idx, std::int64_t N,
                 float* out, const Launch& launch);

// ---- Scores (kernels/batched_dot.cu).
// scores [B, L] = <v[b], u[b, j]> for v [B, d] and u [B, L, d] (skip-gram: one center against
// its context and noise rows).
void batched_dot(const float* v, const float* u, std::int64_t B, int L, int d, float* scores,
                 const Launch& launch);
// CBOW's hidden vector: h [B, d] = mean of ctx [B, C, d] over its first count[b] slots
// (count [B] in 0..C; 0 gives a zero row). batched_dot(h, ...) then scores it.
void context_mean(const float* ctx, const std::int32_t* count, std::int64_t B, int C, int d,
                  float* h, const Launch& launch);
// Backward of batched_dot: grad_v [B, d] = sum_j g[b, j] u[b, j];
// grad_u [B, L, d] = g[b, j] v[b]. Either output may be null.
void batched_dot_backward(const float* v, const float* u, const float* grad_scores, std::int64_t B,
                          int L, int d, float* grad_v, float* grad_u, const Launch& launch);
// Backward of context_mean: grad_ctx [B, C, d] = grad_h[b] / count[b] in the first count[b]
// slots, 0 in the rest. kSum copies grad_h[b] undivided (word2vec.c's CBOW update).
void context_mean_backward(const float* grad_h, const std::int32_t* count, std::int64_t B, int C,
                           int d, float* grad_ctx, Reduction reduction, const Launch& launch);

// ---- Losses.
// Masked sigmoid binary cross-entropy over logits, labels, mask [B, L] (labels 1 for context,
// 0 for noise; mask 0 for padding):
//   loss [B] = sum_j mask * (label ? softplus(-x) : softplus(x)) / n_b,
//   grad [B, L] = mask * (sigmoid(x) - label) / n_b,   n_b = sum_j mask[b, j].
// A row with n_b = 0 gives loss 0 and a zero gradient. kSum leaves out the division by n_b.
void sigmoid_bce_masked(const float* logits, const float* labels, const float* mask, std::int64_t B,
                        int L, float* loss, float* grad, Reduction reduction, const Launch& launch);

// Log-softmax + NLL over logits [B, V] with T targets per row (targets [B, T], -1 is padding;
// T = 1 for CBOW):
//   loss [B] = logsumexp(x_b) - mean over valid t of x_b[target],
//   grad [B, V] = softmax(x_b) - (1/T_b) sum_t onehot(target),  T_b valid targets of row b.
// A row with no valid target gives loss 0 and a zero gradient. grad may equal logits
// (in place). Two passes over the logits (max and sum, then the gradient). The workspace
// holds per-chunk partial results: softmax_nll_workspace_bytes(B, V) bytes. kSum multiplies
// row b's loss and gradient by T_b: grad = T_b softmax - sum_t onehot.
std::size_t softmax_nll_workspace_bytes(std::int64_t B, std::int64_t V);
void softmax_nll(const float* logits, std::int64_t B, std::int64_t V, const std::int32_t* targets,
                 int T, float* loss, float* grad, Reduction reduction, const Launch& launch);

// One-vs-all sigmoid BCE over the whole vocabulary with multi-hot targets (targets [B, T],
// -1 padding, a repeated target counts once): y[b, v] = 1 if v is a target of row b,
//   loss [B] = sum_v softplus(x) - y x,   grad [B, V] = sigmoid(x) - y.
// grad may equal logits. One pass over the logits.
void full_bce(const float* logits, std::int64_t B, std::int64_t V, const std::int32_t* targets,
              int T, float* loss, float* grad, const Launch& launch);

// ---- GEMMs of the vocabulary losses (cuBLAS SGEMM on launch.blas; kernels/gemm.cu).
// logits [B, V] = h [B, d] table [V, d]^T
void gemm_logits(const float* h, const float* table, std::int64_t B, std::int64_t V, int d,
                 float* logits, const Launch& launch);
// grad_h [B, d] = grad_logits [B, V] table [V, d]
void gemm_hidden_grad(const float* grad_logits, const float* table, std::int64_t B, std::int64_t V,
                      int d, float* grad_h, const Launch& launch);
// out [V, d] = beta out + alpha grad_logits [B, V]^T h [B, d]  (beta 0: out is not read)
void gemm_table_grad(const float* grad_logits, const float* h, std::int64_t B, std::int64_t V,
                     int d, float alpha, float beta, float* out, const Launch& launch);

// ---- Scatter-add into a table (kernels/scatter_add.cu). Every scatter and segment sum takes
// row_scale [N] (null: none): gradient row n is multiplied by row_scale[n] (the trainer's cap
// on repeated rows), and a row whose scale is 0 is skipped, whatever its gradient: it adds
// nothing and its index is not among the segment sum's distinct indices unless another row
// of it has a scale (the trainer's padding slots).
// table [V, d] row idx[n] += scale * grad [N, d] row n, with atomics (vector atomics on
// sm_90). Repeated indices are fine; the summation order, and so the last bits, vary.
void scatter_add_atomic(float* table, std::int64_t V, int d, const std::int32_t* idx,
                        std::int64_t N, const float* grad, float scale, const float* row_scale,
                        const Launch& launch);

// Deterministic reduction of rows with equal index (below 2^31 - 1): unique [N] gets the
// distinct indices in ascending order, summed [N, d] their summed gradient rows, *num_unique
// (device) their count U. The rows of one index are added in input order, one rounding each (an fma
// with a row scale), so the same input gives the same bits on every run. The workspace must hold
// segment_sum_workspace_bytes(N, d).
std::size_t segment_sum_workspace_bytes(std::int64_t N, int d);
void segment_sum_rows(const std::int32_t* idx, std::int64_t N, const float* grad, int d,
                      std::int32_t* unique, float* summed, std::int32_t* num_unique,
                      const float* row_scale, const Launch& launch);
// segment_sum_rows' sums, each added straight to its table row (table[u] += scale * sum, one
// fma, one write per distinct row). The workspace must hold
// scatter_add_sorted_workspace_bytes(N, d).
std::size_t scatter_add_sorted_workspace_bytes(std::int64_t N, int d);
void scatter_add_sorted(float* table, std::int64_t V, int d, const std::int32_t* idx,
                        std::int64_t N, const float* grad, float scale, const float* row_scale,
                        const Launch& launch);

// ---- Optimizer steps on touched rows only (kernels/optimizers.cu). rows [max_rows] are
// distinct (as segment_sum_rows gives them), grad [max_rows, d] their gradients; the first
// *num_rows (a device count; null means all max_rows) are stepped. State tables have the
// parameter table's shape.
void sparse_sgd(float* table, int d, const std::int32_t* rows, const std::int32_t* num_rows,
                std::int64_t max_rows, const float* grad, float lr, const Launch& launch);
// velocity = momentum * velocity + grad; param -= lr * (nesterov ? grad + momentum * velocity
// : velocity)  (PyTorch's SGD with dampening 0).
void sparse_momentum(float* table, float* velocity, int d, const std::int32_t* rows,
                     const std::int32_t* num_rows, std::int64_t max_rows, const float* grad,
                     float lr, float momentum, bool nesterov, const Launch& launch);
// Lazy Adam (as PyTorch's SparseAdam): only touched rows update their moments; the bias
// correction uses the global step (>= 1). The paper's form, with eps added after the bias
// correction (SparseAdam adds it before, a difference of order eps):
//   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,
//   param -= lr * (m / (1 - b1^step)) / (sqrt(v / (1 - b2^step)) + eps).
void sparse_adam(float* table, float* m, float* v, int d, const std::int32_t* rows,
                 const std::int32_t* num_rows, std::int64_t max_rows, const float* grad, float lr,
                 float beta1, float beta2, float eps, std::int64_t step, const Launch& launch);

// Device-to-device copy bandwidth, measured with a large cudaMemcpyAsync (bytes read + written
// per second): the ceiling the benchmarks report against.
double measure_copy_bandwidth(std::size_t bytes, int repeats, const Launch& launch);

}  // namespace w2v::gpu
