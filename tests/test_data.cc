// Tokenizer, vocabulary and encoded corpus.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "support/temp_dir.h"
#include "w2v/corpus.h"
#include "w2v/error.h"
#include "w2v/vocab.h"

namespace w2v {
namespace {

struct Token {
  std::string text;
  bool sentence_end;
  bool operator==(const Token&) const = default;
};

std::vector<Token> tokenize(const std::string& text, bool lowercase = false) {
  test::TempDir dir;
  std::string path = dir.path() + "/t.txt";
  test::write_file(path, text);
  Tokenizer tok(path, TokenizerOptions{lowercase});
  std::vector<Token> out;
  std::string_view t;
  bool end = false;
  while (tok.next(t, end)) out.push_back({std::string(t), end});
  return out;
}

TEST(Tokenizer, SplitsOnAsciiWhitespaceAndEndsSentencesAtNewlines) {
  auto t = tokenize(
      "  the cat\tsat \r\n\n on\x0b"
      "the\fmat  \n last");
  std::vector<Token> want = {{"the", false}, {"cat", false}, {"sat", true}, {"on", false},
                             {"the", false}, {"mat", true},  {"last", true}};
  EXPECT_EQ(t, want);
}

TEST(Tokenizer, EmptyAndWhitespaceOnlyInputsGiveNoTokens) {
  EXPECT_TRUE(tokenize("").empty());
  EXPECT_TRUE(tokenize(" \n\n\t \r\n").empty());
}

TEST(Tokenizer, Utf8AndOtherBytesPassThroughUntouched) {
  std::string s = "caf\xc3\xa9 na\xc3\xafve \xe6\x97\xa5\xe6\x9c\xac \x01\x02\xff";
  auto t = tokenize(s);
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0].text, "caf\xc3\xa9");
  EXPECT_EQ(t[2].text, "\xe6\x97\xa5\xe6\x9c\xac");
  EXPECT_EQ(t[3].text, "\x01\x02\xff");
}

TEST(Tokenizer, AByteOrderMarkAtTheStartIsDroppedAndNowhereElse) {
  const std::vector<Token> want = {{"the", false}, {"cat", true}};
  EXPECT_EQ(tokenize("\xef\xbb\xbfthe cat"), want);
  EXPECT_EQ(tokenize("\xef\xbb\xbf the cat"), want);
  EXPECT_EQ(tokenize("\xef\xbb\xbf"), std::vector<Token>{});
  EXPECT_EQ(tokenize("the \xef\xbb\xbf"
                     "cat"),
            (std::vector<Token>{{"the", false},
                                {"\xef\xbb\xbf"
                                 "cat",
                                 true}}));
  EXPECT_EQ(tokenize("\xef\xbb"
                     "the"),
            (std::vector<Token>{{"\xef\xbb"
                                 "the",
                                 true}}));
}

TEST(Tokenizer, NulByteMeansBinaryDataAndIsAnError) {
  try {
    tokenize(std::string("fine words a\0b c", 17));
    ADD_FAILURE() << "a NUL byte was accepted as text";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("t.txt: contains a NUL byte"), std::string::npos)
        << e.what();
  }
}

TEST(Tokenizer, LowercaseFoldsAsciiOnly) {
  auto t = tokenize("The CAT \xc3\x89T\xc3\x89", true);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].text, "the");
  EXPECT_EQ(t[1].text, "cat");
  EXPECT_EQ(t[2].text, "\xc3\x89t\xc3\x89");  // É stays, T folds
}

TEST(Tokenizer, LongTokensAreTruncatedNotFatal) {
  std::string huge(100000, 'x');
  auto t = tokenize("a " + huge + " b");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[1].text, std::string(kMaxTokenBytes, 'x'));
  EXPECT_EQ(t[2].text, "b");
}

