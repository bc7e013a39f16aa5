// CPU references of the CUDA kernel library (include/w2v/kernels/ops.h): same names, arguments
// and semantics on host pointers. Written for clarity, not speed: every sum accumulates in double
// and is rounded to float once. Callers pass valid input (indices in range, counts in 0..C);
// nothing here checks or throws. Index arithmetic is int64 so that V * d never overflows.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "double_dot.h"
#include "w2v/reference.h"

namespace w2v::ref {

namespace {
using i64 = std::int64_t;
using detail::dot;

i64 rows_to_step(const std::int32_t* num_rows, i64 max_rows) {
  return num_rows ? *num_rows : max_rows;
}
}  // namespace

void gather_rows(const float* table, std::int64_t /*V*/, int d, const std::int32_t* idx,
                 std::int64_t N, float* out) {
  for (i64 n = 0; n < N; ++n) std::copy_n(table + idx[n] * i64{d}, d, out + n * d);
}

void batched_dot(const float* v, const float* u, std::int64_t B, int L, int d, float* scores) {
  for (i64 b = 0; b < B; ++b)
    for (i64 j = 0; j < L; ++j)
      scores[b * L + j] = static_cast<float>(dot(v + b * d, u + (b * L + j) * d, d));
}

void context_mean(const float* ctx, const std::int32_t* count, std::int64_t B, int C, int d,
                  float* h) {
  std::vector<double> acc(d);
  for (i64 b = 0; b < B; ++b) {
    std::fill(acc.begin(), acc.end(), 0.0);
    // Slots count[b]..C-1 are padding and never read.
    for (i64 c = 0; c < count[b]; ++c)
      for (int k = 0; k < d; ++k) acc[k] += ctx[(b * C + c) * d + k];
    const double inv = count[b] > 0 ? 1.0 / count[b] : 0.0;
    for (int k = 0; k < d; ++k) h[b * d + k] = static_cast<float>(acc[k] * inv);
  }
}

void batched_dot_backward(const float* v, const float* u, const float* grad_scores, std::int64_t B,
                          int L, int d, float* grad_v, float* grad_u) {
  std::vector<double> gv(d);
  for (i64 b = 0; b < B; ++b) {
    std::fill(gv.begin(), gv.end(), 0.0);
    for (i64 j = 0; j < L; ++j) {
      const double g = grad_scores[b * L + j];
      const float* row = u + (b * L + j) * d;
      for (int k = 0; k < d; ++k) gv[k] += g * row[k];
      if (grad_u)
        for (int k = 0; k < d; ++k)
          grad_u[(b * L + j) * d + k] = static_cast<float>(g * v[b * d + k]);
    }
    if (grad_v)
      for (int k = 0; k < d; ++k) grad_v[b * d + k] = static_cast<float>(gv[k]);
  }
}

void context_mean_backward(const float* grad_h, const std::int32_t* count, std::int64_t B, int C,
                           int d, float* grad_ctx, Reduction reduction) {
  for (i64 b = 0; b < B; ++b) {
    const double inv = reduction == Reduction::kSum ? 1.0 : count[b] > 0 ? 1.0 / count[b] : 0.0;
    for (i64 c = 0; c < C; ++c)
      for (int k = 0; k < d; ++k)
        grad_ctx[(b * C + c) * d + k] =
            c < count[b] ? static_cast<float>(grad_h[b * d + k] * inv) : 0.0f;
  }
}

void sigmoid_bce_masked(const float* logits, const float* labels, const float* mask, std::int64_t B,
                        int L, float* loss, float* grad, Reduction reduction) {
  for (i64 b = 0; b < B; ++b) {
    const i64 row = b * L;
    double n = 0;
    for (i64 j = 0; j < L; ++j) n += mask[row + j];
    if (n == 0) {
      loss[b] = 0.0f;
      std::fill_n(grad + row, L, 0.0f);
      continue;
    }
    if (reduction == Reduction::kSum) n = 1;
    double sum = 0;
    for (i64 j = 0; j < L; ++j) {
      const double m = mask[row + j], x = logits[row + j];
      // Padding is skipped rather than multiplied by 0, so its logits are never read.
      if (m == 0) {
        grad[row + j] = 0.0f;
        continue;
      }
      // Labels are 0 or 1; like ns_loss, anything above 0.5 counts as 1.
      const bool positive = labels[row + j] > 0.5f;
      sum += m * (positive ? softplus(-x) : softplus(x));
      grad[row + j] = static_cast<float>(m * (sigmoid(x) - (positive ? 1.0 : 0.0)) / n);
    }
    loss[b] = static_cast<float>(sum / n);
  }
}

void softmax_nll(const float* logits, std::int64_t B, std::int64_t V, const std::int32_t* targets,
                 int T, float* loss, float* grad, Reduction reduction) {
  std::vector<std::uint32_t> valid;
  valid.reserve(T);
  for (i64 b = 0; b < B; ++b) {
    valid.clear();
    for (i64 t = 0; t < T; ++t)
      if (targets[b * T + t] >= 0) valid.push_back(static_cast<std::uint32_t>(targets[b * T + t]));
    float* grad_row = grad ? grad + b * V : nullptr;
    if (valid.empty()) {
      loss[b] = 0.0f;
      if (grad_row) std::fill_n(grad_row, V, 0.0f);
      continue;
    }
    // softmax_nll reads each logit before it writes that gradient entry: grad may be logits.
    const double mean = softmax_nll(logits + b * V, static_cast<std::size_t>(V), valid.data(),
                                    valid.size(), grad_row);
    loss[b] = static_cast<float>(mean);
    if (reduction == Reduction::kSum) {
      const double n = static_cast<double>(valid.size());
      loss[b] = static_cast<float>(mean * n);
      if (grad_row)
        for (i64 v = 0; v < V; ++v) grad_row[v] = static_cast<float>(grad_row[v] * n);
    }
  }
}

void full_bce(const float* logits, std::int64_t B, std::int64_t V, const std::int32_t* targets,
              int T, float* loss, float* grad) {
  // y of the current row as a dense mark per vocabulary entry: a repeated target marks once.
  std::vector<unsigned char> is_target(V, 0);
  for (i64 b = 0; b < B; ++b) {
    for (i64 t = 0; t < T; ++t)
      if (targets[b * T + t] >= 0) is_target[targets[b * T + t]] = 1;
    const float* x_row = logits + b * V;
    float* g_row = grad + b * V;
    double sum = 0;
    for (i64 v = 0; v < V; ++v) {
      const double x = x_row[v];  // read before g_row[v] is written: grad may be logits
      const bool y = is_target[v] != 0;
      // softplus(x) - x = softplus(-x), without the cancellation for large x.
      sum += y ? softplus(-x) : softplus(x);
      g_row[v] = static_cast<float>(sigmoid(x) - (y ? 1.0 : 0.0));
    }
    loss[b] = static_cast<float>(sum);
    for (i64 t = 0; t < T; ++t)
      if (targets[b * T + t] >= 0) is_target[targets[b * T + t]] = 0;
  }
}

// logits [B, V] = h [B, d] table [V, d]^T
void gemm_logits(const float* h, const float* table, std::int64_t B, std::int64_t V, int d,
                 float* logits) {
  for (i64 b = 0; b < B; ++b)
    for (i64 v = 0; v < V; ++v)
      logits[b * V + v] = static_cast<float>(dot(h + b * d, table + v * d, d));
}

// grad_h [B, d] = grad_logits [B, V] table [V, d]
void gemm_hidden_grad(const float* grad_logits, const float* table, std::int64_t B, std::int64_t V,
                      int d, float* grad_h) {
  std::vector<double> acc(d);
  for (i64 b = 0; b < B; ++b) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (i64 v = 0; v < V; ++v)
      for (int k = 0; k < d; ++k) acc[k] += double(grad_logits[b * V + v]) * table[v * d + k];
    for (int k = 0; k < d; ++k) grad_h[b * d + k] = static_cast<float>(acc[k]);
  }
}

