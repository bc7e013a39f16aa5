#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "support/temp_dir.h"
#include "w2v/error.h"
#include "w2v/vectors.h"

namespace w2v {
namespace {

namespace fs = std::filesystem;

class VectorsTest : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return dir_.file(name); }
  std::string write_raw(const std::string& name, const std::string& bytes) const {
    test::write_file(path(name), bytes);
    return path(name);
  }
  static std::string read_raw(const std::string& p) { return test::read_file(p); }
  // The message of the w2v::Error that reading p throws; fails the test when none is thrown.
  static std::string read_error(const std::string& p) {
    try {
      read_vectors(p);
    } catch (const Error& e) {
      return e.what();
    }
    ADD_FAILURE() << "no error reading " << p;
    return "";
  }

  test::TempDir dir_{"w2v_vectors"};
};

struct Sample {
  std::vector<std::string> words;
  std::size_t dim;
  std::vector<float> data;
};

// Random non-zero vectors with both signs and a wide range of magnitudes, including
// subnormals, and words that exercise UTF-8 and length.
Sample random_sample(std::size_t count, std::size_t dim, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> exponent(-40, 30);
  Sample s{{}, dim, {}};
  for (std::size_t i = 0; i < count; ++i)
    s.words.push_back(std::string(1, 'w').append(std::to_string(i)));
  s.words[0] = "naïve";
  s.words[1] = "日本語";
  s.words[2] = std::string(300, 'x');
  s.words[3] = "</s>";
  for (std::size_t i = 0; i < count * dim; ++i) {
    float v = normal(rng) * std::ldexp(1.0f, exponent(rng));
    s.data.push_back(v != 0 ? v : 1.0f);
  }
  s.data[5] = 1e-42f;  // subnormal
  s.data[6] = -std::numeric_limits<float>::max();
  return s;
}

void expect_same(const Sample& s, const Embeddings& e) {
  EXPECT_EQ(e.words, s.words);
  EXPECT_EQ(e.dim, s.dim);
  ASSERT_EQ(e.data.size(), s.data.size());
  EXPECT_EQ(std::memcmp(e.data.data(), s.data.data(), s.data.size() * sizeof(float)), 0);
}

TEST(VectorsFormat, Resolve) {
  EXPECT_EQ(resolve_vector_format("text", "v.bin"), VectorFormat::kText);
  EXPECT_EQ(resolve_vector_format("bin", "v.txt"), VectorFormat::kBinary);
  EXPECT_EQ(resolve_vector_format("binary", "v"), VectorFormat::kBinary);
  EXPECT_EQ(resolve_vector_format("auto", "out/v.bin"), VectorFormat::kBinary);
  EXPECT_EQ(resolve_vector_format("auto", "out/v.txt"), VectorFormat::kText);
  EXPECT_EQ(resolve_vector_format("auto", "vectors"), VectorFormat::kText);
  EXPECT_EQ(resolve_vector_format("auto", "bin"), VectorFormat::kText);
  try {
    resolve_vector_format("x", "v.txt");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--format: expected text, bin or auto, got 'x'");
  }
}

// The cases Python's UTF-8 decoder (gensim's loader) refuses, against those it takes.
TEST(Utf8, AsStrictAsPythonsDecoder) {
  for (const char* good :
       {"", "the", "caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80", "\xef\xbf\xbd",
        "\xed\x9f\xbf", "\xf4\x8f\xbf\xbf", "\xe0\xa0\x80", "\xf0\x90\x80\x80"})
    EXPECT_TRUE(is_utf8(good)) << shown(good);
  for (const char* bad : {"caf\xe9", "\xff", "\x80", "\xc3", "a\xc3(", "\xc0\x80", "\xc1\xbf",
                          "\xe0\x80\x80", "\xe0\x9f\xbf", "\xed\xa0\x80", "\xf0\x80\x80\x80",
                          "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xe6\x97"})
    EXPECT_FALSE(is_utf8(bad)) << shown(bad);
  EXPECT_EQ(shown("caf\xe9 \xe6\x97\xa5"), "'caf\\xe9 \xe6\x97\xa5'");
}