TEST(Tokenizer, LongLinesAreCutIntoSentencesOfAtMostTheLimit) {
  std::string line;
  const std::size_t n = 2 * kMaxSentenceTokens + 5;
  for (std::size_t i = 0; i < n; ++i) line += "w ";
  auto t = tokenize(line);
  ASSERT_EQ(t.size(), n);
  std::vector<std::size_t> ends;
  for (std::size_t i = 0; i < t.size(); ++i)
    if (t[i].sentence_end) ends.push_back(i + 1);
  std::vector<std::size_t> want = {kMaxSentenceTokens, 2 * kMaxSentenceTokens, n};
  EXPECT_EQ(ends, want);
}

TEST(Vocab, CountsMinCountAndStableDescendingOrder) {
  test::TempDir dir;
  std::string path = dir.path() + "/c.txt";
  // Counts: b 3, a 3 (a seen after b), c 2, d 1, e 3 (seen last).
  test::write_file(path, "b a c\nb a d c\na b e e e\n");
  Vocab v = Vocab::build(path, {}, 2, 0);
  std::vector<std::string> words = {"b", "a", "e", "c"};
  EXPECT_EQ(v.words(), words);
  std::vector<std::uint64_t> counts = {3, 3, 3, 2};
  EXPECT_EQ(v.counts(), counts);
  EXPECT_EQ(v.total_count(), 11u);
  EXPECT_EQ(v.find("d"), Vocab::kNotFound);
  EXPECT_EQ(v.find("e"), 2u);
  Vocab top2 = Vocab::build(path, {}, 1, 2);
  EXPECT_EQ(top2.size(), 2u);
  EXPECT_EQ(top2.word(0), "b");
}

TEST(Vocab, SaveLoadRoundTripInWord2vecFormat) {
  test::TempDir dir;
  Vocab v = Vocab::from_counts({"the", "caf\xc3\xa9", "x"}, {10, 5, 5}, "test");
  std::string path = dir.path() + "/v.vocab";
  v.save(path);
  EXPECT_EQ(test::read_file(path), "the 10\ncaf\xc3\xa9 5\nx 5\n");
  Vocab w = Vocab::load(path);
  EXPECT_EQ(w.words(), v.words());
  EXPECT_EQ(w.counts(), v.counts());
  EXPECT_EQ(w.hash(), v.hash());
}

TEST(Vocab, HashDependsOnWordsAndOrder) {
  Vocab a = Vocab::from_counts({"ab", "c"}, {2, 1}, "t");
  Vocab b = Vocab::from_counts({"a", "bc"}, {2, 1}, "t");
  Vocab c = Vocab::from_counts({"c", "ab"}, {2, 1}, "t");
  EXPECT_NE(a.hash(), b.hash());
  EXPECT_NE(a.hash(), c.hash());
}

TEST(Vocab, BadFilesGiveErrorsNamingThem) {
  test::TempDir dir;
  std::string p = dir.path() + "/bad.vocab";
  test::write_file(p, "the 10\nnocount\n");
  try {
    Vocab::load(p);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(p), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos);
  }
  test::write_file(p, "a 1\na 2\n");
  EXPECT_THROW(Vocab::load(p), Error);
  // Found by tests/fuzz: a word no token can be, and counts whose sum wraps around.
  auto expect_error = [&](const std::string& text, const std::string& what) {
    test::write_file(p, text);
    try {
      Vocab::load(p);
      ADD_FAILURE() << "accepted: " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  expect_error("the 10\nnew york 3\n", "line 2: the word 'new york' contains whitespace");
  expect_error("a\t 5\n", "line 1: the word 'a\t' contains whitespace");
  expect_error("a 18446744073709551615\nb 2\n", "add up to more than 2^64");
  test::write_file(p, "");
  EXPECT_THROW(Vocab::load(p), Error);
  EXPECT_THROW(Vocab::load(dir.path() + "/missing"), Error);
  std::string empty = dir.path() + "/empty.txt";
  test::write_file(empty, "  \n\n");
  EXPECT_THROW(Vocab::build(empty, {}, 1, 0), Error);
  std::string rare = dir.path() + "/rare.txt";
  test::write_file(rare, "a b c d\n");
  EXPECT_THROW(Vocab::build(rare, {}, 2, 0), Error);
}

class EncodedCorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    text_ = dir_.path() + "/c.txt";
    test::write_file(text_, "the cat sat\n\nrare words here\nthe mat the cat\n the");
    vocab_ = Vocab::build(text_, {}, 2, 0);  // the 4, cat 2
    encoded_ = dir_.path() + "/c.tokens";
    EncodedCorpus::encode(text_, vocab_, {}, encoded_);
  }
  test::TempDir dir_;
  std::string text_, encoded_;
  Vocab vocab_;
};

