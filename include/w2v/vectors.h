#pragma once
// Word vectors in word2vec.c's two file formats, which gensim's
// KeyedVectors.load_word2vec_format reads:
//   text:   "COUNT DIM\n", then per word "word v1 v2 ... vDIM\n"
//   binary: "COUNT DIM\n", then per word "word " + DIM little-endian float32 + "\n"
// gensim writes binary rows without the trailing '\n'; the reader accepts both.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace w2v {

enum class VectorFormat { kText, kBinary };

// The --format flag: "text", "bin"/"binary", or "auto" (a ".bin" extension means binary,
// anything else text). Any other value throws w2v::Error naming the flag.
VectorFormat resolve_vector_format(const std::string& flag_value, const std::string& path);

struct Embeddings {
  std::vector<std::string> words;  // file order (frequency order for our files)
  std::size_t dim = 0;
  std::vector<float> data;  // [words.size(), dim], row-major
  const float* row(std::size_t i) const { return data.data() + i * dim; }
};

// data: [words.size(), dim], row-major; plus, when given, a table of the same shape added to
// it row by row (a model's input + output vectors, without a copy of the tables). Text values
// are written in the shortest form that reads back as the same float32. Goes through
// AtomicFile: on any error (a word that would break the format, a non-finite value, a failed
// write) nothing appears at path.
void write_vectors(const std::string& path, VectorFormat format,
                   const std::vector<std::string>& words, const float* data, std::size_t dim,
                   const float* plus = nullptr);

// Reads either format, told apart by the content of the first record (the extension only
// breaks a tie). Validation is strict: every malformed, truncated or non-finite input throws
// w2v::Error "PATH: problem". max_words > 0 reads only the first max_words rows and ignores
// the rest of the file.
Embeddings read_vectors(const std::string& path, std::size_t max_words = 0);

// A piece of a possibly binary file, made safe to put in a one-line message: printable ASCII
// and well-formed UTF-8 stay, every other byte is written as \xNN.
std::string shown(std::string_view s);

// Whether `s` is UTF-8 as strictly as Python decodes it (gensim's loader, by default).
bool is_utf8(std::string_view s);

}  // namespace w2v
