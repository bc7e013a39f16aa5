#include "w2v/model.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "w2v/error.h"
#include "w2v/sampling.h"

namespace w2v {

void Matrix::Free::operator()(float* p) const { std::free(p); }

Matrix::Matrix(std::size_t rows, std::size_t cols) : rows_(rows), cols_(cols) {
  std::size_t bytes = rows * cols * sizeof(float);
  bytes = (bytes + 63) / 64 * 64;
  if (bytes == 0) bytes = 64;
  void* p = std::aligned_alloc(64, bytes);
  if (!p)
    throw Error("out of memory: a " + std::to_string(rows) + " x " + std::to_string(cols) +
                " matrix needs " + std::to_string(bytes >> 20) +
                " MiB; lower --dim or --max-vocab");
  data_.reset(static_cast<float*>(p));
}

Model Model::initialize(std::size_t vocab, std::size_t dim, bool tied, std::uint64_t seed) {
  Model m;
  m.tied = tied;
  m.input = Matrix(vocab, dim);
  Rng rng(worker_seed(seed, 0xC0FFEE));
  const float scale = 1.0f / static_cast<float>(dim);
  float* in = m.input.data();
  for (std::size_t i = 0; i < vocab * dim; ++i) in[i] = (rng.uniform() - 0.5f) * scale;
  if (!tied) {
    m.output = Matrix(vocab, dim);
    std::memset(m.output.data(), 0, vocab * dim * sizeof(float));
  }
  return m;
}

}  // namespace w2v
