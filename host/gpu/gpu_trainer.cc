// The GPU trainer: run_batch_pipeline over the CUDA backend, with the fused path for negative
// sampling where it takes the config and the modular path otherwise. Before anything is
// allocated it predicts the memory the run needs and says which path runs with which settings.
#ifdef W2V_HAVE_CUDA

#include <cuda_runtime_api.h>

#include <memory>
#include <string>

#include "gpu/cuda_ops.h"
#include "gpu/fused_path.h"
#include "gpu/memory_plan.h"
#include "gpu/modular_step.h"
#include "w2v/trainer.h"

namespace w2v {
namespace {

// cuBLAS's own workspace, the CUDA context's growth and allocation rounding.
constexpr std::size_t kHeadroomBytes = std::size_t(256) << 20;

// A trace times every kernel of the step on its own, which a captured graph does not allow
// (GpuOps::capturing_steps).
std::string step_graph_setup(bool step_graph, bool traced) {
  if (!step_graph) return "";
  return traced ? ", --step-graph off under --trace" : ", steps launched as CUDA graphs";
}

class GpuTrainer final : public Trainer {
 public:
  const char* name() const override { return "cuda"; }

  void train(const TrainJob& job, Model& model, Progress& progress) override {
    const TrainConfig& config = job.config;
    const std::size_t vocab = job.vocab.size();
    const std::string samplers = std::to_string(config.sampler_thread_count()) + " sampler threads";
    const std::size_t slots = pipeline_slots(config.sampler_thread_count());
    if (use_fused_path(config)) {
      const std::uint32_t streams = config.fused_stream_count();
      check_memory(job, fused_path_memory(config, vocab, slots),
                   "fused path, batches of " + std::to_string(config.fused_tokens) + " tokens, " +
                       samplers +
                       (streams > 1 ? ", " + std::to_string(streams) + " compute streams" : ""),
                   "reduce --dim or --max-vocab, or use --tied");
      GpuOps ops(0, /*gemms=*/false, streams);
      train_with_path<FusedPath>(ops, job, model, progress, slots);
      return;
    }
    const std::size_t workspace = GpuOps::workspace_bytes(config, vocab);
    const BatchLayout layout = BatchLayout::for_config(config);
    check_memory(job, modular_path_memory(config, vocab, slots, workspace),
                 "modular path, batch " + std::to_string(layout.rows) + " rows x " +
                     std::to_string(layout.outputs) + " slots, " + samplers + ", " +
                     to_string(config.scatter_kind()) + " scatter, optimizer " +
                     to_string(config.optimizer) +
                     step_graph_setup(config.step_graph, job.trace != nullptr),
                 "reduce --dim, --max-vocab or --batch (or use --optimizer sgd)");
    GpuOps ops(workspace, /*gemms=*/config.loss != LossKind::kNegativeSampling);
    ops.capture_steps(config.step_graph);
    train_with_path<ModularPath>(ops, job, model, progress, slots);
  }

 private:
  // Compares the predicted memory with what the device has, before anything is allocated,
  // then says which path runs with which settings ("gpu: <setup>; memory X of Y free").
  static void check_memory(const TrainJob& job, MemoryParts parts, const std::string& setup,
                           const std::string& remedy) {
    parts.emplace_back("cuBLAS and CUDA headroom", kHeadroomBytes);
    std::size_t free_bytes = 0, device_bytes = 0;
    W2V_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &device_bytes));
    check_memory_fits(parts, free_bytes, "the GPU", remedy);
    if (job.log)
      job.log("gpu: " + setup + "; memory " + format_bytes(total_bytes(parts)) + " of " +
              format_bytes(free_bytes) + " free");
  }
};

}  // namespace

std::unique_ptr<Trainer> make_gpu_trainer() { return std::make_unique<GpuTrainer>(); }

}  // namespace w2v

#endif  // W2V_HAVE_CUDA
