#include "gpu/fused_path.h"

#include <algorithm>

#include "w2v/error.h"
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
    throw Error("--resume: a sampler's corpus position in the checkpoint is outside its slice "
                "(corrupt)");
  stream_.restore(s);
  sentence_ = s.sentence;
}

FusedPackResult FusedPacker::fill(const FusedLayout& layout, void* block) {
  if (layout.token_capacity < kMaxSentenceTokens)
    throw Error("fused batches hold whole sentences: at least " +
                std::to_string(kMaxSentenceTokens) + " tokens");
  std::int32_t* tokens = layout.tokens(block);
  FusedChunk* chunks = layout.chunks(block);
  FusedPackResult r;
  while (true) {
    if (sentence_.empty() && !stream_.next_with_context(sentence_, r.words)) {
      r.finished = true;
      return r;
    }
    const std::size_t n = sentence_.size();
    const std::size_t pieces = (n + kFusedChunkCenters - 1) / kFusedChunkCenters;
    if (r.tokens + n > layout.token_capacity || r.chunks + pieces > layout.chunk_capacity())
      return r;  // the sentence opens the next batch
    const auto begin = static_cast<std::int32_t>(r.tokens);
    const auto end = static_cast<std::int32_t>(r.tokens + n);
    std::copy(sentence_.begin(), sentence_.end(), tokens + r.tokens);
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
                    .store_rows = c.fused_update == FusedUpdate::kStore};
}

std::vector<float> fused_repeat_scales(const Vocab& vocab, const SamplingTables& tables,
                                       const TrainConfig& config, std::size_t warps) {
  if (config.repeat_cap == 0) return {};
  const std::size_t V = vocab.size();
  std::vector<double> kept(V);
  double total = 0;
  for (std::size_t w = 0; w < V; ++w) total += kept[w] = double(vocab.count(w)) * tables.keep[w];
  const std::vector<double> noise = tables.noise.probabilities();
  const double cap = config.repeat_cap, window_rows = 2.0 * config.window + 1;
  auto scale = [&](double k) { return static_cast<float>(k > cap ? cap / k : 1.0); };
  std::vector<float> scales(2 * V);
  for (std::size_t w = 0; w < V; ++w) {
    const double f = total > 0 ? kept[w] / total : 0;
    scales[w] = scale(double(warps) * window_rows * f);
    scales[V + w] = scale(double(warps) * (f + config.negative * noise[w]));
  }
  return scales;
}

std::string fused_unsupported(const TrainConfig& c) {
  if (c.loss != LossKind::kNegativeSampling) return "it trains --loss ns only";
  if (c.optimizer != OptimizerKind::kSgd) return "it trains with --optimizer sgd only";
  if (c.deterministic) return "its lock-free updates are not deterministic";
  if (c.dim > kFusedMaxDim) return "it takes --dim up to " + std::to_string(kFusedMaxDim);
  if (c.negative > kFusedMaxNegative)
    return "it takes --negative up to " + std::to_string(kFusedMaxNegative);
  if (c.negative > 7 && c.dim > kFusedMaxWideDim)
    return "it takes --negative above 7 only with --dim up to " + std::to_string(kFusedMaxWideDim);
  if (fused_ring_bytes(c.dim, c.window) > kFusedMaxRingBytes)
    return "its window of input rows needs " + std::to_string(fused_ring_bytes(c.dim, c.window)) +
           " bytes of shared memory (at most " + std::to_string(kFusedMaxRingBytes) +
           "): a smaller --window or --dim";
  return "";
}

}  // namespace w2v
