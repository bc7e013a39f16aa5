// CPU microbenchmarks of the trainer's hot steps and the data pipeline. Items are training
// examples (or draws, or tokens) per second; bytes are the fewest the step must touch.
#include <benchmark/benchmark.h>

#include <cstdint>
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

// One skip-gram pair under hierarchical softmax: a context row against the path of a center
// drawn by frequency from a Zipf vocabulary (the text8 prefix's size), the path's node rows read
// and written. One thread: what two threads' contention on the top nodes costs is the e2e
// comparison's to show (README, "Hierarchical softmax against ...").
void BM_HsStep(benchmark::State& state) {
  const std::size_t dim = state.range(0), vocab = 22500;
  std::vector<std::uint64_t> counts(vocab);
  std::vector<double> weights(vocab);
  for (std::size_t w = 0; w < vocab; ++w) {
    counts[w] = 1 + 1000000 / (w + 1);
    weights[w] = static_cast<double>(counts[w]);
  }
  const HuffmanTree tree = HuffmanTree::build(counts);
  const AliasTable centers(weights);
  auto in = random_floats(dim, -(0.5f / dim), 0.5f / dim, 9);
  auto nodes = random_floats((vocab - 1) * dim, -0.1f, 0.1f, 10);
  std::vector<float> grad(dim);
  LogisticTable table;
  Rng rng(11);
  std::size_t path_nodes = 0;
  for (auto _ : state) {
    const std::uint32_t center = centers.sample(rng);
    path_nodes += tree.path_length(center);
    std::fill(grad.begin(), grad.end(), 0.0f);
    benchmark::DoNotOptimize(hs_step(table, in.data(), nodes.data(), dim, tree.nodes(center),
                                     tree.codes(center), tree.path_length(center), 0.025f,
                                     grad.data()));
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["nodes"] =
      benchmark::Counter(static_cast<double>(path_nodes), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_HsStep)->Arg(100)->Arg(300);

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
