#include "w2v/config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>
#include <thread>

#include "w2v/error.h"
#include "w2v/kernels/fused_ns.h"
#include "w2v/vocab.h"

namespace w2v {

std::uint32_t TrainConfig::thread_count() const {
  if (threads > 0) return threads;
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? n : 1;
}

std::uint32_t TrainConfig::sampler_thread_count() const {
  if (deterministic) return 1;
  if (sampler_threads > 0) return sampler_threads;
  // One sampler packs a few million rows a second; the GPU's compute thread needs a core too.
  unsigned n = std::thread::hardware_concurrency();
  return std::clamp<std::uint32_t>(n > 2 ? (n - 1) / 2 : 1, 1, 8);
}

namespace {

using flags::Choice;
constexpr Choice<ModelKind> kModels[] = {
    {"skipgram", ModelKind::kSkipGram}, {"cbow", ModelKind::kCbow}, {"sg", ModelKind::kSkipGram}};
constexpr Choice<LossKind> kLosses[] = {{"ns", LossKind::kNegativeSampling},
                                        {"softmax", LossKind::kSoftmax},
                                        {"bce", LossKind::kFullBce},
                                        {"hs", LossKind::kHierarchicalSoftmax}};
constexpr Choice<DeviceKind> kDevices[] = {{"auto", DeviceKind::kAuto},
                                           {"cpu", DeviceKind::kCpu},
                                           {"cuda", DeviceKind::kCuda},
                                           {"gpu", DeviceKind::kCuda},
                                           {"twin", DeviceKind::kTwin}};
constexpr Choice<OptimizerKind> kOptimizers[] = {{"sgd", OptimizerKind::kSgd},
                                                 {"momentum", OptimizerKind::kMomentum},
                                                 {"nesterov", OptimizerKind::kNesterov},
                                                 {"adam", OptimizerKind::kAdam}};
constexpr Choice<ScatterKind> kScatters[] = {{"atomic", ScatterKind::kAtomic},
                                             {"sorted", ScatterKind::kSorted}};
constexpr Choice<GpuPathKind> kGpuPaths[] = {{"auto", GpuPathKind::kAuto},
                                             {"fused", GpuPathKind::kFused},
                                             {"modular", GpuPathKind::kModular}};
constexpr Choice<FusedUpdate> kFusedUpdates[] = {{"add", FusedUpdate::kAtomicAdd},
                                                 {"store", FusedUpdate::kStore}};
constexpr Choice<FusedWindowRows> kFusedWindowRows[] = {{"refresh", FusedWindowRows::kRefresh},
                                                        {"hold", FusedWindowRows::kHold}};
constexpr Choice<NoiseSharing> kNoiseSharings[] = {{"window", NoiseSharing::kWindow},
                                                   {"pair", NoiseSharing::kPair}};
constexpr Choice<SkipGramRows> kSkipGramRows[] = {{"center", SkipGramRows::kCenter},
                                                  {"pair", SkipGramRows::kPair}};
constexpr Choice<VectorsKind> kVectors[] = {
    {"auto", VectorsKind::kAuto}, {"input", VectorsKind::kInput}, {"sum", VectorsKind::kSum}};

}  // namespace

const char* to_string(ModelKind m) { return flags::choice_name(kModels, m); }
const char* to_string(LossKind l) { return flags::choice_name(kLosses, l); }
const char* to_string(DeviceKind d) { return flags::choice_name(kDevices, d); }
const char* to_string(OptimizerKind o) { return flags::choice_name(kOptimizers, o); }
const char* to_string(ScatterKind s) { return flags::choice_name(kScatters, s); }
const char* to_string(GpuPathKind p) { return flags::choice_name(kGpuPaths, p); }
const char* to_string(FusedUpdate u) { return flags::choice_name(kFusedUpdates, u); }
const char* to_string(FusedWindowRows r) { return flags::choice_name(kFusedWindowRows, r); }
const char* to_string(SkipGramRows r) { return flags::choice_name(kSkipGramRows, r); }
const char* to_string(NoiseSharing s) { return flags::choice_name(kNoiseSharings, s); }
const char* to_string(VectorsKind v) { return flags::choice_name(kVectors, v); }

namespace {

using FlagConfig = TrainConfig;
using flags::parse_double;
using flags::parse_integer;
using flags::show;

std::vector<Flag> make_flags() {
  std::vector<Flag> f = {
      W2V_STRING_FLAG(corpus, "FILE",
                      "training text (whitespace-separated tokens, one sentence per line): a "
                      "file, comma-separated files or a directory, each plain, .gz, .xz or .zst "
                      "(read as one text); or an encoded corpus"),
      W2V_STRING_FLAG(output, "FILE", "where to write the vectors"),
      W2V_STRING_FLAG(format, "text|bin|auto",
                      "vector file format; auto: .bin is binary, anything else text"),
      W2V_CHOICE_FLAG("vectors", "auto|input|sum", vectors, kVectors,
                      "what the vector file holds: the input vectors (word2vec.c's), or each "
                      "word's input plus output vector (better analogies and similarities "
                      "for CBOW); auto: the sum for CBOW with --loss ns and separate tables, "
                      "else the input"),
      W2V_STRING_FLAG(vocab, "FILE",
                      "vocabulary file ('word count' lines): read if it exists, else written; "
                      "default: a cache file"),
      W2V_STRING_FLAG(
          cache_dir, "DIR",
          "where the vocabulary and encoded corpus are cached; default: the directory of --output "
          "(the working directory where --output is a device or a pipe)"),
      W2V_STRING_FLAG(loss_log, "FILE",
                      "write progress as CSV (words,seconds,alpha,loss,words_per_sec)"),
      W2V_STRING_FLAG(trace, "FILE",
                      "write a timeline of the run (Chrome trace-event JSON, for Perfetto): "
                      "preparation, training and output, every CPU worker, and on a GPU every "
                      "sampler, copy and kernel"),
      W2V_STRING_FLAG(checkpoint, "FILE",
                      "save the training state here every --checkpoint-every seconds and when "
                      "stopped by SIGINT/SIGTERM"),
      W2V_REAL_FLAG("checkpoint-every", checkpoint_every, "seconds between checkpoints"),
      W2V_STRING_FLAG(resume, "FILE",
                      "continue the run that saved this checkpoint (same corpus and flags)"),
      W2V_INT_FLAG("min-count", min_count, std::uint64_t, "drop words that occur fewer times"),
      W2V_INT_FLAG("max-vocab", max_vocab, std::uint64_t,
                   "keep at most this many most frequent words (0: no limit)"),
      W2V_INT_FLAG("max-count-words", max_count_words, std::uint64_t,
                   "distinct words held while counting; past it the rarest are forgotten, as "
                   "word2vec.c does (0: as many as a quarter of the memory holds)"),
      W2V_SWITCH("lowercase", lowercase, "fold ASCII letters to lower case"),
      W2V_REAL_FLAG("sample", sample,
                    "subsampling threshold for frequent words (0: off; 1e-4 suits text8)"),
      Flag{"ns-exponent", "X|auto",
           "noise words are drawn from unigram^X (auto: 0.75 skip-gram, 0.6 CBOW)", false, false,
           [](TrainConfig& c, const std::string& t, const std::string& f) {
             c.ns_exponent = t == "auto" ? TrainConfig::kAutoNsExponent : parse_double(t, f);
           },
           [](const TrainConfig& c) {
             return c.ns_exponent == TrainConfig::kAutoNsExponent ? std::string("auto")
                                                                  : show(c.ns_exponent);
           }},
      W2V_CHOICE_FLAG("model", "skipgram|cbow", model, kModels, "architecture"),
      W2V_CHOICE_FLAG("loss", "ns|softmax|bce|hs", loss, kLosses,
                      "negative sampling; full softmax; one-vs-all sigmoid BCE over the "
                      "vocabulary (softmax and bce cost O(vocabulary) per example); or "
                      "hierarchical softmax over a Huffman tree (O(log vocabulary), CPU only)"),
      W2V_INT_FLAG("dim", dim, std::uint32_t, "embedding dimension"),
      W2V_INT_FLAG("window", window, std::uint32_t,
                   "maximum context window (each center draws 1..N)"),
      W2V_INT_FLAG("negative", negative, std::uint32_t,
                   "noise words per positive example (--loss ns)"),
      W2V_CHOICE_FLAG("sg-noise", "window|pair", sg_noise, kNoiseSharings,
                      "skip-gram with --loss ns: a center's noise words serve every context "
                      "word of its window (as the fused path's), or each (center, context) pair "
                      "draws its own (word2vec.c's; the modular path always does)"),
      W2V_SWITCH("tied", tied, "share one matrix between input and output embeddings"),
      Flag{"alpha", "X",
           "initial learning rate (0: 0.05 skip-gram, 0.1 CBOW for ns with SGD; "
           "word2vec.c's 0.025 and 0.05 otherwise, for bce at most "
           "sqrt(10 / vocabulary), over sqrt(centers a step) on the modular path; for momentum "
           "and Nesterov those times 2 (1 - momentum); 0.02 for Adam)",
           false, false,
           [](TrainConfig& c, const std::string& t, const std::string& f) {
             c.alpha = parse_double(t, f);
           },
           [](const TrainConfig& c) {
             return c.alpha > 0 ? show(c.alpha) : std::string("0 (auto)");
           }},
      W2V_REAL_FLAG("min-alpha-fraction", min_alpha_fraction,
                    "learning rate decays linearly to alpha times this"),
      W2V_CHOICE_FLAG("optimizer", "sgd|momentum|nesterov|adam", optimizer, kOptimizers,
                      "update rule (GPU trainer; the CPU trainer is SGD): SGD, SGD with "
                      "(Nesterov) momentum, or lazy sparse Adam (default alpha 0.02)"),
      W2V_REAL_FLAG("momentum", momentum, "momentum of --optimizer momentum|nesterov"),
      W2V_INT_FLAG("epochs", epochs, std::uint32_t, "passes over the corpus"),
      Flag{"threads", "N", "worker threads (0: all cores)", false, false,
           [](TrainConfig& c, const std::string& t, const std::string& f) {
             c.threads = parse_integer<std::uint32_t>(t, f);
           },
           [](const TrainConfig& c) {
             return std::to_string(c.threads) +
                    (c.threads ? "" : " (" + std::to_string(c.thread_count()) + " here)");
           }},
      W2V_INT_OR_AUTO_FLAG(
          "copied-rows", copied_rows, std::uint32_t, TrainConfig::kAutoCopiedRows,
          "CPU trainer, several threads: output rows each thread steps in its own copy and "
          "merges into the shared ones every 1024/threads steps, the rows that every step "
          "writes: hierarchical softmax's top tree nodes, negative sampling's most frequent "
          "words (0: none; auto: 512/threads nodes, 63 to 255, and for skip-gram 128/threads "
          "words, at least 8, none for CBOW)"),
      W2V_INT_FLAG("seed", seed, std::uint64_t, "random seed"),
      W2V_CHOICE_FLAG("device", "auto|cpu|cuda|twin", device, kDevices,
                      "where to train; auto uses a CUDA GPU when there is one; twin runs the "
                      "GPU trainer's algorithm on the CPU (slow: for judging its quality "
                      "without a GPU)"),
      W2V_CHOICE_FLAG("gpu-path", "auto|fused|modular", gpu_path, kGpuPaths,
                      "GPU trainer, --loss ns: the fused kernels (whole sentences per warp) or "
                      "the kernel library's ops one by one; auto: fused where it supports the "
                      "flags"),
      W2V_INT_FLAG("fused-tokens", fused_tokens, std::uint32_t,
                   "GPU trainer, fused path: subsampled tokens per batch"),
      W2V_CHOICE_FLAG("fused-update", "add|store", fused_update, kFusedUpdates,
                      "GPU trainer, fused path: a warp adds its changes to the tables with "
                      "atomics (scaled by the repeat cap), or stores its updated rows over them "
                      "(plain Hogwild writes; loses most updates of frequent words)"),
      W2V_CHOICE_FLAG("fused-window-rows", "refresh|hold", fused_window_rows, kFusedWindowRows,
                      "GPU trainer, fused path: the window rows a center changed go back to "
                      "the tables and are read again before the next center, or each is held "
                      "by its warp for its whole time in the window (fewer bytes, staler "
                      "rows: on Wikipedia at an H200's warps 0.006 less WS-353 and 0.5 less "
                      "analogy)"),
      W2V_CHOICE_FLAG("sg-rows", "center|pair", sg_rows, kSkipGramRows,
                      "GPU trainer, modular path, skip-gram with --loss ns: a batch row per "
                      "center word (its window's contexts and their noise words, padded to "
                      "2 window (1 + negative) slots, as the d2l example) or per (center, "
                      "context) pair (no padding: fewer bytes for the device step)"),
      Flag{"batch", "N",
           "GPU trainer, modular path: rows per batch, center words or (--sg-rows pair) pairs "
           "(0: " +
               std::to_string(TrainConfig::kDefaultBatchRows) + " centers or " +
               std::to_string(TrainConfig::kDefaultPairRows) + " pairs for --loss ns, " +
               std::to_string(TrainConfig::kDefaultVocabularyLossRows) +
               " for softmax and bce, whose summed steps diverge above that)",
           false, false,
           [](TrainConfig& c, const std::string& t, const std::string& f) {
             c.batch = parse_integer<std::uint32_t>(t, f);
           },
           [](const TrainConfig& c) { return std::to_string(c.batch); }},
      Flag{"sampler-threads", "N",
           "GPU trainer: threads packing batches (0: about half the cores; on the fused path no "
           "more than the batches one epoch fills)",
           false, false,
           [](TrainConfig& c, const std::string& t, const std::string& f) {
             c.sampler_threads = parse_integer<std::uint32_t>(t, f);
           },
           [](const TrainConfig& c) {
             return std::to_string(c.sampler_threads) +
                    (c.sampler_threads
                         ? ""
                         : " (" + std::to_string(c.sampler_thread_count()) + " here)");
           }},
      W2V_CHOICE_FLAG("scatter", "atomic|sorted", scatter, kScatters,
                      "GPU trainer: add row gradients with atomics (fast) or sorted and reduced "
                      "(bit-identical)"),
      W2V_INT_OR_AUTO_FLAG(
          "repeat-cap", repeat_cap, std::uint32_t, TrainConfig::kAutoRepeatCap,
          "GPU trainer: a word whose row takes k > N changes at once (in one batch's updates; "
          "on the fused path, the expected changes of concurrent warps) gets N/k of each, so "
          "frequent words' summed steps do not overshoot (0: no cap; auto: 8 on the fused "
          "path, 32 on the modular path)"),
      W2V_SWITCH("deterministic", deterministic,
                 "GPU trainer: sorted scatter and one sampler thread, so two runs with the same "
                 "seed give identical vectors"),
      W2V_SWITCH("step-graph", step_graph,
                 "GPU trainer, modular path, --loss ns: record each batch's step (its kernels) "
                 "as a CUDA graph and launch it whole, so that the GPU starts each kernel "
                 "without a launch gap (not under --trace, which times each kernel)"),
      W2V_INT_FLAG("twin-warps", twin_warps, std::uint32_t,
                   "--device twin, fused path: warps run in lock step, as many as the GPU holds "
                   "at once (2112: an H200 at dim 97..128, negative <= 5)"),
      W2V_INT_FLAG("fused-warps", fused_warps, std::uint32_t,
                   "GPU fused path (and its twin): at most N warps at once, a multiple of 4 "
                   "(0: as many as the device holds); fewer cost speed, and concurrency costs "
                   "skip-gram WS-353 on large corpora (bench/RESULTS.md)"),
      W2V_INT_FLAG("fused-streams", fused_streams, std::uint32_t,
                   "GPU fused path: compute streams its batches take in turn, 1 to 4, so that a "
                   "launch's last warps share the GPU with the next launch's first (0: one "
                   "stream, the launches one after another)"),
      W2V_INT_FLAG("profile-steps", profile_steps, std::uint64_t,
                   "GPU trainer: stop after N batches, for nsys/ncu (0: train to the end)"),
      W2V_REAL_FLAG("progress-interval", progress_interval, "seconds between progress lines"),
      W2V_SWITCH("quiet", quiet, "no progress lines, only the summary"),
  };
  // Multi-word field names are spelled with dashes on the command line.
  for (Flag& flag : f)
    for (char& ch : flag.name)
      if (ch == '_') ch = '-';
  f[0].required = f[1].required = true;
  return f;
}

}  // namespace

const std::vector<Flag>& train_flags() {
  static const std::vector<Flag> flags = make_flags();
  return flags;
}

TrainConfig parse_train_args(const std::vector<std::string>& args) {
  TrainConfig c;
  parse_flags(train_flags(), args, "train", c);
  validate(c);
  return c;
}

void validate(const TrainConfig& c) {
  auto need = [](bool ok, const std::string& flag, const std::string& rule,
                 const std::string& got) {
    if (!ok) throw Error("--" + flag + ": must be " + rule + ", got " + got);
  };
  if (c.corpus.empty()) throw Error("--corpus: required (the training text)");
  if (c.output.empty()) throw Error("--output: required (where to write the vectors)");
  need(c.dim >= 1, "dim", "at least 1", std::to_string(c.dim));
  need(c.window >= 1, "window", "at least 1", std::to_string(c.window));
  need(c.epochs >= 1, "epochs", "at least 1", std::to_string(c.epochs));
  need(c.min_count >= 1, "min-count", "at least 1", std::to_string(c.min_count));
  need(c.loss != LossKind::kNegativeSampling || c.negative >= 1, "negative",
       "at least 1 with --loss ns", std::to_string(c.negative));
  need(c.negative <= 1000, "negative", "at most 1000", std::to_string(c.negative));
  need(c.window <= 1000, "window", "at most 1000", std::to_string(c.window));
  need(c.dim <= 100000, "dim", "at most 100000", std::to_string(c.dim));
  need(c.sample >= 0, "sample", "non-negative", show(c.sample));
  need(c.ns_exponent >= 0 || c.ns_exponent == TrainConfig::kAutoNsExponent, "ns-exponent",
       "non-negative or auto", show(c.ns_exponent));
  need(c.alpha >= 0, "alpha", "positive (or 0 for the default)", show(c.alpha));
  need(c.min_alpha_fraction >= 0 && c.min_alpha_fraction <= 1, "min-alpha-fraction", "in [0, 1]",
       show(c.min_alpha_fraction));
  need(c.progress_interval > 0, "progress-interval", "positive", show(c.progress_interval));
  need(c.checkpoint_every > 0, "checkpoint-every", "positive", show(c.checkpoint_every));
  need(c.threads <= 4096, "threads", "at most 4096", std::to_string(c.threads));
  need(c.sampler_threads <= 256, "sampler-threads", "at most 256",
       std::to_string(c.sampler_threads));
  need(c.twin_warps >= 1, "twin-warps", "at least 1", std::to_string(c.twin_warps));
  need(c.fused_warps % kFusedWarpsPerBlock == 0, "fused-warps",
       "a multiple of " + std::to_string(kFusedWarpsPerBlock) + " (a block's warps)",
       std::to_string(c.fused_warps));
  need(c.fused_streams <= 4, "fused-streams", "at most 4", std::to_string(c.fused_streams));
  need(c.fused_tokens >= kMaxSentenceTokens && c.fused_tokens <= (1u << 28), "fused-tokens",
       "in [" + std::to_string(kMaxSentenceTokens) + ", 268435456] (a batch holds whole sentences)",
       std::to_string(c.fused_tokens));
  need(c.batch <= (1u << 22), "batch", "at most 4194304", std::to_string(c.batch));
  if (c.loss == LossKind::kHierarchicalSoftmax) {
    // The output rows are the tree's inner nodes, not words: no table to tie or add.
    if (c.tied) throw Error("--tied: --loss hs's output rows are tree nodes, not words");
    if (c.vectors == VectorsKind::kSum)
      throw Error("--vectors sum: --loss hs's output rows are tree nodes, not words");
  }
  if (c.sg_noise == NoiseSharing::kPair &&
      (c.model != ModelKind::kSkipGram || c.loss != LossKind::kNegativeSampling))
    throw Error("--sg-noise pair: applies to --model skipgram with --loss ns");
  if (c.sg_rows == SkipGramRows::kPair && !c.pair_rows())
    throw Error("--sg-rows pair: applies to --model skipgram with --loss ns");
  if (c.pair_rows())  // a center's pairs go into one batch
    need(c.batch_rows() >= 2 * c.window, "batch", "at least 2 window pairs with --sg-rows pair",
         std::to_string(c.batch));
  if (c.step_graph && c.loss != LossKind::kNegativeSampling)
    throw Error("--step-graph: applies to --loss ns (the vocabulary losses' GEMMs are cuBLAS's)");
  need(c.momentum >= 0 && c.momentum < 1, "momentum", "in [0, 1)", show(c.momentum));
  if (c.format != "auto" && c.format != "text" && c.format != "bin" && c.format != "binary")
    throw Error("--format: expected text, bin or auto, got '" + c.format + "'");
}

std::string train_help() {
  return "usage: w2v train --corpus FILE --output FILE [flags]\n\n"
         "Trains word vectors (skip-gram or CBOW; negative sampling, full softmax, vocabulary\n"
         "BCE or hierarchical softmax).\n\nflags:\n" +
         flags_help(train_flags());
}

}  // namespace w2v
