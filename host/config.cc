#include "w2v/config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>
#include <thread>

#include "w2v/error.h"

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

const char* to_string(ModelKind m) { return m == ModelKind::kCbow ? "cbow" : "skipgram"; }
const char* to_string(LossKind l) {
  return l == LossKind::kSoftmax ? "softmax" : l == LossKind::kFullBce ? "bce" : "ns";
}
const char* to_string(OptimizerKind o) {
  switch (o) {
    case OptimizerKind::kMomentum:
      return "momentum";
    case OptimizerKind::kNesterov:
      return "nesterov";
    case OptimizerKind::kAdam:
      return "adam";
    default:
      return "sgd";
  }
}
const char* to_string(ScatterKind s) { return s == ScatterKind::kSorted ? "sorted" : "atomic"; }
const char* to_string(DeviceKind d) {
  switch (d) {
    case DeviceKind::kCpu:
      return "cpu";
    case DeviceKind::kCuda:
      return "cuda";
    default:
      return "auto";
  }
}

namespace {

using FlagConfig = TrainConfig;
using flags::bad_value;
using flags::parse_double;
using flags::parse_integer;
using flags::show;

std::vector<Flag> make_flags() {
  std::vector<Flag> f = {
      W2V_STRING_FLAG(corpus, "FILE",
                      "training text (whitespace-separated tokens, one sentence per line) or an "
                      "encoded corpus"),
      W2V_STRING_FLAG(output, "FILE", "where to write the vectors"),
      W2V_STRING_FLAG(format, "text|bin|auto",
                      "vector file format; auto: .bin is binary, anything else text"),
      W2V_STRING_FLAG(vocab, "FILE",
                      "vocabulary file ('word count' lines): read if it exists, else written; "
                      "default: a cache file"),
      W2V_STRING_FLAG(
          cache_dir, "DIR",
          "where the vocabulary and encoded corpus are cached; default: the directory of --output"),
      W2V_STRING_FLAG(loss_log, "FILE",
                      "write progress as CSV (words,seconds,alpha,loss,words_per_sec)"),
      W2V_INT_FLAG("min-count", min_count, std::uint64_t, "drop words that occur fewer times"),
      W2V_INT_FLAG("max-vocab", max_vocab, std::uint64_t,
                   "keep at most this many most frequent words (0: no limit)"),
      W2V_SWITCH("lowercase", lowercase, "fold ASCII letters to lower case"),
      W2V_REAL_FLAG("sample", sample,
                    "subsampling threshold for frequent words (0: off; 1e-4 suits text8)"),
      W2V_REAL_FLAG("ns-exponent", ns_exponent, "noise distribution is unigram^X"),
      Flag{"model", "skipgram|cbow", "architecture", false, false,
           [](TrainConfig& c, const std::string& t, const std::string& f) {
             if (t == "skipgram" || t == "sg")
               c.model = ModelKind::kSkipGram;
             else if (t == "cbow")
               c.model = ModelKind::kCbow;
             else
               bad_value(f, t, "skipgram or cbow");
           },
           [](const TrainConfig& c) { return std::string(to_string(c.model)); }},
      Flag{"loss", "ns|softmax|bce",
           "negative sampling; full softmax; or one-vs-all sigmoid BCE over the vocabulary "
           "(softmax and bce cost O(vocabulary) per example)",
           false, false,
           [](TrainConfig& c, const std::string& t, const std::string& f) {
             if (t == "ns")
               c.loss = LossKind::kNegativeSampling;
             else if (t == "softmax")
               c.loss = LossKind::kSoftmax;
             else if (t == "bce")
               c.loss = LossKind::kFullBce;
             else
               bad_value(f, t, "ns, softmax or bce");
           },
           [](const TrainConfig& c) { return std::string(to_string(c.loss)); }},
      W2V_INT_FLAG("dim", dim, std::uint32_t, "embedding dimension"),
      W2V_INT_FLAG("window", window, std::uint32_t,
                   "maximum context window (each center draws 1..N)"),
      W2V_INT_FLAG("negative", negative, std::uint32_t,
                   "noise words per positive example (--loss ns)"),
      W2V_SWITCH("tied", tied, "share one matrix between input and output embeddings"),
      Flag{"alpha", "X", "initial learning rate (0: 0.025 skip-gram, 0.05 CBOW)", false, false,
           [](TrainConfig& c, const std::string& t, const std::string& f) {
             c.alpha = parse_double(t, f);
           },
           [](const TrainConfig& c) {
             return c.alpha > 0 ? show(c.alpha) : std::string("0 (auto)");
           }},
      W2V_REAL_FLAG("min-alpha-fraction", min_alpha_fraction,
                    "learning rate decays linearly to alpha times this"),
      Flag{"optimizer", "sgd|momentum|nesterov|adam",
           "update rule (GPU trainer; the CPU trainer is SGD): SGD, SGD with (Nesterov) "
           "momentum, or lazy sparse Adam (default alpha 0.002)",
           false, false,
           [](TrainConfig& c, const std::string& t, const std::string& f) {
             if (t == "sgd")
               c.optimizer = OptimizerKind::kSgd;
             else if (t == "momentum")
               c.optimizer = OptimizerKind::kMomentum;
             else if (t == "nesterov")
               c.optimizer = OptimizerKind::kNesterov;
             else if (t == "adam")
               c.optimizer = OptimizerKind::kAdam;
             else
               bad_value(f, t, "sgd, momentum, nesterov or adam");
           },
           [](const TrainConfig& c) { return std::string(to_string(c.optimizer)); }},
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
      W2V_INT_FLAG("seed", seed, std::uint64_t, "random seed"),
      Flag{"device", "auto|cpu|cuda", "where to train; auto uses a CUDA GPU when there is one",
           false, false,
           [](TrainConfig& c, const std::string& t, const std::string& f) {
             if (t == "auto")
               c.device = DeviceKind::kAuto;
             else if (t == "cpu")
               c.device = DeviceKind::kCpu;
             else if (t == "cuda" || t == "gpu")
               c.device = DeviceKind::kCuda;
             else
               bad_value(f, t, "auto, cpu or cuda");
           },
           [](const TrainConfig& c) { return std::string(to_string(c.device)); }},
      Flag{"batch", "N",
           "GPU trainer: center words per batch (0: " +
               std::to_string(TrainConfig::kDefaultBatchRows) + ")",
           false, false,
           [](TrainConfig& c, const std::string& t, const std::string& f) {
             c.batch = parse_integer<std::uint32_t>(t, f);
           },
           [](const TrainConfig& c) { return std::to_string(c.batch); }},
      Flag{"sampler-threads", "N", "GPU trainer: threads packing batches (0: about half the cores)",
           false, false,
           [](TrainConfig& c, const std::string& t, const std::string& f) {
             c.sampler_threads = parse_integer<std::uint32_t>(t, f);
           },
           [](const TrainConfig& c) {
             return std::to_string(c.sampler_threads) +
                    (c.sampler_threads ? "" : " (" + std::to_string(c.sampler_thread_count()) +
                                                  " here)");
           }},
      Flag{"scatter", "atomic|sorted",
           "GPU trainer: add row gradients with atomics (fast) or sorted and reduced "
           "(bit-identical)",
           false, false,
           [](TrainConfig& c, const std::string& t, const std::string& f) {
             if (t == "atomic")
               c.scatter = ScatterKind::kAtomic;
             else if (t == "sorted")
               c.scatter = ScatterKind::kSorted;
             else
               bad_value(f, t, "atomic or sorted");
           },
           [](const TrainConfig& c) { return std::string(to_string(c.scatter)); }},
      W2V_INT_FLAG("repeat-cap", repeat_cap, std::uint32_t,
                   "GPU trainer: a word whose row occurs k > N times in one batch's updates gets "
                   "N/k of each gradient, so frequent words' summed steps do not overshoot "
                   "(0: no cap)"),
      W2V_SWITCH("deterministic", deterministic,
                 "GPU trainer: sorted scatter and one sampler thread, so two runs with the same "
                 "seed give identical vectors"),
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
  need(c.alpha >= 0, "alpha", "positive (or 0 for the default)", show(c.alpha));
  need(c.min_alpha_fraction >= 0 && c.min_alpha_fraction <= 1, "min-alpha-fraction", "in [0, 1]",
       show(c.min_alpha_fraction));
  need(c.progress_interval > 0, "progress-interval", "positive", show(c.progress_interval));
  need(c.threads <= 4096, "threads", "at most 4096", std::to_string(c.threads));
  need(c.sampler_threads <= 256, "sampler-threads", "at most 256",
       std::to_string(c.sampler_threads));
  need(c.batch <= (1u << 22), "batch", "at most 4194304", std::to_string(c.batch));
  need(c.momentum >= 0 && c.momentum < 1, "momentum", "in [0, 1)", show(c.momentum));
  if (c.format != "auto" && c.format != "text" && c.format != "bin" && c.format != "binary")
    throw Error("--format: expected text, bin or auto, got '" + c.format + "'");
}

std::string train_help() {
  return "usage: w2v train --corpus FILE --output FILE [flags]\n\n"
         "Trains word vectors (skip-gram or CBOW; negative sampling or full softmax).\n\nflags:\n" +
         flags_help(train_flags());
}

}  // namespace w2v
