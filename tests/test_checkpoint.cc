// Checkpoints, resume, stop signals, full disks and shared caches: the run that never loses
// work and never writes a broken file.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "gpu/fused_path.h"
#include "gpu/host_ops.h"
#include "support/run_w2v.h"
#include "support/temp_dir.h"
#include "support/training.h"
#include "w2v/checkpoint.h"
#include "w2v/error.h"
#include "w2v/train.h"

namespace w2v {
namespace {

const std::string kText8 = W2V_SOURCE_DIR "/../shared/data/text8_prefix.txt";

std::vector<std::string> temporary_files(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos)
      found.push_back(e.path().string());
  return found;
}

// A config that trains in one to two seconds on one thread over `bytes` of text8.
TrainConfig small_run(const test::TempDir& dir, std::size_t bytes = 12'000'000) {
  const std::string corpus = dir.file("corpus.txt");
  if (!file_exists(corpus)) test::write_file(corpus, test::read_file(kText8).substr(0, bytes));
  TrainConfig c;
  c.corpus = corpus;
  c.output = dir.file("vectors.bin");
  c.format = "bin";
  c.cache_dir = dir.path();
  c.device = DeviceKind::kCpu;
  c.dim = 16;
  c.epochs = 2;
  c.threads = 1;
  c.quiet = true;
  c.seed = 7;
  return c;
}

// Polled by the monitoring thread every 20 ms: asks for a stop on the `polls`-th call.
std::function<int()> stop_after_polls(int polls) {
  auto count = std::make_shared<std::atomic<int>>(0);
  return [count, polls] { return ++*count >= polls ? SIGINT : 0; };
}

Model random_model(std::size_t rows, std::size_t cols, bool tied) {
  Model m = Model::initialize(rows, cols, tied, 3);
  if (!tied) {
    for (std::size_t i = 0; i < rows * cols; ++i) m.output.data()[i] = 0.25f * (i % 7) - 0.5f;
  }
  return m;
}

TEST(Checkpoint, KeepsEveryFieldThroughAFile) {
  test::TempDir dir;
  for (const bool tied : {false, true}) {
    const Model model = random_model(13, 5, tied);
    TrainerState state;
    state.words_done = 123456789012ull;
    state.loss_sum = 3.25;
    state.loss_count = 99;
    state.walkers = {{0, 0, 1, {}, 0},
                     {(std::uint64_t{5} << 32) + 17, 3, 0xFEDCBA9876543210ull, {5, 6, 7}, 2}};
    state.extra = {1, 2, 3, 250};
    const CheckpointSettings settings = {{"--dim", "5"}, {"corpus", "12 tokens"}};
    write_checkpoint(dir.file("ck"), settings, state, model);
    EXPECT_TRUE(temporary_files(dir.path()).empty());

    const Checkpoint back = read_checkpoint(dir.file("ck"));
    EXPECT_EQ(back.settings, settings);
    EXPECT_EQ(back.state.words_done, state.words_done);
    EXPECT_EQ(back.state.loss_sum, state.loss_sum);
    EXPECT_EQ(back.state.loss_count, state.loss_count);
    EXPECT_EQ(back.state.walkers, state.walkers);
    EXPECT_EQ(back.state.extra, state.extra);
    EXPECT_EQ(back.model.tied, tied);
    ASSERT_EQ(back.model.input.rows(), 13u);
    ASSERT_EQ(back.model.input.cols(), 5u);
    EXPECT_EQ(std::memcmp(back.model.input.data(), model.input.data(), 13 * 5 * sizeof(float)), 0);
    if (!tied) {
      EXPECT_EQ(std::memcmp(back.model.output.data(), model.output.data(), 13 * 5 * 4), 0);
    }
  }
}

void expect_refused(const std::string& path, const std::string& bytes, const std::string& what) {
  test::write_file(path, bytes);
  try {
    read_checkpoint(path);
    ADD_FAILURE() << "accepted a checkpoint that is " << what;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": "), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, RefusesEveryDamagedFileWithOneLine) {
  test::TempDir dir;
  write_checkpoint(dir.file("good"), {{"k", "v"}}, TrainerState{}, random_model(50, 8, false));
  const std::string good = test::read_file(dir.file("good"));
  const std::string bad = dir.file("bad");
  expect_refused(bad, "", "empty");
  expect_refused(bad, good.substr(0, good.size() - 1), "truncated");
  expect_refused(bad, good + "x", "longer than written");
  std::string magic = good;
  magic[0] = 'X';
  expect_refused(bad, magic, "of another format");
  std::string version = good;
  version[8] = 9;
  expect_refused(bad, version, "of another version");
  // A flipped bit anywhere in the body: the checksum refuses it.
  for (std::size_t at : {std::size_t{40}, good.size() / 2, good.size() - 3}) {
    std::string flipped = good;
    flipped[at] ^= 0x10;
    expect_refused(bad, flipped, "damaged at byte " + std::to_string(at));
  }
}

TEST(Checkpoint, NamesTheSettingThatDiffers) {
  const CheckpointSettings saved = {{"--dim", "100"}, {"--window", "5"}};
  EXPECT_NO_THROW(check_resumable("ck", saved, saved));
  try {
    check_resumable("ck", saved, {{"--dim", "100"}, {"--window", "8"}});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "ck: cannot resume: written by a run with --window 5; this run has --window 8");
  }
  EXPECT_THROW(check_resumable("ck", saved, {{"corpus", "7 tokens"}}), Error);
}

