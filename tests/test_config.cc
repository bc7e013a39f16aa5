// The training flags in-process: parse_train_args accepts every spelling it documents,
// rejects every bad input with a w2v::Error that names the flag, and train_help() lists
// every flag with its live default.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "w2v/config.h"
#include "w2v/error.h"

namespace w2v {
namespace {

using Args = std::vector<std::string>;

// The two required flags plus `extra`.
Args with_required(const Args& extra) {
  Args a = {"--corpus", "c.txt", "--output", "v.txt"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

TrainConfig parse(const Args& extra) { return parse_train_args(with_required(extra)); }

// The message of the w2v::Error parse_train_args(args) throws; fails the test if none is.
std::string parse_error(const Args& args) {
  try {
    parse_train_args(args);
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a non-w2v exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "accepted: " << ::testing::PrintToString(args);
  return "";
}

TEST(ConfigParse, RequiredFlagsAloneGiveTheDefaults) {
  TrainConfig c = parse({});
  TrainConfig d;
  EXPECT_EQ(c.corpus, "c.txt");
  EXPECT_EQ(c.output, "v.txt");
  EXPECT_EQ(c.format, d.format);
  EXPECT_EQ(c.dim, d.dim);
  EXPECT_EQ(c.window, d.window);
  EXPECT_EQ(c.negative, d.negative);
  EXPECT_EQ(c.min_count, d.min_count);
  EXPECT_EQ(c.epochs, d.epochs);
  EXPECT_EQ(c.sample, d.sample);
  EXPECT_EQ(c.model, ModelKind::kSkipGram);
  EXPECT_EQ(c.loss, LossKind::kNegativeSampling);
  EXPECT_EQ(c.device, DeviceKind::kAuto);
  EXPECT_FALSE(c.tied);
  EXPECT_FALSE(c.lowercase);
  EXPECT_FALSE(c.quiet);
  EXPECT_DOUBLE_EQ(c.start_alpha(), 0.05);
}

// Negative sampling with SGD starts above word2vec.c's rates on every path; the other
// objectives and the other optimizers keep theirs, and BCE follows the vocabulary and the
// modular path's centers a step.
TEST(ConfigParse, DefaultLearningRateFollowsTheTrainerAndObjective) {
  EXPECT_DOUBLE_EQ(parse({}).start_alpha(), 0.05);
  EXPECT_DOUBLE_EQ(parse({"--model", "cbow"}).start_alpha(), 0.1);
  EXPECT_DOUBLE_EQ(parse({}).start_alpha(/*modular_gpu=*/true), 0.05);
  EXPECT_DOUBLE_EQ(parse({"--model", "cbow"}).start_alpha(/*modular_gpu=*/true), 0.1);
  EXPECT_DOUBLE_EQ(parse({"--loss", "softmax"}).start_alpha(), 0.025);
  EXPECT_DOUBLE_EQ(parse({"--model", "cbow", "--loss", "bce"}).start_alpha(), 0.05);
  // BCE's step grows with the vocabulary: capped once the vocabulary is known (PTB's 9858
  // words, a million); the modular path's 8 centers a step divide it by sqrt(8).
  EXPECT_DOUBLE_EQ(parse({"--loss", "bce"}).start_alpha(false, 9858), 0.025);
  EXPECT_DOUBLE_EQ(parse({"--loss", "bce"}).start_alpha(true, 9858), 0.025 / std::sqrt(8.0));
  EXPECT_DOUBLE_EQ(parse({"--loss", "bce"}).start_alpha(false, 1000000), std::sqrt(1e-5));
  EXPECT_DOUBLE_EQ(parse({"--loss", "bce"}).start_alpha(true, 1000000), std::sqrt(1e-5 / 8));
  EXPECT_DOUBLE_EQ(parse({"--loss", "bce", "--batch", "2"}).start_alpha(true),
                   0.025 / std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(parse({"--loss", "bce", "--alpha", "0.05"}).start_alpha(true, 9858), 0.05);
  EXPECT_DOUBLE_EQ(parse({"--loss", "softmax"}).start_alpha(true, 9858), 0.025);
  EXPECT_DOUBLE_EQ(parse({"--optimizer", "momentum"}).start_alpha(), 0.005);
  EXPECT_DOUBLE_EQ(parse({"--optimizer", "nesterov", "--model", "cbow"}).start_alpha(), 0.01);
  EXPECT_DOUBLE_EQ(parse({"--optimizer", "momentum", "--momentum", "0.5"}).start_alpha(), 0.025);
  EXPECT_DOUBLE_EQ(parse({"--optimizer", "adam"}).start_alpha(), 0.02);
  EXPECT_DOUBLE_EQ(parse({"--alpha", "0.01"}).start_alpha(/*modular_gpu=*/true), 0.01);
}

// CBOW draws rarer noise words than skip-gram unless told otherwise; 0 (uniform) is allowed.
TEST(ConfigParse, NoiseExponentFollowsTheModel) {
  EXPECT_DOUBLE_EQ(parse({}).noise_exponent(), 0.75);
  EXPECT_DOUBLE_EQ(parse({"--model", "cbow"}).noise_exponent(), 0.6);
  EXPECT_DOUBLE_EQ(parse({"--model", "cbow", "--ns-exponent", "auto"}).noise_exponent(), 0.6);
  EXPECT_DOUBLE_EQ(parse({"--model", "cbow", "--ns-exponent", "0.75"}).noise_exponent(), 0.75);
  EXPECT_DOUBLE_EQ(parse({"--ns-exponent", "0.5"}).noise_exponent(), 0.5);
  EXPECT_DOUBLE_EQ(parse({"--ns-exponent", "0"}).noise_exponent(), 0.0);
}

TEST(ConfigParse, CopiedRows) {
  EXPECT_EQ(parse({}).copied_rows, TrainConfig::kAutoCopiedRows);
  EXPECT_EQ(parse({"--copied-rows", "auto"}).copied_rows, TrainConfig::kAutoCopiedRows);
  EXPECT_EQ(parse({"--copied-rows", "0"}).copied_rows, 0u);
  EXPECT_EQ(parse({"--copied-rows", "300"}).copied_rows, 300u);
  EXPECT_THROW(parse({"--copied-rows", "many"}), Error);
}

// The repeat cap's default follows the GPU path; a given one holds on both.
TEST(ConfigParse, RepeatCapFollowsThePath) {
  const TrainConfig d = parse({});
  EXPECT_EQ(d.repeat_cap_on(/*fused=*/true), 8u);
  EXPECT_EQ(d.repeat_cap_on(/*fused=*/false), 32u);
  EXPECT_EQ(parse({"--repeat-cap", "auto"}).repeat_cap_on(true), 8u);
  for (bool fused : {true, false}) {
    EXPECT_EQ(parse({"--repeat-cap", "24"}).repeat_cap_on(fused), 24u);
    EXPECT_EQ(parse({"--repeat-cap", "0"}).repeat_cap_on(fused), 0u);
  }
  EXPECT_THROW(parse({"--repeat-cap", "many"}), Error);
}

TEST(ConfigParse, SeparateAndInlineValues) {
  EXPECT_EQ(parse({"--dim", "50"}).dim, 50u);
  EXPECT_EQ(parse({"--dim=50"}).dim, 50u);
  EXPECT_EQ(parse_train_args({"--corpus=a b.txt", "--output=out=x.txt"}).output, "out=x.txt");
  EXPECT_EQ(parse_train_args({"--corpus=a b.txt", "--output=o"}).corpus, "a b.txt");
}

TEST(ConfigParse, EveryValueFlag) {
  TrainConfig c = parse({"--format",
                         "bin",
                         "--vocab",
                         "v.vocab",
                         "--cache-dir",
                         "cache",
                         "--loss-log",
                         "loss.csv",
                         "--min-count",
                         "3",
                         "--max-vocab",
                         "1000",
                         "--sample",
                         "1e-4",
                         "--ns-exponent",
                         "0.5",
                         "--window",
                         "8",
                         "--negative",
                         "12",
                         "--alpha",
                         "0.1",
                         "--min-alpha-fraction",
                         "0.01",
                         "--epochs",
                         "7",
                         "--threads",
                         "3",
                         "--seed",
                         "42",
                         "--progress-interval",
                         "0.25"});
  EXPECT_EQ(c.format, "bin");
  EXPECT_EQ(c.vocab, "v.vocab");
  EXPECT_EQ(c.cache_dir, "cache");
  EXPECT_EQ(c.loss_log, "loss.csv");
  EXPECT_EQ(c.min_count, 3u);
  EXPECT_EQ(c.max_vocab, 1000u);
  EXPECT_DOUBLE_EQ(c.sample, 1e-4);
  EXPECT_DOUBLE_EQ(c.ns_exponent, 0.5);
  EXPECT_EQ(c.window, 8u);
  EXPECT_EQ(c.negative, 12u);
  EXPECT_DOUBLE_EQ(c.alpha, 0.1);
  EXPECT_DOUBLE_EQ(c.start_alpha(), 0.1);
  EXPECT_DOUBLE_EQ(c.min_alpha_fraction, 0.01);
  EXPECT_EQ(c.epochs, 7u);
  EXPECT_EQ(c.threads, 3u);
  EXPECT_EQ(c.thread_count(), 3u);
  EXPECT_EQ(c.seed, 42u);
  EXPECT_DOUBLE_EQ(c.progress_interval, 0.25);
}

TEST(ConfigParse, GpuPathFlags) {
  const TrainConfig d = parse({});
  EXPECT_EQ(d.gpu_path, GpuPathKind::kAuto);
  EXPECT_EQ(d.fused_update, FusedUpdate::kAtomicAdd);
  EXPECT_EQ(d.fused_tokens, 1u << 20);
  EXPECT_EQ(d.fused_window_rows, FusedWindowRows::kRefresh);
  EXPECT_EQ(parse({"--fused-window-rows", "hold"}).fused_window_rows, FusedWindowRows::kHold);
  EXPECT_STREQ(to_string(FusedWindowRows::kRefresh), "refresh");
  const TrainConfig c =
      parse({"--gpu-path", "modular", "--fused-tokens", "20000", "--fused-update", "store"});
  EXPECT_EQ(c.gpu_path, GpuPathKind::kModular);
  EXPECT_EQ(c.fused_tokens, 20000u);
  EXPECT_EQ(c.fused_update, FusedUpdate::kStore);
  EXPECT_EQ(d.twin_warps, 2112u);
  EXPECT_EQ(parse({"--twin-warps", "7"}).twin_warps, 7u);
  EXPECT_THROW(parse({"--twin-warps", "0"}), Error);
  EXPECT_EQ(parse({"--gpu-path", "fused"}).gpu_path, GpuPathKind::kFused);
  EXPECT_STREQ(to_string(GpuPathKind::kFused), "fused");
  EXPECT_STREQ(to_string(FusedUpdate::kAtomicAdd), "add");
  // A batch holds whole sentences, up to kMaxSentenceTokens each.
  EXPECT_THROW(parse({"--fused-tokens", "9999"}), Error);
}

// --sg-rows pair: skip-gram with negative sampling only, 6144 pairs a batch by default, and room in
// a batch for a center's 2 window pairs.
TEST(ConfigParse, SkipGramPairRows) {
  const TrainConfig d = parse({});
  EXPECT_EQ(d.sg_rows, SkipGramRows::kCenter);
  EXPECT_FALSE(d.pair_rows());
  EXPECT_EQ(d.batch_rows(), TrainConfig::kDefaultBatchRows);
  const TrainConfig p = parse({"--sg-rows", "pair"});
  EXPECT_TRUE(p.pair_rows());
  EXPECT_EQ(p.batch_rows(), TrainConfig::kDefaultPairRows);
  EXPECT_STREQ(to_string(SkipGramRows::kPair), "pair");
  EXPECT_NE(parse_error(with_required({"--sg-rows", "pair", "--model", "cbow"})).find("skipgram"),
            std::string::npos);
  EXPECT_NE(
      parse_error(with_required({"--sg-rows", "pair", "--loss", "softmax"})).find("--loss ns"),
      std::string::npos);
  EXPECT_NE(parse_error(with_required({"--sg-rows", "pair", "--batch", "9"})).find("2 window"),
            std::string::npos);
  EXPECT_EQ(parse({"--sg-rows", "pair", "--batch", "10"}).batch_rows(), 10u);
}

// --sg-noise: a center's noise words serve its window by default; per pair for skip-gram with
// negative sampling only.
TEST(ConfigParse, SkipGramNoiseSharing) {
  EXPECT_EQ(parse({}).sg_noise, NoiseSharing::kWindow);
  EXPECT_EQ(parse({"--sg-noise", "pair"}).sg_noise, NoiseSharing::kPair);
  EXPECT_STREQ(to_string(NoiseSharing::kWindow), "window");
  EXPECT_NE(parse_error(with_required({"--sg-noise", "pair", "--model", "cbow"})).find("skipgram"),
            std::string::npos);
  EXPECT_NE(
      parse_error(with_required({"--sg-noise", "pair", "--loss", "softmax"})).find("--loss ns"),
      std::string::npos);
  EXPECT_NE(parse_error(with_required({"--sg-noise", "each"})).find("window or pair"),
            std::string::npos);
}

// --loss hs: its output rows are the tree's inner nodes, so there is nothing to tie or add.
TEST(ConfigParse, HierarchicalSoftmax) {
  EXPECT_EQ(parse({"--loss", "hs"}).loss, LossKind::kHierarchicalSoftmax);
  EXPECT_STREQ(to_string(LossKind::kHierarchicalSoftmax), "hs");
  EXPECT_EQ(parse({"--loss", "hs", "--model", "cbow"}).start_alpha(), 0.05) << "word2vec.c's";
  EXPECT_EQ(parse({"--loss", "hs"}).start_alpha(), 0.025);
  EXPECT_FALSE(parse({"--loss", "hs", "--model", "cbow"}).writes_sum()) << "the input vectors";
  EXPECT_NE(parse_error(with_required({"--loss", "hs", "--tied"})).find("--tied"),
            std::string::npos);
  EXPECT_NE(parse_error(with_required({"--loss", "hs", "--vectors", "sum"})).find("--vectors sum"),
            std::string::npos);
  EXPECT_NE(parse_error(with_required({"--loss", "hs", "--sg-noise", "pair"})).find("--loss ns"),
            std::string::npos);
}

TEST(ConfigParse, FusedWarps) {
  EXPECT_EQ(parse({}).fused_warps, 0u);
  EXPECT_EQ(parse({}).twin_concurrency(), 2112u);
  const TrainConfig c = parse({"--fused-warps", "1056"});
  EXPECT_EQ(c.fused_warps, 1056u);
  EXPECT_EQ(c.twin_concurrency(), 1056u) << "the twin runs the fewer";
  EXPECT_EQ(parse({"--fused-warps", "4096"}).twin_concurrency(), 2112u);
  EXPECT_NE(parse_error(with_required({"--fused-warps", "6"})).find("a multiple of 4"),
            std::string::npos);
}

TEST(ConfigParse, FusedStreams) {
  EXPECT_EQ(parse({}).fused_stream_count(), 1u);
  EXPECT_EQ(parse({"--fused-streams", "0"}).fused_stream_count(), 1u);
  EXPECT_EQ(parse({"--fused-streams", "2"}).fused_stream_count(), 2u);
  EXPECT_NE(parse_error(with_required({"--fused-streams", "5"})).find("at most 4"),
            std::string::npos);
}

TEST(ConfigParse, StepGraph) {
  EXPECT_FALSE(parse({}).step_graph);
  EXPECT_TRUE(parse({"--step-graph", "--model", "cbow"}).step_graph);
  EXPECT_NE(parse_error(with_required({"--step-graph", "--loss", "softmax"})).find("--loss ns"),
            std::string::npos);
}

TEST(ConfigParse, Switches) {
  TrainConfig c = parse({"--tied", "--lowercase", "--quiet"});
  EXPECT_TRUE(c.tied);
  EXPECT_TRUE(c.lowercase);
  EXPECT_TRUE(c.quiet);
  // A switch does not swallow the flag after it.
  c = parse({"--tied", "--dim", "7"});
  EXPECT_TRUE(c.tied);
  EXPECT_EQ(c.dim, 7u);
}

TEST(ConfigParse, ModelLossAndDeviceNames) {
  EXPECT_EQ(parse({"--model", "skipgram"}).model, ModelKind::kSkipGram);
  EXPECT_EQ(parse({"--model", "sg"}).model, ModelKind::kSkipGram);
  EXPECT_EQ(parse({"--model", "cbow"}).model, ModelKind::kCbow);
  EXPECT_EQ(parse({"--loss", "ns"}).loss, LossKind::kNegativeSampling);
  EXPECT_EQ(parse({"--loss", "softmax"}).loss, LossKind::kSoftmax);
  EXPECT_EQ(parse({"--device", "auto"}).device, DeviceKind::kAuto);
  EXPECT_EQ(parse({"--device", "cpu"}).device, DeviceKind::kCpu);
  EXPECT_EQ(parse({"--device", "cuda"}).device, DeviceKind::kCuda);
  EXPECT_EQ(parse({"--device", "gpu"}).device, DeviceKind::kCuda);
  EXPECT_EQ(parse({"--device", "twin"}).device, DeviceKind::kTwin);
  for (const char* f : {"text", "bin", "binary", "auto"})
    EXPECT_EQ(parse({"--format", f}).format, f);
  EXPECT_STREQ(to_string(ModelKind::kCbow), "cbow");
  EXPECT_STREQ(to_string(LossKind::kSoftmax), "softmax");
  EXPECT_STREQ(to_string(DeviceKind::kCuda), "cuda");
}

TEST(ConfigParse, NegativeZeroIsFineWithSoftmax) {
  TrainConfig c = parse({"--loss", "softmax", "--negative", "0"});
  EXPECT_EQ(c.negative, 0u);
}

struct BadArgs {
  const char* label;
  Args args;
  std::vector<std::string> needles;  // each must appear in the message
};

void PrintTo(const BadArgs& b, std::ostream* os) { *os << b.label; }

class ConfigReject : public ::testing::TestWithParam<BadArgs> {};

TEST_P(ConfigReject, ErrorNamesTheFlag) {
  const BadArgs& b = GetParam();
  std::string message = parse_error(b.args);
  for (const std::string& needle : b.needles)
    EXPECT_NE(message.find(needle), std::string::npos)
        << "message '" << message << "' does not mention '" << needle << "'";
  EXPECT_EQ(message.find('\n'), std::string::npos) << "not one line: " << message;
}

const BadArgs kBadArgs[] = {
    {"UnknownFlag", with_required({"--dimension", "5"}), {"--dimension", "unknown"}},
    {"UnknownInlineFlag", with_required({"--bogus=1"}), {"--bogus"}},
    {"MissingValueAtEnd", with_required({"--dim"}), {"--dim", "missing value"}},
    {"MissingCorpusValue", {"--output", "v.txt", "--corpus"}, {"--corpus", "missing value"}},
    {"DimZero", with_required({"--dim", "0"}), {"--dim"}},
    {"DimInlineEmpty", with_required({"--dim="}), {"--dim"}},
    {"DimNonNumeric", with_required({"--dim", "abc"}), {"--dim", "abc"}},
    {"DimTrailingJunk", with_required({"--dim", "5x"}), {"--dim", "5x"}},
    {"DimFractional", with_required({"--dim", "2.5"}), {"--dim"}},
    {"DimOverflow", with_required({"--dim", "4294967296"}), {"--dim"}},
    {"DimTooLarge", with_required({"--dim", "1000000"}), {"--dim"}},
    {"WindowNegative", with_required({"--window", "-3"}), {"--window", "-3"}},
    {"WindowZero", with_required({"--window", "0"}), {"--window"}},
    {"EpochsZero", with_required({"--epochs", "0"}), {"--epochs"}},
    {"MinCountZero", with_required({"--min-count", "0"}), {"--min-count"}},
    {"NegativeZeroWithNs", with_required({"--negative", "0"}), {"--negative"}},
    {"NegativeZeroWithExplicitNs",
     with_required({"--loss", "ns", "--negative", "0"}),
     {"--negative"}},
    {"ThreadsTooMany", with_required({"--threads", "5000"}), {"--threads"}},
    {"SeedNegative", with_required({"--seed", "-1"}), {"--seed"}},
    {"AlphaNonNumeric", with_required({"--alpha", "fast"}), {"--alpha", "fast"}},
    {"AlphaNegative", with_required({"--alpha", "-0.1"}), {"--alpha"}},
    {"AlphaNaN", with_required({"--alpha", "nan"}), {"--alpha"}},
    {"AlphaInfinite", with_required({"--alpha", "inf"}), {"--alpha"}},
    {"SampleNegative", with_required({"--sample", "-1"}), {"--sample"}},
    {"NsExponentNegative", with_required({"--ns-exponent", "-0.5"}), {"--ns-exponent", "-0.5"}},
    {"NsExponentNaN", with_required({"--ns-exponent", "nan"}), {"--ns-exponent"}},
    {"NsExponentWord", with_required({"--ns-exponent", "fastText"}), {"--ns-exponent"}},
    {"MinAlphaFractionAboveOne",
     with_required({"--min-alpha-fraction", "2"}),
     {"--min-alpha-fraction"}},
    {"ProgressIntervalZero", with_required({"--progress-interval", "0"}), {"--progress-interval"}},
    {"BadModel", with_required({"--model", "glove"}), {"--model", "glove"}},
    {"BadLoss", with_required({"--loss", "nce"}), {"--loss", "nce"}},
    {"BadDevice", with_required({"--device", "tpu"}), {"--device", "tpu"}},
    {"BadFormat", with_required({"--format", "xml"}), {"--format", "xml"}},
    {"SwitchGivenValue", with_required({"--tied=yes"}), {"--tied"}},
    {"QuietGivenValue", with_required({"--quiet=1"}), {"--quiet"}},
    {"StrayPositional", with_required({"stray.txt"}), {"stray.txt"}},
    {"LeadingPositional", {"corpus.txt", "--corpus", "c", "--output", "o"}, {"corpus.txt"}},
    {"SingleDashFlag", with_required({"-d", "5"}), {"-d"}},
    {"MissingCorpus", {"--output", "v.txt"}, {"--corpus"}},
    {"MissingOutput", {"--corpus", "c.txt"}, {"--output"}},
    {"NothingAtAll", {}, {"--corpus"}},
};

INSTANTIATE_TEST_SUITE_P(All, ConfigReject, ::testing::ValuesIn(kBadArgs),
                         [](const ::testing::TestParamInfo<BadArgs>& info) {
                           return std::string(info.param.label);
                         });

TEST(ConfigValidate, RejectsABadConfigBuiltInCode) {
  TrainConfig c;
  c.corpus = "c";
  c.output = "o";
  EXPECT_NO_THROW(validate(c));
  c.dim = 0;
  EXPECT_THROW(validate(c), Error);
  c.dim = 10;
  c.format = "json";
  EXPECT_THROW(validate(c), Error);
}

TEST(ConfigFlags, NamesAreUniqueDashedAndDocumented) {
  std::set<std::string> seen;
  for (const Flag& f : train_flags()) {
    EXPECT_TRUE(seen.insert(f.name).second) << "--" << f.name << " twice";
    EXPECT_EQ(f.name.find('_'), std::string::npos) << f.name;
    EXPECT_FALSE(f.help.empty()) << f.name;
    EXPECT_EQ(f.is_switch, f.metavar.empty()) << f.name;
    EXPECT_NE(f.apply, nullptr) << f.name;
    EXPECT_NE(f.value, nullptr) << f.name;
  }
  for (const char* name : {"corpus",
                           "output",
                           "format",
                           "vocab",
                           "cache-dir",
                           "loss-log",
                           "trace",
                           "min-count",
                           "max-vocab",
                           "max-count-words",
                           "lowercase",
                           "sample",
                           "ns-exponent",
                           "model",
                           "loss",
                           "dim",
                           "window",
                           "negative",
                           "tied",
                           "alpha",
                           "min-alpha-fraction",
                           "epochs",
                           "threads",
                           "seed",
                           "device",
                           "progress-interval",
                           "quiet"})
    EXPECT_EQ(seen.count(name), 1u) << "--" << name << " missing from train_flags()";
}

// The help line of --name: the line that starts with "  --name" followed by a space.
std::string help_line(const std::string& help, const std::string& name) {
  const std::string head = "  --" + name + " ";
  std::size_t at = 0;
  while ((at = help.find(head, at)) != std::string::npos) {
    if (at == 0 || help[at - 1] == '\n') {
      std::size_t end = help.find('\n', at);
      return help.substr(at, end == std::string::npos ? std::string::npos : end - at);
    }
    ++at;
  }
  return "";
}

TEST(ConfigHelp, ListsEveryFlagWithItsDefault) {
  const std::string help = train_help();
  const TrainConfig defaults;
  for (const Flag& f : train_flags()) {
    std::string line = help_line(help, f.name);
    ASSERT_FALSE(line.empty()) << "--" << f.name << " missing from:\n" << help;
    EXPECT_NE(line.find(f.help), std::string::npos) << line;
    if (f.required) {
      EXPECT_NE(line.find("(required)"), std::string::npos) << line;
    } else {
      EXPECT_NE(line.find("[default: " + f.value(defaults) + "]"), std::string::npos) << line;
    }
    if (!f.metavar.empty()) {
      EXPECT_NE(line.find("--" + f.name + " " + f.metavar), std::string::npos) << line;
    }
  }
  EXPECT_NE(help_line(help, "dim").find("[default: 100]"), std::string::npos);
  EXPECT_NE(help_line(help, "window").find("[default: 5]"), std::string::npos);
  EXPECT_NE(help_line(help, "sample").find("0.001"), std::string::npos);
  EXPECT_NE(help_line(help, "ns-exponent").find("[default: auto]"), std::string::npos);
  EXPECT_NE(help_line(help, "min-count").find("[default: 5]"), std::string::npos);
  EXPECT_NE(help_line(help, "epochs").find("[default: 5]"), std::string::npos);
  EXPECT_NE(help_line(help, "model").find("[default: skipgram]"), std::string::npos);
  EXPECT_NE(help_line(help, "loss").find("[default: ns]"), std::string::npos);
  EXPECT_NE(help_line(help, "device").find("[default: auto]"), std::string::npos);
  EXPECT_NE(help_line(help, "tied").find("[default: off]"), std::string::npos);
  EXPECT_NE(help_line(help, "format").find("[default: auto]"), std::string::npos);
  EXPECT_NE(help_line(help, "corpus").find("(required)"), std::string::npos);
  EXPECT_NE(help_line(help, "output").find("(required)"), std::string::npos);
  EXPECT_EQ(help.rfind("usage: w2v train", 0), 0u) << help;
}

}  // namespace
}  // namespace w2v
