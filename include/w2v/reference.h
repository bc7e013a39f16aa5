#pragma once
// CPU reference ops: exact (double-accumulated, std::exp-based) versions of the losses that
// the trainers optimise. The tests check gradients against finite differences of these, the
// fast CPU trainer against them, and the GPU kernels will be checked against them too.
#include <cstddef>
#include <cstdint>

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

}  // namespace w2v::ref
