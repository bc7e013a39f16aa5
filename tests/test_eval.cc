#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "support/temp_dir.h"
#include "w2v/error.h"
#include "w2v/eval.h"

namespace w2v {
namespace {

namespace fs = std::filesystem;

using Rows = std::vector<std::pair<std::string, std::vector<float>>>;

Embeddings make(const Rows& rows) {
  Embeddings e;
  e.dim = rows.front().second.size();
  for (const auto& [word, v] : rows) {
    e.words.push_back(word);
    e.data.insert(e.data.end(), v.begin(), v.end());
  }
  return e;
}

std::vector<float> unit(std::vector<float> v) {
  float s = 0;
  for (float x : v) s += x * x;
  for (float& x : v) x /= std::sqrt(s);
  return v;
}

// The exact analogy answer b - a + c of unit vectors: cosine 1 with the query.
std::vector<float> answer(const std::vector<float>& a, const std::vector<float>& b,
                          const std::vector<float>& c) {
  std::vector<float> ua = unit(a), ub = unit(b), uc = unit(c), out(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) out[i] = ub[i] - ua[i] + uc[i];
  return out;
}

class EvalFiles : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) const {
    test::write_file(dir_.file(name), text);
    return dir_.file(name);
  }
  test::TempDir dir_{"w2v_eval"};
};

using AnalogyTest = EvalFiles;
using SimilarityTest = EvalFiles;

// the, man, woman, king, princess, queen, quick, quickly, slow, slowly: queen and slowly are
// the exact answers, "the" and "princess" decoys.
Rows analogy_rows() {
  std::vector<float> man = {1, 0, 0, 0, 0}, woman = {0, 1, 0, 0, 0}, king = {1, 0, 1, 0, 0};
  std::vector<float> quick = {0, 0, 0, 1, 0}, quickly = {0, 0, 0, 1, 1}, slow = {0, 0, 0, .3f, 1};
  return {{"the", {1, 1, 1, 1, 1}},
          {"man", man},
          {"woman", woman},
          {"king", king},
          {"princess", {0, 1, 1, 0, 0}},
          {"queen", answer(man, king, woman)},
          {"quick", quick},
          {"quickly", quickly},
          {"slow", slow},
          {"slowly", answer(quick, quickly, slow)},
          {"Man", {0, 0, 0, 0, -1}}};  // folds onto "man", which comes first and wins
}

const char* kQuestions =
    ": capital-family\n"
    "man king woman queen\n"
    "MAN King WOMAN QUEEN\n"
    "man king woman princess\n"
    "man king woman unicorn\n"
    "king king man the\n"
    "\n"
    ": gram3-comparative\n"
    "quick quickly slow slowly\n"
    "Quick Quickly slow unicorn\n";

TEST_F(AnalogyTest, KnownAnswersSectionsAndCounts) {
  AnalogyReport r = evaluate_analogy(make(analogy_rows()), write("q.txt", kQuestions), 0);
  ASSERT_EQ(r.sections.size(), 2u);
  EXPECT_EQ(r.sections[0].name, "capital-family");
  EXPECT_EQ(r.sections[0].correct, 3u);  // "king king man": man and king excluded, "the" wins
  EXPECT_EQ(r.sections[0].attempted, 4u);
  EXPECT_EQ(r.sections[0].skipped, 1u);
  EXPECT_EQ(r.sections[1].name, "gram3-comparative");
  EXPECT_EQ(r.sections[1].correct, 1u);
  EXPECT_EQ(r.sections[1].attempted, 1u);
  EXPECT_EQ(r.sections[1].skipped, 1u);
  EXPECT_EQ(r.semantic_correct, 3u);
  EXPECT_EQ(r.semantic_attempted, 4u);
  EXPECT_EQ(r.syntactic_correct, 1u);
  EXPECT_EQ(r.syntactic_attempted, 1u);
  EXPECT_EQ(r.total_questions, 7u);
  EXPECT_EQ(r.skipped, 2u);
  EXPECT_DOUBLE_EQ(r.semantic_accuracy(), 0.75);
  EXPECT_DOUBLE_EQ(r.syntactic_accuracy(), 1.0);
  EXPECT_DOUBLE_EQ(r.total_accuracy(), 0.8);
  EXPECT_DOUBLE_EQ(r.coverage(), 5.0 / 7.0);
}

