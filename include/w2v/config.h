#pragma once
// Every training flag, its default and its help text in one place: the CLI parses into
// TrainConfig and prints --help from a default-constructed one, so help never drifts.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "w2v/flags.h"

namespace w2v {

enum class ModelKind { kSkipGram, kCbow };
// kFullBce: one-vs-all sigmoid BCE over the whole vocabulary, multi-hot targets.
// kHierarchicalSoftmax: word2vec.c's -hs 1, a word predicted by the binary decisions on its
// path down a Huffman tree of the vocabulary; the output table's rows are the tree's inner
// nodes. CPU trainer only.
enum class LossKind { kNegativeSampling, kSoftmax, kFullBce, kHierarchicalSoftmax };
// kTwin: the GPU trainer's algorithm run on the CPU (host/gpu/host_ops.h), the fused path's
// warps in lock step: slow, for judging the GPU paths' quality without a GPU.
enum class DeviceKind { kAuto, kCpu, kCuda, kTwin };
enum class OptimizerKind { kSgd, kMomentum, kNesterov, kAdam };
// How the GPU trainer adds row gradients into a table: atomics (fast, last bits vary) or
// sorted and reduced (bit-identical across runs).
enum class ScatterKind { kAtomic, kSorted };
// The GPU trainer's negative-sampling path: the fused kernels (fast) or the kernel library's
// ops one by one; auto takes the fused one where it supports the config.
enum class GpuPathKind { kAuto, kFused, kModular };
// How the fused path's warps write their changes: added with atomics (none is lost), or their
// updated rows stored over the tables (Hogwild's plain writes: the last writer wins).
enum class FusedUpdate { kAtomicAdd, kStore };
// The fused path's window rows: the ones a center changed go back to the table and are read
// again before the next center (other warps' changes seen within a center), or each is held in
// the warp's ring from the center where it enters the window to the one where it leaves.
enum class FusedWindowRows { kRefresh, kHold };
// The modular path's skip-gram rows under --loss ns: one per center word (its window's context
// words and their noise words, padded to 2 window (1 + negative) slots: the d2l example's
// layout), or one per (center, context) pair (the context word and its noise words, no
// padding: about 35% fewer rows for the device step to move at window 5).
enum class SkipGramRows { kCenter, kPair };
// Skip-gram's noise words under --loss ns: drawn once a center and scored by every context word
// of its window (the fused kernel's way), or drawn for each (center, context) pair (word2vec.c's).
enum class NoiseSharing { kWindow, kPair };
// Which vectors the output file holds: the input table (word2vec.c's, gensim's, fastText's),
// or each word's input plus output vector (GloVe's W + C); auto: the sum where it was
// measured to help at every epoch count, CBOW with negative sampling and separate tables
// (bench/QUALITY.md, section 8; for skip-gram it helps one epoch and costs analogy at five).
enum class VectorsKind { kAuto, kInput, kSum };

struct TrainConfig {
  // Files.
  std::string corpus;
  std::string output;
  std::string format = "auto";
  VectorsKind vectors = VectorsKind::kAuto;
  std::string vocab;
  std::string cache_dir;
  std::string loss_log;
  std::string trace;              // --trace: Chrome trace-event JSON of the run
  std::string checkpoint;         // where to save checkpoints ("" = none)
  double checkpoint_every = 600;  // seconds between checkpoints
  std::string resume;             // a checkpoint to continue from
  // Data.
  std::uint64_t min_count = 5;
  std::uint64_t max_vocab = 0;
  std::uint64_t max_count_words = 0;  // distinct words held while counting; 0: from memory
  bool lowercase = false;
  double sample = 1e-3;
  double ns_exponent = kAutoNsExponent;  // noise_exponent()
  // Model.
  ModelKind model = ModelKind::kSkipGram;
  LossKind loss = LossKind::kNegativeSampling;
  std::uint32_t dim = 100;
  std::uint32_t window = 5;
  std::uint32_t negative = 5;
  NoiseSharing sg_noise = NoiseSharing::kWindow;  // skip-gram with --loss ns
  bool tied = false;
  // Optimisation.
  double alpha = 0;  // 0: start_alpha()'s default
  double min_alpha_fraction = 1e-4;
  OptimizerKind optimizer = OptimizerKind::kSgd;
  double momentum = 0.9;  // --optimizer momentum|nesterov
  std::uint32_t epochs = 5;
  std::uint32_t threads = 0;  // 0: all cores
  std::uint32_t copied_rows = kAutoCopiedRows;  // CPU trainer: copied_output_rows()
  std::uint64_t seed = 1;
  DeviceKind device = DeviceKind::kAuto;
  // GPU trainer.
  GpuPathKind gpu_path = GpuPathKind::kAuto;
  std::uint32_t fused_tokens = 1u << 20;  // kept tokens per fused-path batch
  FusedUpdate fused_update = FusedUpdate::kAtomicAdd;
  FusedWindowRows fused_window_rows = FusedWindowRows::kRefresh;
  std::uint32_t batch = 0;  // rows (centers, or pairs) per batch; 0: batch_rows()
  SkipGramRows sg_rows = SkipGramRows::kCenter;
  std::uint32_t sampler_threads = 0;  // 0: sampler_thread_count()
  ScatterKind scatter = ScatterKind::kAtomic;
  std::uint32_t repeat_cap = kAutoRepeatCap;  // repeat_cap_on()
  bool deterministic = false;       // sorted scatter, one sampler thread: identical vectors
  bool step_graph = false;          // modular path on a GPU: each step launched as a CUDA graph
  std::uint32_t twin_warps = 2112;  // --device twin: fused warps in lock step (an H200's, d 128)
  std::uint32_t fused_warps = 0;    // the fused path's warps at once at most (0: the device's)
  std::uint32_t fused_streams = 0;  // compute streams the fused path's batches take in turn
  std::uint32_t fused_stream_count() const { return fused_streams == 0 ? 1 : fused_streams; }
  // The warps the twin runs in lock step: the GPU it stands for, or fewer under --fused-warps.
  std::uint32_t twin_concurrency() const {
    return fused_warps == 0 ? twin_warps : std::min(twin_warps, fused_warps);
  }
  std::uint64_t profile_steps = 0;  // stop after this many batches (0: train to the end)
  double progress_interval = 1.0;   // seconds between progress lines
  bool quiet = false;

