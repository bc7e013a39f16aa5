#include "gpu/host_ops.h"

namespace w2v {

static_assert(ModularOps<HostOps>);
static_assert(FusedOps<HostOps>);
static_assert(BatchPath<ModularPath<HostOps>>);
static_assert(BatchPath<FusedPath<HostOps>>);

void train_modular_on_host(const TrainJob& job, Model& model, Progress& progress) {
  HostOps ops;
  train_with_path<ModularPath>(ops, job, model, progress,
                               pipeline_slots(job.config.sampler_thread_count()));
}

void train_fused_on_host(const TrainJob& job, Model& model, Progress& progress,
                         std::size_t concurrency) {
  HostOps ops(concurrency);
  train_with_path<FusedPath>(ops, job, model, progress,
                             pipeline_slots(job.config.sampler_thread_count()));
}

namespace {
class TwinTrainer final : public Trainer {
 public:
  const char* name() const override { return "twin"; }
  void train(const TrainJob& job, Model& model, Progress& progress) override {
    if (use_fused_path(job.config))
      train_fused_on_host(job, model, progress, job.config.twin_concurrency());
    else
      train_modular_on_host(job, model, progress);
  }
};
}  // namespace

std::unique_ptr<Trainer> make_twin_trainer() { return std::make_unique<TwinTrainer>(); }

}  // namespace w2v