TEST_F(EncodedCorpusTest, RoundTripKeepsIdsAndSentenceEndsDropsUnknownWords) {
  EncodedCorpus c(encoded_, vocab_);
  const std::uint32_t the = vocab_.find("the"), cat = vocab_.find("cat");
  // "rare words here" vanishes entirely, sentence end included.
  std::vector<std::uint32_t> want = {the, cat,          kSentenceEnd, the,         the,
                                     cat, kSentenceEnd, the,          kSentenceEnd};
  std::vector<std::uint32_t> got(c.entries(), c.entries() + c.entry_count());
  EXPECT_EQ(got, want);
  EXPECT_EQ(c.token_count(), 6u);
  EXPECT_EQ(c.header().vocab_hash, vocab_.hash());
  EXPECT_EQ(c.header().version, CorpusHeader::kVersion);
  EXPECT_TRUE(EncodedCorpus::is_encoded(encoded_));
  EXPECT_FALSE(EncodedCorpus::is_encoded(text_));
}

TEST_F(EncodedCorpusTest, SplitStartsEveryRangeAtASentence) {
  EncodedCorpus c(encoded_, vocab_);
  for (std::size_t parts : {1u, 2u, 3u, 7u, 20u}) {
    auto ranges = c.split(parts);
    ASSERT_EQ(ranges.size(), parts);
    EXPECT_EQ(ranges.front().begin, 0u);
    EXPECT_EQ(ranges.back().end, c.entry_count());
    for (std::size_t i = 0; i < parts; ++i) {
      EXPECT_LE(ranges[i].begin, ranges[i].end);
      if (i > 0) {
        EXPECT_EQ(ranges[i].begin, ranges[i - 1].end);
        if (ranges[i].begin > 0 && ranges[i].begin < c.entry_count()) {
          EXPECT_EQ(c.entries()[ranges[i].begin - 1], kSentenceEnd);
        }
      }
    }
  }
}

void expect_error_mentions(const std::function<void()>& f, const std::string& what) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning '" << what << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST_F(EncodedCorpusTest, RejectsAnotherVocabulary) {
  Vocab other = Vocab::from_counts({"the", "dog"}, {4, 2}, "other");
  expect_error_mentions([&] { EncodedCorpus(encoded_, other); }, "another vocabulary");
}

TEST_F(EncodedCorpusTest, RejectsBadMagicVersionTruncationAndBadIds) {
  std::string bytes = test::read_file(encoded_);
  std::string p = dir_.path() + "/broken.tokens";

  std::string bad_magic = bytes;
  bad_magic[0] = 'X';
  test::write_file(p, bad_magic);
  expect_error_mentions([&] { EncodedCorpus(p, vocab_); }, "bad magic");

  std::string bad_version = bytes;
  std::uint32_t v = 99;
  std::memcpy(&bad_version[offsetof(CorpusHeader, version)], &v, 4);
  test::write_file(p, bad_version);
  expect_error_mentions([&] { EncodedCorpus(p, vocab_); }, "version 99");

  test::write_file(p, bytes.substr(0, bytes.size() - 4));
  expect_error_mentions([&] { EncodedCorpus(p, vocab_); }, "truncated");

  test::write_file(p, bytes.substr(0, 10));
  expect_error_mentions([&] { EncodedCorpus(p, vocab_); }, p);

  std::string bad_id = bytes;
  std::uint32_t id = 12345;
  std::memcpy(&bad_id[sizeof(CorpusHeader)], &id, 4);
  test::write_file(p, bad_id);
  expect_error_mentions([&] { EncodedCorpus(p, vocab_); }, "outside the vocabulary");
}

