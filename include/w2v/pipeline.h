#pragma once
// The GPU trainer's streaming pipeline, for both of its paths (the modular one,
// include/w2v/modular.h, and the fused one, include/w2v/fused.h): sampler threads pack
// batches into a ring of slots; a driver thread enqueues each published slot (upload, step,
// loss download) and hands it back to the samplers once the backend says the slot's work is
// done; this thread reports progress. At most slots - 1 batches are in flight, so a sampler
// always has a slot to fill.
//
// Ops, the backend, adds per slot:
//   make_slot(index, bytes, loss_floats) -> {void* host; void* device; float* host_loss;
//   float* loss}, begin_batch(slot) (upload the block), end_batch(slot) (download the losses,
//   mark the end), batch_done(slot, wait), and scope(name): an RAII trace range (NVTX on the GPU).
// Path, the kind of batch:
//   Packer make_packer(range, seed), Packed pack(packer, host_block) (Packed has words,
//   finished and empty()), block_bytes(), loss_floats(), step(device_block, packed, lr, loss),
//   loss(packed, host_loss) -> {summed loss, what it is averaged over}.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <optional>
#include <thread>
#include <vector>

#include "w2v/model.h"
#include "w2v/progress.h"
#include "w2v/sampling.h"
#include "w2v/slot_ring.h"
#include "w2v/trainer.h"

namespace w2v {

template <class Ops, class Path>
void run_batch_pipeline(Ops& ops, Path& path, const TrainJob& job, Progress& progress,
                        std::size_t slot_count) {
  const TrainConfig& config = job.config;
  struct SlotState {
    typename Ops::Slot memory;
    typename Path::Packed packed;
  };
  std::vector<SlotState> slots(slot_count);
  for (std::size_t s = 0; s < slot_count; ++s)
    slots[s].memory = ops.make_slot(s, path.block_bytes(), path.loss_floats());
  SlotRing ring(slot_count);

  // Samplers: each walks its share of the corpus; the last one to finish closes the ring.
  const std::uint32_t sampler_count = config.sampler_thread_count();
  const std::vector<CorpusRange> ranges = job.corpus.split(sampler_count);
  std::vector<std::exception_ptr> errors(sampler_count + 1);
  std::atomic<std::uint32_t> samplers_left{sampler_count};
  std::vector<std::thread> samplers;
  for (std::uint32_t t = 0; t < sampler_count; ++t) {
    samplers.emplace_back([&, t] {
      try {
        auto packer = path.make_packer(ranges[t], worker_seed(config.seed, t));
        for (bool finished = false; !finished;) {
          std::optional<std::size_t> s = ring.acquire_free();
          if (!s) break;
          {
            [[maybe_unused]] auto traced = ops.scope("sample batch");
            slots[*s].packed = path.pack(packer, slots[*s].memory.host);
          }
          finished = slots[*s].packed.finished;
          ring.publish(*s);
        }
      } catch (...) {
        errors[t] = std::current_exception();
        ring.cancel();
        progress.cancel();
      }
      if (samplers_left.fetch_sub(1) == 1) ring.close();
    });
  }

  std::atomic<bool> done{false};
  std::thread driver([&] {
    std::deque<std::size_t> in_flight;
    auto retire = [&](bool wait) {
      const std::size_t s = in_flight.front();
      if (!ops.batch_done(slots[s].memory, wait)) return false;
      const auto [sum, count] = path.loss(slots[s].packed, slots[s].memory.host_loss);
      progress.add(0, sum, count);
      in_flight.pop_front();
      ring.release(s);
      return true;
    };
    try {
      std::uint64_t batches = 0;
      while (true) {
        while (!in_flight.empty() && retire(false)) {
        }
        if (in_flight.size() + 1 >= slot_count) retire(true);
        std::optional<std::size_t> s = ring.acquire_ready();
        if (!s) break;
        SlotState& slot = slots[*s];
        if (progress.stopped() || slot.packed.empty()) {
          progress.add(slot.packed.words, 0, 0);
          ring.release(*s);
          if (progress.stopped()) break;
          continue;
        }
        ops.begin_batch(slot.memory);
        const float lr = static_cast<float>(progress.alpha());
        {
          [[maybe_unused]] auto traced = ops.scope("train step");
          path.step(slot.memory.device, slot.packed, lr, slot.memory.loss);
        }
        ops.end_batch(slot.memory);
        progress.add(slot.packed.words, 0, 0);
        in_flight.push_back(*s);
        if (config.profile_steps > 0 && ++batches >= config.profile_steps) break;
      }
      while (!in_flight.empty()) retire(true);
    } catch (...) {
      errors[sampler_count] = std::current_exception();
      progress.cancel();
    }
    ring.cancel();  // samplers still waiting for a slot stop (--profile-steps, errors)
    done.store(true);
  });
  progress.monitor([&] { return done.load(); });
  driver.join();
  for (auto& th : samplers) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

// Trains `model` with a Path template (ModularPath, FusedPath) over the backend.
template <template <class> class Path, class Ops>
void train_with_path(Ops& ops, const TrainJob& job, Model& model, Progress& progress,
                     std::size_t slot_count) {
  Path<Ops> path(ops, job);
  path.load(model);
  run_batch_pipeline(ops, path, job, progress, slot_count);
  path.store(model);
}

}  // namespace w2v
