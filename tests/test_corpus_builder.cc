// The parallel data path (build_encoded_corpus, text_input.h): the same vocabulary and encoded
// file as the single-threaded reference (Vocab::build, EncodedCorpus::encode) whatever the
// thread count and block size; compressed and sharded inputs read as their text; bad inputs
// one clear error and no cache; a changed shard rebuilds the cache; a 10M-word vocabulary.
#include <gtest/gtest.h>
#ifdef W2V_HAVE_LZMA
#include <lzma.h>
#endif
#ifdef W2V_HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef W2V_HAVE_ZSTD
#include <zstd.h>
#endif

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "support/temp_dir.h"
#include "w2v/corpus.h"
#include "w2v/error.h"
#include "w2v/synth.h"
#include "w2v/text_input.h"
#include "w2v/vocab.h"

namespace w2v {
namespace {

const std::string kText8 = W2V_SOURCE_DIR "/../shared/data/text8_prefix.txt";

// Text with every case the tokenizer treats specially: blank lines, tabs and \r, a word of
// 150 bytes (cut at 100), words differing only in case, a line of 25,000 tokens (cut every
// 10,000), sentences whose words all fall under min-count, and no newline at the end.
std::string tricky_text() {
  std::mt19937 gen(3);
  std::string t = "The cat sat\ton the mat \r\n\n  the Cat  sat\n";
  t += std::string(150, 'x') + " " + std::string(120, 'x') + "y the\n";
  t += "rare1 rare2\n\n\t\n";
  for (int i = 0; i < 25000; ++i) {
    if (i % 7 == 0) {
      t += "The ";
    } else {
      t += 'w';
      t += std::to_string(gen() % 50);
      t += ' ';
    }
  }
  t += "\n";
  for (int line = 0; line < 300; ++line) {
    for (int i = 0; i < 1 + line % 13; ++i) {
      t += 'v';
      t += std::to_string(gen() % 200);
      t += ' ';
    }
    t += line % 3 ? "\n" : " \t\n";
  }
  t += "last words without newline";
  return t;
}

struct Reference {
  Vocab vocab;
  std::string encoded;  // after the header
};

Reference reference(const std::string& text_path, const TokenizerOptions& tokenizer,
                    std::uint64_t min_count, std::size_t max_vocab, const std::string& out) {
  Reference r;
  r.vocab = Vocab::build(text_path, tokenizer, min_count, max_vocab);
  EncodedCorpus::encode(text_path, r.vocab, tokenizer, out);
  r.encoded = test::read_file(out).substr(sizeof(CorpusHeader));
  return r;
}

void expect_same(const Vocab& got, const std::string& got_file, const Reference& want,
                 const std::string& what) {
  EXPECT_EQ(got.words(), want.vocab.words()) << what;
  EXPECT_EQ(got.counts(), want.vocab.counts()) << what;
  EXPECT_EQ(test::read_file(got_file).substr(sizeof(CorpusHeader)), want.encoded) << what;
}

TEST(CorpusBuilder, MatchesTheReferenceWhateverTheThreadsAndBlocks) {
  test::TempDir dir;
  std::vector<std::string> texts = {dir.file("tricky.txt")};
  test::write_file(texts[0], tricky_text());
  if (file_exists(kText8)) {
    texts.push_back(dir.file("text8_part.txt"));
    test::write_file(texts.back(), test::read_file(kText8).substr(0, 2'000'000));
  }
  for (const std::string& text : texts) {
    for (const bool lowercase : {false, true}) {
      const TokenizerOptions tokenizer{lowercase};
      for (const auto& [min_count, max_vocab] :
           std::vector<std::pair<std::uint64_t, std::size_t>>{{1, 0}, {3, 0}, {2, 40}}) {
        const Reference want = reference(text, tokenizer, min_count, max_vocab, dir.file("ref"));
        // The header is the same too: it is written from the same figures.
        const std::string header = test::read_file(dir.file("ref")).substr(0, sizeof(CorpusHeader));
        for (const unsigned threads : {1u, 2u, 7u}) {
          for (const std::size_t block : {std::size_t(97), std::size_t(4096), std::size_t(0)}) {
            CorpusBuildOptions o;
            o.tokenizer = tokenizer;
            o.min_count = min_count;
            o.max_vocab = max_vocab;
            o.threads = threads;
            o.block_bytes = block;
            o.memory_budget_ids = block == 97 ? 1000 : 0;  // spill most blocks to the scratch file
            const Vocab got = build_encoded_corpus({text}, o, dir.file("new"));
            const std::string what = text + (lowercase ? " lowercase" : "") + " min-count " +
                                     std::to_string(min_count) + " max-vocab " +
                                     std::to_string(max_vocab) + ", " + std::to_string(threads) +
                                     " threads, blocks of " + std::to_string(block);
            expect_same(got, dir.file("new"), want, what);
            EXPECT_EQ(test::read_file(dir.file("new")).substr(0, sizeof(CorpusHeader)), header)
                << what;
          }
        }
      }
    }
  }
  // Nothing is left behind but the outputs (no scratch file).
  for (const std::string& name : test::list_dir(dir.path()))
    EXPECT_EQ(name.find(".tmp."), std::string::npos) << name;
}

TEST(CorpusBuilder, AStopSignalEndsTheBuildLeavingNoFile) {
  test::TempDir dir;
  std::string text;
  while (text.size() < 4'000'000) text += tricky_text();
  test::write_file(dir.file("in.txt"), text);
  const std::string out = dir.file("out");
  // While counting: a signal from the first poll. While encoding: a signal once the encoded
  // file's temporary exists, so only then.
  const std::string encoding = out + ".tmp." + std::to_string(::getpid());
  for (const bool while_encoding : {false, true}) {
    SCOPED_TRACE(while_encoding ? "while encoding" : "while counting");
    int polls = 0;
    bool saw_encoding = false;
    CorpusBuildOptions o;
    o.min_count = 1;
    o.threads = 2;
    o.block_bytes = 1 << 16;
    o.stop_signal = [&] {
      ++polls;
      saw_encoding = saw_encoding || file_exists(encoding);
      return !while_encoding || saw_encoding ? SIGTERM : 0;
    };
    try {
      build_encoded_corpus({dir.file("in.txt")}, o, out);
      ADD_FAILURE() << "not stopped";
    } catch (const StoppedError& e) {
      EXPECT_EQ(e.signal(), SIGTERM);
    }
    EXPECT_EQ(saw_encoding, while_encoding) << polls << " polls";
    EXPECT_EQ(test::list_dir(dir.path()), std::vector<std::string>{"in.txt"});
  }
}

TEST(CorpusBuilder, EncodesWithAGivenVocabulary) {
  test::TempDir dir;
  test::write_file(dir.file("a.txt"), tricky_text());
  test::write_file(dir.file("b.txt"), "the cat and the other dog sat\n");
  const Vocab vocab = Vocab::build(dir.file("a.txt"), {}, 2, 0);
  EncodedCorpus::encode(dir.file("b.txt"), vocab, {}, dir.file("ref"));
  CorpusBuildOptions o;
  o.vocab = &vocab;
  o.threads = 2;
  const Vocab got = build_encoded_corpus({dir.file("b.txt")}, o, dir.file("new"));
  EXPECT_EQ(got.hash(), vocab.hash());
  EXPECT_EQ(test::read_file(dir.file("new")), test::read_file(dir.file("ref")));
}

// A write that fails while the workers are still making blocks (a file size limit stands in
// for a full disk; many small blocks, so the workers wait for the writer): one error naming
// the cache file, every thread stopped, nothing left behind.
TEST(CorpusBuilder, AFailedWriteStopsEveryThreadAndLeavesNoCache) {
  test::TempDir dir;
  std::string text;
  while (text.size() < 400'000) text += tricky_text() + "\n";
  test::write_file(dir.file("t.txt"), text);
  const std::string cache = dir.file("t.tokens");
  auto build_under_a_size_limit = [&] {
    ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead
    ::alarm(60);                 // a thread left waiting would hang the build: fail instead
    struct rlimit limit {};
    limit.rlim_cur = limit.rlim_max = 100'000;
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) std::_Exit(2);
    CorpusBuildOptions o;
    o.threads = 3;
    o.block_bytes = 4096;
    try {
      build_encoded_corpus({dir.file("t.txt")}, o, cache);
    } catch (const Error& e) {
      std::fprintf(stderr, "%s\n", e.what());
      std::fflush(stderr);
      std::_Exit(3);
    }
    std::_Exit(0);
  };
  EXPECT_EXIT(build_under_a_size_limit(), testing::ExitedWithCode(3),
              std::regex_replace(cache, std::regex(R"([.+])"), R"(\$&)") +
                  ": write failed: File too large");
  EXPECT_EQ(test::list_dir(dir.path()), std::vector<std::string>{"t.txt"});
}

// ---- compressed and sharded input (CI builds with every decompressor; a build without one of
// them skips these)

#if defined(W2V_HAVE_ZLIB) && defined(W2V_HAVE_LZMA) && defined(W2V_HAVE_ZSTD)

std::string gzip(const std::string& text) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string xz(const std::string& text) {
  std::string out(lzma_stream_buffer_bound(text.size()), '\0');
  std::size_t size = 0;
  EXPECT_EQ(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, nullptr,
                                    reinterpret_cast<const uint8_t*>(text.data()), text.size(),
                                    reinterpret_cast<uint8_t*>(out.data()), &size, out.size()),
            LZMA_OK);
  out.resize(size);
  return out;
}

std::string zstd(const std::string& text) {
  std::string out(ZSTD_compressBound(text.size()), '\0');
  const std::size_t size = ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 3);
  EXPECT_FALSE(ZSTD_isError(size));
  out.resize(size);
  return out;
}