// out [V, d] = beta out + alpha grad_logits^T h  (beta 0: out is not read)
void gemm_table_grad(const float* grad_logits, const float* h, std::int64_t B, std::int64_t V,
                     int d, float alpha, float beta, float* out) {
  std::vector<double> acc(d);
  for (i64 v = 0; v < V; ++v) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (i64 b = 0; b < B; ++b)
      for (int k = 0; k < d; ++k) acc[k] += double(grad_logits[b * V + v]) * h[b * d + k];
    for (int k = 0; k < d; ++k)
      out[v * d + k] = static_cast<float>((beta == 0 ? 0.0 : double(beta) * out[v * d + k]) +
                                          double(alpha) * acc[k]);
  }
}

void scatter_add_atomic(float* table, std::int64_t /*V*/, int d, const std::int32_t* idx,
                        std::int64_t N, const float* grad, float scale, const float* row_scale) {
  for (i64 n = 0; n < N; ++n) {
    const float weight = row_scale ? row_scale[n] : 1.0f;
    if (weight == 0.0f) continue;
    float* row = table + idx[n] * i64{d};
    const double s = static_cast<double>(scale) * weight;
    for (int k = 0; k < d; ++k) row[k] = static_cast<float>(row[k] + s * grad[n * d + k]);
  }
}