TEST_F(VectorsTest, RoundTripBothFormatsExactly) {
  for (std::size_t dim : {1, 7, 100}) {
    Sample s = random_sample(40, dim, 17 + dim);
    for (auto [format, name] :
         {std::pair{VectorFormat::kText, "v.txt"}, std::pair{VectorFormat::kBinary, "v.bin"}}) {
      SCOPED_TRACE(std::string(name) + " dim " + std::to_string(dim));
      write_vectors(path(name), format, s.words, s.data.data(), dim);
      expect_same(s, read_vectors(path(name)));
    }
  }
}

TEST_F(VectorsTest, WritesWord2vecLayout) {
  std::vector<std::string> words = {"a", "b"};
  std::vector<float> data = {1.0f, -0.5f, 0.1f, 3e-8f};
  write_vectors(path("v.txt"), VectorFormat::kText, words, data.data(), 2);
  EXPECT_EQ(read_raw(path("v.txt")), "2 2\na 1 -0.5\nb 0.1 3e-08\n");
  write_vectors(path("v.bin"), VectorFormat::kBinary, words, data.data(), 2);
  std::string expected = "2 2\na ";
  expected.append(reinterpret_cast<const char*>(&data[0]), 8);
  expected += "\nb ";
  expected.append(reinterpret_cast<const char*>(&data[2]), 8);
  expected += "\n";
  EXPECT_EQ(read_raw(path("v.bin")), expected);
}

TEST_F(VectorsTest, WritesTheSumOfTwoTables) {
  const Sample a = random_sample(25, 8, 41);
  Sample b = random_sample(25, 8, 42);
  b.data[6] = 1;  // a's -max plus b's would overflow
  Sample sum = a;
  for (std::size_t i = 0; i < sum.data.size(); ++i) sum.data[i] = a.data[i] + b.data[i];
  for (auto [format, name] :
       {std::pair{VectorFormat::kText, "v.txt"}, std::pair{VectorFormat::kBinary, "v.bin"}}) {
    SCOPED_TRACE(name);
    write_vectors(path(name), format, a.words, a.data.data(), a.dim, b.data.data());
    expect_same(sum, read_vectors(path(name)));
  }
  // The check for non-finite values applies to the sum: max + max overflows.
  std::vector<float> max(a.data.size(), std::numeric_limits<float>::max());
  EXPECT_THROW(
      write_vectors(path("inf.txt"), VectorFormat::kText, a.words, max.data(), a.dim, max.data()),
      Error);
  EXPECT_FALSE(fs::exists(path("inf.txt")));
}

TEST_F(VectorsTest, DetectsFormatByContent) {
  Sample s = random_sample(20, 9, 3);
  write_vectors(path("binary.txt"), VectorFormat::kBinary, s.words, s.data.data(), s.dim);
  write_vectors(path("text.bin"), VectorFormat::kText, s.words, s.data.data(), s.dim);
  write_vectors(path("noext"), VectorFormat::kBinary, s.words, s.data.data(), s.dim);
  expect_same(s, read_vectors(path("binary.txt")));
  expect_same(s, read_vectors(path("text.bin")));
  expect_same(s, read_vectors(path("noext")));
}

TEST_F(VectorsTest, ReadsGensimBinaryWithoutNewlines) {
  Sample s = random_sample(10, 4, 5);
  std::string bytes = "10 4\n";
  for (std::size_t i = 0; i < 10; ++i) {
    bytes += s.words[i] + " ";
    bytes.append(reinterpret_cast<const char*>(s.data.data() + i * 4), 16);
  }
  expect_same(s, read_vectors(write_raw("gensim.bin", bytes)));
}

TEST_F(VectorsTest, AcceptsCrlfAndTabs) {
  Embeddings e = read_vectors(write_raw("v.txt", "2 3\r\nfoo 1\t2 3\r\nbar -1e-3 0 4.5 \n"));
  EXPECT_EQ(e.words, (std::vector<std::string>{"foo", "bar"}));
  EXPECT_EQ(e.data, (std::vector<float>{1, 2, 3, -1e-3f, 0, 4.5f}));
}

