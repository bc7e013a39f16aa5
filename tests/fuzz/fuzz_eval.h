#pragma once
// The fixed vectors the analogy and similarity harnesses evaluate against: a few words of
// questions-words.txt and WordSim-353, two that fold to the same key ("Paris", "paris"), and
// a zero row (cosines with it are 0 by definition).
#include "w2v/vectors.h"

namespace w2v::fuzz {

inline const Embeddings& fixed_embeddings() {
  static const Embeddings e = [] {
    Embeddings e;
    e.dim = 3;
    e.words = {"king", "queen", "man", "woman", "Paris", "paris", "france", "berlin", "zero"};
    e.data = {1, 0, 1, 1, 1, 1, 0, 0, 1, 0, 1, 1, 2, 0, -1, 1, 0, -1, 2, 1, -1, 3, 0, -2, 0, 0, 0};
    return e;
  }();
  return e;
}

}  // namespace w2v::fuzz
