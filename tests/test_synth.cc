// `w2v synth`: exact size, Zipf frequencies, topic co-occurrence, determinism; the encoded
// output equals preparing the text.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "support/run_w2v.h"
#include "w2v/corpus.h"
#include "w2v/error.h"
#include "w2v/io.h"
#include "w2v/synth.h"

namespace w2v {
namespace {

struct Corpus {
  std::vector<std::vector<std::string>> sentences;
  std::unordered_map<std::string, std::uint64_t> counts;
  std::uint64_t tokens = 0;
};

Corpus read_corpus(const std::string& path) {
  Corpus c;
  for (const auto& line : test::split_lines(test::read_file(path))) {
    std::istringstream in(line);
    std::vector<std::string> sentence;
    for (std::string w; in >> w;) {
      ++c.counts[w];
      sentence.push_back(w);
    }
    c.tokens += sentence.size();
    c.sentences.push_back(std::move(sentence));
  }
  return c;
}

SynthConfig small_config(const test::TempDir& dir) {
  SynthConfig c;
  c.output = dir.file("synth.txt");
  c.tokens = 3'000'001;  // three chunks and one token more
  c.vocab = 5000;
  c.topics = 20;
  c.threads = 2;
  return c;
}

TEST(Synth, WordsAreDistinctBase26) {
  EXPECT_EQ(synth_word(0), "a");
  EXPECT_EQ(synth_word(25), "z");
  EXPECT_EQ(synth_word(26), "ba");
  std::set<std::string> seen;
  for (std::uint64_t id = 0; id < 20000; ++id) EXPECT_TRUE(seen.insert(synth_word(id)).second);
}

TEST(Synth, ExactSizeZipfFrequenciesAndSentenceLengths) {
  test::TempDir dir;
  SynthConfig config = small_config(dir);
  write_synthetic_corpus(config);
  Corpus c = read_corpus(config.output);
  EXPECT_EQ(c.tokens, config.tokens);
  EXPECT_LE(c.counts.size(), config.vocab);
  std::size_t short_sentences = 0;
  for (const auto& s : c.sentences) {
    EXPECT_LE(s.size(), config.max_sentence);
    short_sentences += s.size() < config.min_sentence;
  }
  EXPECT_LE(short_sentences, 4u) << "only a chunk's last sentence is cut short";

  // Least-squares slope of log(count) against log(rank) over ranks 10..1000: about
  // -exponent (the topic mixture flattens it a little).
  std::vector<std::uint64_t> sorted;
  for (const auto& [w, n] : c.counts) sorted.push_back(n);
  std::sort(sorted.rbegin(), sorted.rend());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  int m = 0;
  for (std::size_t r = 10; r <= 1000; ++r, ++m) {
    double x = std::log(double(r)), y = std::log(double(sorted[r - 1]));
    sx += x, sy += y, sxx += x * x, sxy += x * y;
  }
  double slope = (m * sxy - sx * sy) / (m * sxx - sx * sx);
  EXPECT_GT(slope, -1.2);
  EXPECT_LT(slope, -0.7);
}

// Two head words of one topic share sentences far more often than independence predicts;
// head words of different topics do not.
TEST(Synth, WordsOfOneTopicCoOccur) {
  test::TempDir dir;
  SynthConfig config = small_config(dir);
  write_synthetic_corpus(config);
  Corpus c = read_corpus(config.output);
  auto lift = [&](const std::string& a, const std::string& b) {
    double na = 0, nb = 0, both = 0;
    for (const auto& s : c.sentences) {
      bool ha = std::find(s.begin(), s.end(), a) != s.end();
      bool hb = std::find(s.begin(), s.end(), b) != s.end();
      na += ha, nb += hb, both += ha && hb;
    }
    double n = double(c.sentences.size());
    return (both / n) / ((na / n) * (nb / n));
  };
  // Ranks 20 and 21 of a topic: frequent within it, rare enough globally to show the lift.
  const std::string a = synth_word(synth_topic_word(config, 3, 20));
  const std::string b = synth_word(synth_topic_word(config, 3, 21));
  const std::string other = synth_word(synth_topic_word(config, 11, 20));
  double same = lift(a, b), different = lift(a, other);
  EXPECT_GT(same, 3.0) << a << " " << b;
  EXPECT_LT(different, 1.5) << a << " " << other;
}

TEST(Synth, SameSeedSameBytesWhateverTheThreads) {
  test::TempDir dir;
  SynthConfig config = small_config(dir);
  config.tokens = 2'500'000;
  write_synthetic_corpus(config);
  std::string first = test::read_file(config.output);
  config.threads = 1;
  write_synthetic_corpus(config);
  EXPECT_EQ(test::read_file(config.output), first);
  config.seed = 2;
  write_synthetic_corpus(config);
  EXPECT_NE(test::read_file(config.output), first);
}

TEST(Synth, CommandLineChecksItsFlags) {
  test::TempDir dir;
  test::RunResult ok =
      test::run_w2v({"synth", "--output", dir.file("s.txt"), "--tokens", "1000", "--vocab", "50"});
  ASSERT_EQ(ok.exit_status, 0) << ok.describe();
  EXPECT_EQ(read_corpus(dir.file("s.txt")).tokens, 1000u);
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"synth", "--tokens", "10"},
        {"synth", "--output", dir.file("t.txt"), "--tokens", "0"},
        {"synth", "--output", dir.file("t.txt"), "--min-sentence", "9", "--max-sentence", "3"},
        {"synth", "--output", dir.file("t.txt"), "--topic-share", "2"},
        {"synth", "--output", dir.file("t.txt"), "--words", "5"}}) {
    test::RunResult r = test::run_w2v(bad);
    EXPECT_EQ(r.exit_status, 1) << r.describe();
    EXPECT_EQ(test::split_lines(r.err).size(), 1u) << r.describe();
    EXPECT_FALSE(file_exists(dir.file("t.txt")));
  }
  // A directory as --output fails at once, not after a billion tokens are written.
  const test::RunResult into_directory =
      test::run_w2v({"synth", "--output", dir.path(), "--tokens", "1000000000"}, 30);
  EXPECT_EQ(into_directory.exit_status, 1) << into_directory.describe();
  EXPECT_NE(into_directory.err.find(dir.path() + ": is a directory"), std::string::npos)
      << into_directory.describe();
  test::RunResult help = test::run_w2v({"synth", "--help"});
  EXPECT_NE(help.out.find("--tokens N"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("[default: 1000000]"), std::string::npos) << help.out;
}

