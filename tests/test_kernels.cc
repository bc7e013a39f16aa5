// The CUDA kernel library against its CPU references (include/w2v/reference.h) on fresh
// random inputs, outputs poisoned (NaN) before each run. Errors are reported as
// max |gpu - ref| / (atol + rtol * scale), which must be <= 1; `scale` is |ref| for
// elementwise results and the sum of absolute terms for reductions (a sum's rounding error
// grows with its terms, not with its result). Tolerances (fp32 against double references):
//   copies (gather, context counts, indices): exact;
//   elementwise and short reductions (dot over d, BCE over L, optimizers): rtol 1e-5;
//   reductions over V (softmax, full BCE): rtol 1e-4.
// Without a CUDA device every test skips with "no CUDA device".
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "w2v/error.h"
#include "w2v/reference.h"

#ifdef W2V_HAVE_CUDA
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "support/kernel_check.h"
#include "support/sorted_sums.h"
#include "w2v/kernels/cuda_check.h"
#include "w2v/kernels/ops.h"
#endif

namespace w2v {
namespace {

#ifndef W2V_HAVE_CUDA

TEST(Kernels, NeedACudaBuild) { GTEST_SKIP() << "no CUDA device (this build has no CUDA support)"; }

#else

using test::Device;
using test::expect_close;
using test::random_floats;
using test::random_indices;
using test::segment_sums_in_input_order;
using test::sorted_scatter_in_float;

// ---- gather

class GatherTest : public ::testing::TestWithParam<int> {};

TEST_P(GatherTest, MatchesReferenceWithRepeatsAndBothPaths) {
  REQUIRE_GPU();
  const int d = GetParam();
  const std::int64_t V = 5003, N = 4099;
  std::mt19937 gen(1 + d);
  auto table = random_floats(V * d + 1, gen);
  auto idx = random_indices(N, V, gen);
  idx[0] = idx[1] = idx[N - 1] = int(V - 1);  // repeats and the last row
  std::vector<float> want(N * d);
  for (int offset : {0, 1}) {  // offset 1 misaligns the table: the scalar path
    ref::gather_rows(table.data() + offset, V, d, idx.data(), N, want.data());
    Device<float> t(table);
    Device<std::int32_t> i(idx);
    Device<float> out(N * d);
    gpu::gather_rows(t.get() + offset, V, d, i.get(), N, out.get(), nullptr);
    EXPECT_EQ(out.download(), want) << "d " << d << " offset " << offset;
  }
}

INSTANTIATE_TEST_SUITE_P(Dims, GatherTest, ::testing::Values(1, 3, 100, 128, 300));

// ---- batched dot, CBOW mean, and their backward

struct DotShape {
  std::int64_t B;
  int L, d;
};

class BatchedDotTest : public ::testing::TestWithParam<DotShape> {};

TEST_P(BatchedDotTest, ForwardAndBackwardMatchReference) {
  REQUIRE_GPU();
  const auto [B, L, d] = GetParam();
  std::mt19937 gen(B * 131 + L * 7 + d);
  auto v = random_floats(B * d, gen), u = random_floats(B * L * d, gen);
  auto g = random_floats(B * L, gen);
  std::vector<float> scores(B * L), grad_v(B * d), grad_u(B * L * d);
  ref::batched_dot(v.data(), u.data(), B, L, d, scores.data());
  ref::batched_dot_backward(v.data(), u.data(), g.data(), B, L, d, grad_v.data(), grad_u.data());
  std::vector<double> dot_scale(B * L), grad_v_scale(B * d);
  for (std::int64_t p = 0; p < B * L; ++p)
    for (int k = 0; k < d; ++k) dot_scale[p] += std::abs(v[p / L * d + k] * u[p * d + k]);
  for (std::int64_t b = 0; b < B; ++b)
    for (int j = 0; j < L; ++j)
      for (int k = 0; k < d; ++k)
        grad_v_scale[b * d + k] += std::abs(g[b * L + j] * u[(b * L + j) * d + k]);

  Device<float> dv(v), du(u), dg(g), ds(B * L), dgv(B * d), dgu(B * L * d);
  gpu::batched_dot(dv.get(), du.get(), B, L, d, ds.get(), nullptr);
  gpu::batched_dot_backward(dv.get(), du.get(), dg.get(), B, L, d, dgv.get(), dgu.get(), nullptr);
  expect_close(ds.download(), scores, 1e-5, 1e-7, "scores", dot_scale);
  expect_close(dgv.download(), grad_v, 1e-5, 1e-7, "grad_v", grad_v_scale);
  expect_close(dgu.download(), grad_u, 1e-5, 0, "grad_u");
}

TEST_P(BatchedDotTest, ContextMeanAndBackwardMatchReference) {
  REQUIRE_GPU();
  const auto [B, C, d] = GetParam();
  std::mt19937 gen(B * 17 + C * 5 + d);
  auto ctx = random_floats(B * C * d, gen), gh = random_floats(B * d, gen);
  std::vector<std::int32_t> count(B);
  std::uniform_int_distribution<int> n(0, C);
  for (auto& c : count) c = n(gen);
  count[0] = 0;  // a row without context
  if (B > 1) count[1] = C;
  std::vector<float> h(B * d);
  ref::context_mean(ctx.data(), count.data(), B, C, d, h.data());
  Device<float> dctx(ctx), dgh(gh), dh(B * d), dgc(B * C * d);
  Device<std::int32_t> dcount(count);
  gpu::context_mean(dctx.get(), dcount.get(), B, C, d, dh.get(), nullptr);
  std::vector<double> scale(B * d);
  for (std::int64_t b = 0; b < B; ++b)
    for (int c = 0; c < count[b]; ++c)
      for (int k = 0; k < d; ++k) scale[b * d + k] += std::abs(ctx[(b * C + c) * d + k]) / count[b];
  expect_close(dh.download(), h, 1e-5, 1e-7, "context mean", scale);
  for (Reduction reduction : {Reduction::kMean, Reduction::kSum}) {
    std::vector<float> grad_ctx(B * C * d);
    ref::context_mean_backward(gh.data(), count.data(), B, C, d, grad_ctx.data(), reduction);
    gpu::context_mean_backward(dgh.get(), dcount.get(), B, C, d, dgc.get(), reduction, nullptr);
    expect_close(dgc.download(), grad_ctx, 1e-5, 0, "grad ctx");
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, BatchedDotTest,
                         ::testing::Values(DotShape{1, 1, 1}, DotShape{1, 16, 3},
                                           DotShape{37, 1, 100}, DotShape{37, 11, 128},
                                           DotShape{64, 30, 300}, DotShape{1000, 7, 100}));

// ---- masked sigmoid BCE

class SigmoidBceTest : public ::testing::TestWithParam<std::pair<std::int64_t, int> > {};

TEST_P(SigmoidBceTest, MatchesReferenceWithMaskedRowsAndExtremeLogits) {
  REQUIRE_GPU();
  const auto [B, L] = GetParam();
  std::mt19937 gen(B + 1000 * L);
  auto logits = random_floats(B * L, gen, 6.0f);
  std::vector<float> labels(B * L), mask(B * L);
  std::bernoulli_distribution coin(0.3), keep(0.8);
  for (std::int64_t i = 0; i < B * L; ++i) {
    labels[i] = coin(gen) ? 1.0f : 0.0f;
    mask[i] = keep(gen) ? 1.0f : 0.0f;
  }
  for (int j = 0; j < L; ++j) mask[j] = 0.0f;  // row 0: nothing valid
  if (B > 2) {
    for (int j = 0; j < L; ++j) logits[L + j] = (j % 2 ? 50.0f : -50.0f) * (j % 3 ? 1 : -1);
    for (int j = 0; j < L; ++j) logits[2 * L + j] *= 1e-6f;
  }
  for (Reduction reduction : {Reduction::kMean, Reduction::kSum}) {
    std::vector<float> loss(B), grad(B * L);
    ref::sigmoid_bce_masked(logits.data(), labels.data(), mask.data(), B, L, loss.data(),
                            grad.data(), reduction);
    Device<float> dl(logits), dy(labels), dm(mask), dloss(B), dgrad(B * L);
    gpu::sigmoid_bce_masked(dl.get(), dy.get(), dm.get(), B, L, dloss.get(), dgrad.get(), reduction,
                            nullptr);
    auto got_loss = dloss.download(), got_grad = dgrad.download();
    EXPECT_EQ(got_loss[0], 0.0f);
    for (int j = 0; j < L; ++j) EXPECT_EQ(got_grad[j], 0.0f);
    expect_close(got_loss, loss, 1e-5, 1e-7, "loss");
    // grad = (sigmoid(x) - label) / n cancels when the two are close: its rounding error
    // follows their magnitude, not the difference's.
    std::vector<double> grad_scale(B * L, 0.0);
    for (std::int64_t b = 0; b < B; ++b) {
      double n = 0;
      for (int j = 0; j < L; ++j) n += mask[b * L + j];
      if (reduction == Reduction::kSum || n == 0) n = 1;
      for (int j = 0; j < L; ++j)
        grad_scale[b * L + j] =
            mask[b * L + j] * (ref::sigmoid(logits[b * L + j]) + labels[b * L + j]) / n;
    }
    expect_close(got_grad, grad, 1e-5, 1e-8, "grad", grad_scale);
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, SigmoidBceTest,
                         ::testing::Values(std::pair<std::int64_t, int>{1, 1},
                                           std::pair<std::int64_t, int>{3, 7},
                                           std::pair<std::int64_t, int>{100, 33},
                                           std::pair<std::int64_t, int>{1000, 70}));

// ---- softmax NLL and full-vocabulary BCE

struct VocabShape {
  std::int64_t B, V;
  int T;
};

class VocabLossTest : public ::testing::TestWithParam<VocabShape> {
 protected:
  void SetUp() override {
    const auto [B, V, T] = GetParam();
    std::mt19937 gen(B * 7 + V + T);
    logits = random_floats(B * V, gen, 8.0f);
    targets = random_indices(B * T, V, gen);
    if (T > 1) targets[1] = targets[0];                                      // a repeated target
    if (T > 2) targets[2] = -1;                                              // padding
    if (B > 1) std::fill(targets.begin() + T, targets.begin() + 2 * T, -1);  // no target
    if (B > 2) logits[2 * V] = 80.0f;  // a dominant logit: max subtraction matters
  }
  std::vector<float> logits;
  std::vector<std::int32_t> targets;
};

TEST_P(VocabLossTest, SoftmaxNllMatchesReferenceAlsoInPlace) {
  REQUIRE_GPU();
  const auto [B, V, T] = GetParam();
  Device<std::int32_t> dt(targets);
  Device<char> ws(gpu::softmax_nll_workspace_bytes(B, V));
  for (Reduction reduction : {Reduction::kMean, Reduction::kSum}) {
    std::vector<float> loss(B), grad(B * V);
    ref::softmax_nll(logits.data(), B, V, targets.data(), T, loss.data(), grad.data(), reduction);
    for (bool in_place : {false, true}) {
      Device<float> dl(logits), dloss(B), dgrad(B * V);
      float* out = in_place ? dl.get() : dgrad.get();
      gpu::softmax_nll(dl.get(), B, V, dt.get(), T, dloss.get(), out, reduction,
                       {nullptr, ws.get(), gpu::softmax_nll_workspace_bytes(B, V)});
      expect_close(dloss.download(), loss, 1e-4, 1e-6, "loss");
      expect_close(in_place ? dl.download() : dgrad.download(), grad, 1e-4, 1e-9, "grad");
    }
  }
}

TEST_P(VocabLossTest, FullBceMatchesReference) {
  REQUIRE_GPU();
  const auto [B, V, T] = GetParam();
  std::vector<float> loss(B), grad(B * V);
  ref::full_bce(logits.data(), B, V, targets.data(), T, loss.data(), grad.data());
  Device<float> dl(logits), dloss(B), dgrad(B * V);
  Device<std::int32_t> dt(targets);
  gpu::full_bce(dl.get(), B, V, dt.get(), T, dloss.get(), dgrad.get(), nullptr);
  std::vector<double> loss_scale(B);
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t v = 0; v < V; ++v)
      loss_scale[b] += std::abs(ref::softplus(logits[b * V + v]));
  expect_close(dloss.download(), loss, 1e-4, 1e-6, "loss", loss_scale);
  expect_close(dgrad.download(), grad, 1e-5, 1e-7, "grad");
}

INSTANTIATE_TEST_SUITE_P(Shapes, VocabLossTest,
                         ::testing::Values(VocabShape{1, 1, 1}, VocabShape{3, 1000, 1},
                                           VocabShape{5, 8193, 4}, VocabShape{4, 100003, 10},
                                           VocabShape{3, 3'000'000, 3}));

// ---- GEMMs of the vocabulary losses (cuBLAS); errors against the sum of |terms| of each entry

TEST(Gemm, LogitsAndGradientsMatchReference) {
  REQUIRE_GPU();
  const std::int64_t B = 37, V = 1003;
  const int d = 45;
  std::mt19937 gen(41);
  auto h = random_floats(B * d, gen), table = random_floats(V * d, gen);
  auto G = random_floats(B * V, gen), out0 = random_floats(V * d, gen);
  cublasHandle_t blas = nullptr;
  ASSERT_EQ(cublasCreate(&blas), CUBLAS_STATUS_SUCCESS);
  const gpu::Launch launch(nullptr, nullptr, 0, blas);
  Device<float> dh(h), dtable(table), dG(G), dlogits(B * V), dgh(B * d), dout(out0);
  gpu::gemm_logits(dh.get(), dtable.get(), B, V, d, dlogits.get(), launch);
  gpu::gemm_hidden_grad(dG.get(), dtable.get(), B, V, d, dgh.get(), launch);
  gpu::gemm_table_grad(dG.get(), dh.get(), B, V, d, -0.5f, 1.0f, dout.get(), launch);
  std::vector<float> logits(B * V), gh(B * d), out = out0;
  ref::gemm_logits(h.data(), table.data(), B, V, d, logits.data());
  ref::gemm_hidden_grad(G.data(), table.data(), B, V, d, gh.data());
  ref::gemm_table_grad(G.data(), h.data(), B, V, d, -0.5f, 1.0f, out.data());
  std::vector<double> logits_scale(B * V, 0.0), gh_scale(B * d, 0.0), out_scale(V * d, 0.0);
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t v = 0; v < V; ++v)
      for (int k = 0; k < d; ++k) {
        logits_scale[b * V + v] += std::abs(h[b * d + k] * table[v * d + k]);
        gh_scale[b * d + k] += std::abs(G[b * V + v] * table[v * d + k]);
        out_scale[v * d + k] += 0.5 * std::abs(G[b * V + v] * h[b * d + k]);
      }
  for (std::size_t i = 0; i < out_scale.size(); ++i) out_scale[i] += std::abs(out0[i]);
  expect_close(dlogits.download(), logits, 1e-5, 1e-7, "logits", logits_scale);
  expect_close(dgh.download(), gh, 1e-5, 1e-7, "hidden grad", gh_scale);
  expect_close(dout.download(), out, 1e-5, 1e-7, "table grad", out_scale);
  cublasDestroy(blas);
}

// ---- scatter-add

TEST(ScatterAdd, AtomicMatchesReferenceWithRepeats) {
  REQUIRE_GPU();
  for (int d : {1, 3, 100, 128, 300}) {
    const std::int64_t V = 997, N = 5000;
    std::mt19937 gen(d);
    auto table = random_floats(V * d, gen), grad = random_floats(N * d, gen);
    auto idx = random_indices(N, 50, gen);  // few distinct rows: many collisions
    std::vector<float> want = table;
    ref::scatter_add_atomic(want.data(), V, d, idx.data(), N, grad.data(), -0.5f);
    std::vector<double> scale(V * d);
    for (std::size_t i = 0; i < scale.size(); ++i) scale[i] = std::abs(table[i]);
    for (std::int64_t n = 0; n < N; ++n)
      for (int k = 0; k < d; ++k) scale[idx[n] * d + k] += 0.5 * std::abs(grad[n * d + k]);
    Device<float> dtable(table), dgrad(grad);
    Device<std::int32_t> didx(idx);
    gpu::scatter_add_atomic(dtable.get(), V, d, didx.get(), N, dgrad.get(), -0.5f, nullptr,
                            nullptr);
    expect_close(dtable.download(), want, 1e-5, 1e-7, "atomic d=" + std::to_string(d), scale);
  }
}

// Deterministic: the same bits on every run, exactly those of the float loop
// (support/sorted_sums.h) (so the order of additions is the input's, whatever the threads did), and
// close to the double reference. d 1 and 3 take the float path, 100, 128 and 300 the float4 path;
// index 7 takes a long run (its rows are found 32 keys at a time), the rest short ones.
TEST(ScatterAdd, SortedAddsEachIndexsRowsInInputOrderAndMatchesReference) {
  REQUIRE_GPU();
  for (int d : {1, 3, 100, 128, 300}) {
    const std::int64_t V = 2000, N = 7000;
    std::mt19937 gen(100 + d);
    auto table = random_floats(V * d, gen), grad = random_floats(N * d, gen);
    auto idx = random_indices(N, 300, gen);
    for (std::int64_t n = 0; n < N; n += 7) idx[n] = 7;
    std::vector<float> want = table;
    ref::scatter_add_sorted(want.data(), V, d, idx.data(), N, grad.data(), 0.75f);
    Device<float> dgrad(grad);
    Device<std::int32_t> didx(idx);
    const std::size_t bytes = gpu::scatter_add_sorted_workspace_bytes(N, d);
    Device<char> ws(bytes);
    std::vector<std::vector<float> > results;
    for (int run = 0; run < 2; ++run) {
      Device<float> dtable(table);
      gpu::scatter_add_sorted(dtable.get(), V, d, didx.get(), N, dgrad.get(), 0.75f, nullptr,
                              {nullptr, ws.get(), bytes});
      results.push_back(dtable.download());
    }
    EXPECT_EQ(std::memcmp(results[0].data(), results[1].data(), results[0].size() * 4), 0)
        << "d " << d << ": the second run differs in its bits";
    const std::vector<float> exact = sorted_scatter_in_float(table, idx, grad, d, 0.75f, nullptr);
    EXPECT_EQ(std::memcmp(results[0].data(), exact.data(), exact.size() * 4), 0)
        << "d " << d << ": not the bits of adding each index's rows in input order";
    std::vector<double> scale(V * d);
    for (std::size_t i = 0; i < scale.size(); ++i) scale[i] = std::abs(table[i]);
    for (std::int64_t n = 0; n < N; ++n)
      for (int k = 0; k < d; ++k) scale[idx[n] * d + k] += 0.75 * std::abs(grad[n * d + k]);
    expect_close(results[0], want, 1e-5, 1e-7, "sorted d=" + std::to_string(d), scale);
  }
}

// Per-row scales (the trainer's repeat cap): every scatter and the segment sum against the
// reference with the same scales. Every fourth row and every row of index 5 have a scale of 0
// and a NaN gradient (the trainer's padding): each path must skip them, and index 5 must not
// be among the segment sum's distinct indices.
TEST(ScatterAdd, RowScalesMatchReferenceInEveryPath) {
  REQUIRE_GPU();
  for (int d : {3, 128}) {
    const std::int64_t V = 500, N = 4000;
    std::mt19937 gen(77 + d);
    auto table = random_floats(V * d, gen), grad = random_floats(N * d, gen);
    auto idx = random_indices(N, 60, gen);
    std::vector<float> row_scale(N);
    std::uniform_real_distribution<float> w(0.01f, 1.0f);
    for (auto& x : row_scale) x = w(gen);
    for (std::int64_t n = 0; n < N; ++n)
      if (n % 4 == 0 || idx[n] == 5) {
        row_scale[n] = 0.0f;
        std::fill_n(grad.begin() + n * d, d, std::numeric_limits<float>::quiet_NaN());
      }
    std::vector<float> want = table;
    ref::scatter_add_atomic(want.data(), V, d, idx.data(), N, grad.data(), -0.25f,
                            row_scale.data());
    std::vector<double> scale(V * d);
    for (std::size_t i = 0; i < scale.size(); ++i) scale[i] = std::abs(table[i]);
    for (std::int64_t n = 0; n < N; ++n)
      for (int k = 0; k < d && row_scale[n] != 0.0f; ++k)
        scale[idx[n] * d + k] += 0.25 * row_scale[n] * std::abs(grad[n * d + k]);
    Device<float> dgrad(grad), dscale(row_scale);
    Device<std::int32_t> didx(idx);
    {
      Device<float> dtable(table);
      gpu::scatter_add_atomic(dtable.get(), V, d, didx.get(), N, dgrad.get(), -0.25f, dscale.get(),
                              nullptr);
      expect_close(dtable.download(), want, 1e-5, 1e-7, "atomic, row scales", scale);
    }
    {
      Device<float> dtable(table);
      const std::size_t bytes = gpu::scatter_add_sorted_workspace_bytes(N, d);
      Device<char> ws(bytes);
      gpu::scatter_add_sorted(dtable.get(), V, d, didx.get(), N, dgrad.get(), -0.25f, dscale.get(),
                              {nullptr, ws.get(), bytes});
      const std::vector<float> got = dtable.download();
      expect_close(got, want, 1e-5, 1e-7, "sorted, row scales", scale);
      const std::vector<float> exact =
          sorted_scatter_in_float(table, idx, grad, d, -0.25f, row_scale.data());
      EXPECT_EQ(std::memcmp(got.data(), exact.data(), exact.size() * 4), 0)
          << "sorted, row scales, d " << d << ": not the bits of an fma per row in input order";
    }
    std::vector<std::int32_t> unique(N);
    std::vector<float> summed(N * d);
    std::int32_t U = 0;
    ref::segment_sum_rows(idx.data(), N, grad.data(), d, unique.data(), summed.data(), &U,
                          row_scale.data());
    Device<float> dsummed(N * d);
    Device<std::int32_t> dunique(N), dcount(1);
    const std::size_t bytes = gpu::segment_sum_workspace_bytes(N, d);
    Device<char> ws(bytes);
    gpu::segment_sum_rows(didx.get(), N, dgrad.get(), d, dunique.get(), dsummed.get(), dcount.get(),
                          dscale.get(), {nullptr, ws.get(), bytes});
    ASSERT_EQ(dcount.download()[0], U);
    auto got_unique = dunique.download();
    auto got = dsummed.download();
    got_unique.resize(U);
    unique.resize(U);
    got.resize(U * d);
    summed.resize(U * d);
    EXPECT_EQ(got_unique, unique);
    expect_close(got, summed, 1e-5, 1e-6, "segment sum, row scales");
    std::vector<std::int32_t> exact_unique;
    std::vector<float> exact;
    segment_sums_in_input_order(idx, grad, d, row_scale.data(), exact_unique, exact);
    EXPECT_EQ(got_unique, exact_unique);
    EXPECT_FALSE(std::binary_search(got_unique.begin(), got_unique.end(), 5))
        << "d " << d << ": index 5, all of whose rows have scale 0, is among the distinct indices";
    EXPECT_EQ(std::memcmp(got.data(), exact.data(), exact.size() * 4), 0)
        << "segment sum, row scales, d " << d << ": not the bits of an fma per row in input order";
  }
}

TEST(ScatterAdd, SegmentSumGivesDistinctSortedRows) {
  REQUIRE_GPU();
  const std::int64_t N = 3000;
  const int d = 5;
  std::mt19937 gen(9);
  auto grad = random_floats(N * d, gen);
  auto idx = random_indices(N, 400, gen);
  std::vector<std::int32_t> unique(N);
  std::vector<float> summed(N * d);
  std::int32_t U = 0;
  ref::segment_sum_rows(idx.data(), N, grad.data(), d, unique.data(), summed.data(), &U);
  Device<float> dgrad(grad), dsummed(N * d);
  Device<std::int32_t> didx(idx), dunique(N), dcount(1);
  const std::size_t bytes = gpu::segment_sum_workspace_bytes(N, d);
  Device<char> ws(bytes);
  gpu::segment_sum_rows(didx.get(), N, dgrad.get(), d, dunique.get(), dsummed.get(), dcount.get(),
                        nullptr, {nullptr, ws.get(), bytes});
  ASSERT_EQ(dcount.download()[0], U);
  auto got_unique = dunique.download();
  auto got_summed = dsummed.download();
  EXPECT_EQ(std::vector<std::int32_t>(got_unique.begin(), got_unique.begin() + U),
            std::vector<std::int32_t>(unique.begin(), unique.begin() + U));
  expect_close(std::vector<float>(got_summed.begin(), got_summed.begin() + U * d),
               std::vector<float>(summed.begin(), summed.begin() + U * d), 1e-5, 1e-5, "summed");
}

// ---- optimizers: two steps on a subset of rows; other rows keep their bits

TEST(SparseOptimizers, MatchReferenceAndLeaveOtherRowsAlone) {
  REQUIRE_GPU();
  const std::int64_t V = 300, U = 40;
  const int d = 37;
  std::mt19937 gen(5);
  std::vector<std::int32_t> all(V);
  std::iota(all.begin(), all.end(), 0);
  std::shuffle(all.begin(), all.end(), gen);
  std::vector<std::int32_t> rows(all.begin(), all.begin() + U);
  auto table = random_floats(V * d, gen);
  for (int kind = 0; kind < 4; ++kind) {  // sgd, momentum, nesterov, adam
    std::vector<float> want = table, s1(V * d, 0.0f), s2(V * d, 0.0f);
    Device<float> dtable(table), ds1(s1), ds2(s2);
    Device<std::int32_t> drows(rows), dcount(std::vector<std::int32_t>{int(U) - 5});
    for (int step = 1; step <= 2; ++step) {
      auto grad = random_floats(U * d, gen);
      Device<float> dgrad(grad);
      const std::int32_t n = U - 5;  // the count steps only the first U - 5 rows
      switch (kind) {
        case 0:
          ref::sparse_sgd(want.data(), d, rows.data(), &n, U, grad.data(), 0.1f);
          gpu::sparse_sgd(dtable.get(), d, drows.get(), dcount.get(), U, dgrad.get(), 0.1f,
                          nullptr);
          break;
        case 1:
        case 2:
          ref::sparse_momentum(want.data(), s1.data(), d, rows.data(), &n, U, grad.data(), 0.1f,
                               0.9f, kind == 2);
          gpu::sparse_momentum(dtable.get(), ds1.get(), d, drows.get(), dcount.get(), U,
                               dgrad.get(), 0.1f, 0.9f, kind == 2, nullptr);
          break;
        default:
          ref::sparse_adam(want.data(), s1.data(), s2.data(), d, rows.data(), &n, U, grad.data(),
                           0.01f, 0.9f, 0.999f, 1e-8f, step);
          gpu::sparse_adam(dtable.get(), ds1.get(), ds2.get(), d, drows.get(), dcount.get(), U,
                           dgrad.get(), 0.01f, 0.9f, 0.999f, 1e-8f, step, nullptr);
      }
    }
    auto got = dtable.download();
    expect_close(got, want, 1e-5, 1e-7, "optimizer " + std::to_string(kind));
    for (std::int64_t r = U - 5; r < V; ++r) {
      const std::int64_t row = all[r];
      EXPECT_EQ(std::memcmp(got.data() + row * d, table.data() + row * d, d * 4), 0)
          << "untouched row " << row << " changed (optimizer " << kind << ")";
    }
  }
}

// ---- launcher validation

// An allocation the device cannot hold (another process took the memory the prediction saw
// free) is one line naming the size, and leaves the device usable.
TEST(DeviceMemory, AnAllocationPastTheDevicesMemoryIsAClearError) {
  REQUIRE_GPU();
  const std::size_t too_much = std::size_t(1) << 50;  // 1 PiB
  try {
    gpu::DeviceBuffer<std::byte> buffer(too_much);
    FAIL() << "1 PiB was allocated";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "GPU memory: out of memory allocating " +
                                         std::to_string(too_much) +
                                         " bytes (is another process using it?)");
  }
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  Device<float> after(std::vector<float>{1, 2, 3});
  EXPECT_EQ(after.download(), (std::vector<float>{1, 2, 3}));
}

TEST(KernelArguments, BadShapesPointersAndIndicesAreErrors) {
  REQUIRE_GPU();
  Device<float> table(100 * 4), out(10 * 4);
  Device<std::int32_t> idx(std::vector<std::int32_t>{0, 5, 99, 100, 3});
  EXPECT_THROW(gpu::gather_rows(table.get(), 100, 0, idx.get(), 5, out.get(), nullptr), Error);
  EXPECT_THROW(gpu::gather_rows(table.get(), 100, 4, idx.get(), -1, out.get(), nullptr), Error);
  EXPECT_THROW(gpu::gather_rows(nullptr, 100, 4, idx.get(), 5, out.get(), nullptr), Error);
  EXPECT_THROW(gpu::batched_dot(table.get(), nullptr, 2, 3, 4, out.get(), nullptr), Error);
  Device<char> small(8);
  EXPECT_THROW(gpu::softmax_nll(table.get(), 2, 50, idx.get(), 1, out.get(), out.get(),
                                Reduction::kMean, {nullptr, small.get(), 8}),
               Error);
  EXPECT_THROW(gpu::gemm_logits(table.get(), table.get(), 2, 50, 4, out.get(), nullptr), Error)
      << "a GEMM without a cuBLAS handle";
  try {
    gpu::check_indices(idx.get(), 5, 100, "idx", nullptr);
    ADD_FAILURE() << "index 100 of a 100-row table was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("idx[3] = 100 is outside [0, 100)"), std::string::npos)
        << e.what();
  }
  EXPECT_NO_THROW(gpu::check_indices(idx.get(), 3, 100, "idx", nullptr));
}

#endif  // W2V_HAVE_CUDA

}  // namespace
}  // namespace w2v