TEST_F(VectorsTest, MaxWordsReadsAPrefix) {
  Sample s = random_sample(30, 6, 9);
  for (auto [format, name] :
       {std::pair{VectorFormat::kText, "v.txt"}, std::pair{VectorFormat::kBinary, "v.bin"}}) {
    write_vectors(path(name), format, s.words, s.data.data(), s.dim);
    Embeddings e = read_vectors(path(name), 4);
    ASSERT_EQ(e.words.size(), 4u);
    EXPECT_EQ(e.words[3], s.words[3]);
    EXPECT_EQ(std::vector<float>(s.data.begin(), s.data.begin() + 24), e.data);
    EXPECT_EQ(read_vectors(path(name), 1000).words.size(), 30u);
  }
}

TEST_F(VectorsTest, ZeroWords) {
  Embeddings e = read_vectors(write_raw("empty.txt", "0 50\n"));
  EXPECT_TRUE(e.words.empty());
  EXPECT_EQ(e.dim, 50u);
  EXPECT_NE(read_error(write_raw("more.txt", "0 2\nfoo 1 2\n")).find("more data follows"),
            std::string::npos);
}

// Every strict prefix of a valid file, down to the empty file, must be rejected.
TEST_F(VectorsTest, EveryTruncationThrows) {
  Sample s = random_sample(12, 5, 11);
  for (auto [format, name] :
       {std::pair{VectorFormat::kText, "v.txt"}, std::pair{VectorFormat::kBinary, "v.bin"}}) {
    write_vectors(path(name), format, s.words, s.data.data(), s.dim);
    std::string full = read_raw(path(name));
    std::string cut = path(std::string("cut_") + name);
    for (std::size_t len = 0; len < full.size(); ++len) {
      std::ofstream(cut, std::ios::binary | std::ios::trunc) << full.substr(0, len);
      std::string msg = read_error(cut);
      ASSERT_NE(msg.find(cut), std::string::npos) << "prefix " << len << ": " << msg;
    }
  }
  std::string msg = read_error(path("cut_v.bin"));
  EXPECT_NE(msg.find("truncated: header says 12 words, file ends in word 12"), std::string::npos)
      << msg;
}

TEST_F(VectorsTest, MalformedHeaders) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty file"},
      {"hello world\n", "expected a 'COUNT DIM' header line, found 'hello world'"},
      {"3\n", "COUNT DIM"},
      {"3 4 5\n", "COUNT DIM"},
      {"-1 4\n", "COUNT DIM"},
      {"3 4x\n", "COUNT DIM"},
      {"3 4", "COUNT DIM"},
      {"99999999999999999999999 4\n", "COUNT DIM"},
      {"2 0\na\nb\n", "dimension 0"},
      {"1000000000000 100\nw 1 2\n", "cannot fit"},
      {"2 100000000000000000\nw 1 2\n", "cannot fit"},
      {"1 18446744073709551615\nw 1\n", "cannot fit"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    std::string p = write_raw("h" + std::to_string(i) + ".txt", cases[i].first);
    std::string msg = read_error(p);
    EXPECT_EQ(msg.rfind(p + ": ", 0), 0u) << msg;
    EXPECT_NE(msg.find(cases[i].second), std::string::npos) << msg;
  }
}

TEST_F(VectorsTest, MalformedTextRows) {
  const std::string a = "a 1.5 2.5 3.5\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"2 3\n" + a + "b 1 2\n", "line 3: expected 3 values, found 2"},
      {"2 3\n" + a + "b 1 2 3 4\n", "line 3: expected 3 values, found 4"},
      {"2 3\na 1 2 3 4 5 6\nb 1 2 3\n", "line 2: expected 3 values, found 6"},
      {"2 3\na 1 x 3\n" + a, "line 2: value 2 is not a finite float32: 'x'"},
      {"2 3\n" + a + "b 1 2 0x5\n", "line 3: value 3 is not a finite float32: '0x5'"},
      {"2 3\n" + a + "b 1 nan 3\n", "line 3: value 2 is not a finite float32: 'nan'"},
      {"2 3\n" + a + "b 1 2 -inf\n", "line 3: value 3 is not a finite float32: '-inf'"},
      {"2 3\n" + a + "b 1 2 1e50\n", "line 3: value 3 is not a finite float32: '1e50'"},
      {"2 3\n" + a + "\nb 1 2 3\n", "line 3: expected a word and 3 values, found ''"},
      {"2 3\n" + a + " 1 2 3\n", "line 3: expected a word and 3 values, found ' 1 2 3'"},
      {"2 3\n" + a + a + "c 1 2 3\n", "header says 2 words, but more data follows: 'c 1 2 3"},
      {"3 3\n" + a + a, "truncated: header says 3 words, file ends after 2"},
      {"2 3\n" + a + "b 1 2 3", "line 3: truncated: the last line has no newline"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    std::string p = write_raw("t" + std::to_string(i) + ".txt", cases[i].first);
    std::string msg = read_error(p);
    EXPECT_EQ(msg.rfind(p + ": " + cases[i].second, 0), 0u) << msg;
  }
}

