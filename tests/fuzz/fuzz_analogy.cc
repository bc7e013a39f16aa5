// Feeds the input, as a file, to evaluate_analogy (compute-accuracy.c's question files:
// ": section" lines and "a b c d" questions) over fixed vectors (fuzz_eval.h), with every row,
// then, if it attempted a question, with only the first 3 (where a question's a, b and c can
// exclude every candidate); prints an accepted report to /dev/null.
#include <cstdio>

#include "fuzz_eval.h"
#include "fuzz_file.h"
#include "w2v/error.h"
#include "w2v/eval.h"

namespace {

void check_report(const w2v::AnalogyReport& r) {
  std::size_t correct = 0, attempted = 0, skipped = 0;
  for (const w2v::AnalogySection& s : r.sections) {
    W2V_FUZZ_CHECK(s.correct <= s.attempted);
    correct += s.correct;
    attempted += s.attempted;
    skipped += s.skipped;
  }
  W2V_FUZZ_CHECK(correct == r.semantic_correct + r.syntactic_correct);
  W2V_FUZZ_CHECK(attempted == r.semantic_attempted + r.syntactic_attempted);
  W2V_FUZZ_CHECK(skipped == r.skipped && attempted + skipped == r.total_questions);
  for (double f : {r.semantic_accuracy(), r.syntactic_accuracy(), r.total_accuracy(), r.coverage()})
    W2V_FUZZ_CHECK(f >= 0 && f <= 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static w2v::fuzz::FuzzFile file;
  static std::FILE* null_out = std::fopen("/dev/null", "w");
  const std::string& path = file.write(data, size);
  const w2v::Embeddings& e = w2v::fuzz::fixed_embeddings();
  try {
    const w2v::AnalogyReport all = w2v::evaluate_analogy(e, path, 0);
    check_report(all);
    w2v::print_analogy_report(null_out, all);
    if (all.semantic_attempted + all.syntactic_attempted > 0)
      check_report(w2v::evaluate_analogy(e, path, 3));
  } catch (const w2v::Error&) {
  }
  return 0;
}
