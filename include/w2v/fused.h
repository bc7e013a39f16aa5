#pragma once
// The GPU trainer's fused path on the host side: the packer that cuts subsampled sentences
// into chunks, the path object run_batch_pipeline drives, and the host twin that trains with
// the fused kernels' reference. What the kernels compute: include/w2v/fused_ns.h.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "w2v/config.h"
#include "w2v/corpus.h"
#include "w2v/fused_ns.h"
#include "w2v/model.h"
#include "w2v/pipeline.h"
#include "w2v/sampling.h"
#include "w2v/trainer.h"

namespace w2v {

// The host side of a batch: a block of `capacity` tokens followed by its chunks, 4-byte
// elements throughout.
struct FusedLayout {
  std::size_t token_capacity = 0;
  std::size_t chunk_capacity() const { return token_capacity / 8 + 1; }
  // Per chunk its summed loss, then per chunk its example count.
  std::size_t loss_floats() const { return 2 * chunk_capacity(); }
  std::size_t block_bytes() const {
    return token_capacity * sizeof(std::int32_t) + chunk_capacity() * sizeof(FusedChunk);
  }
  std::int32_t* tokens(void* block) const { return static_cast<std::int32_t*>(block); }
  FusedChunk* chunks(void* block) const {
    return reinterpret_cast<FusedChunk*>(tokens(block) + token_capacity);
  }
};

struct FusedPackResult {
  std::size_t tokens = 0, chunks = 0;
  std::uint64_t words = 0;  // corpus words read (before subsampling): for progress
  bool finished = false;    // the range is exhausted for every epoch
  bool empty() const { return tokens == 0; }
};

// Fills fused batches with whole subsampled sentences (at least 2 tokens; longer ones are cut
// at kMaxSentenceTokens by the corpus already) from `range`, `epochs` times, until the next
// sentence does not fit.
class FusedPacker {
 public:
  FusedPacker(const TrainConfig& config, const EncodedCorpus& corpus, const SamplingTables& tables,
              CorpusRange range, std::uint64_t seed);
  FusedPackResult fill(const FusedLayout& layout, void* block);

 private:
  const std::uint32_t* entries_;
  const float* keep_;
  CorpusRange range_;
  std::uint32_t epochs_, epoch_ = 0;
  std::size_t position_;
  Rng rng_;
  std::vector<std::uint32_t> sentence_;  // read but not yet packed
};

// Why the fused kernels do not take this config ("" when they do; the GPU trainer then runs
// the modular path): they train negative sampling with SGD, not deterministically, within the
// limits of include/w2v/fused_ns.h.
std::string fused_unsupported(const TrainConfig& config);
// FusedScales for `warps` concurrent warps, input scales then output scales ([2, vocab]);
// empty when config.repeat_cap is 0. Between a warp's read of a row and its write, about
//   input rows (read when they enter the window, written when they leave, 2 window + 1
//   centers later):  k = warps (2 window + 1) f_w,
//   output rows (read and written within one center's step):  k = warps (f_w + negative q_w)
// other changes land on word w's row, f_w its share of the kept tokens and q_w its noise
// probability; k > cap scales the warp's change by cap / k.
std::vector<float> fused_repeat_scales(const Vocab& vocab, const SamplingTables& tables,
                                       const TrainConfig& config, std::size_t warps);

// --gpu-path auto takes the fused path wherever it can; --gpu-path fused where it cannot is
// an error (make_trainer).
inline bool use_fused_path(const TrainConfig& config) {
  return config.gpu_path != GpuPathKind::kModular && fused_unsupported(config).empty();
}

// The fused path for run_batch_pipeline. Ops adds to the pipeline's backend interface
//   T* alloc<T>(n), upload(dst, src, bytes), download(dst, src, bytes),
//   fused_ns(input, output, vocab, shape, step, noise, batch, scales) and
//   fused_concurrency(shape): how many warps run at once.
template <class Ops>
class FusedPath {
 public:
  using Packer = FusedPacker;
  using Packed = FusedPackResult;

  FusedPath(Ops& ops, const TrainJob& job)
      : ops_(ops),
        job_(job),
        layout_{job.config.fused_tokens},
        shape_{job.config.model == ModelKind::kCbow, job.config.dim, job.config.window,
               job.config.negative, job.config.fused_update},
        vocab_(job.vocab.size()) {
    const std::size_t table = vocab_ * shape_.dim;
    in_ = ops_.template alloc<float>(table);
    out_ = job.config.tied ? in_ : ops_.template alloc<float>(table);
    const AliasTable& noise = job.tables.noise;
    auto* threshold = ops_.template alloc<std::uint32_t>(noise.size());
    auto* alias = ops_.template alloc<std::uint32_t>(noise.size());
    ops_.upload(threshold, noise.thresholds().data(), noise.size() * sizeof(std::uint32_t));
    ops_.upload(alias, noise.aliases().data(), noise.size() * sizeof(std::uint32_t));
    noise_ = FusedNoise{threshold, alias, static_cast<std::uint32_t>(noise.size()), nullptr};
    const std::vector<float> scales =
        fused_repeat_scales(job.vocab, job.tables, job.config, ops_.fused_concurrency(shape_));
    if (!scales.empty()) {
      float* device = ops_.template alloc<float>(scales.size());
      ops_.upload(device, scales.data(), scales.size() * sizeof(float));
      scales_ = FusedScales{device, device + vocab_};
    }
  }

  // Device memory, by part, for the memory prediction: `slots` batch slots of this config.
  static std::vector<std::pair<std::string, std::size_t>> parts(const TrainConfig& config,
                                                                std::size_t vocab,
                                                                std::size_t slots) {
    const std::size_t table = vocab * config.dim * sizeof(float);
    const FusedLayout layout{config.fused_tokens};
    return {{"input vectors", table},
            {"output vectors", config.tied ? 0 : table},
            {"noise alias table", vocab * 2 * sizeof(std::uint32_t)},
            {"repeat scales", config.repeat_cap ? vocab * 2 * sizeof(float) : 0},
            {"batch slots", slots * (layout.block_bytes() + layout.loss_floats() * sizeof(float))}};
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
  void step(void* block, const FusedPackResult& packed, float lr, float* loss) {
    ops_.fused_ns(in_, out_, vocab_, shape_, FusedStep{lr, job_.config.seed, launches_++}, noise_,
                  batch(block, packed, loss), scales_);
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
                      loss + layout_.chunk_capacity()};
  }

 private:
  Ops& ops_;
  const TrainJob& job_;
  FusedLayout layout_;
  FusedShape shape_;
  std::size_t vocab_;
  float *in_ = nullptr, *out_ = nullptr;
  FusedNoise noise_;
  FusedScales scales_;
  std::uint32_t launches_ = 0;
};

// The fused path on the host: ref::fused_ns with `concurrency` warps in lock step, as the
// pipeline's step; for tests and for measuring what a GPU's concurrency does to quality.
void train_fused_on_host(const TrainJob& job, Model& model, Progress& progress,
                         std::size_t concurrency);

}  // namespace w2v
