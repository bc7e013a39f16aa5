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

// After a <<<...>>> launch: a bad configuration shows up here; with W2V_DEBUG_SYNC, so does
// a fault inside the kernel, attributed to this launch.
#ifdef W2V_DEBUG_SYNC
#define W2V_CHECK_LAUNCH(name, stream)             \
  do {                                             \
    W2V_CUDA_CHECK(cudaGetLastError());            \
    W2V_CUDA_CHECK(cudaStreamSynchronize(stream)); \
  } while (0)
#else
#define W2V_CHECK_LAUNCH(name, stream) W2V_CUDA_CHECK(cudaGetLastError())
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
