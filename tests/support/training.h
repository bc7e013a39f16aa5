#pragma once
// Training on a text8 prefix and checks that the vectors learned something: shared by the CPU
// trainer's tests and the modular (batched) path's tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "support/temp_dir.h"
#include "w2v/cpu_trainer.h"
#include "w2v/io.h"
#include "w2v/reference.h"
#include "w2v/sampling.h"
#include "w2v/train.h"
#include "w2v/vector_math.h"

namespace w2v::test {

inline const std::string kText8 = W2V_SOURCE_DIR "/../shared/data/text8_prefix.txt";

// ASan + UBSan run the training loops about 8 times slower (the vocabulary losses' tests took
// 3 to 12 minutes each on CI's 2 cores). Built with them (W2V_SANITIZED), the heaviest learning
// tests train on a tenth of their text and do not judge what was learnt: that run looks for
// memory errors and undefined behaviour in the same code; the Release run judges the learning.
#ifdef W2V_SANITIZED
inline constexpr bool kJudgeLearning = false;
#else
inline constexpr bool kJudgeLearning = true;
#endif
inline std::size_t learning_bytes(std::size_t bytes) { return kJudgeLearning ? bytes : bytes / 10; }

struct Trained {
  Vocab vocab;
  Model model;
  std::vector<double> losses;  // one per progress interval
  TrainStats stats;
};

using TrainFunction = std::function<void(const TrainJob&, Model&, Progress&)>;

inline void train_on_cpu(const TrainJob& job, Model& model, Progress& progress) {
  CpuTrainer().train(job, model, progress);
}

// Whose default learning rate an `alpha` of 0 takes (TrainConfig::start_alpha).
enum class DefaultRate { kCpuOrFused, kModularPath };

// Trains on the first `bytes` of text8 with `config` (its corpus, output, cache and loss-log
// fields are replaced) through the training sequence's own steps, with `train` as the trainer
// and an `alpha` of 0 resolved as train.cc resolves it for the path `rate` names.
inline Trained train_prefix(TrainConfig config, std::size_t bytes,
                            const TrainFunction& train = train_on_cpu,
                            DefaultRate rate = DefaultRate::kCpuOrFused) {
  test::TempDir dir;
  config.corpus = dir.file("text8_part.txt");
  config.output = dir.file("vectors.txt");
  config.cache_dir = dir.path();
  config.loss_log = dir.file("loss.csv");
  // Many loss samples even in a short run; a faster trainer's test asks for more.
  config.progress_interval = std::min(config.progress_interval, 0.02);
  test::write_file(config.corpus, test::read_file(kText8).substr(0, bytes));
  TrainingData data = prepare_training_data(config, nullptr);
  config.alpha = config.start_alpha(rate == DefaultRate::kModularPath, data.vocab.size());
  Trained t;
  t.model = Model::initialize(data.vocab.size(), config.dim, config.tied, config.seed);
  Progress::Options po = progress_options(config, data.corpus->token_count());
  std::FILE* sink = std::tmpfile();
  po.out = sink;
  {
    Progress progress(po);
    TrainJob job{config, data.vocab, *data.corpus, data.tables};
    train(job, t.model, progress);
    t.stats = progress.summary();
  }
  std::fclose(sink);
  t.vocab = std::move(data.vocab);
  std::istringstream csv(test::read_file(config.loss_log));
  std::string line;
  std::getline(csv, line);
  while (std::getline(csv, line)) {
    // words,seconds,alpha,loss,words_per_sec
    std::istringstream row(line);
    std::string field;
    for (int i = 0; i < 4; ++i) std::getline(row, field, ',');
    if (double loss = std::stod(field); loss > 0) t.losses.push_back(loss);
  }
  return t;
}

inline double cosine(const Trained& t, const std::string& a, const std::string& b) {
  std::uint32_t ia = t.vocab.find(a), ib = t.vocab.find(b);
  EXPECT_NE(ia, Vocab::kNotFound) << a;
  EXPECT_NE(ib, Vocab::kNotFound) << b;
  const float* x = t.model.input.row(ia);
  const float* y = t.model.input.row(ib);
  double xy = 0, xx = 0, yy = 0;
  for (std::size_t k = 0; k < t.model.input.cols(); ++k) {
    xy += x[k] * y[k];
    xx += x[k] * x[k];
    yy += y[k] * y[k];
  }
  return xy / std::sqrt(xx * yy);
}

// Both tables (the input table only when tied) equal bit for bit.
inline bool same_tables(const Model& a, const Model& b) {
  const std::size_t bytes = a.input.rows() * a.input.cols() * sizeof(float);
  return std::memcmp(a.input.data(), b.input.data(), bytes) == 0 &&
         (a.tied || std::memcmp(a.output.data(), b.output.data(), bytes) == 0);
}

inline double mean(const std::vector<double>& v, std::size_t from, std::size_t to) {
  return std::accumulate(v.begin() + from, v.begin() + to, 0.0) / static_cast<double>(to - from);
}

// The loss must end well below its value at initialisation, which is known exactly: the
// output vectors start at zero, so every logit is 0 and negative sampling's loss is
// (1 + negative) ln 2, the softmax's ln V. The thresholds are far outside run-to-run noise.
// (Comparing the start and the end of the logged curve would not be sound: the loss is
// measured online, and it rises a little in the last epoch as alpha decays; see README.)
inline void expect_loss_fell(const Trained& t, double initial_loss, double final_fraction) {
  ASSERT_GE(t.losses.size(), 5u);
  const std::size_t n = t.losses.size(), k = n / 5;
  double tail = mean(t.losses, n - k, n);
  std::string fifths;
  for (std::size_t f = 0; f < 5; ++f) {
    fifths += ' ';
    fifths += std::to_string(mean(t.losses, f * n / 5, (f + 1) * n / 5));
  }
  EXPECT_LT(tail, final_fraction * initial_loss)
      << "loss at initialisation " << initial_loss << ", over the last fifth of the run " << tail
      << " (" << n << " rows; by fifths:" << fifths << ")";
}

// A softmax or BCE model's loss on text it was not trained on: the `bytes` of text8 from
// `offset`, every in-vocabulary token a center, the in-vocabulary tokens within `window` its
// context words (no subsampling, no random window). Softmax: the mean over (center, context)
// pairs of -log p(context | center); BCE: the mean over centers of the one-vs-all loss with
// the context words as positives. Unlike the loss logged while training, this one does not
// reward vectors that adapt to the passage being read.
inline double heldout_loss(const Trained& t, LossKind loss, std::size_t offset, std::size_t bytes,
                           int window = 5) {
  std::vector<std::uint32_t> ids;
  std::istringstream text(test::read_file(kText8).substr(offset, bytes));
  std::string word;
  text >> word;  // the first may be cut
  while (text >> word)
    if (std::uint32_t id = t.vocab.find(word); id != Vocab::kNotFound) ids.push_back(id);
  const Matrix& in = t.model.input;
  const Matrix& out = t.model.output.empty() ? t.model.input : t.model.output;
  const std::size_t V = out.rows(), d = in.cols();
  std::vector<float> logits(V), grad(V);
  std::vector<std::uint32_t> context;
  double total = 0;
  std::uint64_t count = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::size_t lo = i >= std::size_t(window) ? i - window : 0;
    const std::size_t hi = std::min(ids.size() - 1, i + window);
    context.clear();
    for (std::size_t j = lo; j <= hi; ++j)
      if (j != i) context.push_back(ids[j]);
    if (context.empty()) continue;
    for (std::size_t v = 0; v < V; ++v) logits[v] = dot(in.row(ids[i]), out.row(v), d);
    if (loss == LossKind::kSoftmax) {
      total += ref::softmax_nll(logits.data(), V, context.data(), context.size(), nullptr) *
               static_cast<double>(context.size());
      count += context.size();
    } else {
      const std::vector<std::int32_t> positives(context.begin(), context.end());
      float center_loss = 0;
      ref::full_bce(logits.data(), 1, static_cast<std::int64_t>(V), positives.data(),
                    static_cast<int>(positives.size()), &center_loss, grad.data());
      total += center_loss;
      ++count;
    }
  }
  return total / static_cast<double>(count);
}

