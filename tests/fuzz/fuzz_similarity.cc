// Feeds the input, as a file, to evaluate_similarity ("w1 w2 score" lines, '#' comments) over
// fixed vectors (fuzz_eval.h); an accepted file must give a Spearman correlation in [-1, 1].
#include <cmath>

#include "fuzz_eval.h"
#include "fuzz_file.h"
#include "w2v/error.h"
#include "w2v/eval.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static w2v::fuzz::FuzzFile file;
  const std::string& path = file.write(data, size);
  try {
    const w2v::SimilarityReport r = w2v::evaluate_similarity(w2v::fuzz::fixed_embeddings(), path);
    W2V_FUZZ_CHECK(std::isfinite(r.spearman) && std::fabs(r.spearman) <= 1 + 1e-9);
  } catch (const w2v::Error&) {
  }
  return 0;
}
