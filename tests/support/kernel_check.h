#pragma once
// For tests that run kernels: device copies of host data (the tolerance check they report with
// is support/compare.h's). CUDA builds only.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

#include "support/compare.h"
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

}  // namespace w2v::test
