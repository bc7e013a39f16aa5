#pragma once
// For tests that run kernels: device detection, a device copy of a host vector, fresh random
// inputs, and the tolerance check every kernel test reports with. CUDA builds only.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "w2v/cuda_check.h"

namespace w2v::test {

inline bool have_device() {
  int n = 0;
  bool ok = cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
  cudaGetLastError();
  return ok;
}

// A device copy of a host vector; poisoned with NaN bytes when created empty.
template <typename T>
class Device {
 public:
  explicit Device(std::size_t n) : n_(n) {
    W2V_CUDA_CHECK(
        cudaMalloc(reinterpret_cast<void**>(&p_), std::max<std::size_t>(n, 1) * sizeof(T) + 16));
    W2V_CUDA_CHECK(cudaMemset(p_, 0xff, std::max<std::size_t>(n, 1) * sizeof(T) + 16));
  }
  explicit Device(const std::vector<T>& host) : Device(host.size()) { upload(host); }
  ~Device() { cudaFree(p_); }
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  void upload(const std::vector<T>& host) {
    W2V_CUDA_CHECK(cudaMemcpy(p_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  }
  std::vector<T> download() const {
    W2V_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<T> host(n_);
    W2V_CUDA_CHECK(cudaMemcpy(host.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }
  T* get() const { return p_; }

 private:
  T* p_ = nullptr;
  std::size_t n_;
};

inline std::vector<float> random_floats(std::size_t n, std::mt19937& gen, float scale = 1.0f) {
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = u(gen);
  return v;
}

inline std::vector<std::int32_t> random_indices(std::size_t n, std::int64_t bound,
                                                std::mt19937& gen) {
  std::uniform_int_distribution<std::int64_t> u(0, bound - 1);
  std::vector<std::int32_t> v(n);
  for (auto& x : v) x = static_cast<std::int32_t>(u(gen));
  return v;
}

// max |got - want| / (atol + rtol * scale); scale defaults to |want|.
inline void expect_close(const std::vector<float>& got, const std::vector<float>& want, double rtol,
                         double atol, const std::string& what,
                         const std::vector<double>& scale = {}) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double worst = 0;
  std::size_t shown = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    double s = scale.empty() ? std::abs(double(want[i])) : scale[i];
    double err = std::abs(double(got[i]) - double(want[i])) / (atol + rtol * s);
    if (!(err <= 1.0) && shown++ < 5)
      ADD_FAILURE() << what << "[" << i << "]: gpu " << got[i] << ", ref " << want[i];
    if (!(err <= worst)) worst = err;
  }
  EXPECT_LE(worst, 1.0) << what << ": worst error ratio";
}

}  // namespace w2v::test

#define REQUIRE_GPU() \
  if (!::w2v::test::have_device()) GTEST_SKIP() << "no CUDA device"
