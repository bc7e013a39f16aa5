#pragma once
// The tolerance check every comparison against a reference reports with: the error ratio
// |got - want| / (atol + rtol * scale) must be <= 1, scale being the magnitude the rounding
// error grows with (|want| for elementwise results, the sum of |terms| for reductions).
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

namespace w2v::test {

// Equal values give 0 whatever the tolerance (an exact comparison of zeros passes); a NaN
// gives NaN, which no check passes.
inline double error_ratio(double got, double want, double rtol, double atol, double scale) {
  if (got == want) return 0.0;
  return std::abs(got - want) / (atol + rtol * scale);
}

// Every element's error ratio <= 1; scale defaults to |want|. The first mismatches are shown.
inline void expect_close(const std::vector<float>& got, const std::vector<float>& want, double rtol,
                         double atol, const std::string& what,
                         const std::vector<double>& scale = {}) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double worst = 0;
  std::size_t shown = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double s = scale.empty() ? std::abs(double(want[i])) : scale[i];
    const double err = error_ratio(got[i], want[i], rtol, atol, s);
    if (!(err <= 1.0) && shown++ < 5)
      ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << ", reference " << want[i];
    if (!(err <= worst)) worst = err;
  }
  EXPECT_LE(worst, 1.0) << what << ": worst error ratio";
}

}  // namespace w2v::test
