#include "w2v/trainer.h"

#include "w2v/cpu_trainer.h"
#include "w2v/error.h"

namespace w2v {

#ifdef W2V_HAVE_CUDA
// kernels/device.cu
CudaDeviceInfo probe_cuda_device_runtime();
CudaDeviceInfo probe_cuda_device() { return probe_cuda_device_runtime(); }
#else
CudaDeviceInfo probe_cuda_device() { return {false, "this build has no CUDA support"}; }
#endif

std::unique_ptr<Trainer> make_trainer(DeviceKind device, std::string& announcement) {
  if (device == DeviceKind::kCpu) {
    announcement = "device: cpu (--device cpu)";
    return std::make_unique<CpuTrainer>();
  }
  CudaDeviceInfo cuda = probe_cuda_device();
  // The GPU trainer is not part of this release yet: a GPU is detected and reported, and
  // training runs on the CPU.
  if (device == DeviceKind::kCuda) {
    if (!cuda.available)
      throw Error("--device cuda: no usable CUDA device (" + cuda.description + ")");
    throw Error("--device cuda: found " + cuda.description +
                ", but this build has no GPU trainer yet; use --device cpu or auto");
  }
  announcement = cuda.available ? "device: cpu (CUDA device " + cuda.description +
                                      " found; this build has no GPU trainer yet)"
                                : "device: cpu (no CUDA device: " + cuda.description + ")";
  return std::make_unique<CpuTrainer>();
}

}  // namespace w2v
