#pragma once
// The two vector loops every host trainer and the evaluation share, vectorised with omp simd
// (the build passes -fopenmp-simd).
#include <cstddef>

namespace w2v {

inline float dot(const float* a, const float* b, std::size_t n) {
  float s = 0;
#pragma omp simd reduction(+ : s)
  for (std::size_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

// y += a x. y may alias x (tied embeddings): each element is read and written once, no carried
// dependency.
inline void axpy(float* y, float a, const float* x, std::size_t n) {
#pragma omp simd
  for (std::size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

}  // namespace w2v