TEST(EncodedCorpus, RejectsASentenceLongerThanTheLongest) {
  test::TempDir dir;
  const std::string text = dir.path() + "/long.txt", encoded = dir.path() + "/long.tokens";
  std::string line;
  for (std::size_t i = 0; i < kMaxSentenceTokens + 10; ++i) line += i % 2 ? "b " : "a ";
  test::write_file(text, line + "\n");
  Vocab vocab = Vocab::build(text, {}, 1, 0);
  EncodedCorpus::encode(text, vocab, {}, encoded);
  EXPECT_NO_THROW(EncodedCorpus corpus(encoded, vocab));
  // The line was cut after kMaxSentenceTokens tokens: join its two pieces.
  std::string bytes = test::read_file(encoded);
  const std::size_t cut = sizeof(CorpusHeader) + kMaxSentenceTokens * sizeof(std::uint32_t);
  std::uint32_t entry = 0;
  std::memcpy(&entry, &bytes[cut], 4);
  ASSERT_EQ(entry, kSentenceEnd);
  entry = 0;
  std::memcpy(&bytes[cut], &entry, 4);
  test::write_file(encoded, bytes);
  expect_error_mentions([&] { EncodedCorpus(encoded, vocab); }, "more than 10000 tokens");
}

TEST_F(EncodedCorpusTest, PrepareCorpusCachesAndDetectsStaleSources) {
  CorpusOptions o;
  o.corpus_path = text_;
  o.cache_dir = dir_.path() + "/cache";
  o.min_count = 2;
  PreparedCorpus first = prepare_corpus(o);
  EXPECT_FALSE(first.reused_cache);
  EXPECT_EQ(first.vocab.size(), 2u);
  PreparedCorpus second = prepare_corpus(o);
  EXPECT_TRUE(second.reused_cache);
  EXPECT_EQ(second.encoded_path, first.encoded_path);
  // A changed source (different size) invalidates the cache.
  test::write_file(text_, "the cat the cat dog dog\n");
  PreparedCorpus third = prepare_corpus(o);
  EXPECT_FALSE(third.reused_cache);
  EXPECT_EQ(third.vocab.size(), 3u);
  // Another min-count is another cache entry, not a clash.
  o.min_count = 1;
  EXPECT_NE(prepare_corpus(o).encoded_path, third.encoded_path);
}

TEST(EncodedCorpus, EncodesTheShareTextPrefixLikeItsReadme) {
  // ../shared/data/README.md: the first 1,000,000 bytes hold 167,285 words.
  std::string src = W2V_SOURCE_DIR "/../shared/data/text8_prefix.txt";
  if (!file_exists(src)) GTEST_SKIP() << "no " << src;
  test::TempDir dir;
  std::string prefix = dir.path() + "/p.txt";
  std::string all = test::read_file(src);
  test::write_file(prefix, all.substr(0, 1000000));
  Vocab v = Vocab::build(prefix, {}, 1, 0);
  EXPECT_EQ(v.total_count(), 167285u);
  EXPECT_EQ(v.word(0), "the");
  EncodedCorpus::encode(prefix, v, {}, dir.path() + "/p.tokens");
  EncodedCorpus c(dir.path() + "/p.tokens", v);
  EXPECT_EQ(c.token_count(), 167285u);
}

}  // namespace
}  // namespace w2v
