#pragma once
// The body of the two vector harnesses (fuzz_vectors_text.cc, fuzz_vectors_binary.cc): they
// differ only in their seeds and in the file's name, which breaks read_vectors' format tie.
#include <cmath>
#include <cstring>

#include "fuzz_file.h"
#include "w2v/error.h"
#include "w2v/vectors.h"

namespace w2v::fuzz {

// What read_vectors promises of a file it accepts: [words, dim] finite values, words that
// write_vectors could write back, at most max_words rows when that is set.
inline void check_embeddings(const Embeddings& e, std::size_t max_words) {
  W2V_FUZZ_CHECK(e.dim > 0);
  W2V_FUZZ_CHECK(e.data.size() == e.words.size() * e.dim);
  W2V_FUZZ_CHECK(max_words == 0 || e.words.size() <= max_words);
  for (const std::string& w : e.words)
    W2V_FUZZ_CHECK(!w.empty() && w.find_first_of(" \n") == std::string::npos);
  for (float v : e.data) W2V_FUZZ_CHECK(std::isfinite(v));
}

// The whole file; when it holds more than one row, again with max_words = 1, which must give
// its first row alone.
inline int fuzz_read_vectors(FuzzFile& file, const std::uint8_t* data, std::size_t size) {
  const std::string& path = file.write(data, size);
  try {
    const Embeddings all = read_vectors(path);
    check_embeddings(all, 0);
    if (all.words.size() < 2) return 0;
    const Embeddings first = read_vectors(path, 1);
    check_embeddings(first, 1);
    W2V_FUZZ_CHECK(first.words.size() == 1 && first.words[0] == all.words[0]);
    W2V_FUZZ_CHECK(first.dim == all.dim &&
                   std::memcmp(first.data.data(), all.data.data(), all.dim * sizeof(float)) == 0);
  } catch (const Error&) {
  }
  return 0;
}

}  // namespace w2v::fuzz
