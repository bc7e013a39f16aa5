// The CPU references of the kernel library (w2v::ref, semantics in include/w2v/kernels/ops.h):
// forward ops against a straightforward recomputation or known values, every gradient against
// central finite differences of the same reference, the optimizers against a hand-written
// two-step computation. Outputs are poisoned with NaN before each call.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <ostream>
#include <random>
#include <tuple>
#include <utility>
#include <vector>

#include "support/random.h"
#include "w2v/reference.h"

namespace w2v {
namespace {

constexpr float kPoison = std::numeric_limits<float>::quiet_NaN();

using test::random_floats;
using test::random_indices;

bool all_finite(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
}

// Checks grad [n] against central differences of rows()[i / row_len], the row value that
// element i feeds (other rows then add no rounding). The step is the float difference actually
// taken, so x +- h rounding at large |x| does not bias it. Passes when
// |grad - fd| <= atol + rtol |fd|, atol = floor + 2^-22 |row| / (2h): twice the rounding of the
// two evaluations of a float row value, over the step.
template <typename Rows>
void expect_fd_gradient(std::vector<float>& x, const std::vector<float>& grad, std::size_t row_len,
                        Rows rows, float h, double rtol, double floor) {
  ASSERT_EQ(x.size(), grad.size());
  const auto base = rows();  // std::vector of float or double
  double worst = 0, worst_fd = 0;
  std::size_t worst_at = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::size_t b = i / row_len;
    const float saved = x[i], up_x = saved + h, down_x = saved - h;
    x[i] = up_x;
    const double up = rows()[b];
    x[i] = down_x;
    const double down = rows()[b];
    x[i] = saved;
    const double fd = (up - down) / (static_cast<double>(up_x) - down_x);
    const double atol = floor + 0x1p-22 * std::abs(base[b]) / (2.0 * h);
    const double err = std::abs(grad[i] - fd) / (atol + rtol * std::abs(fd));
    if (err > worst) worst = err, worst_fd = fd, worst_at = i;
  }
  EXPECT_LE(worst, 1.0) << "element " << worst_at << ": analytic " << grad[worst_at]
                        << ", finite difference " << worst_fd;
}

TEST(RefGather, CopiesIndexedRows) {
  std::mt19937 gen(1);
  for (int d : {1, 3, 8}) {
    const std::int64_t V = 6, N = 10;
    auto table = random_floats(V * d, gen, 1.0f);
    auto idx = random_indices(N, V, gen);
    std::vector<float> out(N * d, kPoison);
    ref::gather_rows(table.data(), V, d, idx.data(), N, out.data());
    for (std::int64_t n = 0; n < N; ++n)
      for (int k = 0; k < d; ++k) EXPECT_EQ(out[n * d + k], table[idx[n] * d + k]) << n << " " << d;
  }
}

// {B, L or C, d, seed}.
using Shape = std::tuple<int, int, int, unsigned>;
const Shape kShapes[] = {{1, 1, 1, 4u}, {2, 3, 5, 5u}, {3, 6, 17, 6u}};

// The forward ops against a plain double loop (1e-6: one float rounding of values below 8),
// the backward ops against finite differences of f = sum w * forward with random weights w.
// The forward is linear in every single input, so the central difference is exact up to
// rounding for any step: h = 0.25 keeps that rounding far below rtol 1e-5, floor 1e-5.
class RefBatchedDot : public ::testing::TestWithParam<Shape> {};

TEST_P(RefBatchedDot, MatchesDotsAndFiniteDifferences) {
  const auto [B, L, d, seed] = GetParam();
  std::mt19937 gen(seed);
  auto v = random_floats(B * d, gen, 1.0f), u = random_floats(B * L * d, gen, 1.0f);
  const auto w = random_floats(B * L, gen, 1.0f);
  std::vector<float> s(B * L, kPoison);
  ref::batched_dot(v.data(), u.data(), B, L, d, s.data());
  for (int i = 0; i < B * L; ++i) {
    double dot = 0;
    for (int k = 0; k < d; ++k) dot += double(v[i / L * d + k]) * u[i * d + k];
    EXPECT_NEAR(s[i], dot, 1e-6) << i;
  }
  std::vector<float> gv(v.size(), kPoison), gu(u.size(), kPoison);
  ref::batched_dot_backward(v.data(), u.data(), w.data(), B, L, d, gv.data(), gu.data());
  auto rows = [&, B = B, L = L, d = d] {  // f_b = sum_j w[b, j] scores[b, j]
    ref::batched_dot(v.data(), u.data(), B, L, d, s.data());
    std::vector<double> f(B, 0.0);
    for (int i = 0; i < B * L; ++i) f[i / L] += double(w[i]) * s[i];
    return f;
  };
  expect_fd_gradient(v, gv, d, rows, 0.25f, 1e-5, 1e-5);
  expect_fd_gradient(u, gu, std::size_t(L) * d, rows, 0.25f, 1e-5, 1e-5);
  // Either output may be null; the other comes out the same.
  std::vector<float> only_u(u.size(), kPoison), only_v(v.size(), kPoison);
  ref::batched_dot_backward(v.data(), u.data(), w.data(), B, L, d, nullptr, only_u.data());
  ref::batched_dot_backward(v.data(), u.data(), w.data(), B, L, d, only_v.data(), nullptr);
  EXPECT_EQ(only_u, gu);
  EXPECT_EQ(only_v, gv);
}

INSTANTIATE_TEST_SUITE_P(, RefBatchedDot, ::testing::ValuesIn(kShapes));

class RefContextMean : public ::testing::TestWithParam<Shape> {};

TEST_P(RefContextMean, MatchesMeanAndFiniteDifferences) {
  const auto [B, C, d, seed] = GetParam();
  std::mt19937 gen(seed);
  std::vector<std::int32_t> count(B);  // row 0 full, row 1 empty
  for (int b = 0; b < B; ++b) count[b] = b == 0 ? C : b == 1 ? 0 : int(gen() % (C + 1));
  auto ctx = random_floats(B * C * d, gen, 1.0f);
  for (int b = 0; b < B; ++b)  // padding slots hold values that would show if they were read
    for (int c = count[b]; c < C; ++c) std::fill_n(ctx.begin() + (b * C + c) * d, d, 1e3f);
  const auto w = random_floats(B * d, gen, 1.0f);
  std::vector<float> h(B * d, kPoison);
  ref::context_mean(ctx.data(), count.data(), B, C, d, h.data());
  for (int i = 0; i < B * d; ++i) {
    const int b = i / d, k = i % d;
    double sum = 0;
    for (int c = 0; c < count[b]; ++c) sum += ctx[(b * C + c) * d + k];
    EXPECT_NEAR(h[i], count[b] ? sum / count[b] : 0.0, 1e-6) << i;  // empty row: 0
  }
  std::vector<float> g(ctx.size(), kPoison);
  ref::context_mean_backward(w.data(), count.data(), B, C, d, g.data());
  auto rows = [&, B = B, C = C, d = d] {  // f_b = sum_k w[b, k] h[b, k]
    ref::context_mean(ctx.data(), count.data(), B, C, d, h.data());
    std::vector<double> f(B, 0.0);
    for (int i = 0; i < B * d; ++i) f[i / d] += double(w[i]) * h[i];
    return f;
  };
  expect_fd_gradient(ctx, g, std::size_t(C) * d, rows, 0.25f, 1e-5, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(, RefContextMean, ::testing::ValuesIn(kShapes));

struct LossCase {
  std::int64_t B, n;  // rows; slots (sigmoid BCE) or vocabulary (softmax, full BCE) per row
  int T;              // targets per row
  float scale, h;     // logits in [-scale, scale]; finite-difference step
  unsigned seed;
};
std::ostream& operator<<(std::ostream& os, const LossCase& c) {
  return os << "B" << c.B << " n" << c.n << " T" << c.T << " scale " << c.scale;
}
// Losses against their definition in double (1e-6 (1 + |loss|) and 1e-6 on the gradient: one
// float rounding), gradients against finite differences with rtol 1e-3, floor 1e-5: h = 1e-3,
// except with logits up to +-50, where losses reach ~100 and h = 1e-2 shrinks their float
// rounding over 2h tenfold (truncation h^2 |f'''| / 6 < 2e-6 as |f'''| < 0.1).
const LossCase kLossCases[] = {{3, 5, 2, 1.0f, 1e-3f, 7u},
                               {2, 1, 1, 1.0f, 1e-3f, 8u},
                               {4, 13, 4, 1.0f, 1e-3f, 9u},
                               {3, 9, 3, 50.0f, 1e-2f, 10u},
                               {3, 6, 2, 1e-6f, 1e-3f, 11u}};

// Logits [B, n] in [-scale, scale], every row holding +scale and (n > 1) -scale.
std::vector<float> case_logits(const LossCase& c, std::mt19937& gen) {
  auto x = random_floats(c.B * c.n, gen, c.scale);
  for (std::int64_t b = 0; b < c.B; ++b) {
    x[b * c.n] = c.scale;
    if (c.n > 1) x[b * c.n + 1] = -c.scale;
  }
  return x;
}

// Targets [B, T], about a third -1: row 0 has no valid target; slot 0 is valid in the other
// rows, and row 1 repeats it in slot 1.
std::vector<std::int32_t> case_targets(const LossCase& c, std::mt19937& gen) {
  std::vector<std::int32_t> t(c.B * c.T);
  for (std::int64_t i = 0; i < c.B * c.T; ++i)
    t[i] = i < c.T ? -1 : (i % c.T == 0 || gen() % 3) ? std::int32_t(gen() % c.n) : -1;
  if (c.B > 1 && c.T > 1) t[c.T + 1] = t[c.T];
  return t;
}

class RefSigmoidBce : public ::testing::TestWithParam<LossCase> {};

TEST_P(RefSigmoidBce, MatchesDefinitionAndFiniteDifferences) {
  const LossCase c = GetParam();
  std::mt19937 gen(c.seed);
  auto x = case_logits(c, gen);
  std::vector<float> labels(x.size()), mask(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {  // row 0 all padding; slot 0 kept elsewhere
    labels[i] = float(gen() % 2);
    mask[i] = i < std::size_t(c.n) ? 0.0f : (i % c.n == 0 || gen() % 3) ? 1.0f : 0.0f;
  }
  auto run = [&](std::vector<float>& grad) {
    std::vector<float> loss(c.B, kPoison);
    grad.assign(x.size(), kPoison);
    ref::sigmoid_bce_masked(x.data(), labels.data(), mask.data(), c.B, c.n, loss.data(),
                            grad.data());
    return loss;
  };
  std::vector<float> grad;
  const auto loss = run(grad);
  for (std::int64_t b = 0; b < c.B; ++b) {
    double n = 0, sum = 0;
    for (std::int64_t j = b * c.n; j < (b + 1) * c.n; ++j) {
      n += mask[j];
      if (mask[j] != 0) sum += std::log1p(std::exp(double(labels[j] ? -x[j] : x[j])));
    }
    EXPECT_NEAR(loss[b], n ? sum / n : 0.0, 1e-6 * (1 + sum)) << b;
    for (std::int64_t j = b * c.n; j < (b + 1) * c.n; ++j)
      EXPECT_NEAR(grad[j], n ? mask[j] * (1 / (1 + std::exp(-double(x[j]))) - labels[j]) / n : 0,
                  1e-6)
          << j;
  }
  EXPECT_EQ(loss[0], 0.0f);  // all padding: exactly 0
  for (std::int64_t j = 0; j < c.n; ++j) EXPECT_EQ(grad[j], 0.0f);
  EXPECT_TRUE(all_finite(loss) && all_finite(grad));
  std::vector<float> scratch;
  expect_fd_gradient(
      x, grad, c.n, [&] { return run(scratch); }, c.h, 1e-3, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(, RefSigmoidBce, ::testing::ValuesIn(kLossCases));

using MultiTargetLoss = void (*)(const float*, std::int64_t, std::int64_t, const std::int32_t*, int,
                                 float*, float*);

// Both multi-target losses: the definition, finiteness, in place (grad == logits), finite
// differences.
void check_multi_target_loss(const LossCase& c, MultiTargetLoss op, bool softmax) {
  std::mt19937 gen(c.seed);
  auto x = case_logits(c, gen);
  const auto targets = case_targets(c, gen);
  auto run = [&](std::vector<float>& grad) {
    std::vector<float> loss(c.B, kPoison);
    grad.assign(x.size(), kPoison);
    op(x.data(), c.B, c.n, targets.data(), c.T, loss.data(), grad.data());
    return loss;
  };
  std::vector<float> grad;
  const auto loss = run(grad);
  // The definition: y[v] counts how often v is a valid target (softmax), or whether it is one
  // (full BCE).
  for (std::int64_t b = 0; b < c.B; ++b) {
    std::vector<double> y(c.n, 0.0);
    int valid = 0;
    for (int t = 0; t < c.T; ++t) {
      const std::int32_t v = targets[b * c.T + t];
      if (v < 0) continue;
      y[v] = softmax ? y[v] + 1 : 1;
      ++valid;
    }
    const float* xb = x.data() + b * c.n;
    double z = 0, yx = 0, sum_softplus = 0;
    for (std::int64_t v = 0; v < c.n; ++v) {
      z += std::exp(double(xb[v]));  // |x| <= 50: no overflow without a max shift
      yx += y[v] * xb[v];
      sum_softplus += std::log1p(std::exp(double(xb[v])));
    }
    const double want = !softmax ? sum_softplus - yx : valid ? std::log(z) - yx / valid : 0.0;
    EXPECT_NEAR(loss[b], want, 1e-6 * (1 + std::abs(want))) << b;
    for (std::int64_t v = 0; v < c.n; ++v) {
      const double e = std::exp(double(xb[v]));
      const double g = !softmax ? e / (1 + e) - y[v] : valid ? e / z - y[v] / valid : 0.0;
      EXPECT_NEAR(grad[b * c.n + v], g, 1e-6) << b << " " << v;
    }
  }
  if (softmax) {  // no valid target: exactly 0
    EXPECT_EQ(loss[0], 0.0f);
    for (std::int64_t v = 0; v < c.n; ++v) EXPECT_EQ(grad[v], 0.0f);
  }
  EXPECT_TRUE(all_finite(loss) && all_finite(grad));
  std::vector<float> in_place = x, loss2(c.B, kPoison);
  op(in_place.data(), c.B, c.n, targets.data(), c.T, loss2.data(), in_place.data());
  EXPECT_EQ(in_place, grad);
  EXPECT_EQ(loss2, loss);
  std::vector<float> scratch;
  expect_fd_gradient(
      x, grad, c.n, [&] { return run(scratch); }, c.h, 1e-3, 1e-5);
}

class RefSoftmaxNll : public ::testing::TestWithParam<LossCase> {};
TEST_P(RefSoftmaxNll, MatchesDefinitionAndFiniteDifferences) {
  // Row 0 has no valid target: loss 0, zero gradient; row 1's repeated target counts twice.
  check_multi_target_loss(
      GetParam(),
      [](const float* x, std::int64_t B, std::int64_t V, const std::int32_t* t, int T, float* loss,
         float* grad) { ref::softmax_nll(x, B, V, t, T, loss, grad); },
      true);
}
INSTANTIATE_TEST_SUITE_P(, RefSoftmaxNll, ::testing::ValuesIn(kLossCases));

class RefFullBce : public ::testing::TestWithParam<LossCase> {};
TEST_P(RefFullBce, MatchesDefinitionAndFiniteDifferences) {
  // Row 0 has no valid target: every v is a negative (y = 0), as the formula says; row 1's
  // repeated target counts once.
  check_multi_target_loss(GetParam(), ref::full_bce, false);
}
INSTANTIATE_TEST_SUITE_P(, RefFullBce, ::testing::ValuesIn(kLossCases));

// kSum is kMean times the row's valid count (slots, targets), and CBOW's kSum backward is the
// hidden gradient undivided.
TEST(RefReduction, SumIsMeanTimesValidCount) {
  std::mt19937 gen(31);
  const int B = 4, L = 9, V = 50, T = 3, C = 4, d = 3;
  const auto x = random_floats(B * std::max(L, V), gen, 4.0f);
  std::vector<float> labels(B * L), mask(B * L);
  for (int i = 0; i < B * L; ++i) {
    labels[i] = float(gen() % 2);
    mask[i] = i < L ? 0.0f : float(gen() % 4 != 0);
  }
  std::vector<float> loss_mean(B), loss_sum(B), grad_mean(B * L), grad_sum(B * L);
  ref::sigmoid_bce_masked(x.data(), labels.data(), mask.data(), B, L, loss_mean.data(),
                          grad_mean.data(), Reduction::kMean);
  ref::sigmoid_bce_masked(x.data(), labels.data(), mask.data(), B, L, loss_sum.data(),
                          grad_sum.data(), Reduction::kSum);
  for (int b = 0; b < B; ++b) {
    const double n = std::accumulate(mask.begin() + b * L, mask.begin() + (b + 1) * L, 0.0);
    EXPECT_NEAR(loss_sum[b], n * loss_mean[b], 1e-5 * (1 + loss_sum[b])) << b;
    for (int j = b * L; j < (b + 1) * L; ++j) EXPECT_NEAR(grad_sum[j], n * grad_mean[j], 1e-6);
  }
  std::vector<std::int32_t> targets = {-1, -1, -1, 7, 7, 2, 5, -1, 9, 1, 2, 3};
  std::vector<float> sm_loss_mean(B), sm_loss_sum(B), sm_mean(B * V), sm_sum(B * V);
  ref::softmax_nll(x.data(), B, V, targets.data(), T, sm_loss_mean.data(), sm_mean.data(),
                   Reduction::kMean);
  ref::softmax_nll(x.data(), B, V, targets.data(), T, sm_loss_sum.data(), sm_sum.data(),
                   Reduction::kSum);
  const int valid[] = {0, 3, 2, 3};
  for (int b = 0; b < B; ++b) {
    EXPECT_NEAR(sm_loss_sum[b], valid[b] * sm_loss_mean[b], 1e-5 * (1 + sm_loss_sum[b])) << b;
    for (int v = b * V; v < (b + 1) * V; ++v) EXPECT_NEAR(sm_sum[v], valid[b] * sm_mean[v], 1e-6);
  }
  const std::vector<std::int32_t> count = {0, 1, 3, 4};
  const auto gh = random_floats(B * d, gen, 1.0f);
  std::vector<float> g_sum(B * C * d, kPoison);
  ref::context_mean_backward(gh.data(), count.data(), B, C, d, g_sum.data(), Reduction::kSum);
  for (int b = 0; b < B; ++b)
    for (int c = 0; c < C; ++c)
      for (int k = 0; k < d; ++k)
        EXPECT_EQ(g_sum[(b * C + c) * d + k], c < count[b] ? gh[b * d + k] : 0.0f);
}

// The three GEMMs of the vocabulary losses: the logits are h's rows against the table's, and
// the other two are their gradients. For f(h, T) = <G, logits(h, T)>, d f / d h = G T and
// d f / d T = G^T h, so <G, logits> = <G T, h> = <G^T h, T>. beta 0 never reads the output;
// beta 1 adds to it.
TEST(RefGemm, LogitsAndTheirGradients) {
  std::mt19937 gen(21);
  const int B = 5, V = 9, d = 7;
  const auto h = random_floats(B * d, gen, 1.0f), table = random_floats(V * d, gen, 1.0f);
  const auto G = random_floats(B * V, gen, 1.0f);
  std::vector<float> logits(B * V, kPoison), gh(B * d, kPoison), gt(V * d, kPoison);
  ref::gemm_logits(h.data(), table.data(), B, V, d, logits.data());
  for (int b = 0; b < B; ++b)
    for (int v = 0; v < V; ++v) {
      double want = 0;
      for (int k = 0; k < d; ++k) want += double(h[b * d + k]) * table[v * d + k];
      EXPECT_NEAR(logits[b * V + v], want, 1e-6) << b << " " << v;
    }
  ref::gemm_hidden_grad(G.data(), table.data(), B, V, d, gh.data());
  ref::gemm_table_grad(G.data(), h.data(), B, V, d, 1.0f, 0.0f, gt.data());
  auto inner = [](const std::vector<float>& x, const std::vector<float>& y) {
    double s = 0;
    for (std::size_t i = 0; i < x.size(); ++i) s += double(x[i]) * y[i];
    return s;
  };
  const double f = inner(G, logits);
  EXPECT_NEAR(inner(gh, h), f, 1e-5 * std::abs(f) + 1e-5);
  EXPECT_NEAR(inner(gt, table), f, 1e-5 * std::abs(f) + 1e-5);
  // out = beta out + alpha G^T h: beta 1 keeps what was there.
  std::vector<float> accumulated = table;
  ref::gemm_table_grad(G.data(), h.data(), B, V, d, -0.5f, 1.0f, accumulated.data());
  for (int i = 0; i < V * d; ++i) EXPECT_NEAR(accumulated[i], table[i] - 0.5f * gt[i], 1e-6) << i;
}

TEST(RefScatter, RowScalesMultiplyEachRow) {
  std::mt19937 gen(5);
  const int V = 6, d = 4, N = 15;
  const auto table = random_floats(V * d, gen, 1.0f);
  const auto idx = random_indices(N, V, gen);
  const auto grad = random_floats(N * d, gen, 1.0f);
  std::vector<float> row_scale(N), scaled(grad);
  for (int n = 0; n < N; ++n) {
    row_scale[n] = 0.1f * float(n % 7 + 1);
    for (int k = 0; k < d; ++k) scaled[n * d + k] = double(row_scale[n]) * grad[n * d + k];
  }
  for (auto scatter : {ref::scatter_add_atomic, ref::scatter_add_sorted}) {
    std::vector<float> a = table, b = table;
    scatter(a.data(), V, d, idx.data(), N, grad.data(), 0.5f, row_scale.data());
    scatter(b.data(), V, d, idx.data(), N, scaled.data(), 0.5f, nullptr);
    for (int i = 0; i < V * d; ++i) EXPECT_NEAR(a[i], b[i], 1e-6) << i;
  }
  std::vector<std::int32_t> ua(N), ub(N);
  std::vector<float> sa(N * d), sb(N * d);
  std::int32_t na = -1, nb = -1;
  ref::segment_sum_rows(idx.data(), N, grad.data(), d, ua.data(), sa.data(), &na, row_scale.data());
  ref::segment_sum_rows(idx.data(), N, scaled.data(), d, ub.data(), sb.data(), &nb);
  ASSERT_EQ(na, nb);
  ua.resize(na);
  ub.resize(nb);
  EXPECT_EQ(ua, ub);
  for (int i = 0; i < na * d; ++i) EXPECT_NEAR(sa[i], sb[i], 1e-6) << i;
}

// A row of scale 0 (the trainer's padding) is skipped, NaN gradient and all: no scatter
// touches its table row and the segment sum leaves its index out when no other row of it has
// a scale.
TEST(RefScatter, RowsOfScaleZeroAreSkipped) {
  std::mt19937 gen(8);
  const int V = 5, d = 3, N = 6;
  const auto table = random_floats(V * d, gen, 1.0f);
  const std::vector<std::int32_t> idx = {1, 2, 1, 4, 2, 1};
  const std::vector<float> row_scale = {0.5f, 0.0f, 1.0f, 0.0f, 0.0f, 0.25f};  // 2, 4: all 0
  auto grad = random_floats(N * d, gen, 1.0f);
  for (int n = 0; n < N; ++n)
    if (row_scale[n] == 0.0f)
      std::fill_n(grad.begin() + n * d, d, std::numeric_limits<float>::quiet_NaN());
  for (auto scatter : {ref::scatter_add_atomic, ref::scatter_add_sorted}) {
    std::vector<float> out = table;
    scatter(out.data(), V, d, idx.data(), N, grad.data(), -1.0f, row_scale.data());
    for (int k = 0; k < d; ++k) {
      const double want =
          table[d + k] - (0.5 * grad[k] + 1.0 * grad[2 * d + k] + 0.25 * grad[5 * d + k]);
      EXPECT_NEAR(out[d + k], want, 1e-6) << k;
      for (int row : {0, 2, 3, 4}) EXPECT_EQ(out[row * d + k], table[row * d + k]) << row;
    }
  }
  std::vector<std::int32_t> unique(N, -7);
  std::vector<float> summed(N * d, kPoison);
  std::int32_t U = -1;
  ref::segment_sum_rows(idx.data(), N, grad.data(), d, unique.data(), summed.data(), &U,
                        row_scale.data());
  ASSERT_EQ(U, 1);
  EXPECT_EQ(unique[0], 1);
  for (int k = 0; k < d; ++k)
    EXPECT_NEAR(summed[k], 0.5 * grad[k] + grad[2 * d + k] + 0.25 * grad[5 * d + k], 1e-6);
}

TEST(RefScatter, MatchesDenseAccumulation) {
  std::mt19937 gen(12);
  const int V = 7, d = 5, N = 20;
  const float scale = -0.3f;
  auto table = random_floats(V * d, gen, 1.0f);
  const auto idx = random_indices(N, V - 1, gen);  // row V - 1 is never touched
  const auto grad = random_floats(N * d, gen, 1.0f);
  std::vector<double> want(table.begin(), table.end()), size(table.size());
  for (int i = 0; i < V * d; ++i) size[i] = std::abs(table[i]);
  for (int n = 0; n < N; ++n)
    for (int k = 0; k < d; ++k) {
      want[idx[n] * d + k] += double(scale) * grad[n * d + k];
      size[idx[n] * d + k] += std::abs(scale * grad[n * d + k]);
    }
  // Both references: the atomic one adds row by row, the sorted one sums each row's gradients
  // first (in double) and adds once.
  for (auto scatter : {ref::scatter_add_atomic, ref::scatter_add_sorted}) {
    auto out = table;
    scatter(out.data(), V, d, idx.data(), N, grad.data(), scale, nullptr);
    for (int i = 0; i < V * d; ++i)  // at most one float rounding per addition
      EXPECT_NEAR(out[i], want[i], 0x1p-24 * N * size[i]) << i;
    for (int k = 0; k < d; ++k) EXPECT_EQ(out[(V - 1) * d + k], table[(V - 1) * d + k]);
  }
}

// Against a std::map of double sums, then again on a shuffled copy of the input.
void check_segment_sum(const std::vector<std::int32_t>& idx, int d, unsigned seed) {
  std::mt19937 gen(seed);
  const auto N = std::int64_t(idx.size());
  const auto grad = random_floats(N * d, gen, 1.0f);
  std::map<std::int32_t, std::vector<double>> sums, mags;
  for (std::int64_t n = 0; n < N; ++n) {
    auto& s = sums.try_emplace(idx[n], d, 0.0).first->second;
    auto& m = mags.try_emplace(idx[n], d, 0.0).first->second;
    for (int k = 0; k < d; ++k) s[k] += grad[n * d + k], m[k] += std::abs(grad[n * d + k]);
  }
  auto run = [&](const std::vector<std::int32_t>& i, const std::vector<float>& g) {
    std::vector<std::int32_t> unique(N, -7);
    std::vector<float> summed(N * d, kPoison);
    std::int32_t U = -1;
    ref::segment_sum_rows(i.data(), N, g.data(), d, unique.data(), summed.data(), &U);
    unique.resize(U);
    summed.resize(U * d);
    return std::pair(unique, summed);
  };
  const auto [unique, summed] = run(idx, grad);
  ASSERT_EQ(unique.size(), sums.size());
  std::size_t u = 0;
  for (const auto& [row, s] : sums) {  // std::map iterates in ascending order
    EXPECT_EQ(unique[u], row) << u;
    for (int k = 0; k < d; ++k)  // the double sum rounded once to float
      EXPECT_NEAR(summed[u * d + k], s[k], 0x1p-24 * mags[row][k]) << row;
    ++u;
  }
  std::vector<std::int64_t> perm(N);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), gen);
  std::vector<std::int32_t> idx2(N);
  std::vector<float> grad2(N * d);
  for (std::int64_t n = 0; n < N; ++n) {
    idx2[n] = idx[perm[n]];
    std::copy_n(grad.begin() + perm[n] * d, d, grad2.begin() + n * d);
  }
  const auto [unique2, summed2] = run(idx2, grad2);
  EXPECT_EQ(unique2, unique);
  ASSERT_EQ(summed2.size(), summed.size());
  for (std::size_t i = 0; i < summed.size(); ++i)
    EXPECT_NEAR(summed2[i], summed[i], 0x1p-23 * std::abs(summed[i]) + 1e-7) << i;
}

TEST(RefSegmentSum, SumsRepeatedIndicesAscendingAndIgnoresInputOrder) {
  std::mt19937 gen(13);
  auto idx = random_indices(30, 8, gen);  // about four rows per index
  idx[3] = 1000;                          // and one far-off index, alone
  check_segment_sum(idx, 3, 14);
  check_segment_sum({5}, 1, 15);
  check_segment_sum({4, 4, 4, 4}, 2, 16);
  check_segment_sum({9, 2, 7, 0}, 5, 17);  // all distinct
}

// Two steps on a [5, 3] table: step 1 touches row 3, step 2 rows 3 and 1 (row 1's first
// touch, at global step 2). rows = {.., 4}: row 4 lies past *num_rows and must not move. The
// state is stored as float between steps: 1e-6 absolute on O(1) values. Hyperparameters are
// dyadic, so float and double hold the same values.
struct TwoSteps {
  static constexpr int kD = 3;
  std::mt19937 gen{18};
  std::vector<float> table = random_floats(5 * kD, gen, 1.0f), initial = table;
  const std::vector<std::int32_t> rows1 = {3, 4}, rows2 = {3, 1, 4};
  const std::int32_t count1 = 1, count2 = 2;  // rows stepped of rows1, rows2
  const std::vector<float> g1 = random_floats(2 * kD, gen, 1.0f),
                           g2 = random_floats(3 * kD, gen, 1.0f);

  // Row r of `t` (params or state) equals want(k); rows 0, 2, 4 are bit-for-bit `before`.
  template <typename Want>
  void expect_row(const std::vector<float>& t, int r, Want want) const {
    for (int k = 0; k < kD; ++k) EXPECT_NEAR(t[r * kD + k], want(k), 1e-6) << r << " " << k;
  }
  void expect_untouched(const std::vector<float>& t, const std::vector<float>& before) const {
    for (int r : {0, 2, 4})
      for (int k = 0; k < kD; ++k) EXPECT_EQ(t[r * kD + k], before[r * kD + k]) << r;
  }
};

TEST(RefOptimizers, SparseSgd) {
  TwoSteps s;
  const float lr = 0.125f;
  ref::sparse_sgd(s.table.data(), s.kD, s.rows1.data(), &s.count1, 2, s.g1.data(), lr);
  // No count: all max_rows rows.
  ref::sparse_sgd(s.table.data(), s.kD, s.rows2.data(), nullptr, 2, s.g2.data(), lr);
  s.expect_row(s.table, 3, [&](int k) { return s.initial[9 + k] - lr * (s.g1[k] + s.g2[k]); });
  s.expect_row(s.table, 1, [&](int k) { return s.initial[3 + k] - lr * s.g2[3 + k]; });
  s.expect_untouched(s.table, s.initial);
}

class RefMomentum : public ::testing::TestWithParam<bool> {};

TEST_P(RefMomentum, SparseMomentumIsPyTorchSgdWithoutDampening) {
  const bool nesterov = GetParam();
  TwoSteps s;
  const double lr = 0.125, mu = 0.875;
  std::vector<float> vel(s.table.size(), 0.0f);
  ref::sparse_momentum(s.table.data(), vel.data(), s.kD, s.rows1.data(), &s.count1, 2, s.g1.data(),
                       lr, mu, nesterov);
  ref::sparse_momentum(s.table.data(), vel.data(), s.kD, s.rows2.data(), &s.count2, 3, s.g2.data(),
                       lr, mu, nesterov);
  // Row 3: v1 = g1, v2 = mu g1 + g2; each step moves by v, or by g + mu v with nesterov.
  s.expect_row(vel, 3, [&](int k) { return mu * s.g1[k] + s.g2[k]; });
  s.expect_row(s.table, 3, [&](int k) {
    const double g1 = s.g1[k], g2 = s.g2[k], v1 = g1, v2 = mu * g1 + g2;
    return s.initial[9 + k] - lr * (nesterov ? g1 + mu * v1 + g2 + mu * v2 : v1 + v2);
  });
  // Row 1, first touched at step 2: v = g.
  s.expect_row(vel, 1, [&](int k) { return s.g2[3 + k]; });
  s.expect_row(s.table, 1, [&](int k) {
    return s.initial[3 + k] - lr * (nesterov ? 1 + mu : 1) * s.g2[3 + k];
  });
  s.expect_untouched(s.table, s.initial);
  s.expect_untouched(vel, std::vector<float>(vel.size(), 0.0f));
}

INSTANTIATE_TEST_SUITE_P(, RefMomentum, ::testing::Bool());

TEST(RefOptimizers, SparseAdamIsLazyWithGlobalStepBiasCorrection) {
  TwoSteps s;
  // A large eps, so that its place in the denominator (outside the bias-corrected sqrt) shows.
  const double lr = 0.125, b1 = 0.875, b2 = 1 - 0x1p-10, eps = 0x1p-7;
  std::vector<float> m(s.table.size(), 0.0f), v(s.table.size(), 0.0f);
  ref::sparse_adam(s.table.data(), m.data(), v.data(), s.kD, s.rows1.data(), &s.count1, 2,
                   s.g1.data(), lr, b1, b2, eps, 1);
  ref::sparse_adam(s.table.data(), m.data(), v.data(), s.kD, s.rows2.data(), &s.count2, 3,
                   s.g2.data(), lr, b1, b2, eps, 2);
  auto update = [&](double mk, double vk, int step) {
    return lr * (mk / (1 - std::pow(b1, step))) / (std::sqrt(vk / (1 - std::pow(b2, step))) + eps);
  };
  s.expect_row(s.table, 3, [&](int k) {
    const double g1 = s.g1[k], g2 = s.g2[k];
    const double m1 = (1 - b1) * g1, v1 = (1 - b2) * g1 * g1;
    const double m2 = b1 * m1 + (1 - b1) * g2, v2 = b2 * v1 + (1 - b2) * g2 * g2;
    return s.initial[9 + k] - update(m1, v1, 1) - update(m2, v2, 2);
  });
  s.expect_row(m, 3, [&](int k) { return b1 * (1 - b1) * s.g1[k] + (1 - b1) * s.g2[k]; });
  // Row 1: fresh moments, but the bias correction of global step 2.
  s.expect_row(s.table, 1, [&](int k) {
    const double g = s.g2[3 + k];
    return s.initial[3 + k] - update((1 - b1) * g, (1 - b2) * g * g, 2);
  });
  s.expect_row(v, 1, [&](int k) { return (1 - b2) * s.g2[3 + k] * s.g2[3 + k]; });
  s.expect_untouched(s.table, s.initial);
  s.expect_untouched(m, std::vector<float>(m.size(), 0.0f));
  s.expect_untouched(v, std::vector<float>(v.size(), 0.0f));
}

}  // namespace
}  // namespace w2v