void segment_sum_rows(const std::int32_t* idx, std::int64_t N, const float* grad, int d,
                      std::int32_t* unique, float* summed, std::int32_t* num_unique,
                      const float* row_scale) {
  std::vector<i64> order;
  for (i64 n = 0; n < N; ++n)
    if (!row_scale || row_scale[n] != 0.0f) order.push_back(n);
  std::stable_sort(order.begin(), order.end(), [&](i64 a, i64 b) { return idx[a] < idx[b]; });
  const i64 kept = static_cast<i64>(order.size());
  std::vector<double> acc(d);
  i64 u = 0;
  for (i64 begin = 0; begin < kept;) {
    i64 end = begin;
    std::fill(acc.begin(), acc.end(), 0.0);
    for (; end < kept && idx[order[end]] == idx[order[begin]]; ++end)
      for (int k = 0; k < d; ++k)
        acc[k] += (row_scale ? double(row_scale[order[end]]) : 1.0) * grad[order[end] * d + k];
    unique[u] = idx[order[begin]];
    for (int k = 0; k < d; ++k) summed[u * d + k] = static_cast<float>(acc[k]);
    ++u;
    begin = end;
  }
  *num_unique = static_cast<std::int32_t>(u);
}

void scatter_add_sorted(float* table, std::int64_t V, int d, const std::int32_t* idx,
                        std::int64_t N, const float* grad, float scale, const float* row_scale) {
  std::vector<std::int32_t> unique(N);
  std::vector<float> summed(N * d);
  std::int32_t count = 0;
  segment_sum_rows(idx, N, grad, d, unique.data(), summed.data(), &count, row_scale);
  scatter_add_atomic(table, V, d, unique.data(), count, summed.data(), scale);
}

void sparse_sgd(float* table, int d, const std::int32_t* rows, const std::int32_t* num_rows,
                std::int64_t max_rows, const float* grad, float lr) {
  for (i64 r = 0; r < rows_to_step(num_rows, max_rows); ++r) {
    float* p = table + rows[r] * i64{d};
    for (int k = 0; k < d; ++k)
      p[k] = static_cast<float>(p[k] - static_cast<double>(lr) * grad[r * d + k]);
  }
}

void sparse_momentum(float* table, float* velocity, int d, const std::int32_t* rows,
                     const std::int32_t* num_rows, std::int64_t max_rows, const float* grad,
                     float lr, float momentum, bool nesterov) {
  for (i64 r = 0; r < rows_to_step(num_rows, max_rows); ++r) {
    const i64 off = rows[r] * i64{d};
    for (int k = 0; k < d; ++k) {
      const double g = grad[r * d + k];
      const double vel = static_cast<double>(momentum) * velocity[off + k] + g;
      const double step = nesterov ? g + momentum * vel : vel;
      velocity[off + k] = static_cast<float>(vel);
      table[off + k] = static_cast<float>(table[off + k] - lr * step);
    }
  }
}

void sparse_adam(float* table, float* m, float* v, int d, const std::int32_t* rows,
                 const std::int32_t* num_rows, std::int64_t max_rows, const float* grad, float lr,
                 float beta1, float beta2, float eps, std::int64_t step) {
  const double b1 = beta1, b2 = beta2;
  const double bc1 = 1.0 - std::pow(b1, static_cast<double>(step));
  const double bc2 = 1.0 - std::pow(b2, static_cast<double>(step));
  for (i64 r = 0; r < rows_to_step(num_rows, max_rows); ++r) {
    const i64 off = rows[r] * i64{d};
    for (int k = 0; k < d; ++k) {
      const double g = grad[r * d + k];
      const double mk = b1 * m[off + k] + (1.0 - b1) * g;
      const double vk = b2 * v[off + k] + (1.0 - b2) * g * g;
      m[off + k] = static_cast<float>(mk);
      v[off + k] = static_cast<float>(vk);
      table[off + k] =
          static_cast<float>(table[off + k] - lr * (mk / bc1) / (std::sqrt(vk / bc2) + eps));
    }
  }
}

}  // namespace w2v::ref
