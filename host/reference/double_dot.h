#pragma once
// The dot product every reference accumulates in double.
#include <cstddef>

namespace w2v::ref::detail {

// Four partial sums: one running sum is a chain of dependent adds that the compiler may not
// reorder, and it made the CPU twin's softmax (a dot per vocabulary row) several times slower.
// In double the order changes nothing a float result can see.
inline double dot(const float* a, const float* b, std::size_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += static_cast<double>(a[i]) * b[i];
    s1 += static_cast<double>(a[i + 1]) * b[i + 1];
    s2 += static_cast<double>(a[i + 2]) * b[i + 2];
    s3 += static_cast<double>(a[i + 3]) * b[i + 3];
  }
  for (; i < n; ++i) s0 += static_cast<double>(a[i]) * b[i];
  return (s0 + s1) + (s2 + s3);
}

}  // namespace w2v::ref::detail