TEST_F(AnalogyTest, RestrictVocab) {
  // The first 5 rows: queen is out, so princess becomes the answer and queen questions skip.
  AnalogyReport r = evaluate_analogy(make(analogy_rows()), write("q.txt", kQuestions), 5);
  EXPECT_EQ(r.sections[0].correct, 2u);  // "man king woman princess", "king king man the"
  EXPECT_EQ(r.sections[0].attempted, 2u);
  EXPECT_EQ(r.sections[0].skipped, 3u);
  EXPECT_EQ(r.sections[1].attempted, 0u);
  EXPECT_EQ(r.sections[1].skipped, 2u);
  EXPECT_DOUBLE_EQ(r.syntactic_accuracy(), 0.0);
  EXPECT_EQ(evaluate_analogy(make(analogy_rows()), write("q.txt", kQuestions), 1000).skipped, 2u);
}

TEST_F(AnalogyTest, AnswerMatchesByFoldedText) {
  // A later "QUEEN" is the exact answer; the earlier "queen" is slightly off. As in
  // compute-accuracy.c, the answer counts because it folds to d.
  Rows rows = analogy_rows();
  rows.push_back({"QUEEN", rows[5].second});
  rows[5].second[4] = 0.2f;
  AnalogyReport r = evaluate_analogy(make(rows), write("q.txt", ": s\nman king woman queen\n"), 0);
  EXPECT_EQ(r.semantic_correct, 1u);
}

TEST_F(AnalogyTest, NoSectionHeader) {
  AnalogyReport r =
      evaluate_analogy(make(analogy_rows()), write("q.txt", "man king woman queen\n"), 0);
  ASSERT_EQ(r.sections.size(), 1u);
  EXPECT_EQ(r.semantic_correct, 1u);
}

TEST_F(AnalogyTest, Errors) {
  Embeddings e = make(analogy_rows());
  std::string p = write("bad.txt", ": s\nman king woman queen\nman king woman\n");
  try {
    evaluate_analogy(e, p, 0);
    ADD_FAILURE() << "no error";
  } catch (const Error& err) {
    EXPECT_EQ(std::string(err.what()), p + ": line 3: expected 4 words, found 3");
  }
  p = write("bad2.txt", ": s\na b c d e\n");
  EXPECT_THROW(evaluate_analogy(e, p, 0), Error);
  std::string missing = dir_.file("missing.txt");
  try {
    evaluate_analogy(e, missing, 0);
    ADD_FAILURE() << "no error";
  } catch (const Error& err) {
    EXPECT_EQ(std::string(err.what()).rfind(missing + ": ", 0), 0u);
  }
}