  // --alpha, or the default of the trainer that runs it. word2vec.c's rates (0.025 skip-gram,
  // 0.05 CBOW) undertrain corpora of millions to billions of words: negative sampling with SGD
  // starts higher, at 0.05 (fastText's rate) and 0.1 (bench/QUALITY.md, "Defaults" and §10), on
  // the CPU trainer and on both GPU paths, whose repeat caps keep the fused path's concurrent
  // warps and the modular path's summed batches stable there (bench/RESULTS.md, "Fused path
  // quality" and "The modular path at the CPU trainer's rates"). The modular path's other
  // optimizers are lazy (a row moves only in the steps that touch it), measured on its CPU
  // twin (text8 prefix; README, --optimizer): momentum's velocity multiplies a steady step by
  // 1 / (1 - momentum), a rare row's by less, so it starts at 2 (1 - momentum) times
  // word2vec.c's rate (at 0.025 it diverged); Adam's steps do not scale with the gradient, and
  // a lazy one takes too few of them at dense Adam's 0.002 (1.5% analogy; 9.8% at 0.02).
  //
  // BCE over the vocabulary also scales with the vocabulary: while every logit is near 0, a
  // center's step moves every output row by alpha sigmoid(x) h, and its own row by the sum
  // of alpha sigmoid(x) u over all `vocab` rows; the modular path sums `batch_rows()` centers'
  // steps. With alpha^2 x rows x vocab past about 20 the loss grew or diverged (PTB, 9858
  // words: 8 rows at 0.025, 4 at 0.025; the text8 prefix, 22,541 words: 8 at 0.0125; 2000
  // words: 16 at 0.025); at 12 and below it trained, so the CPU trainer's BCE starts at no
  // more than sqrt(10 / vocab). Training, not diverging, is not enough: below that edge the
  // summed step still learned less (held-out loss on 2000 words, 8 rows: 50.7 at
  // alpha^2 x rows x vocab = 10, 46.1 at 2.5, 45.8 at 1.25; the CPU trainer 47.2 at 1.25), so
  // the modular path keeps the CPU trainer's alpha^2 x rows x vocab: its rate divided by
  // sqrt(rows). `vocab` 0: not known yet, no cap.
  double start_alpha(bool modular_gpu = false, std::size_t vocab = 0) const {
    if (alpha > 0) return alpha;
    if (optimizer == OptimizerKind::kAdam) return 0.02;
    const bool higher = loss == LossKind::kNegativeSampling && optimizer == OptimizerKind::kSgd;
    double sgd = model == ModelKind::kCbow ? (higher ? 0.1 : 0.05) : (higher ? 0.05 : 0.025);
    if (loss == LossKind::kFullBce) {
      if (vocab > 0) sgd = std::min(sgd, std::sqrt(kBceStepGain / static_cast<double>(vocab)));
      if (modular_gpu) sgd /= std::sqrt(static_cast<double>(batch_rows()));
    }
    return optimizer == OptimizerKind::kSgd ? sgd : 2 * (1 - momentum) * sgd;
  }
  // --ns-exponent, or the model's: noise words are drawn from unigram^0.75 (word2vec.c's) for
  // skip-gram, and from unigram^0.6 for CBOW, between word2vec.c's and fastText's 0.5. Rarer
  // noise words gained CBOW 1.1 analogy points and 0.007 WS-353 on Wikipedia, and 0.5 little
  // more; skip-gram lost 2.3 points at 0.5 (bench/QUALITY.md §8 and §11).
  double noise_exponent() const {
    if (ns_exponent != kAutoNsExponent) return ns_exponent;
    return model == ModelKind::kCbow ? 0.6 : 0.75;
  }
  // --repeat-cap, or the default of the GPU path: 8 on the fused path (at 32 its thousands
  // of warps diverge at the rates above), 32 on the modular path, where a skip-gram center
  // counts once per context word (bench/RESULTS.md, "The modular path at the CPU trainer's
  // rates").
  std::uint32_t repeat_cap_on(bool fused) const {
    return repeat_cap != kAutoRepeatCap ? repeat_cap : fused ? 8 : 32;
  }
  bool writes_sum() const {
    if (tied) return false;  // one table: the sum is twice the input
    return vectors == VectorsKind::kSum ||
           (vectors == VectorsKind::kAuto && model == ModelKind::kCbow &&
            loss == LossKind::kNegativeSampling);
  }
  std::uint32_t thread_count() const;
  // Every center of a softmax or BCE batch changes every output row, and the modular path
  // sums a batch's changes into one step: at word2vec.c's rate 1024 centers diverged and BCE
  // 16 (tests/test_modular.cc, SoftmaxAndBceTrainAtTheirDefaults; BCE's rate also follows the
  // vocabulary, start_alpha), so those losses take few centers a step. A negative-sampling row
  // is changed by few centers of a batch, and the repeat cap bounds the rest.
  std::uint32_t batch_rows() const {
    if (batch > 0) return batch;
    if (loss != LossKind::kNegativeSampling) return kDefaultVocabularyLossRows;
    return pair_rows() ? kDefaultPairRows : kDefaultBatchRows;
  }
  bool pair_rows() const {
    return sg_rows == SkipGramRows::kPair && model == ModelKind::kSkipGram &&
           loss == LossKind::kNegativeSampling;
  }
  std::uint32_t sampler_thread_count() const;
  ScatterKind scatter_kind() const { return deterministic ? ScatterKind::kSorted : scatter; }