// The heart of it: a run stopped anywhere and resumed gives the vectors an uninterrupted run
// gives, bit for bit (one thread: the CPU trainer is deterministic).
TEST(Resume, StoppedAndResumedRunEqualsTheUninterruptedOneBitForBit) {
  test::TempDir dir;
  // Hierarchical softmax: its tree is rebuilt from the vocabulary, not saved.
  for (const auto& [model, loss] :
       {std::pair{ModelKind::kSkipGram, LossKind::kNegativeSampling},
        std::pair{ModelKind::kCbow, LossKind::kNegativeSampling},
        std::pair{ModelKind::kSkipGram, LossKind::kHierarchicalSoftmax}}) {
    TrainConfig c = small_run(dir);
    c.model = model;
    c.loss = loss;
    // CBOW runs about 4 times faster: more epochs keep the later stop inside the run.
    if (model == ModelKind::kCbow) c.epochs = 6;
    c.output = dir.file("whole.bin");
    const TrainStats whole = run_training(c, nullptr);
    ASSERT_EQ(whole.stop_signal, 0);
    const std::string want = test::read_file(c.output);

    for (const int polls : {3, 15}) {
      SCOPED_TRACE(std::string(to_string(model)) + "/" + to_string(loss) + ", stopped after " +
                   std::to_string(polls) + " polls");
      TrainConfig first = c;
      first.output = dir.file("resumed.bin");
      first.checkpoint = dir.file("run.ckpt");
      const TrainStats stopped = run_training(first, nullptr, stop_after_polls(polls));
      ASSERT_EQ(stopped.stop_signal, SIGINT) << "finished before the stop; use a larger corpus";
      const Checkpoint saved = read_checkpoint(first.checkpoint);
      EXPECT_GT(saved.state.words_done, 0u);
      EXPECT_LT(saved.state.words_done, whole.words);

      TrainConfig second = first;
      second.resume = first.checkpoint;
      const TrainStats rest = run_training(second, nullptr);
      EXPECT_EQ(rest.stop_signal, 0);
      EXPECT_EQ(saved.state.words_done + rest.words, whole.words);
      EXPECT_TRUE(test::read_file(second.output) == want) << "resumed vectors differ";
    }
  }
}

TEST(Resume, ThePeriodicCheckpointResumesToTheSameVectors) {
  test::TempDir dir;
  TrainConfig c = small_run(dir);
  c.checkpoint = dir.file("run.ckpt");
  c.checkpoint_every = 0.05;
  run_training(c, nullptr);
  const std::string want = test::read_file(c.output);
  ASSERT_TRUE(file_exists(c.checkpoint)) << "no checkpoint written in a 1-second run";
  EXPECT_GT(read_checkpoint(c.checkpoint).state.words_done, 0u);
  c.resume = c.checkpoint;
  c.output = dir.file("again.bin");
  run_training(c, nullptr);
  EXPECT_TRUE(test::read_file(c.output) == want);
}

