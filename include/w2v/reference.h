#pragma once
// CPU reference ops: exact (double-accumulated, std::exp-based) versions of the losses that
// the trainers optimise and of every CUDA kernel (include/w2v/kernels.h, same names). The
// tests check their gradients against finite differences, then the fast CPU trainer's steps
// and the kernels against them; the benchmarks time them beside the kernels.
#include <cstddef>
#include <cstdint>

#include "w2v/reduction.h"

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

// Log-softmax + NLL over logits [V], averaged over T targets (T = 1 for CBOW; all context
// words of a center for skip-gram): loss = -(1/T) sum_t log softmax(logits)[target_t].
// grad_logits [V] (if not null; may equal logits) = softmax(logits) - (1/T) sum_t onehot(target_t).
double softmax_nll(const float* logits, std::size_t vocab, const std::uint32_t* targets,
                   std::size_t target_count, float* grad_logits);

// The whole full-softmax objective for one hidden vector h [d] and an output table
// U [V, d]: logits = U h, then softmax_nll. grad_h [d] and grad_u [V, d] when not null.
double softmax_loss(const float* h, const float* u, std::size_t vocab, std::size_t dim,
                    const std::uint32_t* targets, std::size_t target_count, float* grad_h,
                    float* grad_u);

// ---- References for the CUDA kernel library (include/w2v/kernels.h): same names, shapes
// and semantics, host pointers. Sums accumulate in double.

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
// Rows of softmax_nll above with targets [B, T] (-1 padding); grad may equal logits. kSum
// multiplies row b's loss and gradient by its valid target count.
void softmax_nll_rows(const float* logits, std::int64_t B, std::int64_t V,
                      const std::int32_t* targets, int T, float* loss, float* grad,
                      Reduction reduction = Reduction::kMean);
void full_bce(const float* logits, std::int64_t B, std::int64_t V, const std::int32_t* targets,
              int T, float* loss, float* grad);
// In input order. row_scale [N] (optional) multiplies gradient row n.
void scatter_add(float* table, std::int64_t V, int d, const std::int32_t* idx, std::int64_t N,
                 const float* grad, float scale, const float* row_scale = nullptr);
// Returns U; unique [U] ascending, summed [U, d].
std::int64_t segment_sum_rows(const std::int32_t* idx, std::int64_t N, const float* grad, int d,
                              std::int32_t* unique, float* summed,
                              const float* row_scale = nullptr);
void sparse_sgd(float* table, int d, const std::int32_t* rows, std::int64_t num_rows,
                const float* grad, float lr);
void sparse_momentum(float* table, float* velocity, int d, const std::int32_t* rows,
                     std::int64_t num_rows, const float* grad, float lr, float momentum,
                     bool nesterov);
void sparse_adam(float* table, float* m, float* v, int d, const std::int32_t* rows,
                 std::int64_t num_rows, const float* grad, float lr, float beta1, float beta2,
                 float eps, std::int64_t step);

}  // namespace w2v::ref