TEST(CorpusBuilder, CompressedAndShardedInputReadAsTheirText) {
  test::TempDir dir;
  const std::string text = tricky_text();
  test::write_file(dir.file("plain.txt"), text);
  const Reference want = reference(dir.file("plain.txt"), {}, 2, 0, dir.file("ref"));
  const std::size_t half = text.size() / 2, third = text.size() / 3;
  // Several gzip members and zstd frames in one file are one stream, as gzip -d reads them.
  test::write_file(dir.file("c.txt.gz"), gzip(text.substr(0, half)) + gzip(text.substr(half)));
  test::write_file(dir.file("c.txt.xz"), xz(text));
  test::write_file(dir.file("c.txt.zst"), zstd(text.substr(0, third)) + zstd(text.substr(third)));
  std::filesystem::create_directory(dir.file("shards"));
  test::write_file(dir.file("shards/part-00.txt"), text.substr(0, third));
  test::write_file(dir.file("shards/part-01.txt.gz"), gzip(text.substr(third, third)));
  test::write_file(dir.file("shards/part-02.txt.zst"), zstd(text.substr(2 * third)));
  test::write_file(dir.file("first.txt"), text.substr(0, half));
  test::write_file(dir.file("second.txt.xz"), xz(text.substr(half)));
  // A UTF-8 byte-order mark at the start of each file is dropped, compressed or not.
  const std::string bom(kUtf8ByteOrderMark);
  test::write_file(dir.file("bom.txt"), bom + text);
  std::filesystem::create_directory(dir.file("bom_shards"));
  test::write_file(dir.file("bom_shards/part-00.txt"), bom + text.substr(0, third));
  test::write_file(dir.file("bom_shards/part-01.txt.gz"), gzip(bom + text.substr(third, third)));
  test::write_file(dir.file("bom_shards/part-02.txt.zst"), zstd(bom + text.substr(2 * third)));
  const Reference with_bom = reference(dir.file("bom.txt"), {}, 2, 0, dir.file("bom_ref"));
  EXPECT_EQ(with_bom.vocab.words(), want.vocab.words());
  EXPECT_EQ(with_bom.encoded, want.encoded);
  for (const std::string& corpus :
       {dir.file("c.txt.gz"), dir.file("c.txt.xz"), dir.file("c.txt.zst"), dir.file("shards"),
        dir.file("first.txt") + "," + dir.file("second.txt.xz"), dir.file("bom.txt"),
        dir.file("bom_shards")}) {
    for (const unsigned threads : {1u, 3u}) {
      CorpusBuildOptions o;
      o.min_count = 2;
      o.threads = threads;
      o.block_bytes = 1000;
      expect_same(build_encoded_corpus(corpus_files(corpus), o, dir.file("new")), dir.file("new"),
                  want, corpus);
    }
  }
  EXPECT_EQ(
      corpus_files(dir.file("shards")),
      (std::vector<std::string>{dir.file("shards/part-00.txt"), dir.file("shards/part-01.txt.gz"),
                                dir.file("shards/part-02.txt.zst")}));
}

