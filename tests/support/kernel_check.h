#pragma once
// For tests that run kernels: device copies of host data, and the tolerance check every kernel
// test reports with. CUDA builds only.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "support/random.h"
#include "support/require_gpu.h"
#include "w2v/kernels/cuda_check.h"
#include "w2v/kernels/cuda_resources.h"

namespace w2v::test {

// n elements of T on the device, poisoned with NaN bytes (and 16 more past the end, so that a
// kernel writing past its output is not writing into another buffer), or a copy of a host
// vector.
template <typename T>
class Device {
 public:
  explicit Device(std::size_t n) : n_(n), buffer_((n * sizeof(T) + 16 + 15) / 16 * 16) {
    W2V_CUDA_CHECK(cudaMemset(buffer_.get(), 0xff, buffer_.size()));
  }
  explicit Device(const std::vector<T>& host) : Device(host.size()) { upload(host); }
  void upload(const std::vector<T>& host) {
    W2V_CUDA_CHECK(cudaMemcpy(get(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  }
  std::vector<T> download() const {
    W2V_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<T> host(n_);
    W2V_CUDA_CHECK(cudaMemcpy(host.data(), get(), n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }
  T* get() const { return reinterpret_cast<T*>(buffer_.get()); }

 private:
  std::size_t n_;
  gpu::DeviceBuffer<std::byte> buffer_;
};

// max |got - want| / (atol + rtol * scale) must be <= 1; scale defaults to |want|.
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
