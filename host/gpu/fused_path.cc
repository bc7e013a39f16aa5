#include "gpu/fused_path.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "w2v/error.h"
#include "w2v/kernels/device.h"
#include "w2v/vocab.h"

namespace w2v {

FusedPacker::FusedPacker(const TrainConfig& config, const EncodedCorpus& corpus,
                         const SamplingTables& tables, CorpusRange range, std::uint64_t seed)
    : stream_(corpus, tables, range, config.epochs, seed), vocab_(tables.keep.size()) {
  sentence_.reserve(kMaxSentenceTokens);
}

WalkerState FusedPacker::state() const {
  WalkerState s = stream_.state();
  s.sentence = sentence_;
  return s;
}

void FusedPacker::restore(const WalkerState& s) {
  if (!stream_.valid_state(s, vocab_) || s.next_center != 0)
    throw Error(
        "--resume: a sampler's corpus position in the checkpoint is outside its slice "
        "(corrupt)");
  stream_.restore(s);
  sentence_ = s.sentence;
}

namespace {
// Reorders a batch's chunks so that any run of consecutive ones (what the device's warps
// train at once) comes from places spread evenly over the batch's text: chunk a takes the
// text's chunk at the bit-reversed index of a, skipping indices past the end. In text order,
// the warps at work would all be in the same few articles, and a topic's words (rare over the
// corpus, so left unscaled by the repeat cap) would take hundreds of concurrent changes: on
// the Wikipedia corpus that costs skip-gram 6 analogy points (bench/RESULTS.md).
void spread_chunks(FusedChunk* chunks, std::size_t count, std::vector<FusedChunk>& scratch) {
  if (count < 3) return;
  scratch.assign(chunks, chunks + count);
  int bits = 0;
  while ((std::size_t(1) << bits) < count) ++bits;
  std::size_t next = 0;
  for (std::size_t i = 0; i < (std::size_t(1) << bits); ++i) {
    std::size_t reversed = 0;
    for (int b = 0; b < bits; ++b) reversed |= ((i >> b) & 1) << (bits - 1 - b);
    if (reversed < count) chunks[next++] = scratch[reversed];
  }
}
}  // namespace

FusedPackResult FusedPacker::fill(const FusedLayout& layout, void* block) {
  FusedPackResult r = fill_in_text_order(layout, block);
  *layout.chunk_queue(block) = 0;  // the launcher zeroes it too; the upload then copies no garbage
  spread_chunks(layout.chunks(block), r.chunks, scratch_);
  return r;
}

FusedPackResult FusedPacker::fill_in_text_order(const FusedLayout& layout, void* block) {
  if (layout.token_capacity < kMaxSentenceTokens)
    throw Error("fused batches hold whole sentences: at least " +
                std::to_string(kMaxSentenceTokens) + " tokens");
  std::int32_t* tokens = layout.tokens(block);
  FusedChunk* chunks = layout.chunks(block);
  FusedPackResult r;
  std::uint32_t epoch = 0;
  while (true) {
    // A sentence is read straight into the batch while a longest one fits there, else into
    // sentence_, where one that opens the next batch waits.
    std::int32_t* const place = tokens + r.tokens;
    bool in_batch = false;
    std::size_t n = sentence_.size();
    if (n == 0) {
      in_batch = r.tokens + kMaxSentenceTokens <= layout.token_capacity;
      // int32 and uint32 may alias each other.
      const bool more =
          in_batch ? stream_.next_with_context(reinterpret_cast<std::uint32_t*>(place), n, r.words)
                   : stream_.next_with_context(sentence_, r.words);
      if (!more) {
        r.finished = true;
        return r;
      }
      if (!in_batch) n = sentence_.size();
    }
    auto hold = [&] {
      if (in_batch) sentence_.assign(place, place + n);
      return r;
    };
    // A batch holds one pass of the walk at most: with many samplers on a small corpus, a
    // batch holding all of a sampler's epochs would train them at one stretch of the rate.
    if (r.tokens == 0)
      epoch = stream_.epoch();
    else if (stream_.epoch() != epoch)
      return hold();
    const std::size_t pieces = (n + kFusedChunkCenters - 1) / kFusedChunkCenters;
    if (r.tokens + n > layout.token_capacity || r.chunks + pieces > layout.chunk_capacity())
      return hold();  // the sentence opens the next batch
    const auto begin = static_cast<std::int32_t>(r.tokens);
    const auto end = static_cast<std::int32_t>(r.tokens + n);
    if (!in_batch) std::copy(sentence_.begin(), sentence_.end(), place);
    for (std::int32_t c = begin; c < end; c += static_cast<std::int32_t>(kFusedChunkCenters))
      chunks[r.chunks++] = FusedChunk{
          begin, end, c, std::min(end, c + static_cast<std::int32_t>(kFusedChunkCenters))};
    r.tokens += n;
    sentence_.clear();
  }
}

FusedShape fused_shape(const TrainConfig& c) {
  return FusedShape{.cbow = c.model == ModelKind::kCbow,
                    .dim = c.dim,
                    .window = c.window,
                    .negative = c.negative,
                    .store_rows = c.fused_update == FusedUpdate::kStore,
                    .refresh_rows = c.fused_window_rows == FusedWindowRows::kRefresh,
                    .max_warps = c.fused_warps};
}

namespace {
// The occurrences subsampling is expected to keep in an epoch, in all and (when `per_word` is
// given) per word.
double expected_kept(const Vocab& vocab, const SamplingTables& tables,
                     std::vector<double>* per_word = nullptr) {
  if (per_word) per_word->resize(vocab.size());
  double total = 0;
  for (std::size_t w = 0; w < vocab.size(); ++w) {
    const double kept = double(vocab.count(w)) * tables.keep[w];
    if (per_word) (*per_word)[w] = kept;
    total += kept;
  }
  return total;
}
}  // namespace

std::uint32_t fused_sampler_threads(const TrainConfig& config, const Vocab& vocab,
                                    const SamplingTables& tables, std::uint32_t most) {
  if (config.sampler_threads > 0) return config.sampler_threads;
  const double batches = expected_kept(vocab, tables) / double(config.fused_tokens);
  return static_cast<std::uint32_t>(std::clamp(std::floor(batches), 1.0, double(most)));
}

std::vector<float> fused_repeat_scales(const Vocab& vocab, const SamplingTables& tables,
                                       const TrainConfig& config) {
  const std::uint32_t repeat_cap = config.repeat_cap_on(/*fused=*/true);
  if (repeat_cap == 0) return {};
  std::vector<double> kept;
  const double total = expected_kept(vocab, tables, &kept);
  for (double& f : kept) f = total > 0 ? f / total : 0;
  return fused_repeat_allowances(kept, tables.noise.probabilities(), repeat_cap, config.window,
                                 config.negative);
}

std::vector<float> fused_repeat_allowances(const std::vector<double>& kept_share,
                                           const std::vector<double>& noise, double cap,
                                           std::uint32_t window, std::uint32_t negative) {
  const std::size_t V = kept_share.size();
  const double window_rows = 2.0 * window + 1;
  // A word never kept or drawn is never scaled: the largest float rather than cap / 0.
  auto allowance = [&](double k) {
    return static_cast<float>(k > 0 ? std::min(cap / k, double(FLT_MAX)) : FLT_MAX);
  };
  std::vector<float> allowances(2 * V);
  for (std::size_t w = 0; w < V; ++w) {
    const double f = kept_share[w];
    allowances[w] = allowance(window_rows * f);
    allowances[V + w] = allowance(f + negative * noise[w]);
  }
  return allowances;
}

std::string fused_unsupported(const TrainConfig& c) {
  if (c.loss != LossKind::kNegativeSampling) return "it trains --loss ns only";
  if (c.optimizer != OptimizerKind::kSgd) return "it trains with --optimizer sgd only";
  if (c.deterministic) return "its lock-free updates are not deterministic";
  if (c.sg_noise == NoiseSharing::kPair)
    return "it shares a center's noise words across its window (--sg-noise pair)";
  if (c.pair_rows()) return "--sg-rows pair shapes the modular path's batches";
  if (c.step_graph) return "--step-graph launches the modular path's steps";
  if (c.dim > kFusedMaxDim) return "it takes --dim up to " + std::to_string(kFusedMaxDim);
  if (c.negative > kFusedMaxNegative)
    return "it takes --negative up to " + std::to_string(kFusedMaxNegative);
  if (c.negative > 7 && c.dim > kFusedMaxWideDim)
    return "it takes --negative above 7 only with --dim up to " + std::to_string(kFusedMaxWideDim);
  // The twin stands for an H200; a run on a GPU takes its device's limit.
  const gpu::DeviceInfo device =
      c.device == DeviceKind::kTwin ? gpu::DeviceInfo{} : gpu::probe_device();
  const std::size_t most =
      device.available ? device.shared_bytes_per_block : kHopperSharedBytesPerBlock;
  if (const std::size_t need = fused_block_shared_bytes(c.dim, c.window); need > most)
    return "its window of input rows needs " + std::to_string(need) +
           " bytes of shared memory a block (" + (device.available ? "this GPU" : "an H200") +
           " allows " + std::to_string(most) + "): a smaller --window or --dim";
  return "";
}

}  // namespace w2v
