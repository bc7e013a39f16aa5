// The losses the trainers optimise (include/w2v/reference.h).
#include <algorithm>
#include <cmath>
#include <vector>

#include "double_dot.h"
#include "w2v/reference.h"

namespace w2v::ref {

double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  double e = std::exp(x);
  return e / (1.0 + e);
}

double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }

using detail::dot;

double ns_loss(const float* v, const float* u, const float* labels, std::size_t targets,
               std::size_t dim, float* grad_v, float* grad_u) {
  double loss = 0;
  std::vector<double> gv(grad_v ? dim : 0, 0.0);
  for (std::size_t t = 0; t < targets; ++t) {
    const float* row = u + t * dim;
    double s = dot(v, row, dim);
    bool positive = labels[t] > 0.5f;
    loss += positive ? softplus(-s) : softplus(s);
    // d softplus(-s)/ds = -sigmoid(-s) = sigmoid(s) - 1;  d softplus(s)/ds = sigmoid(s).
    double g = sigmoid(s) - (positive ? 1.0 : 0.0);
    for (std::size_t k = 0; k < gv.size(); ++k) gv[k] += g * row[k];
    if (grad_u)
      for (std::size_t k = 0; k < dim; ++k) grad_u[t * dim + k] = static_cast<float>(g * v[k]);
  }
  for (std::size_t k = 0; k < gv.size(); ++k) grad_v[k] = static_cast<float>(gv[k]);
  return loss;
}

double softmax_nll(const float* logits, std::size_t vocab, const std::uint32_t* targets,
                   std::size_t target_count, float* grad_logits) {
  double max = logits[0];
  for (std::size_t i = 1; i < vocab; ++i) max = std::max(max, static_cast<double>(logits[i]));
  double sum = 0;
  for (std::size_t i = 0; i < vocab; ++i) sum += std::exp(logits[i] - max);
  const double log_z = max + std::log(sum);
  double loss = 0;
  for (std::size_t t = 0; t < target_count; ++t) loss += log_z - logits[targets[t]];
  const double inv_t = 1.0 / static_cast<double>(target_count);
  if (grad_logits) {
    for (std::size_t i = 0; i < vocab; ++i)
      grad_logits[i] = static_cast<float>(std::exp(logits[i] - log_z));
    for (std::size_t t = 0; t < target_count; ++t)
      grad_logits[targets[t]] -= static_cast<float>(inv_t);
  }
  return loss * inv_t;
}

double softmax_loss(const float* h, const float* u, std::size_t vocab, std::size_t dim,
                    const std::uint32_t* targets, std::size_t target_count, float* grad_h,
                    float* grad_u) {
  std::vector<float> logits(vocab), grad(vocab);
  for (std::size_t r = 0; r < vocab; ++r) logits[r] = static_cast<float>(dot(h, u + r * dim, dim));
  double loss = softmax_nll(logits.data(), vocab, targets, target_count, grad.data());
  if (grad_h) {
    std::vector<double> gh(dim, 0.0);
    for (std::size_t r = 0; r < vocab; ++r)
      for (std::size_t k = 0; k < dim; ++k) gh[k] += static_cast<double>(grad[r]) * u[r * dim + k];
    for (std::size_t k = 0; k < dim; ++k) grad_h[k] = static_cast<float>(gh[k]);
  }
  if (grad_u)
    for (std::size_t r = 0; r < vocab; ++r)
      for (std::size_t k = 0; k < dim; ++k) grad_u[r * dim + k] = grad[r] * h[k];
  return loss;
}

}  // namespace w2v::ref
