// End-to-end: the CPU trainer learns on real text (the first MB of text8).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "support/training.h"
#include "w2v/error.h"
#include "w2v/vectors.h"

namespace w2v {
namespace {

using test::base_config;
using test::expect_learned;
using test::expect_loss_fell;
using test::expect_softmax_learned;
using test::kJudgeLearning;
using test::kText8;
using test::learning_bytes;
using test::softmax_config;
using test::train_prefix;
using test::Trained;

TEST(Training, SkipGramNegativeSamplingLearns) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  for (NoiseSharing sharing : {NoiseSharing::kWindow, NoiseSharing::kPair}) {
    SCOPED_TRACE(to_string(sharing));
    TrainConfig c = base_config();
    c.alpha = 0.05;
    c.sg_noise = sharing;
    Trained t = train_prefix(c, 4'000'000);
    EXPECT_EQ(t.stats.words, 3 * t.vocab.total_count() - 0)
        << "every in-vocabulary token, every epoch";
    expect_learned(t, c);
  }
}

// --sg-noise reaches the trainer: with one thread, whose vectors a seed fixes, the same words
// train to other vectors under each setting.
TEST(Training, SkipGramNoiseSharingChangesTheDraws) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  TrainConfig c = base_config();
  c.threads = 1;
  c.epochs = 1;
  const Trained window = train_prefix(c, 300'000);
  c.sg_noise = NoiseSharing::kPair;
  const Trained pair = train_prefix(c, 300'000);
  EXPECT_EQ(window.stats.words, pair.stats.words);
  EXPECT_FALSE(test::same_tables(window.model, pair.model));
  EXPECT_TRUE(test::same_tables(pair.model, train_prefix(c, 300'000).model)) << "deterministic";
}

TEST(Training, CbowNegativeSamplingLearns) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  TrainConfig c = base_config();
  c.model = ModelKind::kCbow;
  c.epochs = 5;
  expect_learned(train_prefix(c, 4'000'000), c);
}

// word2vec.c's -hs 1: both models, at their default rates.
TEST(Training, HierarchicalSoftmaxLearns) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  for (ModelKind model : {ModelKind::kSkipGram, ModelKind::kCbow}) {
    SCOPED_TRACE(to_string(model));
    TrainConfig c = base_config();
    c.model = model;
    c.loss = LossKind::kHierarchicalSoftmax;
    c.epochs = model == ModelKind::kCbow ? 5 : 3;
    expect_learned(train_prefix(c, 4'000'000), c);
  }
}

// The summed length of output rows [first, end): how far training took them from their start
// (zero).
double rows_length(const Trained& t, std::size_t first, std::size_t end) {
  const std::size_t dim = t.model.output.cols();
  double sum = 0;
  for (std::size_t r = first; r < end; ++r) {
    const float* row = t.model.output.row(r);
    sum += std::sqrt(std::inner_product(row, row + dim, row, 0.0));
  }
  return sum;
}

// On two threads each thread steps its own copy of the output rows that every step writes
// (RowCopy): every change reaches the model, once. The copied rows end about as far from their
// start as one thread takes them: not at zero (changes lost), nor far beyond (changes added
// again at each merge). One row's length moves by up to 2x between runs; the sum over the
// copied rows within 5% here.
void expect_two_threads_keep_the_copied_rows_changes(TrainConfig c) {
  TrainConfig two_threads = c;
  two_threads.threads = 2;
  auto copied_length = [&](const Trained& t) {
    const CopiedRange copied = copied_output_rows(two_threads, t.vocab.size());
    EXPECT_GT(copied.count, 0u);
    return rows_length(t, copied.first, copied.first + copied.count);
  };
  c.threads = 1;
  const double one = copied_length(train_prefix(c, 1'000'000));
  c.threads = 2;
  const double two = copied_length(train_prefix(c, 1'000'000));
  EXPECT_GT(two, 0.8 * one);
  EXPECT_LT(two, 1.25 * one);
}

// Hierarchical softmax: the tree's top nodes.
TEST(Training, HierarchicalSoftmaxOnTwoThreadsKeepsTheTopNodesChanges) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  TrainConfig c = base_config();
  c.loss = LossKind::kHierarchicalSoftmax;
  c.epochs = 1;
  expect_two_threads_keep_the_copied_rows_changes(c);
}

// Negative sampling: the most frequent words' output rows, skip-gram's by default, CBOW's when
// --copied-rows asks.
TEST(Training, NegativeSamplingOnTwoThreadsKeepsTheFrequentOutputRowsChanges) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  TrainConfig c = base_config();
  c.epochs = 1;
  expect_two_threads_keep_the_copied_rows_changes(c);
  c.model = ModelKind::kCbow;
  c.copied_rows = 32;
  expect_two_threads_keep_the_copied_rows_changes(c);
}

TEST(Training, TiedEmbeddingsLearn) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  TrainConfig c = base_config();
  c.tied = true;
  c.alpha = 0.05;
  Trained t = train_prefix(c, 4'000'000);
  EXPECT_TRUE(t.model.output.empty());
  expect_learned(t, c);
}