// The message of the error `run` throws (or "" when it throws none).
template <class Run>
std::string error_of(Run run) {
  try {
    run();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(CorpusBuilder, BadInputIsOneClearErrorAndLeavesNoCache) {
  test::TempDir dir;
  const std::string text = tricky_text();
  const std::string gz = gzip(text), x = xz(text), z = zstd(text);
  std::filesystem::create_directory(dir.file("in"));
  std::filesystem::create_directory(dir.file("empty"));
  test::write_file(dir.file("in/truncated.txt.gz"), gz.substr(0, gz.size() / 2));
  test::write_file(dir.file("in/truncated.txt.xz"), x.substr(0, x.size() / 2));
  test::write_file(dir.file("in/truncated.txt.zst"), z.substr(0, z.size() / 2));
  std::string corrupt = x;
  corrupt[corrupt.size() / 2] ^= 0x55;
  test::write_file(dir.file("in/corrupt.txt.xz"), corrupt);
  corrupt = gz;
  for (std::size_t i = 20; i < 40; ++i) corrupt[i] ^= 0x55;
  test::write_file(dir.file("in/corrupt.txt.gz"), corrupt);
  test::write_file(dir.file("in/good.txt"), text);
  test::write_file(dir.file("in/binary.txt"), std::string("words and\0 a NUL", 16));
  struct Case {
    std::string corpus, named, problem;
  };
  const std::vector<Case> cases = {
      {dir.file("in/truncated.txt.gz"), "truncated.txt.gz", "truncated"},
      {dir.file("in/truncated.txt.xz"), "truncated.txt.xz", ""},
      {dir.file("in/truncated.txt.zst"), "truncated.txt.zst", "truncated"},
      {dir.file("in/corrupt.txt.xz"), "corrupt.txt.xz", "corrupt"},
      {dir.file("in/corrupt.txt.gz"), "corrupt.txt.gz", "corrupt"},
      {dir.file("in/good.txt") + "," + dir.file("in/binary.txt"), "binary.txt", "NUL"},
      {dir.file("in/good.txt") + "," + dir.file("in/missing.txt"), "missing.txt", "no such"},
      {dir.file("empty"), "empty", "no file"},
  };
  for (const Case& c : cases) {
    CorpusOptions o;
    o.corpus_path = c.corpus;
    o.cache_dir = dir.file("cache");
    o.min_count = 1;
    o.threads = 2;
    const std::string message = error_of([&] { prepare_corpus(o); });
    EXPECT_NE(message.find(c.named), std::string::npos) << c.corpus << ": " << message;
    EXPECT_NE(message.find(c.problem), std::string::npos) << c.corpus << ": " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
    if (std::filesystem::exists(dir.file("cache"))) {
      EXPECT_TRUE(test::list_dir(dir.file("cache")).empty())
          << c.corpus << " left " << test::join(test::list_dir(dir.file("cache")));
    }
  }
}

#else

TEST(CorpusBuilder, CompressedInputNeedsEveryDecompressor) {
  GTEST_SKIP() << "this build lacks zlib, liblzma or libzstd";
}

#endif

TEST(CorpusBuilder, AChangedShardRebuildsTheCache) {
  test::TempDir dir;
  std::filesystem::create_directory(dir.file("shards"));
  test::write_file(dir.file("shards/a.txt"), "the cat sat on the mat\n");
  test::write_file(dir.file("shards/b.txt"), "the dog sat on the log\n");
  CorpusOptions o;
  o.corpus_path = dir.file("shards");
  o.cache_dir = dir.file("cache");
  o.min_count = 1;
  EXPECT_FALSE(prepare_corpus(o).reused_cache);
  EXPECT_TRUE(prepare_corpus(o).reused_cache);
  test::write_file(dir.file("shards/b.txt"), "the dog sat on the log and the bog\n");
  const PreparedCorpus rebuilt = prepare_corpus(o);
  EXPECT_FALSE(rebuilt.reused_cache);
  EXPECT_NE(rebuilt.vocab.find("bog"), Vocab::kNotFound);
  // A shard added to the directory, too.
  test::write_file(dir.file("shards/c.txt"), "a new shard\n");
  EXPECT_FALSE(prepare_corpus(o).reused_cache);
}

// A corpus of 10M distinct words (and a few repeated ones) builds, and its vocabulary
// round-trips through the vocabulary file.
// Lines of `frequent` words, each `head_repeats` times, then `rare` words seen once each
// with a frequent one after every tenth.
std::string head_then_hapaxes(int frequent, int head_repeats, int rare) {
  std::string t;
  for (int r = 0; r < head_repeats; ++r) {
    for (int w = 0; w < frequent; ++w) {
      t += 'f';
      t += std::to_string(w);
      t += w % 10 == 9 ? '\n' : ' ';
    }
  }
  for (int i = 0; i < rare; ++i) {
    t += 'h';
    t += std::to_string(i);
    t += ' ';
    if (i % 10 == 9) {
      t += 'f';
      t += std::to_string(i % frequent);
      t += '\n';
    }
  }
  return t;
}

std::vector<std::string> g_build_log;
void keep_build_log(const std::string& line) { g_build_log.push_back(line); }

// Each vocabulary word's count equals its tokens in the encoded file, and the header agrees.
void expect_counts_match_the_encoding(const Vocab& vocab, const std::string& encoded_path,
                                      const std::string& what) {
  const EncodedCorpus corpus(encoded_path, vocab);
  std::vector<std::uint64_t> seen(vocab.size(), 0);
  for (std::size_t i = 0; i < corpus.entry_count(); ++i)
    if (corpus.entries()[i] != kSentenceEnd) ++seen[corpus.entries()[i]];
  EXPECT_EQ(seen, vocab.counts()) << what;
  EXPECT_EQ(corpus.token_count(), vocab.total_count()) << what;
}

TEST(CorpusBuilder, PastTheCountingCapForgetsTheRarestWordsAsWord2vecDoes) {
  test::TempDir dir;
  const std::string text = dir.file("tail.txt");
  test::write_file(text, head_then_hapaxes(30, 200, 3000));
  const Reference want = reference(text, {}, 5, 0, dir.file("ref"));

  // One thread, a cap of 100 words: the table is pruned again and again, each time above a
  // higher count (word2vec.c's min_reduce), but never as high as the frequent words' 200
  // from the head, so only hapaxes (under --min-count anyway) are forgotten: exact.
  CorpusBuildOptions o;
  o.min_count = 5;
  o.threads = 1;
  o.block_bytes = 512;
  o.max_count_words = 100;
  o.log = keep_build_log;
  g_build_log.clear();
  expect_same(build_encoded_corpus({text}, o, dir.file("one")), dir.file("one"), want,
              "1 thread, cap 100");
  ASSERT_FALSE(g_build_log.empty());
  EXPECT_NE(g_build_log.back().find("counting held more than 100 distinct words per thread"),
            std::string::npos)
      << g_build_log.back();

  // With more threads and a tighter cap the frequent words are forgotten too, in an order
  // that depends on the threads: the counts are approximate, but each is the tokens encoded.
  for (const unsigned threads : {2u, 7u}) {
    o.threads = threads;
    o.max_count_words = 60;
    const std::string out = dir.file("many" + std::to_string(threads));
    const Vocab got = build_encoded_corpus({text}, o, out);
    const std::string what = std::to_string(threads) + " threads, cap 60";
    expect_counts_match_the_encoding(got, out, what);
    for (std::uint32_t id = 0; id < got.size(); ++id) {
      EXPECT_GE(got.count(id), 5u) << what;
      EXPECT_LE(got.count(id), want.vocab.count(want.vocab.find(got.word(id)))) << what;
    }
  }

  // Under the cap nothing is forgotten and nothing is said.
  o.threads = 2;
  o.max_count_words = 100000;
  g_build_log.clear();
  expect_same(build_encoded_corpus({text}, o, dir.file("under")), dir.file("under"), want,
              "2 threads under the cap");
  for (const std::string& line : g_build_log)
    EXPECT_EQ(line.find("counting held"), std::string::npos) << line;
}

TEST(CorpusBuilder, AGivenVocabularyIsNeverPruned) {
  test::TempDir dir;
  const std::string text = dir.file("tail.txt");
  test::write_file(text, head_then_hapaxes(30, 200, 3000));
  const Vocab vocab = Vocab::build(text, {}, 1, 0);  // every hapax is in it
  CorpusBuildOptions o;
  o.threads = 2;
  o.block_bytes = 512;
  o.max_count_words = 10;
  o.vocab = &vocab;
  build_encoded_corpus({text}, o, dir.file("given"));
  EncodedCorpus::encode(text, vocab, {}, dir.file("ref"));
  EXPECT_EQ(test::read_file(dir.file("given")), test::read_file(dir.file("ref")));
}

TEST(CorpusBuilder, ReportsProgressWithMegabytesWordsAndAnEta) {
  test::TempDir dir;
  const std::string text = dir.file("tricky.txt");
  test::write_file(text, tricky_text());
  const std::uint64_t bytes = std::filesystem::file_size(text);
  CorpusBuildOptions o;
  o.threads = 2;
  o.block_bytes = 4096;
  o.log = keep_build_log;
  o.progress_interval = 1e-9;  // every poll, and the last line whatever the time taken
  g_build_log.clear();
  build_encoded_corpus({text}, o, dir.file("out"));
  ASSERT_FALSE(g_build_log.empty());
  const std::regex line(
      R"(preparing: ([0-9.]+) of ([0-9.]+) MB \(([0-9.]+)%\), ([0-9.]+) MB/s, ([0-9.]+)M words/s, ETA ([0-9]+) s)");
  std::smatch m;
  const std::string& last = g_build_log.back();
  ASSERT_TRUE(std::regex_match(last, m, line)) << last;
  char megabytes[32];
  std::snprintf(megabytes, sizeof megabytes, "%.1f", bytes / 1e6);
  EXPECT_EQ(m[1].str(), megabytes) << last;
  EXPECT_EQ(m[2].str(), megabytes) << last;
  EXPECT_EQ(m[3].str(), "100.0") << last;
  EXPECT_GT(std::stod(m[4].str()), 0.0) << last;
  EXPECT_GT(std::stod(m[5].str()), 0.0) << last;
  EXPECT_EQ(m[6].str(), "0") << last;

  // A build shorter than the interval says nothing.
  o.progress_interval = 1e9;
  g_build_log.clear();
  build_encoded_corpus({text}, o, dir.file("out"));
  EXPECT_TRUE(g_build_log.empty()) << g_build_log.front();
}

TEST(CorpusBuilder, ATenMillionWordVocabularyBuildsAndRoundTrips) {
  test::TempDir dir;
  const std::size_t n = 10'000'000;
  {
    std::string text;
    text.reserve(n * 7);
    for (std::size_t i = 0; i < n; ++i) {
      text += synth_word(i);
      text += i % 1000 == 999 ? " common\n" : " ";
    }
    test::write_file(dir.file("wide.txt"), text);
  }
  CorpusBuildOptions o;
  o.min_count = 1;
  o.threads = 2;
  o.max_count_words = 2 * n;  // whatever the machine's memory: nothing is forgotten
  const Vocab vocab = build_encoded_corpus({dir.file("wide.txt")}, o, dir.file("wide.tokens"));
  ASSERT_EQ(vocab.size(), n + 1);
  EXPECT_EQ(vocab.word(0), "common");
  EXPECT_EQ(vocab.count(0), n / 1000);
  EXPECT_EQ(vocab.word(1), synth_word(0)) << "ties keep the order of first occurrence";
  EXPECT_EQ(vocab.word(n), synth_word(n - 1));
  EXPECT_EQ(EncodedCorpus(dir.file("wide.tokens"), vocab).token_count(), n + n / 1000);
  vocab.save(dir.file("wide.vocab"));
  const Vocab loaded = Vocab::load(dir.file("wide.vocab"));
  EXPECT_EQ(loaded.size(), n + 1);
  EXPECT_EQ(loaded.hash(), vocab.hash());
  EXPECT_EQ(loaded.counts(), vocab.counts());
}

}  // namespace
}  // namespace w2v
