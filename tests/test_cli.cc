// The `w2v` binary as a user runs it: help, training outputs, the corpus cache, and bad
// input. Every failure must be one error line naming the file or flag, a non-zero exit, and
// no output file (finished or temporary) left behind.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "support/require_gpu.h"
#include "support/run_w2v.h"
#include "w2v/flags.h"
#include "w2v/io.h"
#include "w2v/kernels/device.h"
#include "w2v/vectors.h"

namespace w2v {
namespace {

const std::string kText8 = W2V_SOURCE_DIR "/../shared/data/text8_prefix.txt";

std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  for (const auto& line : test::split_lines(text))
    if (line.find(needle) != std::string::npos) out.push_back(line);
  return out;
}

bool has_temporary_file(const test::TempDir& dir) {
  for (const auto& name : test::list_dir(dir.path()))
    if (name.find(".tmp.") != std::string::npos) return true;
  return false;
}

// A small real corpus: 300 kB of text8 (about 50k tokens), or a synthetic one where the
// shared data is missing.
std::string write_small_corpus(const test::TempDir& dir, const std::string& name = "c.txt") {
  std::string text;
  if (file_exists(kText8)) {
    text = test::read_file(kText8).substr(0, 300'000);
  } else {
    // "the" for the neighbour queries; a vocabulary that grows along the text, so that a
    // prefix of it has fewer words than the whole.
    for (int i = 0; i < 40000; ++i) {
      if (i % 5 == 0) {
        text += "the";
      } else {
        text += 'w';
        text += std::to_string(i % (20 + i / 200));
      }
      text += i % 13 ? ' ' : '\n';
    }
  }
  test::write_file(dir.file(name), text);
  return dir.file(name);
}

class Cli : public ::testing::Test {
 protected:
  // Runs `w2v args...` expecting failure: exit `status`, exactly one error line that
  // contains every string of `names`, and no output or temporary file.
  void expect_clean_failure(const std::vector<std::string>& args,
                            const std::vector<std::string>& names, int status = 1,
                            const std::string& output = "") {
    test::RunResult r = test::run_w2v(args);
    ASSERT_TRUE(r.exited()) << r.describe();
    EXPECT_EQ(r.exit_status, status) << r.describe();
    std::vector<std::string> errors = lines_with(r.err, "error");
    ASSERT_EQ(errors.size(), 1u) << r.describe();
    EXPECT_EQ(errors[0].rfind("w2v: error: ", 0), 0u) << errors[0];
    EXPECT_EQ(test::split_lines(r.err).back(), errors[0]) << "the error is the last line";
    for (const auto& name : names)
      EXPECT_NE(errors[0].find(name), std::string::npos) << "names " << name << ": " << errors[0];
    if (!output.empty()) {
      EXPECT_FALSE(file_exists(output)) << output << " left behind";
    }
    EXPECT_FALSE(has_temporary_file(dir_)) << test::join(test::list_dir(dir_.path()));
  }

  // On the CPU, so that the tests mean the same on a machine with a GPU.
  std::vector<std::string> train_args(const std::string& corpus, const std::string& output) {
    return {"train", "--corpus", corpus,      "--output", output,     "--epochs", "1",
            "--dim", "16",       "--threads", "2",        "--device", "cpu",      "--quiet"};
  }

  // A CPU trainer's flag (`flag_args`, called `name` in messages): --device auto trains on the
  // CPU and says why (its run in `auto_run`, into v.txt); --device cuda or twin is one error.
  void expect_cpu_only(const std::vector<std::string>& flag_args, const std::string& name,
                       test::RunResult& auto_run) {
    auto args = train_args(write_small_corpus(dir_), dir_.file("v.txt"));
    args[args.size() - 2] = "auto";  // after --device
    args.insert(args.end(), flag_args.begin(), flag_args.end());
    auto_run = test::run_w2v(args);
    ASSERT_EQ(auto_run.exit_status, 0) << auto_run.describe();
    EXPECT_EQ(lines_with(auto_run.err, "device: cpu (" + name + ": the CPU trainer's only)").size(),
              1u)
        << auto_run.err;
    args[4] = dir_.file("w.txt");  // after --output
    for (const char* device : {"cuda", "twin"}) {
      args[args.size() - 2 - flag_args.size()] = device;
      expect_clean_failure(args, {std::string("--device ") + device, name}, 1, dir_.file("w.txt"));
    }
  }

  test::TempDir dir_;
};

TEST_F(Cli, HelpListsCommandsAndLiveDefaults) {
  test::RunResult top = test::run_w2v({"--help"});
  EXPECT_EQ(top.exit_status, 0) << top.describe();
  for (const char* command : {"train", "similar", "analogy", "similarity"})
    EXPECT_NE(top.out.find(command), std::string::npos) << command;
  test::RunResult train = test::run_w2v({"train", "--help"});
  EXPECT_EQ(train.exit_status, 0) << train.describe();
  EXPECT_NE(train.out.find("--dim N"), std::string::npos);
  EXPECT_NE(train.out.find("[default: 100]"), std::string::npos);
  for (const char* command : {"similar", "analogy", "similarity"}) {
    test::RunResult r = test::run_w2v({command, "--help"});
    EXPECT_EQ(r.exit_status, 0) << r.describe();
    EXPECT_NE(r.out.find(std::string("usage: w2v ") + command), std::string::npos) << r.out;
  }
}

TEST_F(Cli, UnknownCommandsAndFlagsAreErrors) {
  expect_clean_failure({"fly"}, {"fly"});
  test::RunResult bare = test::run_w2v({});
  EXPECT_EQ(bare.exit_status, 2) << bare.describe();
  EXPECT_NE(bare.err.find("usage: w2v COMMAND"), std::string::npos) << bare.describe();
  std::string corpus = write_small_corpus(dir_);
  auto args = train_args(corpus, dir_.file("v.txt"));
  args.insert(args.end(), {"--dimension", "50"});
  expect_clean_failure(args, {"--dimension"}, 1, dir_.file("v.txt"));
  expect_clean_failure({"similar", "v.txt"}, {"similar"});
  expect_clean_failure({"analogy", "v.txt", "q.txt", "--restrict", "x"}, {"--restrict"});
}

TEST_F(Cli, TrainsAndWritesTextAndBinaryVectorsWithoutLeftovers) {
  std::string corpus = write_small_corpus(dir_);
  for (const char* name : {"v.txt", "v.bin"}) {
    auto args = train_args(corpus, dir_.file(name));
    args.insert(args.end(), {"--loss-log", dir_.file(std::string(name) + ".csv")});
    test::RunResult r = test::run_w2v(args);
    ASSERT_EQ(r.exit_status, 0) << r.describe();
    EXPECT_EQ(lines_with(r.err, "device: cpu").size(), 1u) << "announces the device\n" << r.err;
    std::vector<std::string> summary = lines_with(r.err, "trained ");
    ASSERT_EQ(summary.size(), 1u) << r.err;
    EXPECT_NE(summary[0].find("words/s, final loss"), std::string::npos) << summary[0];
    std::string vectors = test::read_file(dir_.file(name));
    std::string header = vectors.substr(0, vectors.find('\n'));
    EXPECT_EQ(header.substr(header.find(' ')), " 16") << "COUNT DIM header: " << header;
    std::string csv = test::read_file(dir_.file(std::string(name) + ".csv"));
    EXPECT_EQ(csv.rfind("words,seconds,alpha,loss,words_per_sec\n", 0), 0u);
    EXPECT_GE(test::split_lines(csv).size(), 2u);
  }
  // The binary format: the same header, then raw float32 rows; its size is exact.
  std::string text = test::read_file(dir_.file("v.txt"));
  std::string bin = test::read_file(dir_.file("v.bin"));
  EXPECT_EQ(text.substr(0, text.find('\n')), bin.substr(0, bin.find('\n')));
  EXPECT_FALSE(has_temporary_file(dir_));
  test::RunResult near = test::run_w2v({"similar", dir_.file("v.bin"), "the", "-k", "3"});
  EXPECT_EQ(near.exit_status, 0) << near.describe();
  EXPECT_EQ(test::split_lines(near.out).size(), 3u) << near.out;
}

TEST_F(Cli, ReusesTheCacheAndRebuildsItWhenTheCorpusChanges) {
  std::string corpus = write_small_corpus(dir_);
  auto args = train_args(corpus, dir_.file("v.txt"));
  args.pop_back();  // not --quiet: the cache messages are wanted
  test::RunResult first = test::run_w2v(args);
  ASSERT_EQ(first.exit_status, 0) << first.describe();
  EXPECT_EQ(lines_with(first.err, "building vocabulary").size(), 1u) << first.err;
  EXPECT_TRUE(file_exists(dir_.file("c.txt.mc5.vocab")));
  EXPECT_TRUE(file_exists(dir_.file("c.txt.mc5.tokens")));

  test::RunResult second = test::run_w2v(args);
  ASSERT_EQ(second.exit_status, 0) << second.describe();
  EXPECT_EQ(lines_with(second.err, "reusing vocabulary").size(), 1u) << second.err;
  EXPECT_TRUE(lines_with(second.err, "building vocabulary").empty()) << second.err;

  test::write_file(corpus, test::read_file(corpus) + "\nnew words at the end\n");
  test::RunResult third = test::run_w2v(args);
  ASSERT_EQ(third.exit_status, 0) << third.describe();
  EXPECT_EQ(lines_with(third.err, "building vocabulary").size(), 1u) << "a stale cache is rebuilt";
}

TEST_F(Cli, MissingCorpus) {
  expect_clean_failure(train_args(dir_.file("nope.txt"), dir_.file("v.txt")),
                       {"nope.txt", "no such file"}, 1, dir_.file("v.txt"));
}

TEST_F(Cli, CorpusThatIsAnEmptyDirectory) {
  // A directory is a sharded corpus (its files in sorted order); one with no file is an error.
  std::filesystem::create_directory(dir_.file("shards"));
  expect_clean_failure(train_args(dir_.file("shards"), dir_.file("v.txt")),
                       {dir_.file("shards"), "holds no file"}, 1, dir_.file("v.txt"));
}

TEST_F(Cli, TrainsOnADirectoryOfShards) {
  const std::string text = test::read_file(write_small_corpus(dir_));
  const std::size_t cut = text.find(' ', text.size() / 2);
  std::filesystem::create_directory(dir_.file("shards"));
  test::write_file(dir_.file("shards/a.txt"), text.substr(0, cut));
  test::write_file(dir_.file("shards/b.txt"), text.substr(cut));
  auto args = train_args(dir_.file("shards"), dir_.file("v.txt"));
  args.pop_back();  // not --quiet: the preparation's lines are wanted
  test::RunResult r = test::run_w2v(args);
  ASSERT_EQ(r.exit_status, 0) << r.describe();
  EXPECT_EQ(lines_with(r.err, "prepared ").size(), 1u) << r.err;
  EXPECT_TRUE(file_exists(dir_.file("shards.mc5.tokens")))
      << test::join(test::list_dir(dir_.path()));
}

TEST_F(Cli, UnreadableCorpus) {
  // File permissions do not stop root (as in CI containers); /proc/self/mem is a regular
  // file whose first bytes nobody can read (EIO), so it stands in there.
  std::string corpus = "/proc/self/mem", reason = "read error";
  if (::geteuid() != 0) {
    corpus = write_small_corpus(dir_);
    ASSERT_EQ(::chmod(corpus.c_str(), 0), 0);
    reason = "Permission denied";
  }
  expect_clean_failure(train_args(corpus, dir_.file("v.txt")), {corpus, reason}, 1,
                       dir_.file("v.txt"));
}

TEST_F(Cli, EmptyCorpus) {
  test::write_file(dir_.file("empty.txt"), " \n\n");
  expect_clean_failure(train_args(dir_.file("empty.txt"), dir_.file("v.txt")),
                       {"empty.txt", "empty"}, 1, dir_.file("v.txt"));
}

TEST_F(Cli, NoWordReachesMinCount) {
  test::write_file(dir_.file("few.txt"), "a b c d\na b\n");
  expect_clean_failure(train_args(dir_.file("few.txt"), dir_.file("v.txt")),
                       {"few.txt", "--min-count"}, 1, dir_.file("v.txt"));
}

TEST_F(Cli, BadDestinationsAndResumeFilesFailBeforeTheCorpusIsPrepared) {
  const std::string corpus = write_small_corpus(dir_);
  std::filesystem::create_directory(dir_.file("out"));
  // /proc takes no new file, even from root (CI containers), so it stands for a read-only place.
  const struct {
    const char* flag;
    std::string path, problem;
  } cases[] = {
      {"--output", dir_.file("out"), "is a directory"},
      {"--output", dir_.file("missing/v.txt"), "its directory does not exist"},
      {"--output", "/proc/w2v-test.txt", "cannot write"},
      {"--checkpoint", dir_.file("out"), "is a directory"},
      {"--trace", "/proc/w2v-test.json", "cannot write"},
      {"--loss-log", dir_.file("missing/loss.tsv"), "its directory does not exist"},
      {"--resume", dir_.file("missing.ckpt"), "no such file"},
      {"--resume", dir_.file("out"), "not a regular file"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.flag) + " " + c.path);
    auto args = train_args(corpus, c.flag == std::string("--output") ? c.path : dir_.file("v.txt"));
    if (c.flag != std::string("--output")) args.insert(args.end(), {c.flag, c.path});
    expect_clean_failure(args, {c.path, c.problem, std::string("(") + c.flag + ")"}, 1,
                         dir_.file("v.txt"));
    EXPECT_FALSE(file_exists(dir_.file("c.txt.mc5.tokens"))) << "prepared before failing";
  }
}

TEST_F(Cli, WhatARunWritesNeverReplacesWhatItReads) {
  const std::string corpus = write_small_corpus(dir_);
  const std::string text = test::read_file(corpus);
  const std::string shards = dir_.file("shards");
  std::filesystem::create_directory(shards);
  test::write_file(shards + "/a.txt", text.substr(0, text.size() / 2));
  test::write_file(shards + "/b.txt", text.substr(text.size() / 2));
  const std::string v = dir_.file("v.txt");
  auto with = [](std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  const struct {
    std::vector<std::string> args, names;
  } cases[] = {
      {train_args(corpus, corpus), {corpus, "is a file of the corpus", "--output"}},
      {train_args(shards + "," + corpus, dir_.path() + "/shards/../c.txt"),
       {"is a file of the corpus"}},
      {train_args(corpus + "," + shards, shards + "/v.txt"),
       {shards + "/v.txt", "is in the corpus directory " + shards, "--output"}},
      {with(train_args(shards, v), {"--cache-dir", shards + "/"}),
       {shards, "the corpus cache would go into this corpus directory", "--cache-dir"}},
      {with(train_args(corpus, v), {"--checkpoint", v}),
       {v, "given to both --output and --checkpoint"}},
      {with(train_args(corpus, v), {"--loss-log", dir_.path() + "/./v.txt"}),
       {v, "given to both --output and --loss-log"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(test::join(c.args));
    expect_clean_failure(c.args, c.names, 1);
    EXPECT_EQ(test::read_file(corpus), text) << "the corpus is intact";
    EXPECT_EQ(test::list_dir(shards), (std::vector<std::string>{"a.txt", "b.txt"}));
    EXPECT_FALSE(file_exists(v));
  }
}

TEST_F(Cli, VectorsGoInPlaceIntoAPipe) {
  // As `--output /dev/stdout | ...` does: a rename onto the FIFO would replace it (or, from
  // root, /dev/stdout's device node), so nothing would reach the reader.
  const std::string corpus = write_small_corpus(dir_);
  const std::string fifo = dir_.file("vectors.fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int fd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);  // returns before a writer opens
  ASSERT_GE(fd, 0);
  std::atomic<bool> writer_done{false};
  std::string received;
  std::thread reader([&] {
    char buffer[1 << 16];
    for (;;) {
      const bool last = writer_done.load();  // read before the drain that follows it
      ssize_t n;
      while ((n = ::read(fd, buffer, sizeof buffer)) > 0) received.append(buffer, n);
      if (last) return;
      ::usleep(1000);
    }
  });
  auto args = train_args(corpus, fifo);
  args.insert(args.end(), {"--format", "text", "--min-count", "3"});
  test::RunOptions options;
  options.working_directory = dir_.file("work");
  std::filesystem::create_directory(options.working_directory);
  const test::RunResult r = test::run_w2v(args, options);
  writer_done = true;
  reader.join();
  ::close(fd);
  ASSERT_EQ(r.exit_status, 0) << r.describe();
  const std::vector<std::string> lines = test::split_lines(received);
  ASSERT_GT(lines.size(), 100u) << received.substr(0, 200);
  EXPECT_EQ(lines[0], std::to_string(lines.size() - 1) + " 16");
  struct stat st {};
  ASSERT_EQ(::stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the FIFO was replaced";
  EXPECT_TRUE(file_exists(dir_.file("work/c.txt.mc3.tokens")))
      << "the cache in the working directory: " << test::join(test::list_dir(dir_.path()));
}

// Under AddressSanitizer the binary cannot start under an address-space limit (its shadow).
#ifndef W2V_SANITIZED
TEST_F(Cli, TablesThatDoNotFitInMemoryAreAClearError) {
  // 5,000 words at --dim 100000: two tables of 2 GB, under `ulimit -v` 2 GB.
  std::string text;
  for (int i = 0; i < 5000; ++i) {
    text += 'w';
    text += std::to_string(i);
    text += i % 20 == 19 ? '\n' : ' ';
  }
  test::write_file(dir_.file("c.txt"), text);
  auto args = train_args(dir_.file("c.txt"), dir_.file("v.txt"));
  args.insert(args.end(), {"--min-count", "1", "--dim", "100000"});
  test::RunOptions options;
  options.address_space_limit = 2L << 30;
  const test::RunResult r = test::run_w2v(args, options);
  ASSERT_TRUE(r.exited()) << r.describe();
  EXPECT_EQ(r.exit_status, 1) << r.describe();
  const std::vector<std::string> errors = lines_with(r.err, "error");
  ASSERT_EQ(errors.size(), 1u) << r.describe();
  for (const char* part : {"memory: training needs 3.73 GiB", "input vectors 1.86 GiB",
                           "output vectors 1.86 GiB", "but this machine has", "reduce --dim"})
    EXPECT_NE(errors[0].find(part), std::string::npos) << part << ": " << errors[0];
  EXPECT_FALSE(file_exists(dir_.file("v.txt")));
  EXPECT_FALSE(has_temporary_file(dir_)) << test::join(test::list_dir(dir_.path()));
}
#endif

TEST_F(Cli, WordsThatAreNotUtf8AreWrittenAsTheyAreWithAWarning) {
  std::string line;
  for (int i = 0; i < 10; ++i) line += "caf\xe9 na\xefve the cat ";  // Latin-1
  std::string text;
  for (int i = 0; i < 50; ++i) text += line + "\n";
  test::write_file(dir_.file("latin1.txt"), text);
  auto args = train_args(dir_.file("latin1.txt"), dir_.file("v.txt"));
  args.insert(args.end(), {"--min-count", "1"});
  const test::RunResult r = test::run_w2v(args);
  ASSERT_EQ(r.exit_status, 0) << r.describe();
  const std::vector<std::string> warnings = lines_with(r.err, "warning");
  ASSERT_EQ(warnings.size(), 1u) << r.describe();
  EXPECT_NE(warnings[0].find("2 of 4 words are not UTF-8"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("unicode_errors='replace'"), std::string::npos) << warnings[0];
  EXPECT_TRUE(is_utf8(warnings[0])) << "the warning shows the bytes escaped";
  const Embeddings e = read_vectors(dir_.file("v.txt"));
  EXPECT_NE(std::find(e.words.begin(), e.words.end(), "caf\xe9"), e.words.end());

  test::write_file(dir_.file("utf8.txt"), "caf\xc3\xa9 \xe6\x97\xa5 the cat\n");
  args = train_args(dir_.file("utf8.txt"), dir_.file("u.txt"));
  args.insert(args.end(), {"--min-count", "1"});
  const test::RunResult utf8 = test::run_w2v(args);
  ASSERT_EQ(utf8.exit_status, 0) << utf8.describe();
  EXPECT_TRUE(lines_with(utf8.err, "warning").empty()) << utf8.describe();
}

TEST_F(Cli, BinaryGarbageCorpus) {
  std::string garbage;
  std::uint32_t x = 12345;
  for (int i = 0; i < 50000; ++i) garbage += static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  test::write_file(dir_.file("garbage.bin"), garbage);
  expect_clean_failure(train_args(dir_.file("garbage.bin"), dir_.file("v.txt")),
                       {"garbage.bin", "binary"}, 1, dir_.file("v.txt"));
}

TEST_F(Cli, EncodedCorpusNeedsItsOwnVocabulary) {
  std::string a = write_small_corpus(dir_, "a.txt");
  test::write_file(dir_.file("b.txt"), test::read_file(a).substr(0, 100'000));
  for (const char* corpus : {"a.txt", "b.txt"})
    ASSERT_EQ(test::run_w2v(train_args(dir_.file(corpus), dir_.file("v.txt"))).exit_status, 0);
  std::remove(dir_.file("v.txt").c_str());
  const std::string tokens = dir_.file("a.txt.mc5.tokens");
  auto args = train_args(tokens, dir_.file("v.txt"));
  args.insert(args.end(), {"--vocab", dir_.file("b.txt.mc5.vocab")});
  expect_clean_failure(args, {"a.txt.mc5.tokens", "another vocabulary"}, 1, dir_.file("v.txt"));
  expect_clean_failure(train_args(tokens, dir_.file("v.txt")), {"a.txt.mc5.tokens", "--vocab"}, 1,
                       dir_.file("v.txt"));
  // With its own vocabulary it trains.
  args.back() = dir_.file("a.txt.mc5.vocab");
  EXPECT_EQ(test::run_w2v(args).exit_status, 0);
}

TEST_F(Cli, InvalidFlagValuesNameTheFlag) {
  std::string corpus = write_small_corpus(dir_);
  const std::string out = dir_.file("v.txt");
  const std::vector<std::vector<std::string>> cases = {
      {"--dim", "0"},
      {"--window", "-1"},
      {"--epochs", "0"},
      {"--sample", "-1"},
      {"--alpha", "abc"},
      {"--model", "lstm"},
      {"--threads", "1x"},
      {"--format", "json"},
      {"--negative", "0"},
      {"--min-count", "-5"},
      {"--device", "tpu"},
      {"--loss", "hinge"},
      {"--optimizer", "lbfgs"},
      {"--momentum", "1"},
      {"--scatter", "x"},
      {"--batch", "-3"},
      {"--gpu-path", "x"},
      {"--fused-tokens", "5"},
      {"--fused-update", "x"},
      {"--fused-window-rows", "x"},
      {"--fused-streams", "5"},
      // Flags the CPU trainer cannot honour are refused, not ignored.
      {"--optimizer", "adam"},
      {"--profile-steps", "5"},
      {"--fused-streams", "2"},
      {"--gpu-path", "fused"},
  };
  for (const auto& flag : cases) {
    SCOPED_TRACE(flag[0] + " " + flag[1]);
    auto args = train_args(corpus, out);
    args.insert(args.end(), flag.begin(), flag.end());
    expect_clean_failure(args, {flag[0]}, 1, out);
  }
  expect_clean_failure(train_args(corpus, dir_.file("no/such/dir/v.txt")), {"--output"});
}

TEST_F(Cli, DivergenceExitsWithStatus3AndWritesNothing) {
  std::string corpus = write_small_corpus(dir_);
  auto args = train_args(corpus, dir_.file("v.txt"));
  args.insert(args.end(), {"--alpha", "1e30", "--loss-log", dir_.file("loss.csv")});
  expect_clean_failure(args, {"diverged", "--alpha"}, 3, dir_.file("v.txt"));
  EXPECT_FALSE(file_exists(dir_.file("loss.csv")));
}

TEST_F(Cli, CudaDeviceWithoutAGpuIsAnError) {
  if (gpu::probe_device().available) GTEST_SKIP() << "a CUDA device is present";
  std::string corpus = write_small_corpus(dir_);
  auto args = train_args(corpus, dir_.file("v.txt"));
  args.insert(args.end(), {"--device", "cuda"});
  expect_clean_failure(args, {"--device cuda"}, 1, dir_.file("v.txt"));
}

// --device auto that comes to the CPU says why when the CPU trainer refuses a GPU-only flag.
TEST_F(Cli, AutoOnTheCpuSaysWhyWhenAGpuOnlyFlagIsRefused) {
  const gpu::DeviceInfo device = gpu::probe_device();
  if (device.available) GTEST_SKIP() << "a CUDA device is present";
  std::string corpus = write_small_corpus(dir_);
  auto args = train_args(corpus, dir_.file("v.txt"));
  args[args.size() - 2] = "auto";  // after --device
  args.insert(args.end(), {"--optimizer", "adam"});
  expect_clean_failure(args,
                       {"--optimizer adam", "--device auto: no CUDA device: " + device.description},
                       1, dir_.file("v.txt"));
}

// --loss hs is the CPU trainer's: --device auto takes the CPU, saying why, on any machine;
// a GPU device asked for is one error line.
TEST_F(Cli, HierarchicalSoftmaxTrainsOnTheCpu) {
  test::RunResult r;
  ASSERT_NO_FATAL_FAILURE(expect_cpu_only({"--loss", "hs"}, "--loss hs", r));
  EXPECT_EQ(lines_with(r.err, "skipgram/hs, dim 16, window 5, sample").size(), 1u) << r.err;
  std::string vectors = test::read_file(dir_.file("v.txt"));
  EXPECT_EQ(vectors.substr(vectors.find(' '), 4), " 16\n");
}

// So is --copied-rows.
TEST_F(Cli, CopiedRowsTrainOnTheCpu) {
  test::RunResult r;
  ASSERT_NO_FATAL_FAILURE(expect_cpu_only({"--copied-rows", "16"}, "--copied-rows", r));
}

TEST_F(Cli, TrainsOnTheGpuWhenThereIsOne) {
  REQUIRE_GPU();
  std::string corpus = write_small_corpus(dir_);
  for (const char* device : {"cuda", "auto"}) {
    auto args = train_args(corpus, dir_.file("v.txt"));
    args[args.size() - 2] = device;  // after --device
    test::RunResult r = test::run_w2v(args);
    ASSERT_EQ(r.exit_status, 0) << r.describe();
    EXPECT_EQ(lines_with(r.err, "device: cuda").size(), 1u) << r.err;
    EXPECT_EQ(lines_with(r.err, "gpu: fused path").size(), 1u) << r.err;
    std::string vectors = test::read_file(dir_.file("v.txt"));
    EXPECT_EQ(vectors.substr(vectors.find(' '), 4), " 16\n");
    EXPECT_FALSE(has_temporary_file(dir_));
  }
  auto args = train_args(corpus, dir_.file("v.txt"));
  args[args.size() - 2] = "cuda";
  args.insert(args.end(), {"--gpu-path", "modular"});
  test::RunResult r = test::run_w2v(args);
  ASSERT_EQ(r.exit_status, 0) << r.describe();
  EXPECT_EQ(lines_with(r.err, "gpu: modular path").size(), 1u) << r.err;
}

// --device twin runs the GPU trainer's paths on the CPU, on any machine.
TEST_F(Cli, TrainsOnTheCpuTwinOfTheGpuTrainer) {
  std::string corpus = write_small_corpus(dir_);
  auto args = train_args(corpus, dir_.file("v.txt"));
  args[args.size() - 2] = "twin";
  args.insert(args.end(), {"--twin-warps", "8"});
  test::RunResult r = test::run_w2v(args);
  ASSERT_EQ(r.exit_status, 0) << r.describe();
  EXPECT_EQ(lines_with(r.err,
                       "device: twin (the GPU trainer's fused path on the CPU, 8 warps in "
                       "lock step)")
                .size(),
            1u)
      << r.err;
  EXPECT_EQ(lines_with(r.err, "alpha 0.05,").size(), 1u) << r.err;  // negative sampling's
  EXPECT_EQ(lines_with(r.err, "negative 5, noise unigram^0.75, sample").size(), 1u) << r.err;
  // The pipeline times its training apart from the trainer's setup and wrap-up.
  EXPECT_EQ(lines_with(r.err, "trainer setup ").size(), 1u) << r.err;
  std::string vectors = test::read_file(dir_.file("v.txt"));
  EXPECT_EQ(vectors.substr(vectors.find(' '), 4), " 16\n");
  args.insert(args.end(), {"--fused-warps", "4"});
  r = test::run_w2v(args);
  ASSERT_EQ(r.exit_status, 0) << r.describe();
  EXPECT_EQ(lines_with(r.err, "fused path on the CPU, 4 warps in lock step)").size(), 1u) << r.err;
  args.resize(args.size() - 2);
  args.insert(args.end(), {"--gpu-path", "modular"});
  r = test::run_w2v(args);
  ASSERT_EQ(r.exit_status, 0) << r.describe();
  EXPECT_EQ(lines_with(r.err, "device: twin (the GPU trainer's modular path on the CPU)").size(),
            1u)
      << r.err;
  EXPECT_EQ(lines_with(r.err, "alpha 0.05,").size(), 1u) << r.err;  // as on every path
  // BCE's rate follows the vocabulary, known only once the corpus is prepared, and the modular
  // path's centers a step.
  args.insert(args.end(), {"--loss", "bce", "--batch", "512"});
  r = test::run_w2v(args);
  ASSERT_EQ(r.exit_status, 0) << r.describe();
  const std::size_t at = r.err.find("vocabulary ");
  ASSERT_NE(at, std::string::npos) << r.err;
  const double vocab = std::stod(r.err.substr(at + 11));
  const double rate = std::min(0.025, std::sqrt(10 / vocab)) / std::sqrt(512.0);
  EXPECT_EQ(lines_with(r.err, "alpha " + flags::show(rate) + ",").size(), 1u) << r.err;
  EXPECT_TRUE(lines_with(r.err, "negative").empty()) << r.err;  // no noise words in BCE
  EXPECT_FALSE(has_temporary_file(dir_));
}

TEST_F(Cli, DamagedVectorFilesAreRejected) {
  std::string corpus = write_small_corpus(dir_);
  for (const char* name : {"v.txt", "v.bin"})
    ASSERT_EQ(test::run_w2v(train_args(corpus, dir_.file(name))).exit_status, 0);
  std::string text = test::read_file(dir_.file("v.txt"));
  std::string bin = test::read_file(dir_.file("v.bin"));
  test::write_file(dir_.file("cut.txt"), text.substr(0, text.size() / 2));
  test::write_file(dir_.file("cut.bin"), bin.substr(0, bin.size() - 7));
  std::string bad_value = text;
  bad_value.replace(bad_value.find('\n', bad_value.find('\n') + 1) - 3, 1, "#");
  test::write_file(dir_.file("bad.txt"), bad_value);
  test::write_file(dir_.file("noheader.txt"), text.substr(text.find('\n') + 1));
  for (const char* name : {"cut.txt", "cut.bin", "bad.txt", "noheader.txt"}) {
    expect_clean_failure({"similar", dir_.file(name), "the"}, {name});
    expect_clean_failure({"analogy", dir_.file(name), dir_.file("q.txt")}, {name});
  }
  expect_clean_failure({"similar", dir_.file("missing.vec"), "the"}, {"missing.vec"});
  expect_clean_failure({"analogy", dir_.file("v.txt"), dir_.file("q.txt")}, {"q.txt"});
  expect_clean_failure({"similarity", dir_.file("v.bin"), dir_.file("v.bin")}, {"v.bin"});
  expect_clean_failure({"similar", dir_.file("v.txt"), "zzzunknownzzz"}, {"zzzunknownzzz"});
}

}  // namespace
}  // namespace w2v
