// Index validation and the copy-bandwidth probe: the launchers' debug checks and the
// benchmarks' ceiling.
//
// check_indices: one thread per index (grid-stride); the first bad position is kept with
// atomicMin, then copied back.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common.cuh"
#include "w2v/kernels/cuda_resources.h"
#include "w2v/kernels/ops.h"

namespace w2v::gpu {
namespace {

__global__ void find_bad_index_kernel(const std::int32_t* idx, std::int64_t n, std::int64_t lowest,
                                      std::int64_t bound, unsigned long long* first_bad) {
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < n;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    std::int32_t v = idx[i];
    if (v < lowest || v >= bound) atomicMin(first_bad, static_cast<unsigned long long>(i));
  }
}

}  // namespace

void check_indices(const std::int32_t* idx, std::int64_t n, std::int64_t bound, const char* what,
                   const Launch& launch) {
  detail::check_index_range(idx, n, 0, bound, what, launch.stream);
}

namespace detail {

void check_index_range(const std::int32_t* idx, std::int64_t n, std::int64_t lowest,
                       std::int64_t bound, const char* what, cudaStream_t stream) {
  require_size(n, 0, "check_indices", what);
  if (n == 0) return;
  require_pointer(idx, "check_indices", what);
  NvtxRange range("check_indices");
  unsigned long long* first_bad = nullptr;
  W2V_CUDA_CHECK(cudaMallocAsync(&first_bad, sizeof *first_bad, stream));
  const unsigned long long none = ~0ull;
  W2V_CUDA_CHECK(cudaMemcpyAsync(first_bad, &none, sizeof none, cudaMemcpyHostToDevice, stream));
  constexpr int kBlock = 256;
  find_bad_index_kernel<<<grid_for(n, kBlock), kBlock, 0, stream>>>(idx, n, lowest, bound,
                                                                    first_bad);
  W2V_CHECK_LAUNCH("check_indices", stream);
  unsigned long long bad = none;
  W2V_CUDA_CHECK(cudaMemcpyAsync(&bad, first_bad, sizeof bad, cudaMemcpyDeviceToHost, stream));
  W2V_CUDA_CHECK(cudaFreeAsync(first_bad, stream));
  W2V_CUDA_CHECK(cudaStreamSynchronize(stream));
  if (bad != none) {
    std::int32_t value = 0;
    W2V_CUDA_CHECK(cudaMemcpy(&value, idx + bad, sizeof value, cudaMemcpyDeviceToHost));
    throw Error(std::string(what) + "[" + std::to_string(bad) + "] = " + std::to_string(value) +
                " is outside [" + std::to_string(lowest) + ", " + std::to_string(bound) + ")");
  }
}

void check_indices_if_enabled(const std::int32_t* idx, std::int64_t n, std::int64_t bound,
                              const char* what, cudaStream_t stream, bool allow_padding) {
#ifdef W2V_CHECK_INDICES
  check_index_range(idx, n, allow_padding ? -1 : 0, bound, what, stream);
#else
  (void)idx, (void)n, (void)bound, (void)what, (void)stream, (void)allow_padding;
#endif
}
}  // namespace detail

double measure_copy_bandwidth(std::size_t bytes, int repeats, const Launch& launch) {
  const cudaStream_t stream = launch.stream;
  detail::require_size(static_cast<std::int64_t>(bytes), 1, "measure_copy_bandwidth", "bytes");
  detail::require_size(repeats, 1, "measure_copy_bandwidth", "repeats");
  // Owned, so that a failed call frees them (cudaFree waits for the device).
  const DeviceBuffer<std::byte> src(bytes), dst(bytes);
  const CudaEvent start, stop;
  W2V_CUDA_CHECK(cudaMemsetAsync(src.get(), 1, bytes, stream));
  // One copy unmeasured first: the device's clocks and the pages' first touch.
  W2V_CUDA_CHECK(cudaMemcpyAsync(dst.get(), src.get(), bytes, cudaMemcpyDeviceToDevice, stream));
  W2V_CUDA_CHECK(cudaEventRecord(start.get(), stream));
  for (int r = 0; r < repeats; ++r)
    W2V_CUDA_CHECK(cudaMemcpyAsync(dst.get(), src.get(), bytes, cudaMemcpyDeviceToDevice, stream));
  W2V_CUDA_CHECK(cudaEventRecord(stop.get(), stream));
  W2V_CUDA_CHECK(cudaEventSynchronize(stop.get()));
  float ms = 0;
  W2V_CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
  // A copy reads and writes every byte.
  return 2.0 * static_cast<double>(bytes) * repeats / (ms * 1e-3);
}

}  // namespace w2v::gpu
