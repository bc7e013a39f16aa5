#include "w2v/trainer.h"

#include "gpu/fused_path.h"
#include "gpu/host_ops.h"
#include "w2v/cpu_trainer.h"
#include "w2v/error.h"
#include "w2v/kernels/device.h"

namespace w2v {

#ifndef W2V_HAVE_CUDA
// Never called: without CUDA support no device is found.
std::unique_ptr<Trainer> make_gpu_trainer() { throw Error("this build has no CUDA support"); }
#endif

std::unique_ptr<Trainer> make_trainer(const TrainConfig& config, std::string& announcement) {
  auto cpu = [&](const std::string& why) -> std::unique_ptr<Trainer> {
    try {
      check_cpu_trainer_config(config);
    } catch (const Error& e) {
      // --device auto came to the CPU: say why, since the error asks for a GPU.
      if (config.device == DeviceKind::kCpu) throw;
      throw Error(std::string(e.what()) + "; --device auto: " + why);
    }
    announcement = "device: cpu (" + why + ")";
    return std::make_unique<CpuTrainer>();
  };
  if (config.device == DeviceKind::kCpu) return cpu("--device cpu");
  if (config.loss == LossKind::kHierarchicalSoftmax) {
    if (config.device != DeviceKind::kAuto)
      throw Error(std::string("--device ") + to_string(config.device) +
                  ": the GPU trainer has no --loss hs (the CPU trainer has: --device cpu)");
    return cpu("--loss hs: the CPU trainer's only");
  }
  if (config.copied_rows != TrainConfig::kAutoCopiedRows) {
    if (config.device != DeviceKind::kAuto)
      throw Error(std::string("--device ") + to_string(config.device) +
                  ": the GPU trainer has no --copied-rows (the CPU trainer has: --device cpu)");
    return cpu("--copied-rows: the CPU trainer's only");
  }
  auto check_fused = [&] {
    if (config.gpu_path == GpuPathKind::kFused)
      if (std::string why = fused_unsupported(config); !why.empty())
        throw Error("--gpu-path fused: the fused kernels cannot train this configuration: " + why);
  };
  if (config.device == DeviceKind::kTwin) {
    check_fused();
    announcement = use_fused_path(config)
                       ? "device: twin (the GPU trainer's fused path on the CPU, " +
                             std::to_string(config.twin_concurrency()) + " warps in lock step)"
                       : "device: twin (the GPU trainer's modular path on the CPU)";
    return make_twin_trainer();
  }
  const gpu::DeviceInfo cuda = gpu::probe_device();
  if (!cuda.available) {
    if (config.device == DeviceKind::kCuda)
      throw Error("--device cuda: no usable CUDA device (" + cuda.description + ")");
    return cpu("no CUDA device: " + cuda.description);
  }
  check_fused();
  announcement = "device: cuda (" + cuda.description + ")";
  return make_gpu_trainer();
}

}  // namespace w2v
