#pragma once
// Where a launcher runs: every launcher of the kernel library takes a Launch as its last
// argument, so that the GPU trainer's backend can call each one the way the CPU twin calls
// its reference (same arguments, then the Launch). CUDA builds only.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstddef>

namespace w2v::gpu {

struct Launch {
  // Implicit from a stream: most ops need nothing else.
  Launch(cudaStream_t on = nullptr, void* scratch = nullptr, std::size_t scratch_bytes = 0,
         cublasHandle_t handle = nullptr)
      : stream(on), workspace(scratch), workspace_bytes(scratch_bytes), blas(handle) {}

  cudaStream_t stream;
  // Scratch device memory for the ops that sort or reduce in passes (softmax_nll,
  // segment_sum_rows, scatter_add_sorted): at least their *_workspace_bytes.
  void* workspace;
  std::size_t workspace_bytes;
  // For the GEMMs; each call binds it to `stream`.
  cublasHandle_t blas;
};

}  // namespace w2v::gpu