TEST_F(VectorsTest, MalformedBinaryRows) {
  auto row = [](const std::string& word, std::vector<float> v) {
    return word + " " + std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4) + "\n";
  };
  float nan = std::numeric_limits<float>::quiet_NaN();
  std::string ok = row("a", {-1, 2});
  std::string p = write_raw("nan.bin", "2 2\n" + ok + row("b", {-1, nan}));
  EXPECT_EQ(read_error(p), p + ": word 2 'b': value 2 is not finite");
  p = write_raw("newline.bin", "2 2\n" + ok + "b\nc " + std::string(8, '\x01') + "\n");
  EXPECT_NE(read_error(p).find("word 2: bad word"), std::string::npos);
  p = write_raw("extra.bin", "1 2\n" + ok + "junk");
  EXPECT_NE(read_error(p).find("more data follows"), std::string::npos);
}

TEST_F(VectorsTest, RandomGarbageThrows) {
  std::mt19937 rng(42);
  for (int trial = 0; trial < 200; ++trial) {
    std::string bytes(1 + rng() % 3000, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (trial % 2)
      bytes = std::to_string(1 + rng() % 50) + " " + std::to_string(1 + rng() % 20) + "\n" + bytes;
    std::string p = write_raw(trial % 3 ? "g.bin" : "g.txt", bytes);
    std::string msg = read_error(p);
    ASSERT_EQ(msg.rfind(p + ": ", 0), 0u) << "trial " << trial << ": " << msg;
  }
}

TEST_F(VectorsTest, MissingFileAndDirectory) {
  EXPECT_NE(read_error(path("nope.txt")).find("nope.txt: cannot open"), std::string::npos);
  EXPECT_NE(read_error(dir_.path()).find("is a directory"), std::string::npos);
}

TEST_F(VectorsTest, FailedWriteLeavesNothing) {
  std::vector<std::string> words = {"a", "b", "c"};
  std::vector<float> data = {1, 2, 3, 4, 5, std::numeric_limits<float>::infinity()};
  for (auto format : {VectorFormat::kText, VectorFormat::kBinary}) {
    std::string p = path("v.out");
    try {
      write_vectors(p, format, words, data.data(), 2);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), p + ": word 3 'c': value 2 is not finite");
    }
    EXPECT_TRUE(fs::is_empty(dir_.path())) << "left a file behind";
  }
  // A failed rewrite keeps the old file.
  write_vectors(path("v.out"), VectorFormat::kText, words, data.data(), 1);
  std::string before = read_raw(path("v.out"));
  std::vector<std::string> bad_words = {"a b", "c", "d"};
  EXPECT_THROW(write_vectors(path("v.out"), VectorFormat::kText, bad_words, data.data(), 1), Error);
  EXPECT_EQ(read_raw(path("v.out")), before);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_.path()), fs::directory_iterator()), 1);

  std::string unwritable = path("no/such/dir/v.txt");
  EXPECT_THROW(write_vectors(unwritable, VectorFormat::kText, words, data.data(), 1), Error);
  EXPECT_FALSE(fs::exists(path("no")));
  EXPECT_THROW(write_vectors(path("zero.txt"), VectorFormat::kText, words, data.data(), 0), Error);
  EXPECT_FALSE(fs::exists(path("zero.txt")));
}

}  // namespace
}  // namespace w2v