// Against a plain double-precision argmax on random vectors: several row blocks, a partial
// last block, several question batches and threads, dim not a multiple of the vector width.
TEST_F(AnalogyTest, MatchesBruteForce) {
  const std::size_t words = 300, restrict_vocab = 250, dim = 13;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  Embeddings e;
  e.dim = dim;
  auto w = [](std::size_t i) { return std::string(1, 'w').append(std::to_string(i)); };
  for (std::size_t i = 0; i < words; ++i) e.words.push_back(w(i));
  for (std::size_t i = 0; i < words * dim; ++i) e.data.push_back(normal(rng));
  std::vector<double> u(restrict_vocab * dim);
  for (std::size_t i = 0; i < restrict_vocab; ++i) {
    double s = 0;
    for (std::size_t d = 0; d < dim; ++d) s += double(e.row(i)[d]) * e.row(i)[d];
    for (std::size_t d = 0; d < dim; ++d) u[i * dim + d] = e.row(i)[d] / std::sqrt(s);
  }
  std::uniform_int_distribution<std::size_t> pick(0, restrict_vocab - 1);
  std::string text = ": semantic\n";
  std::size_t expected_correct = 0, questions = 0;
  while (questions < 400) {
    std::size_t a = pick(rng), b = pick(rng), c = pick(rng);
    if (a == b || a == c || b == c) continue;
    double best = -1e300, second = -1e300;
    std::size_t best_row = 0;
    for (std::size_t r = 0; r < restrict_vocab; ++r) {
      if (r == a || r == b || r == c) continue;
      double s = 0;
      for (std::size_t d = 0; d < dim; ++d)
        s += (u[b * dim + d] - u[a * dim + d] + u[c * dim + d]) * u[r * dim + d];
      if (s > best) {
        second = best;
        best = s;
        best_row = r;
      } else if (s > second) {
        second = s;
      }
    }
    if (best - second < 1e-4) continue;  // too close to call in float32
    std::size_t d = best_row;
    if (questions % 2) d = (best_row + 1 + pick(rng) % (restrict_vocab - 1)) % restrict_vocab;
    expected_correct += d == best_row;
    if (questions == 200) text += ": gram-syntactic\n";
    text += w(a) + " " + w(b) + " " + w(c) + " " + w(d) + "\n";
    ++questions;
  }
  AnalogyReport r = evaluate_analogy(e, write("q.txt", text), restrict_vocab);
  EXPECT_EQ(r.semantic_attempted + r.syntactic_attempted, questions);
  EXPECT_EQ(r.semantic_correct + r.syntactic_correct, expected_correct);
}

TEST_F(AnalogyTest, PrintReport) {
  AnalogyReport r = evaluate_analogy(make(analogy_rows()), write("q.txt", kQuestions), 0);
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  print_analogy_report(f, r);
  const std::string out = test::read_stream(f);
  std::fclose(f);
  EXPECT_NE(out.find("capital-family"), std::string::npos) << out;
  EXPECT_NE(out.find("75.00 %  (3 / 4)"), std::string::npos) << out;
  EXPECT_NE(out.find("gram3-comparative"), std::string::npos) << out;
  EXPECT_NE(out.find("total accuracy"), std::string::npos) << out;
  EXPECT_NE(out.find("questions seen: 5 / 7 (71.43%)"), std::string::npos) << out;
}

TEST(NeighborTest, OrderTiesAndExclusion) {
  Embeddings e = make({{"apple", {1, 0}},
                       {"pear", {2, 0.2f}},
                       {"plum", {1, 1}},
                       {"plum2", {2, 2}},
                       {"car", {-1, 0}},
                       {"zero", {0, 0}},
                       {"APPLE", {0, 1}}});
  auto words = [](const std::vector<Neighbor>& v) {
    std::vector<std::string> out;
    for (const Neighbor& n : v) out.push_back(n.word);
    return out;
  };
  auto n = nearest_neighbors(e, "apple", 3);
  EXPECT_EQ(words(n), (std::vector<std::string>{"pear", "plum", "plum2"}));
  EXPECT_NEAR(n[0].cosine, 2 / std::sqrt(4.04), 1e-6);
  EXPECT_NEAR(n[1].cosine, std::sqrt(0.5), 1e-6);
  EXPECT_EQ(words(nearest_neighbors(e, "apple", 100)),
            (std::vector<std::string>{"pear", "plum", "plum2", "zero", "APPLE", "car"}));
  EXPECT_EQ(words(nearest_neighbors(e, "APPLE", 2)), (std::vector<std::string>{"plum", "plum2"}));
  EXPECT_EQ(words(nearest_neighbors(e, "Apple", 1)), (std::vector<std::string>{"pear"}));
  EXPECT_TRUE(nearest_neighbors(e, "apple", 0).empty());
  EXPECT_EQ(find_word(e, "Apple"), 0u);
  EXPECT_EQ(find_word(e, "APPLE"), 6u);
  EXPECT_EQ(find_word(e, "banana"), kNoWord);
  float q[2] = {1, 0};
  EXPECT_EQ(words(nearest_to_vector(e, q, 2, {1})), (std::vector<std::string>{"apple", "plum"}));
  try {
    nearest_neighbors(e, "banana", 3, "v.txt");
    ADD_FAILURE() << "no error";
  } catch (const Error& err) {
    EXPECT_STREQ(err.what(), "banana: not in the vocabulary of v.txt");
  }
}

