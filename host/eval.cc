#include "w2v/eval.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <exception>
#include <limits>
#include <numeric>
#include <thread>
#include <unordered_map>

#include "w2v/error.h"
#include "w2v/io.h"
#include "w2v/vector_math.h"

namespace w2v {
namespace {

char fold_char(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string fold(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = fold_char(c);
  return out;
}

bool equal_folded(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return fold_char(x) == fold_char(y);
         });
}

std::vector<std::string_view> split_ws(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (true) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i == line.size()) return out;
    std::size_t end = i;
    while (end < line.size() && !std::isspace(static_cast<unsigned char>(line[end]))) ++end;
    out.push_back(line.substr(i, end - i));
    i = end;
  }
}

// Folded word -> first row among the first n rows with that key.
std::unordered_map<std::string, std::uint32_t> folded_index(const Embeddings& e, std::size_t n) {
  std::unordered_map<std::string, std::uint32_t> index;
  index.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    index.emplace(fold(e.words[i]), static_cast<std::uint32_t>(i));
  return index;
}

std::string line_error(std::size_t line_no, const std::string& problem) {
  return "line " + std::to_string(line_no) + ": " + problem;
}

double ratio(std::size_t a, std::size_t b) { return b ? static_cast<double>(a) / b : 0.0; }

}  // namespace

std::size_t find_word(const Embeddings& e, std::string_view word) {
  for (std::size_t i = 0; i < e.words.size(); ++i)
    if (e.words[i] == word) return i;
  for (std::size_t i = 0; i < e.words.size(); ++i)
    if (equal_folded(e.words[i], word)) return i;
  return kNoWord;
}

std::vector<Neighbor> nearest_to_vector(const Embeddings& e, const float* query, std::size_t k,
                                        const std::vector<std::size_t>& exclude) {
  float qnorm = std::sqrt(dot(query, query, e.dim));
  // (cosine, row), kept as a min-heap of the best k so far; the comparator makes an earlier
  // row beat a later one with the same cosine.
  using Entry = std::pair<float, std::size_t>;
  auto better = [](const Entry& a, const Entry& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  std::vector<Entry> heap;
  if (k == 0) return {};
  for (std::size_t i = 0; i < e.words.size(); ++i) {
    if (std::find(exclude.begin(), exclude.end(), i) != exclude.end()) continue;
    const float* r = e.row(i);
    float denom = qnorm * std::sqrt(dot(r, r, e.dim));
    Entry entry{denom > 0 ? dot(query, r, e.dim) / denom : 0.0f, i};
    if (heap.size() < k) {
      heap.push_back(entry);
      std::push_heap(heap.begin(), heap.end(), better);
    } else if (better(entry, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), better);
      heap.back() = entry;
      std::push_heap(heap.begin(), heap.end(), better);
    }
  }
  std::sort(heap.begin(), heap.end(), better);
  std::vector<Neighbor> out;
  out.reserve(heap.size());
  for (const auto& [cosine, i] : heap) out.push_back({e.words[i], cosine});
  return out;
}

std::vector<Neighbor> nearest_neighbors(const Embeddings& e, const std::string& word, std::size_t k,
                                        const std::string& source) {
  std::size_t i = find_word(e, word);
  if (i == kNoWord)
    throw Error(word + ": not in the vocabulary" + (source.empty() ? "" : " of " + source));
  return nearest_to_vector(e, e.row(i), k, {i});
}

double AnalogyReport::semantic_accuracy() const {
  return ratio(semantic_correct, semantic_attempted);
}
double AnalogyReport::syntactic_accuracy() const {
  return ratio(syntactic_correct, syntactic_attempted);
}
double AnalogyReport::total_accuracy() const {
  return ratio(semantic_correct + syntactic_correct, semantic_attempted + syntactic_attempted);
}
double AnalogyReport::coverage() const {
  return ratio(semantic_attempted + syntactic_attempted, total_questions);
}

