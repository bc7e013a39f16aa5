// The GPU trainer's sampler threads: how fast one thread packs the modular path's batches
// (host/gpu/modular_batch.h: windows, noise words, the repeat cap's row scales). The pipeline
// runs `--sampler-threads` of them (7 on the 16-core GPU machine), so a path whose device step
// is faster than 1/7 of a batch's packing waits for its samplers. Items are corpus words read.
//
// Text: W2V_BENCH_TEXT (default: the text8 prefix), prepared once into a cache under /tmp.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <memory>
#include <queue>
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

// A model of the share of the device's warp time that trains when `warps` warps train a
// batch's chunks at once, each warp at a fixed pace (the kernel waits on latency, not on the
// others): a center costs 900 + 248 per context word warp instructions and a chunk 300 more
// (skip-gram, d 128, SASS: bench/RESULTS.md, "Instructions of the fused kernel"), over a
// window drawn as the kernel draws it. The launch lasts as long as its busiest warp's
// chunks; the warps take them in turn (strided) or the next one when free (the queue).
double modelled_warp_time_share(const FusedChunk* chunks, std::size_t count, std::size_t warps,
                                std::uint32_t window, bool strided) {
  Rng rng(7);
  std::vector<double> cost(count);
  double total = 0;
  for (std::size_t c = 0; c < count; ++c) {
    const FusedChunk& k = chunks[c];
    cost[c] = 300;
    for (std::int32_t i = k.center_begin; i < k.center_end; ++i) {
      const auto b = static_cast<std::int32_t>(1 + rng.below(window));
      cost[c] +=
          900 + 248.0 * (std::min(i - k.sentence_begin, b) + std::min(k.sentence_end - 1 - i, b));
    }
    total += cost[c];
  }
  warps = std::min(warps, count);
  double last = 0;
  if (strided) {
    std::vector<double> busy(warps, 0.0);
    for (std::size_t c = 0; c < count; ++c) last = std::max(last, busy[c % warps] += cost[c]);
  } else {
    std::priority_queue<double, std::vector<double>, std::greater<>> free_at;
    for (std::size_t w = 0; w < warps; ++w) free_at.push(0.0);
    for (std::size_t c = 0; c < count; ++c) {
      const double done = free_at.top() + cost[c];
      free_at.pop();
      free_at.push(done);
      last = std::max(last, done);
    }
  }
  return total / static_cast<double>(warps) / last;
}

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
  // The last batch's chunks on an H200's 2,112 warps (d 128, negative 5): the modelled share
  // of warp time that trains, and the chunks' mean length.
  const FusedPackResult last = packer.fill(layout, block.data());
  const FusedChunk* chunks = layout.chunks(block.data());
  for (bool strided : {true, false})
    state.counters[strided ? "busy_strided" : "busy_queue"] =
        modelled_warp_time_share(chunks, last.chunks, 2112, config.window, strided);
  state.counters["centers/chunk"] =
      static_cast<double>(last.tokens) / static_cast<double>(std::max<std::size_t>(last.chunks, 1));
}
BENCHMARK(BM_FusedPack)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace w2v
