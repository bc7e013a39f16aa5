// Run-time detection of a CUDA device (include/w2v/kernels/device.h).
#include <cuda_runtime.h>

#include <string>

#include "w2v/kernels/device.h"

namespace w2v::gpu {

namespace {

DeviceInfo ask_the_runtime() {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so later calls start clean
    // On a machine without a GPU the driver stub answers "insufficient driver", which reads
    // as if an upgrade would help; say what it means, and what else it may mean.
    if (err == cudaErrorNoDevice) return {false, "no NVIDIA GPU found"};
    if (err == cudaErrorInsufficientDriver)
      return {false, "no NVIDIA GPU or driver found, or a driver older than this build's CUDA " +
                         std::to_string(CUDART_VERSION / 1000) + "." +
                         std::to_string(CUDART_VERSION % 1000 / 10)};
    return {false, std::string("CUDA runtime: ") + cudaGetErrorString(err)};
  }
  if (count == 0) return {false, "the CUDA runtime reports no device"};
  cudaDeviceProp prop{};
  err = cudaGetDeviceProperties(&prop, 0);
  if (err != cudaSuccess) return {false, cudaGetErrorString(err)};
  // A device that is listed may still refuse a context (another process holds it in
  // exclusive mode): that is no usable device, and --device auto trains on the CPU.
  err = cudaFree(nullptr);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return {false, std::string(prop.name) + " cannot be used: " + cudaGetErrorString(err)};
  }
  return {true,
          std::string(prop.name) + " (sm_" + std::to_string(prop.major) +
              std::to_string(prop.minor) + ", " + std::to_string(prop.totalGlobalMem >> 30) +
              " GiB)",
          prop.sharedMemPerBlockOptin};
}

}  // namespace

DeviceInfo probe_device() {
  static const DeviceInfo info = ask_the_runtime();
  return info;
}

}  // namespace w2v::gpu
