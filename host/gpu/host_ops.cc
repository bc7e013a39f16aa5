#include "gpu/host_ops.h"

namespace w2v {

static_assert(ModularOps<HostOps>);
static_assert(FusedOps<HostOps>);
static_assert(BatchPath<ModularPath<HostOps>>);
static_assert(BatchPath<FusedPath<HostOps>>);

namespace {
constexpr std::size_t kSlots = 4;  // as the GPU trainer
}  // namespace

void train_modular_on_host(const TrainJob& job, Model& model, Progress& progress) {
  HostOps ops;
  train_with_path<ModularPath>(ops, job, model, progress, kSlots);
}

void train_fused_on_host(const TrainJob& job, Model& model, Progress& progress,
                         std::size_t concurrency) {
  HostOps ops(concurrency);
  train_with_path<FusedPath>(ops, job, model, progress, kSlots);
}

}  // namespace w2v
