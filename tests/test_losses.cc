// Gradients of the reference losses against central finite differences, and the fast CPU
// steps against the reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "support/random.h"
#include "w2v/cpu_trainer.h"
#include "w2v/reference.h"
#include "w2v/sampling.h"
#include "w2v/vector_math.h"

namespace w2v {
namespace {

using test::random_floats;

// Central difference of f at x[i], in double around float parameters.
template <typename F>
double numeric_grad(std::vector<float>& x, std::size_t i, F f, float h = 1e-2f) {
  float saved = x[i];
  x[i] = saved + h;
  double up = f();
  x[i] = saved - h;
  double down = f();
  x[i] = saved;
  return (up - down) / (2.0 * h);
}

// max |a - b| / (atol + rtol |b|): <= 1 passes.
double scaled_error(double a, double b, double atol, double rtol) {
  return std::abs(a - b) / (atol + rtol * std::abs(b));
}

TEST(LossReference, StableSigmoidAndSoftplus) {
  EXPECT_NEAR(ref::sigmoid(0.0), 0.5, 1e-15);
  EXPECT_EQ(ref::sigmoid(-800.0), 0.0);
  EXPECT_EQ(ref::sigmoid(800.0), 1.0);
  EXPECT_NEAR(ref::softplus(800.0), 800.0, 1e-12);
  EXPECT_GT(ref::softplus(-800.0), -1e-300);
  EXPECT_NEAR(ref::softplus(0.0), std::log(2.0), 1e-15);
  EXPECT_NEAR(ref::softplus(-30.0), std::exp(-30.0), 1e-20);
}

class NsGradient : public ::testing::TestWithParam<std::tuple<int, int, unsigned>> {};

TEST_P(NsGradient, MatchesFiniteDifferences) {
  auto [dim, targets, seed] = GetParam();
  std::mt19937 gen(seed);
  auto v = random_floats(dim, gen, 1.0f);
  auto u = random_floats(std::size_t(targets) * dim, gen, 1.0f);
  std::vector<float> labels(targets, 0.0f);
  labels[0] = 1.0f;
  std::vector<float> gv(dim), gu(u.size());
  ref::ns_loss(v.data(), u.data(), labels.data(), targets, dim, gv.data(), gu.data());
  auto loss = [&] {
    return ref::ns_loss(v.data(), u.data(), labels.data(), targets, dim, nullptr, nullptr);
  };
  double worst = 0;
  for (int i = 0; i < dim; ++i)
    worst = std::max(worst, scaled_error(gv[i], numeric_grad(v, i, loss), 1e-3, 1e-2));
  for (std::size_t i = 0; i < u.size(); ++i)
    worst = std::max(worst, scaled_error(gu[i], numeric_grad(u, i, loss), 1e-3, 1e-2));
  EXPECT_LE(worst, 1.0) << "analytic vs finite-difference gradient, atol 1e-3 rtol 1e-2";
}

INSTANTIATE_TEST_SUITE_P(Shapes, NsGradient,
                         ::testing::Values(std::make_tuple(1, 1, 1u), std::make_tuple(3, 6, 2u),
                                           std::make_tuple(17, 6, 3u),
                                           std::make_tuple(64, 11, 4u)));

class SoftmaxGradient : public ::testing::TestWithParam<std::tuple<int, int, int, unsigned>> {};

TEST_P(SoftmaxGradient, MatchesFiniteDifferences) {
  auto [dim, vocab, targets, seed] = GetParam();
  std::mt19937 gen(seed);
  auto h = random_floats(dim, gen, 1.0f);
  auto u = random_floats(std::size_t(vocab) * dim, gen, 1.0f);
  std::vector<std::uint32_t> tgt(targets);
  for (auto& t : tgt) t = gen() % vocab;
  tgt.back() = tgt.front();  // a repeated target counts twice
  std::vector<float> gh(dim), gu(u.size());
  ref::softmax_loss(h.data(), u.data(), vocab, dim, tgt.data(), targets, gh.data(), gu.data());
  auto loss = [&] {
    return ref::softmax_loss(h.data(), u.data(), vocab, dim, tgt.data(), targets, nullptr, nullptr);
  };
  double worst = 0;
  for (int i = 0; i < dim; ++i)
    worst = std::max(worst, scaled_error(gh[i], numeric_grad(h, i, loss), 1e-3, 1e-2));
  for (std::size_t i = 0; i < u.size(); ++i)
    worst = std::max(worst, scaled_error(gu[i], numeric_grad(u, i, loss), 1e-3, 1e-2));
  EXPECT_LE(worst, 1.0);
}

INSTANTIATE_TEST_SUITE_P(Shapes, SoftmaxGradient,
                         ::testing::Values(std::make_tuple(1, 2, 1, 5u),
                                           std::make_tuple(5, 13, 1, 6u),
                                           std::make_tuple(8, 37, 4, 7u),
                                           std::make_tuple(16, 50, 10, 8u)));

TEST(SoftmaxNll, GradientSumsToZeroAndIsStableForHugeLogits) {
  std::vector<float> logits = {1e4f, -1e4f, 3.0f, 1e4f - 1.0f};
  std::vector<std::uint32_t> targets = {0, 2};
  std::vector<float> grad(logits.size());
  double loss = ref::softmax_nll(logits.data(), logits.size(), targets.data(), 2, grad.data());
  ASSERT_TRUE(std::isfinite(loss));
  // Target 2 is ~1e4 below the max: its log-probability is about -1e4.
  EXPECT_NEAR(loss, 0.5 * (std::log1p(std::exp(-1.0)) + (1e4 - 3.0 + std::log1p(std::exp(-1.0)))),
              1e-2);
  double sum = 0;
  for (float g : grad) sum += g;
  EXPECT_NEAR(sum, 0.0, 1e-6);
  // In place (grad == logits) is allowed and gives the same result.
  std::vector<float> inplace = logits;
  ref::softmax_nll(inplace.data(), inplace.size(), targets.data(), 2, inplace.data());
  for (std::size_t i = 0; i < grad.size(); ++i) EXPECT_EQ(inplace[i], grad[i]);
}

TEST(LogisticTable, CloseToExactFunctions) {
  LogisticTable table;
  double worst_sigmoid = 0, worst_softplus = 0;
  for (double x = -12; x <= 12; x += 0.0137) {
    worst_sigmoid = std::max(worst_sigmoid, std::abs(table.sigmoid(float(x)) - ref::sigmoid(x)));
    worst_softplus =
        std::max(worst_softplus, std::abs(table.softplus(float(x)) - ref::softplus(x)));
  }
  // Table step 16/4096: sigmoid' <= 1/4 and softplus' <= 1 bound the nearest-entry error.
  EXPECT_LT(worst_sigmoid, 1e-3);
  EXPECT_LT(worst_softplus, 4e-3);
}

TEST(LogisticTable, NonFiniteInputsPropagate) {
  LogisticTable table;
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(table.sigmoid(inf), 1.0f);
  EXPECT_EQ(table.sigmoid(-inf), 0.0f);
  EXPECT_EQ(table.softplus(inf), inf);
  EXPECT_EQ(table.softplus(-inf), 0.0f);
  // A NaN must reach the loss so that divergence is detected, never index the table.
  EXPECT_TRUE(std::isnan(table.sigmoid(nan)));
  EXPECT_TRUE(std::isnan(table.softplus(nan)));
}

// One fast SGD step equals "params -= alpha * reference gradient" up to the table error.
TEST(NsStep, MatchesReferenceGradientStep) {
  std::mt19937 gen(11);
  const std::size_t dim = 37, vocab = 9;
  const float alpha = 0.1f;
  auto in = random_floats(dim, gen, 0.8f);
  auto out = random_floats(vocab * dim, gen, 0.8f);
  std::vector<std::uint32_t> targets = {4, 1, 7, 2};
  std::vector<float> labels = {1, 0, 0, 0};
  std::vector<float> u(targets.size() * dim);
  for (std::size_t t = 0; t < targets.size(); ++t)
    std::copy_n(out.begin() + targets[t] * dim, dim, u.begin() + t * dim);
  std::vector<float> gv(dim), gu(u.size());
  double ref_loss =
      ref::ns_loss(in.data(), u.data(), labels.data(), targets.size(), dim, gv.data(), gu.data());

  LogisticTable table;
  std::vector<float> fast_out = out, in_grad(dim, 0.0f);
  float loss = ns_step(table, in.data(), fast_out.data(), dim, targets.data(), targets.size(),
                       alpha, in_grad.data());
  EXPECT_NEAR(loss, ref_loss, 1e-2);
  // The fast step updates output rows one after another, so later targets see no change
  // from earlier ones only because the targets are distinct rows: the gradients match.
  for (std::size_t k = 0; k < dim; ++k) EXPECT_NEAR(in_grad[k], -alpha * gv[k], 2e-3) << k;
  for (std::size_t t = 0; t < targets.size(); ++t)
    for (std::size_t k = 0; k < dim; ++k)
      EXPECT_NEAR(fast_out[targets[t] * dim + k],
                  out[targets[t] * dim + k] - alpha * gu[t * dim + k], 2e-3);
  // Rows that are not targets are untouched.
  for (std::size_t k = 0; k < dim; ++k) EXPECT_EQ(fast_out[0 * dim + k], out[0 * dim + k]);
}

TEST(NsStep, SkipsNoiseEqualToThePositive) {
  std::mt19937 gen(12);
  const std::size_t dim = 8;
  auto in = random_floats(dim, gen, 0.5f);
  auto out = random_floats(3 * dim, gen, 0.5f);
  LogisticTable table;
  std::vector<std::uint32_t> with_dup = {1, 1, 2}, without = {1, 2};
  std::vector<float> out_a = out, out_b = out, grad_a(dim, 0.0f), grad_b(dim, 0.0f);
  float la = ns_step(table, in.data(), out_a.data(), dim, with_dup.data(), 3, 0.05f, grad_a.data());
  float lb = ns_step(table, in.data(), out_b.data(), dim, without.data(), 2, 0.05f, grad_b.data());
  EXPECT_EQ(la, lb);
  EXPECT_EQ(out_a, out_b);
  EXPECT_EQ(grad_a, grad_b);
}

// word2vec.c's loop one output at a time, each scored after the previous one's update: what
// ns_step and hs_step must give bit for bit (a path's nodes are its outputs, labelled 1 - code).
float one_by_one(const LogisticTable& table, const float* in, std::vector<float>& out,
                 std::size_t dim, const std::vector<std::uint32_t>& rows,
                 const std::vector<bool>& positive, float alpha, std::vector<float>& in_grad) {
  float loss = 0;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    float* row = out.data() + rows[k] * dim;
    const float f = dot(in, row, dim);
    loss += positive[k] ? table.softplus(-f) : table.softplus(f);
    const float g = ((positive[k] ? 1.0f : 0.0f) - table.sigmoid(f)) * alpha;
    axpy(in_grad.data(), g, row, dim);
    axpy(row, g, in, dim);
  }
  return loss;
}

// ns_step scores distinct targets before their updates and updates them in one pass; a noise
// word drawn twice, and the input's own row among the targets (tied embeddings), must still
// see the earlier updates, as in word2vec.c. At dims that leave every tail of the vector loops.
TEST(NsStep, GivesTheOneByOneLoopsBits) {
  std::mt19937 gen(16);
  const std::size_t vocab = 30;
  LogisticTable table;
  for (std::size_t dim : {1, 5, 13, 100, 300}) {
    const auto out = random_floats(vocab * dim, gen, 0.8f);
    const auto in = random_floats(dim, gen, 0.8f);
    struct Case {
      const char* name;
      std::vector<std::uint32_t> targets;
      std::size_t tied_row;  // vocab: in is its own vector
    };
    const std::vector<Case> cases = {
        {"distinct", {4, 1, 7, 2, 9, 11}, vocab},
        {"a noise word twice", {4, 1, 7, 1, 9, 11}, vocab},
        {"the input's own row", {4, 1, 7, 2, 9, 11}, 7},
        {"more than a stretch",
         {4, 1, 7, 2, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 1},
         vocab}};
    for (const Case& c : cases) {
      SCOPED_TRACE(std::string(c.name) + ", dim " + std::to_string(dim));
      std::vector<float> want_out = out, got_out = out;
      std::vector<float> want_grad(dim, 0.0f), got_grad(dim, 0.0f);
      const float* want_in = c.tied_row < vocab ? want_out.data() + c.tied_row * dim : in.data();
      const float* got_in = c.tied_row < vocab ? got_out.data() + c.tied_row * dim : in.data();
      std::vector<bool> positive(c.targets.size(), false);
      positive[0] = true;
      const float want_loss =
          one_by_one(table, want_in, want_out, dim, c.targets, positive, 0.05f, want_grad);
      const float got_loss = ns_step(table, got_in, got_out.data(), dim, c.targets.data(),
                                     c.targets.size(), 0.05f, got_grad.data());
      EXPECT_EQ(got_loss, want_loss);
      EXPECT_EQ(got_grad, want_grad);
      EXPECT_EQ(got_out, want_out);
    }
  }
}

// The vector loops against double sums at every length up to three blocks of lanes and past.
TEST(VectorMath, DotAndAxpyRowsAtEveryLength) {
  std::mt19937 gen(17);
  for (std::size_t n = 0; n <= 100; n = n < 40 ? n + 1 : n + 30) {
    SCOPED_TRACE("n = " + std::to_string(n));
    const auto a = random_floats(n, gen, 1.0f), b = random_floats(n, gen, 1.0f);
    double want = 0, magnitude = 0;
    for (std::size_t i = 0; i < n; ++i) {
      want += double(a[i]) * b[i];
      magnitude += std::abs(double(a[i]) * b[i]);
    }
    // Relative to the sum of magnitudes: float rounding, at most ~n ulps of it.
    EXPECT_LE(std::abs(dot(a.data(), b.data(), n) - want), 1e-6 * (magnitude + 1e-30) * (n + 1));

    const std::size_t rows = 3;
    const auto x = random_floats(n, gen, 1.0f), grad0 = random_floats(n, gen, 1.0f);
    const auto table0 = random_floats(rows * n, gen, 1.0f);
    const float g[rows] = {0.3f, -1.25f, 0.5f};
    std::vector<float> grad = grad0, table = table0;
    float* row_ptrs[rows] = {table.data() + 2 * n, table.data(), table.data() + n};
    axpy_rows(grad.data(), row_ptrs, g, rows, x.data(), n);
    for (std::size_t i = 0; i < n; ++i) {
      double want_grad = grad0[i];
      for (std::size_t k = 0; k < rows; ++k) {
        const std::size_t r = k == 0 ? 2 : k - 1;
        want_grad += double(g[k]) * table0[r * n + i];
        EXPECT_NEAR(table[r * n + i], table0[r * n + i] + double(g[k]) * x[i], 1e-6) << i;
      }
      EXPECT_NEAR(grad[i], want_grad, 1e-5) << i;
    }
  }
}

TEST(SoftmaxStep, MatchesReferenceGradientStep) {
  std::mt19937 gen(13);
  const std::size_t dim = 19, vocab = 41;
  const float alpha = 0.05f;
  auto h = random_floats(dim, gen, 1.0f);
  auto out = random_floats(vocab * dim, gen, 1.0f);
  std::vector<std::uint32_t> targets = {3, 40, 3, 17};
  std::vector<float> gh(dim), gu(out.size());
  double ref_loss = ref::softmax_loss(h.data(), out.data(), vocab, dim, targets.data(),
                                      targets.size(), gh.data(), gu.data());
  std::vector<float> fast_out = out, logits(vocab), h_update(dim);
  float loss = softmax_step(h.data(), fast_out.data(), vocab, dim, targets.data(), targets.size(),
                            alpha, logits.data(), h_update.data());
  EXPECT_NEAR(loss, ref_loss, 1e-5 * std::abs(ref_loss) + 1e-6);
  for (std::size_t k = 0; k < dim; ++k) EXPECT_NEAR(h_update[k], -alpha * gh[k], 1e-5);
  for (std::size_t i = 0; i < out.size(); ++i)
    EXPECT_NEAR(fast_out[i], out[i] - alpha * gu[i], 1e-5);
}

// Hierarchical softmax is negative sampling's loss over a word's path, each node labelled 1 -
// its code: the reference's gradient (checked against finite differences above), and the
// step's against central differences of that loss directly, on a real tree's path.
TEST(HsStep, MatchesReferenceGradientStepOnATreesPath) {
  std::mt19937 gen(14);
  const std::size_t dim = 29, vocab = 40;
  const float alpha = 0.1f;
  std::vector<std::uint64_t> counts(vocab);
  for (auto& c : counts) c = 1 + gen() % 1000;
  const HuffmanTree tree = HuffmanTree::build(counts);
  std::uint32_t word = 0;  // the word with the longest path
  for (std::uint32_t w = 0; w < vocab; ++w)
    if (tree.path_length(w) > tree.path_length(word)) word = w;
  const std::size_t length = tree.path_length(word);
  ASSERT_GE(length, 4u);
  const std::uint32_t* nodes = tree.nodes(word);
  const std::uint8_t* codes = tree.codes(word);
  auto in = random_floats(dim, gen, 0.8f);
  auto out = random_floats((vocab - 1) * dim, gen, 0.8f);
  std::vector<float> labels(length), u(length * dim);
  for (std::size_t k = 0; k < length; ++k) {
    labels[k] = 1.0f - codes[k];
    std::copy_n(out.begin() + nodes[k] * dim, dim, u.begin() + k * dim);
  }
  std::vector<float> gv(dim), gu(u.size());
  const double ref_loss =
      ref::ns_loss(in.data(), u.data(), labels.data(), length, dim, gv.data(), gu.data());
  auto path_loss = [&] {
    return ref::ns_loss(in.data(), u.data(), labels.data(), length, dim, nullptr, nullptr);
  };

  LogisticTable table;
  std::vector<float> stepped = out, in_grad(dim, 0.0f);
  const float loss =
      hs_step(table, in.data(), stepped.data(), dim, nodes, codes, length, alpha, in_grad.data());
  EXPECT_NEAR(loss, ref_loss, 1e-2);
  // Against the analytic gradient: the table's error (sigmoid within 1e-3) per node.
  for (std::size_t k = 0; k < dim; ++k) EXPECT_NEAR(in_grad[k], -alpha * gv[k], 2e-3) << k;
  for (std::size_t k = 0; k < length; ++k)
    for (std::size_t e = 0; e < dim; ++e)
      EXPECT_NEAR(stepped[nodes[k] * dim + e], out[nodes[k] * dim + e] - alpha * gu[k * dim + e],
                  2e-3);
  // Against central differences of the path's loss (relative error stated: atol 2e-3 / alpha
  // for the table, rtol 1e-2).
  double worst = 0;
  for (std::size_t k = 0; k < dim; ++k)
    worst = std::max(worst, scaled_error(-in_grad[k] / alpha, numeric_grad(in, k, path_loss),
                                         2e-3 / alpha, 1e-2));
  EXPECT_LE(worst, 1.0);
  // Rows off the path are untouched.
  std::vector<bool> on_path(vocab - 1, false);
  for (std::size_t k = 0; k < length; ++k) on_path[nodes[k]] = true;
  for (std::size_t n = 0; n < vocab - 1; ++n) {
    if (on_path[n]) continue;
    for (std::size_t e = 0; e < dim; ++e) ASSERT_EQ(stepped[n * dim + e], out[n * dim + e]);
  }
}

// Fibonacci counts: the deepest tree, word 0's path through all vocab - 1 inner nodes.
HuffmanTree deepest_tree(std::size_t vocab) {
  std::vector<std::uint64_t> counts = {1, 1};
  while (counts.size() < vocab) counts.push_back(counts.end()[-1] + counts.end()[-2]);
  return HuffmanTree::build(counts);
}

// hs_step takes a stretch of the path's scores before its updates: word2vec.c's node-by-node
// loop, bit for bit, on a path longer than one stretch.
TEST(HsStep, GivesTheNodeByNodeLoopsBits) {
  std::mt19937 gen(15);
  const std::size_t dim = 50, vocab = 40;
  const HuffmanTree tree = deepest_tree(vocab);
  const std::uint32_t word = 0;
  const std::size_t length = tree.path_length(word);
  ASSERT_GT(length, 16u);
  auto in = random_floats(dim, gen, 0.8f);
  const auto out = random_floats((vocab - 1) * dim, gen, 0.8f);
  LogisticTable table;
  const std::vector<std::uint32_t> rows(tree.nodes(word), tree.nodes(word) + length);
  std::vector<bool> positive(length);
  for (std::size_t k = 0; k < length; ++k) positive[k] = tree.codes(word)[k] == 0;
  std::vector<float> want_out = out, want_grad(dim, 0.0f);
  const float want_loss =
      one_by_one(table, in.data(), want_out, dim, rows, positive, 0.05f, want_grad);
  std::vector<float> got_out = out, got_grad(dim, 0.0f);
  const float got_loss = hs_step(table, in.data(), got_out.data(), dim, tree.nodes(word),
                                 tree.codes(word), length, 0.05f, got_grad.data());
  EXPECT_EQ(got_loss, want_loss);
  EXPECT_EQ(got_grad, want_grad);
  EXPECT_EQ(got_out, want_out);
}

// With the tree's top rows held in a RowCopy (hierarchical softmax on several threads),
// hs_step steps those rows in the copy, with the bits it gives them in the table, and leaves
// the table's top rows alone until the copy is merged.
TEST(HsStep, StepsTheTopNodesInTheirCopy) {
  std::mt19937 gen(16);
  const std::size_t dim = 21, vocab = 40, inner = vocab - 1, top = 8;
  const HuffmanTree tree = deepest_tree(vocab);
  const std::uint32_t word = 0;  // a path through every inner node: the top ones and others
  const std::size_t length = tree.path_length(word);
  auto in = random_floats(dim, gen, 0.8f);
  const auto out = random_floats(inner * dim, gen, 0.8f);
  LogisticTable table;
  std::vector<float> want_out = out, want_grad(dim, 0.0f);
  const float want_loss = hs_step(table, in.data(), want_out.data(), dim, tree.nodes(word),
                                  tree.codes(word), length, 0.05f, want_grad.data());
  std::vector<float> got_out = out, got_grad(dim, 0.0f);
  RowCopy copy(got_out.data(), inner - top, top, dim);
  ASSERT_EQ(copy.rows().first, inner - top);
  ASSERT_EQ(copy.rows().end, inner);
  const float got_loss = hs_step(table, in.data(), got_out.data(), dim, tree.nodes(word),
                                 tree.codes(word), length, 0.05f, got_grad.data(), &copy.rows());
  EXPECT_EQ(got_loss, want_loss);
  EXPECT_EQ(got_grad, want_grad);
  const std::size_t split = (inner - top) * dim;
  EXPECT_TRUE(std::equal(got_out.begin(), got_out.begin() + split, want_out.begin()));
  EXPECT_TRUE(std::equal(got_out.begin() + split, got_out.end(), out.begin() + split))
      << "the table's top rows wait for the merge";
  EXPECT_TRUE(std::equal(copy.rows().rows, copy.rows().rows + top * dim, want_out.begin() + split));
  copy.merge();
  for (std::size_t e = split; e < got_out.size(); ++e)
    ASSERT_NEAR(got_out[e], want_out[e], 1e-6f) << e;  // old + (new - old)
}

// Two threads' copies of the same rows: each merge adds that copy's changes since its last
// merge to the table, once, and takes back every change merged so far.
TEST(RowCopy, MergeAddsEachCopysChangesOnce) {
  std::mt19937 gen(17);
  const std::size_t dim = 7, inner = 10, top = 4, split = (inner - top) * dim;
  std::vector<float> out = random_floats(inner * dim, gen, 1.0f);
  const std::vector<float> start = out;
  RowCopy a(out.data(), inner - top, top, dim), b(out.data(), inner - top, top, dim);
  std::vector<float> want(start.begin() + split, start.end());
  auto change = [&](RowCopy& copy) {
    const std::vector<float> delta = random_floats(top * dim, gen, 0.1f);
    for (std::size_t e = 0; e < delta.size(); ++e) {
      copy.rows().rows[e] += delta[e];
      want[e] += delta[e];
    }
  };
  auto expect_table_is_want = [&](const char* when) {
    for (std::size_t e = 0; e < want.size(); ++e)
      ASSERT_NEAR(out[split + e], want[e], 1e-5f) << when << ", element " << e;
    EXPECT_TRUE(std::equal(out.begin(), out.begin() + split, start.begin()))
        << "rows below the top are not the copies'";
  };
  change(a);
  change(b);
  a.merge();
  b.merge();
  expect_table_is_want("both merged");
  EXPECT_TRUE(std::equal(b.rows().rows, b.rows().rows + top * dim, out.begin() + split))
      << "b takes back a's changes with its own";
  a.merge();  // nothing changed since its last merge
  expect_table_is_want("a merged again");
  EXPECT_TRUE(std::equal(a.rows().rows, a.rows().rows + top * dim, out.begin() + split));
  change(a);
  a.merge();
  expect_table_is_want("a's second change merged");
}

// The rows copied shrink as threads (and so merges) grow, down to 63, none on one thread, never
// more than the tree has.
TEST(RowCopy, TopNodeRowsShrinkAsThreadsGrow) {
  const std::size_t inner = 22'000;
  EXPECT_EQ(top_node_copy_rows(1, inner), 0u);
  EXPECT_EQ(top_node_copy_rows(2, inner), 255u);
  EXPECT_EQ(top_node_copy_rows(3, inner), 169u);
  EXPECT_EQ(top_node_copy_rows(4, inner), 127u);
  EXPECT_EQ(top_node_copy_rows(8, inner), 63u);
  EXPECT_EQ(top_node_copy_rows(64, inner), 63u);
  EXPECT_EQ(top_node_copy_rows(2, 40), 40u);
}

// The same for skip-gram's most frequent output rows, down to 8.
TEST(RowCopy, FrequentRowsShrinkAsThreadsGrow) {
  const std::size_t vocab = 22'000;
  EXPECT_EQ(frequent_row_copy_rows(1, vocab), 0u);
  EXPECT_EQ(frequent_row_copy_rows(2, vocab), 64u);
  EXPECT_EQ(frequent_row_copy_rows(4, vocab), 32u);
  EXPECT_EQ(frequent_row_copy_rows(16, vocab), 8u);
  EXPECT_EQ(frequent_row_copy_rows(64, vocab), 8u);
  EXPECT_EQ(frequent_row_copy_rows(2, 40), 40u);
}

// Which rows a run's threads copy: the rules under auto, --copied-rows otherwise, never on one
// thread or with tied tables.
TEST(RowCopy, CopiedOutputRowsFollowTheFlag) {
  const std::size_t vocab = 22'000, inner = vocab - 1;
  TrainConfig c;
  c.threads = 2;
  auto expect_rows = [&](std::size_t first, std::size_t count) {
    const CopiedRange got = copied_output_rows(c, vocab);
    EXPECT_EQ(got.first, first);
    EXPECT_EQ(got.count, count);
  };
  expect_rows(0, 64);  // skip-gram, negative sampling
  c.model = ModelKind::kCbow;
  expect_rows(0, 0);
  c.copied_rows = 100;
  expect_rows(0, 100);
  c.copied_rows = 30'000;
  expect_rows(0, vocab);
  c.loss = LossKind::kHierarchicalSoftmax;
  expect_rows(0, inner);
  c.copied_rows = 100;
  expect_rows(inner - 100, 100);
  c.copied_rows = TrainConfig::kAutoCopiedRows;
  expect_rows(inner - 255, 255);
  c.threads = 1;
  expect_rows(0, 0);
  c.threads = 2;
  c.loss = LossKind::kSoftmax;
  expect_rows(0, 0);
  c.loss = LossKind::kNegativeSampling;
  c.copied_rows = 0;
  expect_rows(0, 0);
  c.copied_rows = 100;
  c.tied = true;
  expect_rows(0, 0);
}

// With the most frequent words' output rows held in a RowCopy (skip-gram's negative sampling on
// several threads), ns_step steps the targets it holds in the copy, with the bits it gives them
// in the table, and the others in the table; the table's copied rows wait for the merge. The
// cases take the paths of ns_step: distinct targets at once, a repeat one by one, more than a
// stretch.
TEST(NsStep, StepsTheCopiedRowsInTheirCopy) {
  std::mt19937 gen(18);
  const std::size_t dim = 13, vocab = 30, copied = 6, split = copied * dim;
  LogisticTable table;
  const std::vector<std::vector<std::uint32_t>> cases = {
      {4, 1, 7, 2, 9, 11},
      {12, 1, 7, 1, 0, 11},
      {4, 1, 7, 2, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 5}};
  for (const auto& targets : cases) {
    SCOPED_TRACE("positive " + std::to_string(targets[0]) + ", " + std::to_string(targets.size()) +
                 " targets");
    const auto in = random_floats(dim, gen, 0.8f);
    const auto out = random_floats(vocab * dim, gen, 0.8f);
    std::vector<float> want_out = out, want_grad(dim, 0.0f);
    const float want_loss = ns_step(table, in.data(), want_out.data(), dim, targets.data(),
                                    targets.size(), 0.05f, want_grad.data());
    std::vector<float> got_out = out, got_grad(dim, 0.0f);
    RowCopy copy(got_out.data(), 0, copied, dim);
    const float got_loss = ns_step(table, in.data(), got_out.data(), dim, targets.data(),
                                   targets.size(), 0.05f, got_grad.data(), &copy.rows());
    EXPECT_EQ(got_loss, want_loss);
    EXPECT_EQ(got_grad, want_grad);
    EXPECT_TRUE(std::equal(got_out.begin() + split, got_out.end(), want_out.begin() + split));
    EXPECT_TRUE(std::equal(got_out.begin(), got_out.begin() + split, out.begin()))
        << "the table's copied rows wait for the merge";
    EXPECT_TRUE(std::equal(copy.rows().rows, copy.rows().rows + split, want_out.begin()));
    copy.merge();
    for (std::size_t e = 0; e < split; ++e)
      ASSERT_NEAR(got_out[e], want_out[e], 1e-6f) << e;  // old + (new - old)
  }
}

}  // namespace
}  // namespace w2v
