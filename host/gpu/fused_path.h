#pragma once
// The GPU trainer's fused path on the host side: the batch layout, the packer that cuts
// subsampled sentences into chunks, the repeat cap's scales, and the path object
// run_batch_pipeline drives over a backend that runs the fused kernels (FusedOps: the CUDA
// kernels, or their reference in the CPU twin). What the kernels compute:
// include/w2v/kernels/fused_ns.h.
#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "gpu/pipeline.h"
#include "w2v/config.h"
#include "w2v/corpus.h"
#include "w2v/error.h"
#include "w2v/kernels/fused_ns.h"
#include "w2v/model.h"
#include "w2v/sampling.h"
#include "w2v/trainer.h"

namespace w2v {

// The host side of a batch: a block of `capacity` tokens, its chunks, then the launch's chunk
// queue (FusedBatch::chunk_queue), 4-byte elements throughout. A queue in each slot's block
// lets launches of different slots overlap (--fused-streams).
struct FusedLayout {
  std::size_t token_capacity = 0;
  std::size_t chunk_capacity() const { return token_capacity / 8 + 1; }
  // Per chunk its summed loss, then per chunk its example count.
  std::size_t loss_floats() const { return 2 * chunk_capacity(); }
  std::size_t block_bytes() const {
    return token_capacity * sizeof(std::int32_t) + chunk_capacity() * sizeof(FusedChunk) +
           sizeof(std::uint32_t);
  }
  std::int32_t* tokens(void* block) const { return static_cast<std::int32_t*>(block); }
  FusedChunk* chunks(void* block) const {
    return reinterpret_cast<FusedChunk*>(tokens(block) + token_capacity);
  }
  std::uint32_t* chunk_queue(void* block) const {
    return reinterpret_cast<std::uint32_t*>(chunks(block) + chunk_capacity());
  }
};

struct FusedPackResult : PackedWords {
  std::size_t tokens = 0, chunks = 0;
  bool empty() const { return tokens == 0; }
};

// Fills fused batches with whole subsampled sentences (at least 2 tokens; longer ones are cut
// at kMaxSentenceTokens by the corpus already) from `range`, `epochs` times, until the next
// sentence does not fit or starts another pass over the range; the chunks are put in an
// order that spreads those trained at once over the batch's text.
class FusedPacker {
 public:
  FusedPacker(const TrainConfig& config, const EncodedCorpus& corpus, const SamplingTables& tables,
              CorpusRange range, std::uint64_t seed);
  FusedPackResult fill(const FusedLayout& layout, void* block);
  // A batch holds whole sentences: the one read but not packed is the walker's sentence.
  WalkerState state() const;
  void restore(const WalkerState& walker);

 private:
  SentenceStream stream_;
  std::size_t vocab_;
  std::vector<std::uint32_t> sentence_;  // read but not yet packed
  std::vector<FusedChunk> scratch_;
  FusedPackResult fill_in_text_order(const FusedLayout& layout, void* block);
};

// Why the fused kernels do not take this config ("" when they do; the GPU trainer then runs
// the modular path): they train negative sampling with SGD, not deterministically, within the
// limits of include/w2v/kernels/fused_ns.h.
std::string fused_unsupported(const TrainConfig& config);
// The allowances of FusedScales, input rows then output rows ([2, vocab]); empty when the cap
// is 0. Between a warp's read of a row and its write, about
//   input rows (read when they enter the window, written when they leave, 2 window + 1
//   centers later):  k = warps (2 window + 1) f_w,
//   output rows (read and written within one center's step):  k = warps (f_w + negative q_w)
// other changes land on word w's row, f_w its share of the kept tokens and q_w its noise
// probability; k > cap scales the warp's change by cap / k. A word's allowance is cap / k at
// one warp: the warps of a launch divide it (repeat_scale).
std::vector<float> fused_repeat_scales(const Vocab& vocab, const SamplingTables& tables,
                                       const TrainConfig& config);
// The same from each word's share of the kept tokens (f) and noise probability (q), and the cap
// (not 0), window and negative.
std::vector<float> fused_repeat_allowances(const std::vector<double>& kept_share,
                                           const std::vector<double>& noise, double cap,
                                           std::uint32_t window, std::uint32_t negative);

// Sampler threads for the fused path: --sampler-threads when given, else `most`
// (sampler_thread_count()) but no more than the batches one epoch fills. Each sampler walks
// its own share of the corpus for every epoch; with shares smaller than a batch, the batches
// of one share come one after another and the shares do not progress together
// (bench/RESULTS.md: 2 analogy points lost on the text8 prefix with 8 samplers).
std::uint32_t fused_sampler_threads(const TrainConfig& config, const Vocab& vocab,
                                    const SamplingTables& tables, std::uint32_t most);

// --gpu-path auto takes the fused path wherever it can; --gpu-path fused where it cannot is
// an error (make_trainer).
inline bool use_fused_path(const TrainConfig& config) {
  return config.gpu_path != GpuPathKind::kModular && fused_unsupported(config).empty();
}

// A backend the fused path runs on: the pipeline's memory and slots, the fused kernels with
// ref::fused_ns's arguments (without the concurrency), and how many warps of them run at once.
template <class Ops>
concept FusedOps = PipelineOps<Ops> &&
    requires(Ops& ops, float* table, std::size_t vocab, const FusedShape& shape,
             const FusedStep& step, const FusedNoise& noise, const FusedBatch& batch,
             const FusedScales& scales) {
  ops.fused_ns(table, table, vocab, shape, step, noise, batch, scales);
  { ops.fused_concurrency(shape) } -> std::convertible_to<std::size_t>;
};

// The fused kernels' shape for a config.
FusedShape fused_shape(const TrainConfig& config);

// The fused path for run_batch_pipeline.
template <FusedOps Ops>
class FusedPath {
 public:
  using Packer = FusedPacker;
  using Packed = FusedPackResult;

