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

#include <filesystem>
#include <random>
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
  for (const std::string& corpus :
       {dir.file("c.txt.gz"), dir.file("c.txt.xz"), dir.file("c.txt.zst"), dir.file("shards"),
        dir.file("first.txt") + "," + dir.file("second.txt.xz")}) {
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
