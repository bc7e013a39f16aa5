#pragma once
// RAII owners of CUDA resources: device buffers, pinned host buffers, streams and events.
// Creation is checked (w2v::Error); release is not, since destructors must not throw and a
// failed free after a fault has nothing left to save. Move-only. CUDA builds only.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "w2v/kernels/cuda_check.h"

namespace w2v::gpu {

namespace detail {

// One resource handle and the function that releases it.
template <class Handle, cudaError_t (*kRelease)(Handle)>
class Owned {
 public:
  Owned() = default;
  explicit Owned(Handle handle) : handle_(handle) {}
  ~Owned() {
    if (handle_) kRelease(handle_);
  }
  Owned(Owned&& other) noexcept : handle_(std::exchange(other.handle_, Handle{})) {}
  Owned& operator=(Owned&& other) noexcept {
    std::swap(handle_, other.handle_);
    return *this;
  }
  Handle get() const { return handle_; }

 private:
  Handle handle_{};
};

// Memory the trainer predicted and found free, then could not have.
[[noreturn]] inline void throw_out_of_memory(const char* what, std::size_t bytes,
                                             const char* likely_cause) {
  cudaGetLastError();
  throw Error(std::string(what) + ": out of memory allocating " + std::to_string(bytes) +
              " bytes (" + likely_cause + ")");
}
inline void* allocate_device(std::size_t bytes) {
  void* p = nullptr;
  const cudaError_t status = cudaMalloc(&p, bytes);
  if (status == cudaErrorMemoryAllocation)
    throw_out_of_memory("GPU memory", bytes, "is another process using it?");
  W2V_CUDA_CHECK(status);
  return p;
}
inline void* allocate_pinned(std::size_t bytes) {
  void* p = nullptr;
  const cudaError_t status = cudaHostAlloc(&p, bytes, cudaHostAllocDefault);
  if (status == cudaErrorMemoryAllocation)
    throw_out_of_memory("pinned host memory", bytes, "is the host's memory short?");
  W2V_CUDA_CHECK(status);
  return p;
}

// n elements of T from an allocator and its free function.
template <class T, void* (*kAllocate)(std::size_t), cudaError_t (*kFree)(void*)>
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(std::size_t n) : memory_(n > 0 ? kAllocate(n * sizeof(T)) : nullptr), size_(n) {}
  T* get() const { return static_cast<T*>(memory_.get()); }
  std::size_t size() const { return size_; }
  std::size_t bytes() const { return size_ * sizeof(T); }

 private:
  Owned<void*, kFree> memory_;
  std::size_t size_ = 0;
};

}  // namespace detail

// n elements of T in device memory (cudaMalloc: 256-byte aligned).
template <class T>
class DeviceBuffer : public detail::Buffer<T, detail::allocate_device, cudaFree> {
 public:
  using detail::Buffer<T, detail::allocate_device, cudaFree>::Buffer;
  // A copy of host data, landed before this returns: a pageable cudaMemcpy may return before its
  // last bytes reach the device, and non-blocking streams do not wait for it.
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) {
    if (host.empty()) return;
    W2V_CUDA_CHECK(cudaMemcpy(this->get(), host.data(), this->bytes(), cudaMemcpyHostToDevice));
    W2V_CUDA_CHECK(cudaDeviceSynchronize());
  }
};

// n elements of T in pinned (page-locked) host memory: the source of asynchronous copies.
template <class T>
using PinnedBuffer = detail::Buffer<T, detail::allocate_pinned, cudaFreeHost>;

// A non-blocking stream: it does not wait for the legacy default stream.
class CudaStream : public detail::Owned<cudaStream_t, cudaStreamDestroy> {
 public:
  CudaStream() : Owned(create()) {}

 private:
  static cudaStream_t create() {
    cudaStream_t s = nullptr;
    W2V_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    return s;
  }
};

class CudaEvent : public detail::Owned<cudaEvent_t, cudaEventDestroy> {
 public:
  explicit CudaEvent(unsigned flags = cudaEventDefault) : Owned(create(flags)) {}

 private:
  static cudaEvent_t create(unsigned flags) {
    cudaEvent_t e = nullptr;
    W2V_CUDA_CHECK(cudaEventCreateWithFlags(&e, flags));
    return e;
  }
};

}  // namespace w2v::gpu
