// Feeds the input, as a file with no ".bin" name, to read_vectors: word2vec text vectors
// ("COUNT DIM" then "word v1 ... vDIM" lines), and anything its content sniffing takes for
// binary. Accepted vectors are checked by check_embeddings (fuzz_vectors.h).
#include "fuzz_vectors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static w2v::fuzz::FuzzFile file;
  return w2v::fuzz::fuzz_read_vectors(file, data, size);
}
