// The tolerance check the kernel tests report with (tests/support/compare.h).
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "support/compare.h"

namespace w2v {
namespace {

using test::error_ratio;
using test::expect_close;

// How many failures `check` reports, intercepted so that they do not fail this test.
template <class Check>
int failures_of(Check check) {
  ::testing::TestPartResultArray results;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    check();
  }
  return results.size();
}

TEST(ErrorRatio, ExactComparisonsOfZerosPass) {
  // An exact comparison (no tolerance at all) of equal values, zeros included: 0, not 0/0.
  EXPECT_EQ(error_ratio(0.0, 0.0, 0.0, 0.0, 0.0), 0.0);
  EXPECT_EQ(error_ratio(1.5, 1.5, 0.0, 0.0, 1.5), 0.0);
  expect_close({0.0f, 0.0f, 2.0f}, {0.0f, 0.0f, 2.0f}, 1e-5, 0.0, "exact");
}

TEST(ErrorRatio, FollowsTheScaleAndCatchesNan) {
  EXPECT_NEAR(error_ratio(1.001, 1.0, 1e-3, 0.0, 1.0), 1.0, 1e-9);
  EXPECT_GT(error_ratio(1.01, 1.0, 1e-3, 0.0, 1.0), 1.0);
  EXPECT_LT(error_ratio(1.01, 1.0, 1e-3, 0.0, 100.0), 1.0) << "a larger scale admits more";
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(error_ratio(nan, 1.0, 1e-3, 1e-3, 1.0) <= 1.0);
  EXPECT_GT(failures_of([] {
              expect_close({std::numeric_limits<float>::quiet_NaN()}, {0.0f}, 1e-3, 1e-3, "nan");
            }),
            0);
  EXPECT_GT(failures_of([] { expect_close({1.1f}, {1.0f}, 1e-3, 0.0, "off"); }), 0);
  EXPECT_EQ(failures_of([] { expect_close({1.0005f}, {1.0f}, 1e-3, 0.0, "within"); }), 0);
}

}  // namespace
}  // namespace w2v
