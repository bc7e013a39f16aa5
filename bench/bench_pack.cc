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

// A model of the share of the device's warp time that trains while `warps` warps train the
// chunks of a run of launches, each warp at a fixed pace (the kernel waits on latency, not on
// the others): a center costs 900 + 248 per context word warp instructions and a chunk 300
// more (skip-gram, d 128, SASS: bench/RESULTS.md, "Instructions of the fused kernel"), over a
// window drawn as the kernel draws it.
std::vector<double> chunk_costs(const FusedChunk* chunks, std::size_t count, std::uint32_t window,
                                Rng& rng) {
  std::vector<double> cost(count);
  for (std::size_t c = 0; c < count; ++c) {
    const FusedChunk& k = chunks[c];
    cost[c] = 300;
    for (std::int32_t i = k.center_begin; i < k.center_end; ++i) {
      const auto b = static_cast<std::int32_t>(1 + rng.below(window));
      cost[c] +=
          900 + 248.0 * (std::min(i - k.sentence_begin, b) + std::min(k.sentence_end - 1 - i, b));
    }
  }
  return cost;
}

// Blocks of `block_warps` warps take the device's places in launch order; a block's place
// frees when its last warp has found no chunk left. A warp takes its launch's next chunk when
// free (the queue), or warp w of a launch's W trains chunks w, w + W, ... (strided). A launch
// starts its blocks once the launch `streams` before it (on the same stream) has ended, and
// one with fewer chunks than `warps` runs alone, as GpuOps::fused_ns makes it.
struct PaceModel {
  std::size_t warps = 2112;  // an H200's at d 128, negative 5
  std::size_t block_warps = kFusedWarpsPerBlock;
  std::size_t streams = 1;
  bool strided = false;
};

double modelled_warp_time_share(const std::vector<std::vector<double>>& launches,
                                const PaceModel& m) {
  struct Launch {
    std::size_t blocks = 0, placed = 0, ended_blocks = 0, next = 0;
    std::vector<std::size_t> warps_left;    // per block
    std::vector<std::size_t> strided_next;  // per warp of the grid
    bool ended = false;
  };
  const std::size_t places = m.warps / m.block_warps;
  std::vector<Launch> state(launches.size());
  double work = 0;
  for (std::size_t l = 0; l < launches.size(); ++l) {
    state[l].blocks = std::min(places, (launches[l].size() + m.block_warps - 1) / m.block_warps);
    for (std::size_t g = 0; g < state[l].blocks * m.block_warps; ++g)
      state[l].strided_next.push_back(g);
    for (double c : launches[l]) work += c;
  }
  struct Event {
    double at;
    std::size_t launch, block, warp;
    bool operator>(const Event& o) const { return at > o.at; }
  };
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
  std::size_t free_places = places, first = 0;
  auto place = [&](double now) {
    while (free_places > 0 && first < launches.size()) {
      if (first >= m.streams && !state[first - m.streams].ended) return;
      if (first >= 1 && !state[first - 1].ended &&
          std::min(launches[first].size(), launches[first - 1].size()) < m.warps)
        return;
      Launch& l = state[first];
      if (l.placed == l.blocks) {
        ++first;
        continue;
      }
      --free_places;
      l.warps_left.push_back(m.block_warps);
      for (std::size_t w = 0; w < m.block_warps; ++w) events.push({now, first, l.placed, w});
      ++l.placed;
    }
  };
  place(0);
  double end = 0;
  while (!events.empty()) {
    const Event e = events.top();
    events.pop();
    Launch& l = state[e.launch];
    const std::vector<double>& cost = launches[e.launch];
    std::size_t chunk = l.next;
    if (m.strided) {
      std::size_t& own = l.strided_next[e.block * m.block_warps + e.warp];
      chunk = own;
      own += l.blocks * m.block_warps;
    } else {
      ++l.next;
    }
    if (chunk < cost.size()) {
      events.push({e.at + cost[chunk], e.launch, e.block, e.warp});
      continue;
    }
    if (--l.warps_left[e.block] > 0) continue;
    ++free_places;
    l.ended = ++l.ended_blocks == l.blocks;
    end = std::max(end, e.at);
    place(e.at);
  }
  return work / (static_cast<double>(m.warps) * end);
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
  // The next 8 batches on an H200's 2,112 warps (d 128, negative 5): the modelled share of warp
  // time that trains, one launch after another, strided or from the queue, and over two
  // streams in blocks of 4 warps and of 1; and the chunks' mean length.
  std::vector<std::vector<double>> launches;
  Rng rng(7);
  std::size_t chunk_count = 0;
  tokens = 0;
  for (int b = 0; b < 8; ++b) {
    const FusedPackResult r = packer.fill(layout, block.data());
    launches.push_back(chunk_costs(layout.chunks(block.data()), r.chunks, config.window, rng));
    chunk_count += r.chunks;
    tokens += r.tokens;
  }
  state.counters["busy_strided"] = modelled_warp_time_share(launches, {.strided = true});
  state.counters["busy_queue"] = modelled_warp_time_share(launches, {});
  state.counters["busy_streams2"] = modelled_warp_time_share(launches, {.streams = 2});
  state.counters["busy_streams2_block1"] =
      modelled_warp_time_share(launches, {.block_warps = 1, .streams = 2});
  state.counters["centers/chunk"] =
      static_cast<double>(tokens) / static_cast<double>(std::max<std::size_t>(chunk_count, 1));
}
BENCHMARK(BM_FusedPack)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace w2v
