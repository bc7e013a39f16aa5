#pragma once
// CPU reference ops: exact (double-accumulated, std::exp-based) versions of the losses the
// trainers optimise, of every op of the CUDA kernel library (include/w2v/kernels/ops.h: same
// names, and the same arguments without the launcher's trailing Launch) and of the fused
// kernels (include/w2v/kernels/fused_ns.h). One implementation per op (host/reference/): the
// tests check their gradients against finite differences, then the fast CPU trainer's steps
// and the kernels against them; the benchmarks time them beside the kernels; the CPU trainer
// uses them for the vocabulary losses; the GPU trainer's CPU twin runs on them.
#include <cstddef>
#include <cstdint>

#include "w2v/kernels/fused_ns.h"
#include "w2v/kernels/reduction.h"

namespace w2v::ref {

// Numerically stable for any finite x.
double sigmoid(double x);
double softplus(double x);  // log(1 + e^x)

// Negative-sampling loss of one input vector v [d] against T target rows u [T, d] with
// labels [T] (1: observed context, 0: noise):
//   loss = sum_t softplus(-s_t) if label_t = 1 else softplus(s_t),  s_t = <v, u_t>.
// Writes d loss/d v to grad_v [d] and d loss/d u to grad_u [T, d] when they are not null.
double ns_loss(const float* v, const float* u, const float* labels, std::size_t targets,
               std::size_t dim, float* grad_v, float* grad_u);

// Log-softmax + NLL over one row of logits [V], averaged over T targets (T = 1 for CBOW; all
// context words of a center for skip-gram): loss = -(1/T) sum_t log softmax(logits)[target_t].
// grad_logits [V] (if not null; may equal logits) = softmax(logits) - (1/T) sum_t
// onehot(target_t).
double softmax_nll(const float* logits, std::size_t vocab, const std::uint32_t* targets,
                   std::size_t target_count, float* grad_logits);

// The whole full-softmax objective for one hidden vector h [d] and an output table
// U [V, d]: logits = U h, then softmax_nll. grad_h [d] and grad_u [V, d] when not null.
double softmax_loss(const float* h, const float* u, std::size_t vocab, std::size_t dim,
                    const std::uint32_t* targets, std::size_t target_count, float* grad_h,
                    float* grad_u);

// ---- References of the kernel library (include/w2v/kernels/ops.h, where each is specified):
// host pointers, sums accumulated in double. Callers pass valid input (indices in range,
// counts in 0..C); nothing here checks or throws.

void gather_rows(const float* table, std::int64_t V, int d, const std::int32_t* idx, std::int64_t N,
                 float* out);
void batched_dot(const float* v, const float* u, std::int64_t B, int L, int d, float* scores);
void context_mean(const float* ctx, const std::int32_t* count, std::int64_t B, int C, int d,
                  float* h);
void batched_dot_backward(const float* v, const float* u, const float* grad_scores, std::int64_t B,
                          int L, int d, float* grad_v, float* grad_u);
void context_mean_backward(const float* grad_h, const std::int32_t* count, std::int64_t B, int C,
                           int d, float* grad_ctx, Reduction reduction = Reduction::kMean);
void sigmoid_bce_masked(const float* logits, const float* labels, const float* mask, std::int64_t B,
                        int L, float* loss, float* grad, Reduction reduction = Reduction::kMean);
// The rows of the one-row softmax_nll above, with targets [B, T] (-1 padding); grad may equal
// logits.
void softmax_nll(const float* logits, std::int64_t B, std::int64_t V, const std::int32_t* targets,
                 int T, float* loss, float* grad, Reduction reduction = Reduction::kMean);
// grad may equal logits. The CPU trainer's --loss bce step runs it on one row.
void full_bce(const float* logits, std::int64_t B, std::int64_t V, const std::int32_t* targets,
              int T, float* loss, float* grad);
void gemm_logits(const float* h, const float* table, std::int64_t B, std::int64_t V, int d,
                 float* logits);
void gemm_hidden_grad(const float* grad_logits, const float* table, std::int64_t B, std::int64_t V,
                      int d, float* grad_h);
void gemm_table_grad(const float* grad_logits, const float* h, std::int64_t B, std::int64_t V,
                     int d, float alpha, float beta, float* out);
// Adds the rows in input order, each rounded to float once. As the kernels, every scatter and
// segment sum skips a row whose row_scale is 0.
void scatter_add_atomic(float* table, std::int64_t V, int d, const std::int32_t* idx,
                        std::int64_t N, const float* grad, float scale,
                        const float* row_scale = nullptr);
// *num_unique = U; unique [U] ascending, summed [U, d] (each row summed in input order).
void segment_sum_rows(const std::int32_t* idx, std::int64_t N, const float* grad, int d,
                      std::int32_t* unique, float* summed, std::int32_t* num_unique,
                      const float* row_scale = nullptr);
// segment_sum_rows, then each distinct row added once, as the kernel does.
void scatter_add_sorted(float* table, std::int64_t V, int d, const std::int32_t* idx,
                        std::int64_t N, const float* grad, float scale,
                        const float* row_scale = nullptr);
void sparse_sgd(float* table, int d, const std::int32_t* rows, const std::int32_t* num_rows,
                std::int64_t max_rows, const float* grad, float lr);
void sparse_momentum(float* table, float* velocity, int d, const std::int32_t* rows,
                     const std::int32_t* num_rows, std::int64_t max_rows, const float* grad,
                     float lr, float momentum, bool nesterov);
void sparse_adam(float* table, float* m, float* v, int d, const std::int32_t* rows,
                 const std::int32_t* num_rows, std::int64_t max_rows, const float* grad, float lr,
                 float beta1, float beta2, float eps, std::int64_t step);

// ---- The fused kernels' semantics (include/w2v/kernels/fused_ns.h) on the host, warp by
// warp. `concurrency` warps run in lock step: each round, every warp first retires the input
// rows leaving its window, then steps one center reading the tables as the round found them;
// all additions of a phase land at its end, summed (as the kernel's atomics); a warp whose chunk
// is done takes the next one in the batch's order (as the kernel's queue). concurrency = 1
// is exactly one warp, the kernel's order for a single chunk; larger values model a GPU's
// resident warps. output may equal input (tied). Throws w2v::Error on a bad shape or token.
void fused_ns(float* input, float* output, std::size_t vocab, const FusedShape& shape,
              const FusedStep& step, const FusedNoise& noise, const FusedBatch& batch,
              const FusedScales& scales = {}, std::size_t concurrency = 1);

}  // namespace w2v::ref
