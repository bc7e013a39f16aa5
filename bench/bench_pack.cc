// The GPU trainer's sampler threads: how fast one thread packs the modular path's batches
// (host/gpu/modular_batch.h: windows, noise words, the repeat cap's row scales). The pipeline
// runs `--sampler-threads` of them (7 on the 16-core GPU machine), so a path whose device step
// is faster than 1/7 of a batch's packing waits for its samplers. Items are corpus words read.
//
// Text: W2V_BENCH_TEXT (default: the text8 prefix), prepared once into a cache under /tmp.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "gpu/fused_path.h"
#include "gpu/modular_batch.h"
#include "w2v/corpus.h"
#include "w2v/sampling.h"

namespace w2v {
namespace {

struct Prepared {
  Vocab vocab;
  std::unique_ptr<EncodedCorpus> corpus;
};

// The text once for all the benchmarks; without it a benchmark is skipped with the reason (an
// exception out of a benchmark would end the whole run).
const Prepared* prepared_text(benchmark::State& state) {
  try {
    static const Prepared p = [] {
      const char* env = std::getenv("W2V_BENCH_TEXT");
      CorpusOptions o;
      o.corpus_path = env && *env ? env : W2V_SOURCE_DIR "/../shared/data/text8_prefix.txt";
      o.cache_dir = "/tmp/w2v_bench_pack";
      Prepared r;
      PreparedCorpus c = prepare_corpus(o);
      r.corpus = std::make_unique<EncodedCorpus>(c.encoded_path, c.vocab);
      r.vocab = std::move(c.vocab);
      return r;
    }();
    return &p;
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return nullptr;
  }
}

// Args: CBOW (0/1), the repeat cap (0: off), skip-gram pair rows (--sg-rows pair). The
// defaults of `w2v train --device cuda --gpu-path modular`: batch 1024 centers (6144 pairs),
// window 5, negative 5, sample 1e-4.
void BM_ModularPack(benchmark::State& state) {
  const Prepared* text = prepared_text(state);
  if (!text) return;
  const Prepared& p = *text;
  TrainConfig config;
  config.model = state.range(0) ? ModelKind::kCbow : ModelKind::kSkipGram;
  config.sg_rows = state.range(2) ? SkipGramRows::kPair : SkipGramRows::kCenter;
  config.sample = 1e-4;
  config.epochs = 1000;  // a walk that does not end within the benchmark
  const auto cap = static_cast<std::uint32_t>(state.range(1));
  const SamplingTables tables = SamplingTables::build(p.vocab, config);
  const BatchLayout layout = BatchLayout::for_config(config);
  BatchPacker packer(config, *p.corpus, tables, {0, p.corpus->entry_count()}, 1);
  RepeatCap repeat_cap(p.vocab.size(), cap, config.tied);
  std::vector<std::byte> block(layout.block_bytes());
  std::uint64_t words = 0, centers = 0, examples = 0;
  for (auto _ : state) {
    const PackResult r = pack_batch(packer, repeat_cap, layout, block.data());
    words += r.words;
    centers += r.rows;
    examples += r.examples;
    benchmark::DoNotOptimize(block.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(words));
  state.counters["centers/s"] =
      benchmark::Counter(static_cast<double>(centers), benchmark::Counter::kIsRate);
  // Skip-gram: (center, context) pairs per center, each taking 1 + negative of a row's
  // 2 window (1 + negative) output slots; the rest is padding the device step still moves.
  state.counters["pairs/center"] = static_cast<double>(examples) / static_cast<double>(centers);
  state.counters["words/center"] = static_cast<double>(words) / static_cast<double>(centers);
  state.counters["vocab"] = static_cast<double>(p.vocab.size());
}
BENCHMARK(BM_ModularPack)
    ->ArgNames({"cbow", "cap", "pairs"})
    ->Args({0, 32, 0})
    ->Args({0, 0, 0})
    ->Args({0, 32, 1})
    ->Args({1, 32, 0})
    ->Args({1, 0, 0})
    ->Unit(benchmark::kMicrosecond);

// The fused path's sampler (host/gpu/fused_path.h: subsampled whole sentences cut into chunks)
// at the default batch of 2^20 kept tokens. Its samplers must read 300M corpus words/s
// together for issue 14's skip-gram goal (500M for CBOW's): 43M (71M) each of the 7 on the
// 16-core GPU machine.
void BM_FusedPack(benchmark::State& state) {
  const Prepared* text = prepared_text(state);
  if (!text) return;
  const Prepared& p = *text;
  TrainConfig config;
  config.sample = 1e-4;
  config.epochs = 1000;
  const SamplingTables tables = SamplingTables::build(p.vocab, config);
  const FusedLayout layout{config.fused_tokens};
  FusedPacker packer(config, *p.corpus, tables, {0, p.corpus->entry_count()}, 1);
  std::vector<std::byte> block(layout.block_bytes());
  std::uint64_t words = 0, tokens = 0;
  for (auto _ : state) {
    const FusedPackResult r = packer.fill(layout, block.data());
    words += r.words;
    tokens += r.tokens;
    benchmark::DoNotOptimize(block.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(words));
  state.counters["kept/s"] =
      benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FusedPack)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace w2v
