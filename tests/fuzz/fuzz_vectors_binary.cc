// Feeds the input, as a file named "vectors.bin", to read_vectors: word2vec binary vectors
// ("COUNT DIM" then "word " + DIM float32, rows with or without a trailing '\n'); the name
// makes an undecidable first row binary. Accepted vectors are checked by check_embeddings.
#include "fuzz_vectors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static w2v::fuzz::FuzzFile file("vectors.bin");
  return w2v::fuzz::fuzz_read_vectors(file, data, size);
}