// Hogwild threads are not deterministic; the resumed run must still cover exactly the words
// left and learn as the whole run does (its loss ends where the whole run's ends).
TEST(Resume, WithSeveralThreadsTheResumedRunReadsTheWordsLeft) {
  test::TempDir dir;
  TrainConfig c = small_run(dir);
  c.threads = 3;
  const TrainStats whole = run_training(c, nullptr);
  c.checkpoint = dir.file("run.ckpt");
  const TrainStats stopped = run_training(c, nullptr, stop_after_polls(10));
  ASSERT_EQ(stopped.stop_signal, SIGINT);
  const Checkpoint saved = read_checkpoint(c.checkpoint);
  EXPECT_EQ(saved.state.walkers.size(), 3u);
  c.resume = c.checkpoint;
  const TrainStats rest = run_training(c, nullptr);
  EXPECT_EQ(saved.state.words_done + rest.words, whole.words);
  EXPECT_NEAR(rest.final_loss, whole.final_loss, 0.05 * whole.final_loss);
}

// Checkpoints before 2026-12-06 recorded --gpu-path auto: they resume under the path auto takes
// now, and one that names a path resumes only under that path.
TEST(Resume, AnOlderCheckpointsGpuPathAutoResumesUnderEitherPath) {
  const CheckpointSettings fused = {{"--dim", "16"}, {"--gpu-path", "fused"}};
  const CheckpointSettings modular = {{"--dim", "16"}, {"--gpu-path", "modular"}};
  const CheckpointSettings older = {{"--dim", "16"}, {"--gpu-path", "auto"}};
  EXPECT_NO_THROW(check_resumable("old.ckpt", older, fused));
  EXPECT_NO_THROW(check_resumable("old.ckpt", older, modular));
  EXPECT_NO_THROW(check_resumable("new.ckpt", fused, fused));
  try {
    check_resumable("new.ckpt", modular, fused);
    FAIL() << "a modular checkpoint resumed on the fused path";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--gpu-path modular"), std::string::npos) << e.what();
  }
}

// Before --fused-window-rows the fused path held its window rows: such a checkpoint resumes
// under --fused-window-rows hold, and under the new default says what to pass.
TEST(Resume, AnOlderFusedCheckpointHeldItsWindowRows) {
  const CheckpointSettings older = {{"--gpu-path", "fused"}};
  EXPECT_NO_THROW(check_resumable("old.ckpt", older,
                                  {{"--gpu-path", "fused"}, {"--fused-window-rows", "hold"}}));
  try {
    check_resumable("old.ckpt", older,
                    {{"--gpu-path", "fused"}, {"--fused-window-rows", "refresh"}});
    FAIL() << "an older checkpoint resumed with its window rows refreshed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "--fused-window-rows hold; this run has --fused-window-rows refresh"),
              std::string::npos)
        << e.what();
  }
}

// Before --sg-noise the CPU trainer's skip-gram drew per pair: such a checkpoint resumes under
// --sg-noise pair, and under the new default says what to pass.
TEST(Resume, AnOlderSkipGramCheckpointDrewNoisePerPair) {
  const CheckpointSettings older = {{"--dim", "16"}};
  EXPECT_NO_THROW(check_resumable("old.ckpt", older, {{"--dim", "16"}, {"--sg-noise", "pair"}}));
  try {
    check_resumable("old.ckpt", older, {{"--dim", "16"}, {"--sg-noise", "window"}});
    FAIL() << "an older checkpoint resumed with the window's noise";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--sg-noise pair; this run has --sg-noise window"),
              std::string::npos)
        << e.what();
  }
}

