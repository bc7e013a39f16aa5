#pragma once
// The dot product every reference accumulates in double.
#include <cstddef>

namespace w2v::ref::detail {

inline double dot(const float* a, const float* b, std::size_t n) {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

}  // namespace w2v::ref::detail