// Ctrl-C during a long synth leaves no partial corpus, not a temporary file of gigabytes.
TEST(Synth, AStopSignalExitsAtOnceLeavingNoFile) {
  for (const int signal : {SIGINT, SIGTERM}) {
    test::TempDir dir;
    test::RunOptions stop;
    stop.signal_after_err = "writing";  // the handlers are in place
    stop.signals = {signal};
    const test::RunResult r =
        test::run_w2v({"synth", "--output", dir.file("big.txt"), "--tokens", "2000000000"}, stop);
    EXPECT_EQ(r.exit_status, 128 + signal) << r.describe();
    EXPECT_NE(r.err.find("stopped by a signal: nothing written"), std::string::npos)
        << r.describe();
    EXPECT_TRUE(test::list_dir(dir.path()).empty()) << test::join(test::list_dir(dir.path()));
  }
}

// --encoded writes what w2v train prepares from the text (min-count 1): the same vocabulary
// and the same token ids, whatever the thread count.
TEST(Synth, EncodedOutputEqualsPreparingTheText) {
  test::TempDir dir;
  SynthConfig c = small_config(dir);
  c.tokens = 2'500'000;
  write_synthetic_corpus(c);
  CorpusBuildOptions build;
  build.min_count = 1;
  build.threads = 2;
  const Vocab want = build_encoded_corpus({c.output}, build, dir.file("from_text.tokens"));
  const std::string want_entries =
      test::read_file(dir.file("from_text.tokens")).substr(sizeof(CorpusHeader));
  for (std::uint32_t threads : {1u, 3u}) {
    c.encoded = true;
    c.threads = threads;
    c.output = dir.file("direct.tokens");
    write_synthetic_corpus(c);
    const Vocab got = Vocab::load(c.output + ".vocab");
    EXPECT_EQ(got.words(), want.words()) << threads << " threads";
    EXPECT_EQ(got.counts(), want.counts()) << threads << " threads";
    EXPECT_EQ(test::read_file(c.output).substr(sizeof(CorpusHeader)), want_entries)
        << threads << " threads";
    const EncodedCorpus corpus(c.output, got);  // the header checks out against the data
    EXPECT_EQ(corpus.token_count(), c.tokens);
  }
}

}  // namespace
}  // namespace w2v
