#pragma once
// Whether this machine has a CUDA device the GPU trainer can use. The binary links cudart
// statically, so on a machine without a driver or GPU the query fails cleanly and w2v trains
// on the CPU. Declared in every build: without CUDA support the answer is always no.
#include <string>

namespace w2v::gpu {

struct DeviceInfo {
  bool available = false;
  std::string description;  // device name, or why there is none
};

#ifdef W2V_HAVE_CUDA
DeviceInfo probe_device();  // kernels/device.cu
#else
inline DeviceInfo probe_device() { return {false, "this build has no CUDA support"}; }
#endif

}  // namespace w2v::gpu