// --loss hs at initialisation: every node's score is 0 (the output rows start at zero), so a
// pair costs ln 2 per node of its center's path, a mean over the centers as subsampling keeps
// them.
inline double hs_initial_loss(const Trained& t, const TrainConfig& c) {
  const HuffmanTree tree = HuffmanTree::build(t.vocab.counts());
  double nodes = 0, centers = 0;
  for (std::uint32_t w = 0; w < t.vocab.size(); ++w) {
    const double kept = static_cast<double>(t.vocab.count(w)) *
                        keep_probability(t.vocab.count(w), t.vocab.total_count(), c.sample);
    nodes += kept * static_cast<double>(tree.path_length(w));
    centers += kept;
  }
  return nodes / centers * std::log(2.0);
}

// Mean cosine over all pairs of the number words, and over pairs of frequent words drawn
// from a fixed range of unrelated vocabulary.
inline void expect_learned(const Trained& t, const TrainConfig& c) {
  // Tied vectors cannot give most noise pairs negative dot products (the mean pairwise dot
  // product of n vectors is at least -max|v|^2/(n-1)), so the noise terms stay near ln 2
  // each and only the positive term, ln 2 at the start, can fall. Hierarchical softmax
  // predicts the word itself, and most of its entropy stays: on the 4 MB prefix the last fifth
  // of a run is at 0.92 of the initial loss for skip-gram (one context word) and 0.84 for CBOW.
  if (c.loss == LossKind::kHierarchicalSoftmax) {
    expect_loss_fell(t, hs_initial_loss(t, c), c.model == ModelKind::kCbow ? 0.9 : 0.95);
  } else {
    const double initial = (1 + c.negative) * std::log(2.0);
    expect_loss_fell(t, initial, c.tied ? 1 - 0.05 / initial : 0.7);
  }
  const std::vector<std::string> numbers = {"one", "two",   "three", "four", "five",
                                            "six", "seven", "eight", "nine"};
  double related = 0;
  int n = 0;
  for (std::size_t i = 0; i < numbers.size(); ++i)
    for (std::size_t j = i + 1; j < numbers.size(); ++j, ++n)
      related += cosine(t, numbers[i], numbers[j]);
  related /= n;
  double unrelated = 0;
  int m = 0;
  for (std::uint32_t i = 200; i < 400; i += 7, ++m)
    unrelated += cosine(t, t.vocab.word(i), t.vocab.word(i + 1));
  unrelated /= m;
  EXPECT_GT(related, unrelated + 0.3) << "numbers " << related << " vs random pairs " << unrelated;
  // A country and its capital, and a pair of related nouns, beat the random baseline.
  EXPECT_GT(cosine(t, "france", "paris"), unrelated + 0.15);
  EXPECT_GT(cosine(t, "king", "queen"), unrelated + 0.15);
}

inline TrainConfig base_config() {
  TrainConfig c;
  c.threads = 2;
  c.sample = 1e-4;
  c.dim = 50;
  c.epochs = 3;
  return c;
}

// The softmax touches every output row at each step, so threads contend on all of them:
// one thread is as fast as two here.
inline TrainConfig softmax_config(ModelKind model) {
  TrainConfig c = base_config();
  c.model = model;
  c.loss = LossKind::kSoftmax;
  c.max_vocab = 2000;
  c.dim = 32;
  c.epochs = 2;
  c.sample = 1e-3;  // 1e-4 would drop most of a 2000-word vocabulary's tokens
  c.threads = 1;
  return c;
}

inline void expect_softmax_learned(const Trained& t) {
  expect_loss_fell(t, std::log(2000.0), 0.92);
  EXPECT_GT(cosine(t, "three", "four"), cosine(t, "three", "government") + 0.2);
  EXPECT_GT(cosine(t, "three", "four"), cosine(t, "three", "french") + 0.2);
}

}  // namespace w2v::test
