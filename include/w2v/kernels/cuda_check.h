#pragma once
// Helpers for CUDA host code: checked calls, launch checks, NVTX ranges. Only included where
// the build has CUDA.
#include <cuda_runtime_api.h>
#include <nvtx3/nvToolsExt.h>

#include <cstdint>
#include <string>

#include "w2v/error.h"

namespace w2v {

// Thrown for a failed CUDA call: the call, where, and the runtime's message.
[[noreturn]] inline void throw_cuda_error(cudaError_t err, const char* what, const char* file,
                                          int line) {
  throw Error(std::string("CUDA error in ") + what + " at " + file + ":" + std::to_string(line) +
              ": " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")");
}

}  // namespace w2v

#define W2V_CUDA_CHECK(call)                                        \
  do {                                                              \
    cudaError_t w2v_err_ = (call);                                  \
    if (w2v_err_ != cudaSuccess) {                                  \
      cudaGetLastError();                                           \
      ::w2v::throw_cuda_error(w2v_err_, #call, __FILE__, __LINE__); \
    }                                                               \
  } while (0)

namespace w2v {

// After a <<<...>>> launch of `op`: a bad configuration shows up here; with `synchronize`
// (W2V_DEBUG_SYNC builds), so does a fault inside the kernel, attributed to this launch.
inline void check_launch(const char* op, cudaStream_t stream, bool synchronize, const char* file,
                         int line) {
  cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess && synchronize) err = cudaStreamSynchronize(stream);
  if (err == cudaSuccess) return;
  cudaGetLastError();
  throw_cuda_error(err, (std::string("the launch of ") + op).c_str(), file, line);
}

}  // namespace w2v

#ifdef W2V_DEBUG_SYNC
#define W2V_CHECK_LAUNCH(op, stream) ::w2v::check_launch(op, stream, true, __FILE__, __LINE__)
#else
#define W2V_CHECK_LAUNCH(op, stream) ::w2v::check_launch(op, stream, false, __FILE__, __LINE__)
#endif

namespace w2v {

// An NVTX range for the lifetime of the object: `nsys` shows each op by this name.
class NvtxRange {
 public:
  explicit NvtxRange(const char* name) { nvtxRangePushA(name); }
  ~NvtxRange() { nvtxRangePop(); }
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;
};

constexpr std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

}  // namespace w2v