  FusedPath(Ops& ops, const TrainJob& job)
      : ops_(ops),
        job_(job),
        layout_{job.config.fused_tokens},
        shape_(fused_shape(job.config)),
        vocab_(job.vocab.size()),
        concurrency_(ops.fused_concurrency(shape_)) {
    const std::size_t table = vocab_ * shape_.dim;
    in_ = ops_.template alloc<float>(table);
    out_ = job.config.tied ? in_ : ops_.template alloc<float>(table);
    const AliasTable& noise = job.tables.noise;
    auto* threshold = ops_.template alloc<std::uint32_t>(noise.size());
    auto* alias = ops_.template alloc<std::uint32_t>(noise.size());
    ops_.upload(threshold, noise.thresholds().data(), noise.size() * sizeof(std::uint32_t));
    ops_.upload(alias, noise.aliases().data(), noise.size() * sizeof(std::uint32_t));
    noise_ = FusedNoise{threshold, alias, static_cast<std::uint32_t>(noise.size()), nullptr};
    const std::vector<float> scales = fused_repeat_scales(job.vocab, job.tables, job.config);
    if (!scales.empty()) {
      float* device = ops_.template alloc<float>(scales.size());
      ops_.upload(device, scales.data(), scales.size() * sizeof(float));
      scales_ = FusedScales{device, device + vocab_};
    }
  }

  void load(const Model& model) {
    const std::size_t bytes = vocab_ * shape_.dim * sizeof(float);
    ops_.upload(in_, model.input.data(), bytes);
    if (!job_.config.tied) ops_.upload(out_, model.output.data(), bytes);
  }
  void store(Model& model) {
    const std::size_t bytes = vocab_ * shape_.dim * sizeof(float);
    ops_.download(model.input.data(), in_, bytes);
    if (!job_.config.tied) ops_.download(model.output.data(), out_, bytes);
  }

  const FusedLayout& layout() const { return layout_; }
  std::size_t block_bytes() const { return layout_.block_bytes(); }
  std::size_t loss_floats() const { return layout_.loss_floats(); }
  FusedPacker make_packer(CorpusRange range, std::uint64_t seed) const {
    return FusedPacker(job_.config, job_.corpus, job_.tables, range, seed);
  }
  FusedPackResult pack(FusedPacker& packer, void* block) const {
    return packer.fill(layout_, block);
  }
  // The launch counter keys the kernels' Philox noise: a resumed run goes on counting.
  std::vector<unsigned char> save_state() const {
    std::vector<unsigned char> bytes(sizeof launches_);
    std::memcpy(bytes.data(), &launches_, sizeof launches_);
    return bytes;
  }
  void restore_state(const std::vector<unsigned char>& bytes) {
    if (bytes.size() != sizeof launches_)
      throw Error("--resume: the checkpoint's fused-path state is " + std::to_string(bytes.size()) +
                  " bytes, not " + std::to_string(sizeof launches_) + " (corrupt)");
    std::memcpy(&launches_, bytes.data(), sizeof launches_);
  }
  void step(void* block, const FusedPackResult& packed, BatchRate rate, float* loss) {
    // A batch of fewer chunks than the device holds warps runs one warp a chunk.
    FusedScales scales = scales_;
    scales.inverse_warps =
        1.0f / static_cast<float>(std::clamp<std::size_t>(packed.chunks, 1, concurrency_));
    ops_.fused_ns(in_, out_, vocab_, shape_,
                  FusedStep{rate.begin, job_.config.seed, launches_++, rate.end}, noise_,
                  batch(block, packed, loss), scales);
  }
  std::pair<double, std::uint64_t> loss(const FusedPackResult& packed, const float* loss) const {
    double sum = 0, examples = 0;
    for (std::size_t c = 0; c < packed.chunks; ++c) {
      sum += loss[c];
      examples += loss[layout_.chunk_capacity() + c];
    }
    return {sum, static_cast<std::uint64_t>(examples)};
  }
  FusedBatch batch(void* block, const FusedPackResult& packed, float* loss) const {
    return FusedBatch{layout_.tokens(block),
                      static_cast<std::int64_t>(packed.tokens),
                      layout_.chunks(block),
                      static_cast<std::int64_t>(packed.chunks),
                      loss,
                      loss + layout_.chunk_capacity(),
                      layout_.chunk_queue(block)};
  }

 private:
  Ops& ops_;
  const TrainJob& job_;
  FusedLayout layout_;
  FusedShape shape_;
  std::size_t vocab_;
  std::size_t concurrency_;  // the warps the device runs at once
  float *in_ = nullptr, *out_ = nullptr;
  FusedNoise noise_;
  FusedScales scales_;
  std::uint32_t launches_ = 0;
};

}  // namespace w2v