TEST(Resume, ACheckpointOfAnotherRunIsOneLineNamingWhatDiffers) {
  test::TempDir dir;
  TrainConfig c = small_run(dir, 1'000'000);
  c.checkpoint = dir.file("run.ckpt");
  prepare_training_data(c, nullptr);  // the cache: a preparation would take the first polls
  // The first poll, after the preparation, is before training; the second is training's.
  run_training(c, nullptr, stop_after_polls(2));
  ASSERT_TRUE(file_exists(c.checkpoint));
  auto refused = [&](TrainConfig other, const std::string& named) {
    other.resume = c.checkpoint;
    other.checkpoint = "";
    try {
      run_training(other, nullptr);
      ADD_FAILURE() << "resumed across a change of " << named;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).rfind(c.checkpoint + ": cannot resume", 0), 0u) << e.what();
    }
  };
  TrainConfig other = c;
  other.dim = 17;
  refused(other, "--dim 16; this run has --dim 17");
  other = c;
  other.model = ModelKind::kCbow;
  refused(other, "--model");
  other = c;
  other.threads = 2;
  refused(other, "--threads");
  other = c;
  other.sg_noise = NoiseSharing::kPair;
  refused(other, "--sg-noise window; this run has --sg-noise pair");
  other = c;
  other.ns_exponent = 0.5;  // the saved run's is skip-gram's default
  refused(other, "--ns-exponent 0.75; this run has --ns-exponent 0.5");
  other = c;
  other.min_count = 3;  // another vocabulary
  refused(other, "vocabulary");
  other = c;
  other.corpus = dir.file("other.txt");
  test::write_file(other.corpus, test::read_file(c.corpus).substr(0, 500'000));
  other.vocab = c.cache_dir + "/corpus.txt.mc5.vocab";  // the same words, another text
  refused(other, "corpus");
}

TEST(Cache, AFlippedBitInTheEncodedCorpusIsRebuilt) {
  test::TempDir dir;
  TrainConfig c = small_run(dir, 500'000);
  prepare_training_data(c, nullptr);
  const std::string tokens = dir.file("corpus.txt.mc5.tokens");
  std::string bytes = test::read_file(tokens);
  // Two different entries swapped: every id stays valid and the counts agree, so only the
  // checksum can tell.
  std::size_t at = sizeof(CorpusHeader) + (bytes.size() - sizeof(CorpusHeader)) / 8 * 4;
  while (bytes.compare(at, 4, bytes, at + 4, 4) == 0) at += 4;
  std::swap_ranges(bytes.begin() + at, bytes.begin() + at + 4, bytes.begin() + at + 4);
  test::write_file(tokens, bytes);
  static std::string heard;
  heard.clear();
  const TrainingData data =
      prepare_training_data(c, [](const std::string& line) { heard += line + "\n"; });
  EXPECT_NE(heard.find("checksum mismatch"), std::string::npos) << heard;
  EXPECT_NE(heard.find("rebuilding"), std::string::npos) << heard;
  EXPECT_NE(test::read_file(tokens), bytes);
}

// --- the GPU trainer's pipeline, on its CPU twins (HostOps) ---

Model copy_of(const Model& m) {
  Model c;
  c.tied = m.tied;
  c.input = Matrix(m.input.rows(), m.input.cols());
  std::memcpy(c.input.data(), m.input.data(), m.input.rows() * m.input.cols() * sizeof(float));
  if (!m.tied) {
    c.output = Matrix(m.output.rows(), m.output.cols());
    std::memcpy(c.output.data(), m.output.data(), m.output.rows() * m.output.cols() * 4);
  }
  return c;
}

struct TwinRun {
  Model model;
  TrainerState saved;
  Model saved_model;
  TrainStats stats;
};

// One run of a pipeline twin over `data`: stopped by a signal once `stop_fraction` of the
// run's words are done (0: never), with checkpoints kept in memory; from `from`'s checkpoint
// if given. A fraction, not a time: the twins' speed varies with the machine's load.
TwinRun run_twin(const TrainConfig& c, const TrainingData& data, const test::TrainFunction& train,
                 double stop_fraction, const TwinRun* from) {
  TwinRun r;
  r.model = from ? copy_of(from->saved_model)
                 : Model::initialize(data.vocab.size(), c.dim, c.tied, c.seed);
  TrainControl control;
  const Progress* watched = nullptr;
  const double stop_at = stop_fraction * double(data.corpus->token_count()) * c.epochs;
  if (stop_fraction > 0)
    control.stop_signal = [&] {
      return watched && double(watched->words_done()) >= stop_at ? SIGINT : 0;
    };
  control.save = [&r](const TrainerState& state, const Model& model) {
    r.saved = state;
    r.saved_model = copy_of(model);
  };
  if (from) control.resume = &from->saved;
  Progress::Options po = progress_options(c, data.corpus->token_count());
  std::FILE* sink = std::tmpfile();
  po.out = sink;
  if (from) {
    po.words_done = from->saved.words_done;
    po.loss_sum = from->saved.loss_sum;
    po.loss_count = from->saved.loss_count;
  }
  {
    Progress progress(po);
    watched = &progress;
    const TrainJob job{c, data.vocab, *data.corpus, data.tables, nullptr, &control};
    train(job, r.model, progress);
    r.stats = progress.summary();
  }
  std::fclose(sink);
  return r;
}

// With one sampler the pipeline is deterministic on its CPU twins, as the GPU trainer is with
// --deterministic: a run stopped anywhere and resumed from its checkpoint (the samplers'
// walks, a sentence cut by a batch's end, the optimizer's moments and step count, the fused
// path's noise counter) gives the tables of the uninterrupted run, bit for bit.
TEST(ResumeGpuPipeline, StoppedAndResumedOnTheTwinsEqualsTheUninterruptedRunBitForBit) {
  test::TempDir dir;
  TrainConfig base = small_run(dir, 2'000'000);
  base.sampler_threads = 1;
  base.sample = 1e-4;
  const TrainingData data = prepare_training_data(base, nullptr);
  struct Case {
    const char* name;
    TrainConfig config;
    test::TrainFunction train;
  };
  TrainConfig modular = base;
  modular.gpu_path = GpuPathKind::kModular;
  modular.batch = 100;  // batches end inside sentences
  TrainConfig modular_cbow = modular;
  modular_cbow.model = ModelKind::kCbow;
  TrainConfig adam = modular;  // Adam's moments and step count are saved too
  adam.optimizer = OptimizerKind::kAdam;
  TrainConfig nesterov_tied = modular;
  nesterov_tied.optimizer = OptimizerKind::kNesterov;
  nesterov_tied.tied = true;
  TrainConfig pairs = modular;  // a batch ends where a center's pairs would not fit
  pairs.sg_rows = SkipGramRows::kPair;
  pairs.batch = 600;
  TrainConfig fused = base;
  fused.fused_tokens = kMaxSentenceTokens;  // a sentence often waits for the next batch
  const auto on_modular = [](const TrainJob& job, Model& model, Progress& progress) {
    train_modular_on_host(job, model, progress);
  };
  const auto on_fused = [](const TrainJob& job, Model& model, Progress& progress) {
    train_fused_on_host(job, model, progress, 4);
  };
  for (const Case& k : {Case{"modular skip-gram", modular, on_modular},
                        Case{"modular cbow", modular_cbow, on_modular},
                        Case{"modular adam", adam, on_modular},
                        Case{"modular nesterov, tied", nesterov_tied, on_modular},
                        Case{"modular skip-gram, pair rows", pairs, on_modular},
                        Case{"fused skip-gram", fused, on_fused}}) {
    SCOPED_TRACE(k.name);
    const TwinRun whole = run_twin(k.config, data, k.train, 0, nullptr);
    const TwinRun stopped = run_twin(k.config, data, k.train, 0.3, nullptr);
    ASSERT_EQ(stopped.stats.stop_signal, SIGINT) << "finished before the stop";
    ASSERT_GT(stopped.saved.words_done, 0u);
    ASSERT_LT(stopped.saved.words_done, whole.stats.words);
    ASSERT_EQ(stopped.saved.walkers.size(), 1u);
    const TwinRun rest = run_twin(k.config, data, k.train, 0, &stopped);
    EXPECT_EQ(stopped.saved.words_done + rest.stats.words, whole.stats.words);
    EXPECT_TRUE(test::same_tables(rest.model, whole.model)) << "resumed tables differ";
  }
}

// --- the command line: signals, full disks, two processes ---

std::vector<std::string> train_args(const TrainConfig& c) {
  return {"train",  "--corpus",   c.corpus, "--output",    c.output,  "--cache-dir",
          c.cache_dir, "--device", "cpu",   "--threads",   "1",       "--dim",
          "16",     "--epochs",   "2",      "--seed",      "7",       "--progress-interval",
          "0.05"};
}

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// A GPU run's checkpoint names the path that ran, not --gpu-path auto: a resume that would
// take the other path (a GPU with less shared memory) is refused by that name.
TEST(CliCheckpoint, NamesTheGpuPathThatRan) {
  test::TempDir dir;
  const TrainConfig c = small_run(dir, 300'000);
  const std::string ckpt = dir.file("run.ckpt");
  // The same settings but the path's own (the paths' default rates differ; --deterministic
  // runs one sampler).
  const auto twin = with(train_args(c), {"--device", "twin", "--epochs", "5", "--alpha", "0.05",
                                         "--sampler-threads", "1", "--quiet"});
  struct Run {
    std::vector<std::string> flags;
    std::string path;
  };
  for (const Run& run : {Run{{}, "fused"}, Run{{"--deterministic"}, "modular"}}) {
    std::filesystem::remove(ckpt);
    const auto args = with(with(twin, {"--checkpoint", ckpt, "--checkpoint-every", "0.01",
                                       "--progress-interval", "0.001"}),
                           run.flags);
    const test::RunResult r = test::run_w2v(args);
    ASSERT_EQ(r.exit_status, 0) << r.describe();
    ASSERT_TRUE(file_exists(ckpt)) << r.describe();
    const CheckpointSettings settings = read_checkpoint(ckpt).settings;
    const auto recorded = std::find_if(settings.begin(), settings.end(),
                                       [](const auto& kv) { return kv.first == "--gpu-path"; });
    ASSERT_NE(recorded, settings.end());
    EXPECT_EQ(recorded->second, run.path);
  }
  const test::RunResult other = test::run_w2v(with(twin, {"--resume", ckpt}));
  EXPECT_EQ(other.exit_status, 1) << other.describe();
  EXPECT_NE(other.err.find("cannot resume: written by a run with --gpu-path modular; this run "
                           "has --gpu-path fused"),
            std::string::npos)
      << other.describe();
}

TEST(CliStop, SigintSavesACheckpointAndTheVectorsAndResumeFinishesTheSameRun) {
  test::TempDir dir;
  const TrainConfig c = small_run(dir);
  const auto args = train_args(c);
  const test::RunResult whole = test::run_w2v(with(args, {"--quiet"}));
  ASSERT_EQ(whole.exit_status, 0) << whole.describe();
  const std::string want = test::read_file(c.output);
  std::filesystem::remove(c.output);

  for (const int signal : {SIGINT, SIGTERM}) {
    test::RunOptions stop;
    stop.signal_after_err = "progress";  // training has begun
    stop.signals = {signal};
    const std::string ckpt = dir.file("run.ckpt");
    const test::RunResult stopped = test::run_w2v(with(args, {"--checkpoint", ckpt}), stop);
    ASSERT_EQ(stopped.exit_status, 128 + signal) << stopped.describe();
    EXPECT_NE(stopped.err.find("stopped early"), std::string::npos) << stopped.describe();
    EXPECT_NE(stopped.err.find("--resume " + ckpt), std::string::npos) << stopped.describe();
    ASSERT_TRUE(file_exists(ckpt));
    ASSERT_TRUE(file_exists(c.output));
    EXPECT_TRUE(temporary_files(dir.path()).empty());

    const test::RunResult rest =
        test::run_w2v(with(args, {"--checkpoint", ckpt, "--resume", ckpt, "--quiet"}));
    ASSERT_EQ(rest.exit_status, 0) << rest.describe();
    EXPECT_TRUE(test::read_file(c.output) == want) << "signal " << signal;
  }
}

TEST(CliStop, ASecondSignalExitsAtOnceLeavingNoPartialFile) {
  test::TempDir dir;
  TrainConfig c = small_run(dir, 12'000'000);
  c.output = dir.file("vectors.txt");
  test::RunOptions stop;
  stop.signal_after_err = "device:";  // the handlers are in place
  stop.signals = {SIGINT, SIGINT};     // during preparation: the encoding is being written
  // Well inside the 50 ms in which the preparation notices the first signal and stops.
  stop.signal_gap_seconds = 0.005;
  const test::RunResult r = test::run_w2v(with(train_args(c), {"--checkpoint", dir.file("ck")}),
                                          stop);
  EXPECT_EQ(r.exit_status, 130) << r.describe();
  EXPECT_NE(r.err.find("second signal"), std::string::npos) << r.describe();
  EXPECT_TRUE(temporary_files(dir.path()).empty());
  EXPECT_FALSE(file_exists(c.output));
}

TEST(CliStop, ASignalWhilePreparingStopsAtOnceWithNothingWritten) {
  test::TempDir dir;
  TrainConfig c = small_run(dir);
  // 100 links to the 12 MB corpus: over a gigabyte to read, many seconds even on 16 cores,
  // where the signal comes within milliseconds of the start.
  const std::string shards = dir.file("shards");
  std::filesystem::create_directory(shards);
  for (int i = 0; i < 100; ++i)
    std::filesystem::create_symlink(c.corpus, shards + "/part" + std::to_string(100 + i));
  c.corpus = shards;
  for (const int signal : {SIGINT, SIGTERM}) {
    test::RunOptions stop;
    stop.signal_after_err = "device:";  // the handlers are in place
    stop.signals = {signal};
    const auto start = std::chrono::steady_clock::now();
    const test::RunResult r = test::run_w2v(with(train_args(c), {"--threads", "2"}), stop);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(r.exit_status, 128 + signal) << r.describe();
    EXPECT_NE(r.err.find("stopped by signal " + std::to_string(signal) +
                         " before training: nothing written"),
              std::string::npos)
        << r.describe();
    EXPECT_EQ(r.err.find("error"), std::string::npos) << r.describe();
    EXPECT_LT(seconds, 10) << "stopped only after the preparation";
    EXPECT_FALSE(file_exists(c.output));
    std::vector<std::string> left;
    for (const auto& e : std::filesystem::directory_iterator(dir.path()))
      left.push_back(e.path().filename().string());
    std::sort(left.begin(), left.end());
    EXPECT_EQ(left, (std::vector<std::string>{"corpus.txt", "shards"})) << "no cache, no scratch";
  }
}

// A disk that fills up (a file size limit stands in for it): one line naming the file, the
// previous file intact, no temporary file left.
TEST(CliFullDisk, EveryWriterReportsTheFileAndKeepsThePreviousOne) {
  test::TempDir dir;
  TrainConfig c = small_run(dir, 1'000'000);
  c.output = dir.file("vectors.txt");
  const auto args = train_args(c);
  auto full_disk = [&](const std::vector<std::string>& run_args, long limit,
                       const std::string& victim) {
    const std::string previous = "the previous " + victim + "\n";
    test::write_file(victim, previous);
    test::RunOptions o;
    o.file_size_limit = limit;
    const test::RunResult r = test::run_w2v(run_args, o);
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    EXPECT_NE(r.err.find("w2v: error: " + victim + ": write failed: File too large"),
              std::string::npos)
        << r.describe();
    EXPECT_EQ(test::read_file(victim), previous);
    EXPECT_TRUE(temporary_files(dir.path()).empty()) << r.describe();
  };
  // The cache first (nothing built yet), then the vectors and the checkpoint with the cache
  // in place. Text vectors of 16 dims take ~9x the vocabulary's floats; the checkpoint 8x.
  full_disk(args, 200'000, dir.file("corpus.txt.mc5.tokens"));
  ASSERT_EQ(test::run_w2v(with(args, {"--epochs", "1", "--quiet"})).exit_status, 0);
  const auto vectors_bytes = static_cast<long>(std::filesystem::file_size(c.output));
  std::filesystem::remove(c.output);
  full_disk(with(args, {"--quiet"}), vectors_bytes / 2, c.output);
  full_disk(with(args, {"--checkpoint", dir.file("run.ckpt"), "--checkpoint-every", "0.01"}),
            vectors_bytes / 2, dir.file("run.ckpt"));
}

// The loss log fills the disk while the trainer's threads run (the monitoring thread writes
// it): the same one line and no temporary file, from the CPU trainer and from the GPU
// pipeline on its twins (which ended in std::terminate, with the message lost).
TEST(CliFullDisk, ALossLogThatFillsTheDiskMidRunEndsItWithOneLine) {
  test::TempDir dir;
  const TrainConfig c = small_run(dir, 1'000'000);
  ASSERT_EQ(test::run_w2v(with(train_args(c), {"--epochs", "1", "--quiet"})).exit_status, 0);
  const std::string log = dir.file("loss.csv");
  for (const std::string path : {"cpu", "modular", "fused"}) {
    test::write_file(log, "the previous log\n");
    // A row a millisecond, each flushed: the limit is passed within the first epoch.
    const auto args =
        with(train_args(c), {"--device", path == "cpu" ? "cpu" : "twin", "--gpu-path",
                             path == "cpu" ? "auto" : path, "--epochs", "10", "--progress-interval",
                             "0.001", "--loss-log", log, "--quiet"});
    test::RunOptions o;
    o.file_size_limit = 1000;
    const test::RunResult r = test::run_w2v(args, o);
    EXPECT_EQ(r.exit_status, 1) << path << ": " << r.describe();
    EXPECT_NE(r.err.find("w2v: error: " + log + ": write failed: File too large"),
              std::string::npos)
        << path << ": " << r.describe();
    EXPECT_EQ(test::read_file(log), "the previous log\n") << path;
    EXPECT_TRUE(temporary_files(dir.path()).empty()) << path << ": " << r.describe();
  }
}

// Two processes preparing the same corpus into one cache directory at once: one builds, the
// other waits and reuses it; both train and the cache is whole.
TEST(CliCache, TwoProcessesShareOneCacheDirectory) {
  test::TempDir dir;
  TrainConfig c = small_run(dir, 6'000'000);
  test::RunResult a, b;
  auto args_for = [&](const std::string& out) {
    TrainConfig own = c;
    own.output = dir.file(out);
    return with(train_args(own), {"--epochs", "1"});
  };
  std::thread first([&] { a = test::run_w2v(args_for("a.bin")); });
  std::thread second([&] { b = test::run_w2v(args_for("b.bin")); });
  first.join();
  second.join();
  ASSERT_EQ(a.exit_status, 0) << a.describe();
  ASSERT_EQ(b.exit_status, 0) << b.describe();
  const auto built = [](const test::RunResult& r) {
    return r.err.find("building vocabulary") != std::string::npos;
  };
  EXPECT_NE(built(a), built(b)) << "exactly one process builds\n"
                                << a.describe() << "\n"
                                << b.describe();
  EXPECT_TRUE(temporary_files(dir.path()).empty());
  EXPECT_EQ(test::read_file(dir.file("a.bin")), test::read_file(dir.file("b.bin")));
}

// A run waiting for the cache's lock, which another process holds for as long as it likes,
// still stops at a signal.
TEST(CliCache, AStopSignalEndsTheWaitForTheCachesLock) {
  test::TempDir dir;
  const TrainConfig c = small_run(dir, 300'000);
  const FileLock held(dir.path(), nullptr);
  test::RunOptions stop;
  stop.signal_after_err = "waiting for another process";
  stop.signals = {SIGINT};
  stop.timeout_seconds = 30;
  const test::RunResult r = test::run_w2v(train_args(c), stop);
  ASSERT_FALSE(r.timed_out) << "still waiting after the signal\n" << r.describe();
  EXPECT_EQ(r.exit_status, 130) << r.describe();
  EXPECT_NE(r.err.find("stopped by signal 2 before training: nothing written"), std::string::npos)
      << r.describe();
  EXPECT_FALSE(file_exists(c.output));
  EXPECT_TRUE(temporary_files(dir.path()).empty());
}

}  // namespace
}  // namespace w2v
