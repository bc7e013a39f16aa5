#pragma once
// The vector loops every host trainer and the evaluation share, vectorised through GCC's and
// Clang's vector extension or omp simd (the build passes -fopenmp-simd).
#include <cstddef>
#include <type_traits>

namespace w2v {

namespace simd {
// 8, 4 and 1 floats: GCC's and Clang's vector extension, no instruction set named (a machine
// with narrower vectors splits each). No function takes or returns one by value: without AVX
// that would change the calling convention (-Wpsabi).
using Lanes = float __attribute__((vector_size(32)));
using HalfLanes = float __attribute__((vector_size(16)));
using OneLane = float __attribute__((vector_size(4)));
constexpr std::size_t kLanes = sizeof(Lanes) / sizeof(float);
template <class V>
void load(V& v, const float* p) {
  __builtin_memcpy(&v, p, sizeof v);
}
template <class V>
void store(float* p, const V& v) {
  __builtin_memcpy(p, &v, sizeof v);
}
// sum += a[0..lanes) b[0..lanes)
template <class V>
void add_product(V& sum, const float* a, const float* b) {
  V x, y;
  load(x, a);
  load(y, b);
  sum += x * y;
}
}  // namespace simd

// Four partial sums of 8 lanes: a single vector accumulator (what omp simd's reduction gives)
// waits on its own adds, about 13 in a row at dim 100.
inline float dot(const float* a, const float* b, std::size_t n) {
  using simd::kLanes, simd::add_product;
  simd::Lanes s0 = {}, s1 = {}, s2 = {}, s3 = {};
  std::size_t i = 0;
  for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
    add_product(s0, a + i, b + i);
    add_product(s1, a + i + kLanes, b + i + kLanes);
    add_product(s2, a + i + 2 * kLanes, b + i + 2 * kLanes);
    add_product(s3, a + i + 3 * kLanes, b + i + 3 * kLanes);
  }
  for (; i + kLanes <= n; i += kLanes) add_product(s0, a + i, b + i);
  const simd::Lanes s = (s0 + s1) + (s2 + s3);
  float tail = 0;
  for (; i < n; ++i) tail += a[i] * b[i];
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])) + tail;
}

// y += a x. y may alias x (tied embeddings): each element is read and written once, no carried
// dependency.
inline void axpy(float* y, float a, const float* x, std::size_t n) {
#pragma omp simd
  for (std::size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// Several logistic outputs of one input x in one pass: grad += g[k] rows[k] for each k in
// order (the rows before their update), and rows[k] += g[k] x. The rows are distinct and none is
// x, so each is read and written once, and grad's sums are those of one axpy after another.
inline void axpy_rows(float* grad, float* const* rows, const float* g, std::size_t count,
                      const float* x, std::size_t n) {
  // Block by block: x and grad's sum stay in registers while the rows pass.
  auto block = [&](std::size_t i, auto width) {
    using V = typename decltype(width)::type;
    V xi, sum, r;
    simd::load(xi, x + i);
    simd::load(sum, grad + i);
    for (std::size_t k = 0; k < count; ++k) {
      simd::load(r, rows[k] + i);
      sum += g[k] * r;
      r += g[k] * xi;
      simd::store(rows[k] + i, r);
    }
    simd::store(grad + i, sum);
  };
  std::size_t i = 0;
  for (; i + simd::kLanes <= n; i += simd::kLanes) block(i, std::type_identity<simd::Lanes>{});
  for (; i + 4 <= n; i += 4) block(i, std::type_identity<simd::HalfLanes>{});
  for (; i < n; ++i) block(i, std::type_identity<simd::OneLane>{});
}

}  // namespace w2v