namespace {

struct Question {
  std::uint32_t a, b, c, d, section;
};

// Rows per block of the transposed matrix: 64 floats of accumulators per question stay in
// registers, and a [dim, 64] block (25 KiB at dim 100) stays in L1 while a batch of
// questions streams over it.
constexpr std::size_t kBlockRows = 64;
constexpr std::size_t kQuestionBatch = 64;

// Unit rows 0..n-1 of e, as blocks of kBlockRows rows, each transposed to [dim, kBlockRows];
// rows past n are zero.
std::vector<float> blocked_unit_rows(const Embeddings& e, std::size_t n) {
  std::size_t blocks = (n + kBlockRows - 1) / kBlockRows, dim = e.dim;
  std::vector<float> out(blocks * dim * kBlockRows, 0.0f);
  for (std::size_t i = 0; i < n; ++i) {
    const float* r = e.row(i);
    float norm = std::sqrt(dot(r, r, dim));
    float scale = norm > 0 ? 1.0f / norm : 0.0f;
    float* block = out.data() + (i / kBlockRows) * dim * kBlockRows;
    for (std::size_t d = 0; d < dim; ++d) block[d * kBlockRows + i % kBlockRows] = r[d] * scale;
  }
  return out;
}

// Best row for each question in [begin, end); answers[q] = row or kNoWord.
void answer_questions(const std::vector<float>& blocked, std::size_t n, std::size_t dim,
                      const std::vector<Question>& questions, std::size_t begin, std::size_t end,
                      std::vector<std::size_t>& answers) {
  std::size_t blocks = (n + kBlockRows - 1) / kBlockRows;
  std::vector<float> query(kQuestionBatch * dim);  // [batch, dim]
  std::vector<float> best(kQuestionBatch);
  auto unit = [&](std::uint32_t row, std::size_t d) {
    return blocked[(row / kBlockRows) * dim * kBlockRows + d * kBlockRows + row % kBlockRows];
  };
  for (std::size_t q0 = begin; q0 < end; q0 += kQuestionBatch) {
    std::size_t batch = std::min(kQuestionBatch, end - q0);
    for (std::size_t j = 0; j < batch; ++j) {
      const Question& q = questions[q0 + j];
      for (std::size_t d = 0; d < dim; ++d)
        query[j * dim + d] = unit(q.b, d) - unit(q.a, d) + unit(q.c, d);
      best[j] = -std::numeric_limits<float>::infinity();
      answers[q0 + j] = kNoWord;
    }
    for (std::size_t blk = 0; blk < blocks; ++blk) {
      const float* m = blocked.data() + blk * dim * kBlockRows;
      std::size_t base = blk * kBlockRows, rows = std::min(kBlockRows, n - base);
      for (std::size_t j = 0; j < batch; ++j) {
        const float* x = query.data() + j * dim;
        float acc[kBlockRows] = {};
        for (std::size_t d = 0; d < dim; ++d) {
          float xd = x[d];
#pragma omp simd
          for (std::size_t r = 0; r < kBlockRows; ++r) acc[r] += xd * m[d * kBlockRows + r];
        }
        float top = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : top)
        for (std::size_t r = 0; r < kBlockRows; ++r) top = std::max(top, acc[r]);
        if (!(top > best[j])) continue;
        // Rare: only when this block may hold a new best; strict '>' keeps the earliest row
        // among ties, as compute-accuracy.c does.
        const Question& q = questions[q0 + j];
        for (std::size_t r = 0; r < rows; ++r) {
          std::size_t row = base + r;
          if (acc[r] > best[j] && row != q.a && row != q.b && row != q.c) {
            best[j] = acc[r];
            answers[q0 + j] = row;
          }
        }
      }
    }
  }
}

}  // namespace

AnalogyReport evaluate_analogy(const Embeddings& e, const std::string& questions_path,
                               std::size_t restrict_vocab) {
  std::size_t n = restrict_vocab ? std::min(restrict_vocab, e.words.size()) : e.words.size();
  auto index = folded_index(e, n);
  AnalogyReport report;
  std::vector<Question> questions;
  InputFile in(questions_path);
  std::string line;
  for (std::size_t line_no = 1; in.read_line(line); ++line_no) {
    auto tokens = split_ws(line);
    if (tokens.empty()) continue;
    if (tokens[0][0] == ':') {
      auto name = split_ws(std::string_view(line).substr(line.find(':') + 1));
      if (name.empty()) throw_file_error(questions_path, line_error(line_no, "empty section name"));
      report.sections.push_back({std::string(name.front().begin(), name.back().end())});
      continue;
    }
    if (tokens.size() != 4) {
      throw_file_error(questions_path, line_error(line_no, "expected 4 words, found " +
                                                               std::to_string(tokens.size())));
    }
    if (report.sections.empty()) report.sections.push_back({"(unnamed)"});
    AnalogySection& section = report.sections.back();
    ++report.total_questions;
    std::uint32_t rows[4];
    bool known = true;
    for (int k = 0; k < 4 && known; ++k) {
      auto it = index.find(fold(tokens[k]));
      known = it != index.end();
      if (known) rows[k] = it->second;
    }
    if (!known) {
      ++section.skipped;
      ++report.skipped;
      continue;
    }
    ++section.attempted;
    questions.push_back({rows[0], rows[1], rows[2], rows[3],
                         static_cast<std::uint32_t>(report.sections.size() - 1)});
  }

  std::vector<float> blocked = blocked_unit_rows(e, n);
  std::vector<std::size_t> answers(questions.size(), kNoWord);
  std::size_t threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, (questions.size() + kQuestionBatch - 1) / kQuestionBatch);
  if (threads <= 1) {
    answer_questions(blocked, n, e.dim, questions, 0, questions.size(), answers);
  } else {
    std::vector<std::thread> workers;
    std::vector<std::exception_ptr> errors(threads);
    for (std::size_t t = 0; t < threads; ++t) {
      std::size_t begin = questions.size() * t / threads;
      std::size_t end = questions.size() * (t + 1) / threads;
      workers.emplace_back([&, t, begin, end] {
        try {
          answer_questions(blocked, n, e.dim, questions, begin, end, answers);
        } catch (...) {
          errors[t] = std::current_exception();
        }
      });
    }
    for (auto& w : workers) w.join();
    for (auto& err : errors)
      if (err) std::rethrow_exception(err);
  }

  // compute-accuracy.c compares the answer's folded text, so a later row that folds to d
  // (e.g. "Paris" after "paris") also counts as correct.
  for (std::size_t i = 0; i < questions.size(); ++i) {
    const Question& q = questions[i];
    report.sections[q.section].correct +=
        answers[i] != kNoWord && index.at(fold(e.words[answers[i]])) == q.d;
  }
  for (const AnalogySection& s : report.sections) {
    bool syntactic = s.name.rfind("gram", 0) == 0;
    (syntactic ? report.syntactic_correct : report.semantic_correct) += s.correct;
    (syntactic ? report.syntactic_attempted : report.semantic_attempted) += s.attempted;
  }
  return report;
}

