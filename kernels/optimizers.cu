// Optimizer steps on touched rows only: rows [max_rows] (distinct), grad [max_rows, d]; the
// first *num_rows rows are stepped (the count stays on the device, as segment_sum_rows
// leaves it). One thread per element of the touched rows, grid-stride; every state element
// is read and written once.
#include <cmath>

#include "common.cuh"
#include "w2v/kernels/ops.h"

namespace w2v::gpu {
namespace {

constexpr int kBlock = 256;

enum class Rule { kSgd, kMomentum, kNesterov, kAdam };

struct Step {
  float lr, momentum, beta1, beta2, eps, bias1, bias2;
};

template <Rule kRule>
__global__ void sparse_step_kernel(float* __restrict__ table, float* __restrict__ state1,
                                   float* __restrict__ state2, int d,
                                   const std::int32_t* __restrict__ rows,
                                   const std::int32_t* __restrict__ num_rows, std::int64_t max_rows,
                                   const float* __restrict__ grad, Step s) {
  const std::int64_t count = num_rows ? min(std::int64_t(*num_rows), max_rows) : max_rows;
  const std::int64_t total = count * d;
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < total;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const std::int64_t r = i / d, k = i - r * d;
    const std::int64_t at = std::int64_t(rows[r]) * d + k;
    const float g = grad[i];
    if constexpr (kRule == Rule::kSgd) {
      table[at] -= s.lr * g;
    } else if constexpr (kRule == Rule::kMomentum || kRule == Rule::kNesterov) {
      const float v = s.momentum * state1[at] + g;
      state1[at] = v;
      table[at] -= s.lr * (kRule == Rule::kNesterov ? g + s.momentum * v : v);
    } else {
      const float m = s.beta1 * state1[at] + (1.0f - s.beta1) * g;
      const float v = s.beta2 * state2[at] + (1.0f - s.beta2) * g * g;
      state1[at] = m;
      state2[at] = v;
      table[at] -= s.lr * (m / s.bias1) / (sqrtf(v / s.bias2) + s.eps);
    }
  }
}

template <Rule kRule>
void step_rows(const char* op, float* table, float* state1, float* state2, int d,
               const std::int32_t* rows, const std::int32_t* num_rows, std::int64_t max_rows,
               const float* grad, Step s, cudaStream_t stream) {
  detail::require_size(d, 1, op, "d");
  detail::require_size(max_rows, 0, op, "max_rows");
  if (max_rows == 0) return;
  detail::require_pointer(table, op, "table");
  detail::require_pointer(rows, op, "rows");
  detail::require_pointer(grad, op, "grad");
  NvtxRange range(op);
  sparse_step_kernel<kRule><<<detail::grid_for(max_rows * d, kBlock), kBlock, 0, stream>>>(
      table, state1, state2, d, rows, num_rows, max_rows, grad, s);
  W2V_CHECK_LAUNCH(op, stream);
}

}  // namespace

void sparse_sgd(float* table, int d, const std::int32_t* rows, const std::int32_t* num_rows,
                std::int64_t max_rows, const float* grad, float lr, const Launch& launch) {
  Step s{};
  s.lr = lr;
  step_rows<Rule::kSgd>("sparse_sgd", table, nullptr, nullptr, d, rows, num_rows, max_rows, grad, s,
                        launch.stream);
}

void sparse_momentum(float* table, float* velocity, int d, const std::int32_t* rows,
                     const std::int32_t* num_rows, std::int64_t max_rows, const float* grad,
                     float lr, float momentum, bool nesterov, const Launch& launch) {
  detail::require_pointer(velocity, "sparse_momentum", "velocity");
  Step s{};
  s.lr = lr;
  s.momentum = momentum;
  if (nesterov) {
    step_rows<Rule::kNesterov>("sparse_momentum", table, velocity, nullptr, d, rows, num_rows,
                               max_rows, grad, s, launch.stream);
  } else {
    step_rows<Rule::kMomentum>("sparse_momentum", table, velocity, nullptr, d, rows, num_rows,
                               max_rows, grad, s, launch.stream);
  }
}

void sparse_adam(float* table, float* m, float* v, int d, const std::int32_t* rows,
                 const std::int32_t* num_rows, std::int64_t max_rows, const float* grad, float lr,
                 float beta1, float beta2, float eps, std::int64_t step, const Launch& launch) {
  constexpr const char* kOp = "sparse_adam";
  detail::require_pointer(m, kOp, "m");
  detail::require_pointer(v, kOp, "v");
  detail::require_size(step, 1, kOp, "step");
  Step s{};
  s.lr = lr;
  s.beta1 = beta1;
  s.beta2 = beta2;
  s.eps = eps;
  // Bias corrections in double: 1 - beta^step loses digits in float for small step.
  s.bias1 = float(1.0 - std::pow(double(beta1), double(step)));
  s.bias2 = float(1.0 - std::pow(double(beta2), double(step)));
  step_rows<Rule::kAdam>(kOp, table, m, v, d, rows, num_rows, max_rows, grad, s, launch.stream);
}

}  // namespace w2v::gpu