TEST(SimilaritySpearman, KnownValues) {
  // Wikipedia's IQ / hours-of-TV example: rho = -29/165.
  EXPECT_NEAR(spearman_correlation({106, 100, 86, 101, 99, 103, 97, 113, 112, 110},
                                   {7, 27, 2, 50, 28, 29, 20, 12, 6, 17}),
              -29.0 / 165.0, 1e-12);
  // Ties take average ranks: x ranks 1, 2.5, 2.5, 5, 5, 5 give sqrt(6/7) (scipy agrees).
  EXPECT_NEAR(spearman_correlation({10, 20, 20, 30, 30, 30}, {1, 3, 2, 6, 5, 4}),
              std::sqrt(6.0 / 7.0), 1e-12);
  EXPECT_NEAR(spearman_correlation({1, 2, 2, 3}, {1, 2, 3, 4}), 0.9486832980505138, 1e-12);
  EXPECT_DOUBLE_EQ(spearman_correlation({1, 2, 3}, {30, 20, 10}), -1.0);
  EXPECT_EQ(spearman_correlation({1, 1, 1}, {1, 2, 3}), 0.0);
  EXPECT_EQ(spearman_correlation({1}, {2}), 0.0);
  EXPECT_EQ(spearman_correlation({}, {}), 0.0);
}

Embeddings angles() {
  auto at = [](double degrees, float length) {
    double r = degrees * M_PI / 180;
    return std::vector<float>{length * float(std::cos(r)), length * float(std::sin(r))};
  };
  return make({{"a", at(0, 1)}, {"b", at(10, 2)}, {"c", at(50, 0.5f)}, {"d", at(100, 3)}});
}

TEST_F(SimilarityTest, PairsFile) {
  // Cosines: a-b 0.98, a-c 0.64, b-d 0, a-d -0.17 (ranks 4 3 2 1); human ranks 4 2 3 1.
  std::string p = write("pairs.tsv",
                        "# Word 1\tWord 2\tHuman (mean)\n"
                        "\n"
                        "a\tb\t9\n"
                        "A c 3\n"
                        "b\td 5.0\r\n"
                        "  # indented comment\n"
                        "a  d\t1e0\n"
                        "a unicorn 5\n"
                        "Unicorn Dragon 1\n");
  SimilarityReport r = evaluate_similarity(angles(), p);
  EXPECT_EQ(r.pairs_used, 4u);
  EXPECT_EQ(r.pairs_oov, 2u);
  EXPECT_NEAR(r.spearman, 0.8, 1e-12);
}

TEST_F(SimilarityTest, TooFewPairs) {
  SimilarityReport r = evaluate_similarity(angles(), write("p.txt", "a b 1\nx y 2\n"));
  EXPECT_EQ(r.pairs_used, 1u);
  EXPECT_EQ(r.pairs_oov, 1u);
  EXPECT_EQ(r.spearman, 0.0);
  r = evaluate_similarity(angles(), write("empty.txt", ""));
  EXPECT_EQ(r.pairs_used, 0u);
  EXPECT_EQ(r.spearman, 0.0);
}

TEST_F(SimilarityTest, MalformedLines) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a b 1\na b\n", "line 2: expected 'WORD WORD SCORE', found 2 fields"},
      {"a b 1\na b c 2\n", "line 2: expected 'WORD WORD SCORE', found 4 fields"},
      {"# x\na b high\n", "line 2: score 'high' is not a number"},
      {"a b nan\n", "line 1: score 'nan' is not a number"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    std::string p = write("bad" + std::to_string(i) + ".txt", cases[i].first);
    try {
      evaluate_similarity(angles(), p);
      ADD_FAILURE() << "no error for case " << i;
    } catch (const Error& err) {
      EXPECT_EQ(std::string(err.what()), p + ": " + cases[i].second);
    }
  }
  EXPECT_THROW(evaluate_similarity(angles(), dir_.file("missing")), Error);
}

}  // namespace
}  // namespace w2v