void print_analogy_report(std::FILE* out, const AnalogyReport& r) {
  int width = 20;
  for (const AnalogySection& s : r.sections)
    width = std::max(width, static_cast<int>(s.name.size()));
  auto row = [&](const std::string& name, std::size_t correct, std::size_t attempted) {
    std::fprintf(out, "%-*s %7.2f %%  (%zu / %zu)\n", width, name.c_str(),
                 100.0 * ratio(correct, attempted), correct, attempted);
  };
  for (const AnalogySection& s : r.sections) row(s.name, s.correct, s.attempted);
  row("semantic accuracy", r.semantic_correct, r.semantic_attempted);
  row("syntactic accuracy", r.syntactic_correct, r.syntactic_attempted);
  row("total accuracy", r.semantic_correct + r.syntactic_correct,
      r.semantic_attempted + r.syntactic_attempted);
  std::fprintf(out, "questions seen: %zu / %zu (%.2f%%)\n",
               r.semantic_attempted + r.syntactic_attempted, r.total_questions,
               100.0 * r.coverage());
}

namespace {

// 1-based ranks; tied values share the average of the ranks they span.
std::vector<double> average_ranks(const std::vector<double>& v) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> ranks(v.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    double rank = (i + j) / 2.0 + 1.0;
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

}  // namespace

double spearman_correlation(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size() || x.size() < 2) return 0.0;
  std::vector<double> rx = average_ranks(x), ry = average_ranks(y);
  double mean = (x.size() + 1) / 2.0;  // mean of any set of average ranks 1..n
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    double dx = rx[i] - mean, dy = ry[i] - mean;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : 0.0;
}

SimilarityReport evaluate_similarity(const Embeddings& e, const std::string& pairs_path) {
  auto index = folded_index(e, e.words.size());
  SimilarityReport report;
  std::vector<double> human, model;
  InputFile in(pairs_path);
  std::string line;
  for (std::size_t line_no = 1; in.read_line(line); ++line_no) {
    auto fields = split_ws(line);
    if (fields.empty() || fields[0][0] == '#') continue;
    if (fields.size() != 3) {
      throw_file_error(pairs_path,
                       line_error(line_no, "expected 'WORD WORD SCORE', found " +
                                               std::to_string(fields.size()) + " fields"));
    }
    double score = 0;
    auto [p, ec] = std::from_chars(fields[2].data(), fields[2].data() + fields[2].size(), score);
    if (ec != std::errc() || p != fields[2].data() + fields[2].size() || !std::isfinite(score)) {
      throw_file_error(pairs_path, line_error(line_no, "score '" + std::string(fields[2]) +
                                                           "' is not a number"));
    }
    auto a = index.find(fold(fields[0])), b = index.find(fold(fields[1]));
    if (a == index.end() || b == index.end()) {
      ++report.pairs_oov;
      continue;
    }
    const float *x = e.row(a->second), *y = e.row(b->second);
    double denom = std::sqrt(static_cast<double>(dot(x, x, e.dim)) * dot(y, y, e.dim));
    human.push_back(score);
    model.push_back(denom > 0 ? dot(x, y, e.dim) / denom : 0.0);
  }
  report.pairs_used = human.size();
  report.spearman = spearman_correlation(human, model);
  return report;
}

}  // namespace w2v