  static constexpr std::uint32_t kDefaultBatchRows = 1024;
  static constexpr std::uint32_t kDefaultPairRows = 6144;  // ~1,080 centers at window 5
  static constexpr std::uint32_t kDefaultVocabularyLossRows = 8;
  static constexpr std::uint32_t kAutoRepeatCap = ~0u;
  static constexpr std::uint32_t kAutoCopiedRows = ~0u;
  static constexpr double kAutoNsExponent = -1;
  static constexpr double kBceStepGain = 10;  // start_alpha: alpha^2 x vocab, BCE
};

const char* to_string(ModelKind m);
const char* to_string(LossKind l);
const char* to_string(DeviceKind d);
const char* to_string(OptimizerKind o);
const char* to_string(ScatterKind s);
const char* to_string(SkipGramRows r);
const char* to_string(NoiseSharing s);
const char* to_string(GpuPathKind p);
const char* to_string(FusedUpdate u);
const char* to_string(FusedWindowRows r);
const char* to_string(VectorsKind v);

using Flag = FlagSpec<TrainConfig>;

const std::vector<Flag>& train_flags();

// Parses "--name value", "--name=value" and switches; rejects unknown flags and stray
// arguments, then validates the whole config (ranges, required flags).
TrainConfig parse_train_args(const std::vector<std::string>& args);
void validate(const TrainConfig& config);
std::string train_help();

}  // namespace w2v
