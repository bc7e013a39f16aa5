// CPU microbenchmarks of the trainer's hot steps and the data pipeline. Items are training
// examples (or draws, or tokens) per second; bytes are the fewest the step must touch.
#include <benchmark/benchmark.h>

#include <vector>

#include "support/random.h"
#include "w2v/cpu_trainer.h"
#include "w2v/reference.h"
#include "w2v/sampling.h"

namespace w2v {
namespace {

using test::random_floats;

// One skip-gram pair: 1 positive + `negative` noise rows of `dim` floats, read and written.
void BM_NsStep(benchmark::State& state) {
  const std::size_t dim = state.range(0), negative = 5, vocab = 100000;
  auto in = random_floats(dim, -(0.5f / dim), 0.5f / dim, 1);
  auto out = random_floats(vocab * dim, -0.1f, 0.1f, 2);
  std::vector<float> grad(dim);
  LogisticTable table;
  Rng rng(3);
  std::vector<std::uint32_t> targets(negative + 1);
  for (auto _ : state) {
    for (auto& t : targets) t = rng.below(vocab);
    std::fill(grad.begin(), grad.end(), 0.0f);
    benchmark::DoNotOptimize(ns_step(table, in.data(), out.data(), dim, targets.data(),
                                     targets.size(), 0.025f, grad.data()));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * (negative + 1) * dim * sizeof(float) * 2);
}
BENCHMARK(BM_NsStep)->Arg(100)->Arg(128)->Arg(300);

// One full-softmax example over a PTB-sized vocabulary: logits, softmax, two passes of updates.
void BM_SoftmaxStep(benchmark::State& state) {
  const std::size_t dim = 100, vocab = state.range(0);
  auto h = random_floats(dim, -0.5f, 0.5f, 4);
  auto out = random_floats(vocab * dim, -0.1f, 0.1f, 5);
  std::vector<float> logits(vocab), h_update(dim);
  std::vector<std::uint32_t> targets = {1, 7, 42, 99};
  for (auto _ : state)
    benchmark::DoNotOptimize(softmax_step(h.data(), out.data(), vocab, dim, targets.data(),
                                          targets.size(), 1e-4f, logits.data(), h_update.data()));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * vocab * dim * sizeof(float) * 3);
}
BENCHMARK(BM_SoftmaxStep)->Arg(10000);

void BM_AliasDraw(benchmark::State& state) {
  std::vector<double> w(state.range(0));
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 1.0 / (i + 1);
  AliasTable table(w);
  Rng rng(6);
  for (auto _ : state) benchmark::DoNotOptimize(table.sample(rng));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AliasDraw)->Arg(30000)->Arg(1000000);

void BM_ReferenceNsLoss(benchmark::State& state) {
  const std::size_t dim = 100, targets = 6;
  auto v = random_floats(dim, -0.5f, 0.5f, 7);
  auto u = random_floats(targets * dim, -0.5f, 0.5f, 8);
  std::vector<float> labels = {1, 0, 0, 0, 0, 0}, gv(dim), gu(targets * dim);
  for (auto _ : state)
    benchmark::DoNotOptimize(
        ref::ns_loss(v.data(), u.data(), labels.data(), targets, dim, gv.data(), gu.data()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReferenceNsLoss);

}  // namespace
}  // namespace w2v