// --vectors: what the file holds, read back against the trained tables.
TEST(Training, WritesInputOrInputPlusOutputVectors) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  TrainConfig c = base_config();
  c.model = ModelKind::kCbow;
  c.epochs = 1;
  Trained t = train_prefix(c, 1'000'000);
  test::TempDir dir;
  c.output = dir.file("v.bin");
  const std::size_t floats = t.vocab.size() * c.dim;
  auto written = [&](VectorsKind kind, bool tied) {
    c.vectors = kind;
    c.tied = tied;
    write_trained_vectors(c, t.vocab, t.model);
    Embeddings e = read_vectors(c.output);
    EXPECT_EQ(e.words, t.vocab.words());
    return e.data;
  };
  const std::vector<float> input(t.model.input.data(), t.model.input.data() + floats);
  std::vector<float> sum(floats);
  for (std::size_t i = 0; i < floats; ++i) sum[i] = input[i] + t.model.output.data()[i];
  ASSERT_NE(sum, input);
  EXPECT_EQ(written(VectorsKind::kAuto, false), sum) << "CBOW, negative sampling: the sum";
  EXPECT_EQ(written(VectorsKind::kSum, false), sum);
  EXPECT_EQ(written(VectorsKind::kInput, false), input);
  EXPECT_EQ(written(VectorsKind::kSum, true), input) << "one table: nothing to add";
  c.model = ModelKind::kSkipGram;
  EXPECT_EQ(written(VectorsKind::kAuto, false), input) << "skip-gram: the input";
  c.model = ModelKind::kCbow;
  c.loss = LossKind::kSoftmax;
  EXPECT_EQ(written(VectorsKind::kAuto, false), input) << "the softmax's: the input, unmeasured";
}

TEST(Training, SkipGramSoftmaxLearnsOnASmallVocabulary) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  const Trained t = train_prefix(softmax_config(ModelKind::kSkipGram), learning_bytes(1'500'000));
  if (kJudgeLearning) expect_softmax_learned(t);
}

TEST(Training, CbowSoftmaxLearnsOnASmallVocabulary) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  const Trained t = train_prefix(softmax_config(ModelKind::kCbow), learning_bytes(1'500'000));
  if (kJudgeLearning) expect_softmax_learned(t);
}

// One-vs-all BCE over the vocabulary: at initialisation every logit is 0, so the loss per
// center is V ln 2; pushing the V - T non-context logits down takes most of it away. The
// negatives dominate its gradient, and on a run this small the vectors mostly align (cosines
// of 0.8 to 0.99 for any pair), so only the loss is checked.
TEST(Training, FullVocabularyBceLearnsOnASmallVocabulary) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  for (ModelKind model : {ModelKind::kSkipGram, ModelKind::kCbow}) {
    TrainConfig c = softmax_config(model);
    c.loss = LossKind::kFullBce;
    Trained t = train_prefix(c, learning_bytes(600'000));
    if (kJudgeLearning) expect_loss_fell(t, 2000 * std::log(2.0), 0.1);
  }
}

TEST(Training, DivergenceStopsWithATypedError) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  TrainConfig c = base_config();
  c.alpha = 1e30;
  c.epochs = 1;
  EXPECT_THROW(train_prefix(c, 300'000), DivergedError);
}

}  // namespace
}  // namespace w2v
