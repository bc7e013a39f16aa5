#pragma once
#include <cstdint>

namespace w2v {

// How a loss combines the valid slots of a row (and how CBOW's context gradient is formed).
//   kMean: the mean over valid slots: the d2l example's masked mean, PyTorch's default. Its
//          gradient shrinks as a row holds more slots.
//   kSum:  the sum, so that a learning rate is a rate per (center, context) pair as in
//          word2vec.c; for CBOW's backward, every context row receives the whole gradient of
//          the hidden vector, as word2vec.c applies it. The trainers use this.
enum class Reduction : std::uint8_t { kMean, kSum };

}  // namespace w2v
