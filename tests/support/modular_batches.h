#pragma once
// The modular step without the pipeline, on any backend: the host and GPU backends see
// identical batches, so a GPU test can compare them batch by batch.
#include <cstddef>
#include <vector>

#include "gpu/modular_batch.h"
#include "gpu/modular_step.h"
#include "w2v/model.h"
#include "w2v/sampling.h"
#include "w2v/trainer.h"

namespace w2v::test {

// The first `batches` batches of one sampler (the whole corpus, worker seed 0), each stepped
// `repeats` times at the modular path's start learning rate; returns the mean loss before each
// step and leaves the trained tables in `model`.
template <ModularOps Ops>
std::vector<double> run_modular_batches(Ops& ops, const TrainJob& job, Model& model,
                                        std::size_t batches, std::size_t repeats = 1) {
  const TrainConfig& config = job.config;
  const BatchLayout layout = BatchLayout::for_config(config);
  ModularStep<Ops> step(ops, layout, config, job.vocab.size());
  step.load(model);
  typename Ops::Slot slot = ops.make_slot(0, layout.block_bytes(), layout.rows);
  BatchPacker packer(config, job.corpus, job.tables, {0, job.corpus.entry_count()},
                     worker_seed(config.seed, 0));
  RepeatCap cap(job.vocab.size(), config.repeat_cap_on(/*fused=*/false), config.tied);
  const auto alpha = static_cast<float>(config.start_alpha(/*modular_gpu=*/true, job.vocab.size()));
  std::vector<double> losses;
  for (std::size_t b = 0; b < batches; ++b) {
    const PackResult packed = pack_batch(packer, cap, layout, slot.host);
    if (packed.rows == 0) break;
    ops.begin_batch(slot);
    for (std::size_t r = 0; r < repeats; ++r) {
      step.step(BatchView::carve(slot.device, layout), alpha, slot.loss);
      ops.end_batch(slot);
      ops.batch_done(slot, true);
      double sum = 0;
      for (std::size_t row = 0; row < packed.rows; ++row) sum += slot.host_loss[row];
      losses.push_back(sum / static_cast<double>(loss_count(layout, packed)));
    }
    if (packed.finished) break;
  }
  step.store(model);
  return losses;
}

}  // namespace w2v::test
