#pragma once
// Whether this machine has a CUDA device the GPU trainer can use (device 0, asked once a
// process). The binary links cudart statically, so on a machine without a driver or GPU the
// query fails cleanly and w2v trains on the CPU. Declared in every build: without CUDA support
// the answer is always no.
#include <cstddef>
#include <string>

namespace w2v::gpu {

struct DeviceInfo {
  bool available = false;
  std::string description;  // device name, or why there is none
  // The most shared memory a kernel's block may opt in to (its dynamic shared memory).
  std::size_t shared_bytes_per_block = 0;
};

#ifdef W2V_HAVE_CUDA
DeviceInfo probe_device();  // kernels/device.cu
#else
inline DeviceInfo probe_device() { return {false, "this build has no CUDA support"}; }
#endif

}  // namespace w2v::gpu
