#pragma once
// The GPU trainer's streaming pipeline, for both of its paths (the modular one,
// host/gpu/modular_step.h, and the fused one, host/gpu/fused_path.h): sampler threads pack
// batches into a ring of slots; a driver thread enqueues each published slot (upload, step,
// loss download) and hands it back to the samplers once the backend says the slot's work is
// done; this thread reports progress. At most slots - 1 batches are in flight, so a sampler
// always has a slot to fill.
//
// Two contracts, stated as concepts and checked where each backend and path is defined:
// PipelineOps, what a backend provides (the CUDA one in host/gpu/cuda_ops.h, the CPU twin in
// host/gpu/host_ops.h), and BatchPath, what a kind of batch provides.
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gpu/slot_ring.h"
#include "w2v/checkpoint.h"
#include "w2v/error.h"
#include "w2v/model.h"
#include "w2v/progress.h"
#include "w2v/sampling.h"
#include "w2v/trace.h"
#include "w2v/trainer.h"

namespace w2v {

// A backend's memory and batch slots. Memory: alloc<T>(n, zeroed) in the backend (device
// memory on a GPU), upload and download of bytes, both synchronous. A slot is a host block
// the samplers fill (pinned on a GPU), its copy in the backend, and the batch's losses on
// both sides; begin_batch uploads the block, end_batch downloads the losses and marks the
// batch's end, batch_done says (or waits until) that end was reached; abandon_batch, on the
// thread that began it, ends a batch whose step threw (the GPU's step capture, which only
// that thread can end). scope(name) is an RAII
// trace range (NVTX on the GPU); attach_trace(trace) asks the backend to add its device work
// (copies, steps, kernels) to a --trace timeline.
template <class Ops>
concept PipelineOps = requires(Ops& ops, typename Ops::Slot& slot, std::size_t n, void* to,
                               const void* from) {
  { ops.template alloc<float>(n, true) } -> std::same_as<float*>;
  { ops.template alloc<std::int32_t>(n) } -> std::same_as<std::int32_t*>;
  ops.upload(to, from, n);
  ops.download(to, from, n);
  { ops.make_slot(n, n, n) } -> std::same_as<typename Ops::Slot>;
  { slot.host } -> std::convertible_to<void*>;
  { slot.device } -> std::convertible_to<void*>;
  { slot.host_loss } -> std::convertible_to<const float*>;
  { slot.loss } -> std::convertible_to<float*>;
  ops.begin_batch(slot);
  ops.end_batch(slot);
  ops.abandon_batch(slot);
  { ops.batch_done(slot, true) } -> std::same_as<bool>;
  ops.scope("name");
  ops.attach_trace(static_cast<Trace*>(nullptr));
};

// The learning rate at a batch's first and last word. A path whose batches are a small share
// of the run takes `begin` for all of it; the fused path's can hold a whole epoch of a small
// corpus, and its kernels fall from `begin` to `end` over the batch.
struct BatchRate {
  float begin = 0, end = 0;
};

// What a sampler reports with every packed batch, whatever the path: the corpus words it
// read for it (progress and the learning rate count them), whether its share of the corpus
// is done for every epoch, and, for checkpoints, which sampler packed it and where that
// sampler's walk stood right after it.
struct PackedWords {
  std::uint64_t words = 0;
  bool finished = false;
  std::uint32_t sampler = 0;
  WalkerState walker;
};

// A kind of batch. make_packer(range, seed) gives a sampler thread's packer over its share
// of the corpus, whose state() a checkpoint keeps and restore() continues from;
// pack(packer, host_block) fills a block of block_bytes(); step(device_block, packed, rate,
// loss) enqueues its training, writing loss_floats() floats of losses, which loss(packed,
// host_loss) turns into {summed loss, what it is averaged over}; load and store move the
// tables between a Model and the backend, save_state and restore_state the path's own state
// (beside the tables) for a checkpoint.
template <class Path>
concept BatchPath = std::derived_from<typename Path::Packed, PackedWords> &&
    requires(Path& path, const Path& reader, typename Path::Packer& packer,
             const typename Path::Packed& packed, CorpusRange range, std::uint64_t seed,
             void* block, BatchRate rate, float* loss, const float* host_loss, Model& model,
             const WalkerState& walker, const std::vector<unsigned char>& bytes) {
  { reader.make_packer(range, seed) } -> std::same_as<typename Path::Packer>;
  { std::as_const(packer).state() } -> std::same_as<WalkerState>;
  packer.restore(walker);
  { reader.save_state() } -> std::same_as<std::vector<unsigned char>>;
  path.restore_state(bytes);
  { reader.pack(packer, block) } -> std::same_as<typename Path::Packed>;
  { reader.block_bytes() } -> std::convertible_to<std::size_t>;
  { reader.loss_floats() } -> std::convertible_to<std::size_t>;
  { packed.empty() } -> std::same_as<bool>;
  path.step(block, packed, rate, loss);
  { reader.loss(packed, host_loss) } -> std::same_as<std::pair<double, std::uint64_t>>;
  path.load(std::as_const(model));
  path.store(model);
};

// The pipeline's slots for `samplers` sampler threads: one for each to fill while three batches
// are on the device. With a fixed four, samplers took turns at the free slot or two: of 7
// samplers about 3 packed at once, whatever the device's speed.
inline std::size_t pipeline_slots(std::uint32_t samplers) { return std::size_t{samplers} + 3; }

// `save(state)` (set when job.control asks for checkpoints) writes a checkpoint of `state`
// with the tables and the path's own state; the pipeline calls it between two batches, with
// none in flight.
template <PipelineOps Ops, BatchPath Path>
void run_batch_pipeline(Ops& ops, Path& path, const TrainJob& job, Progress& progress,
                        std::size_t slot_count,
                        const std::function<void(TrainerState&)>& save = {}) {
  const TrainConfig& config = job.config;
  const TrainControl* control = job.control;
  const TrainerState* resume = control ? control->resume : nullptr;
  Trace* const trace = job.trace;
  if (trace) ops.attach_trace(trace);
  struct SlotState {
    typename Ops::Slot memory;
    typename Path::Packed packed;
  };
  std::vector<SlotState> slots(slot_count);
  for (std::size_t s = 0; s < slot_count; ++s)
    slots[s].memory = ops.make_slot(s, path.block_bytes(), path.loss_floats());
  SlotRing ring(slot_count);
  // The setup ends here (the path's tables and these slots: on a GPU, device memory, pinned
  // host memory and uploads), and training begins with the samplers.
  progress.start_clock();

  // Samplers: each walks its share of the corpus; the last one to finish closes the ring.
  const std::uint32_t sampler_count = config.sampler_thread_count();
  const std::vector<CorpusRange> ranges = job.corpus.split(sampler_count);
  if (resume && resume->walkers.size() != sampler_count)
    throw Error("--resume: the checkpoint holds " + std::to_string(resume->walkers.size()) +
                " samplers, this run " + std::to_string(sampler_count) + " (corrupt)");
  // Where each sampler's walk stands after the last batch the driver took from it: what a
  // checkpoint keeps. Batches of one sampler reach the driver in the order it packed them.
  std::vector<WalkerState> consumed(sampler_count);
  for (std::uint32_t t = 0; t < sampler_count; ++t)
    consumed[t] = resume ? resume->walkers[t]
                         : path.make_packer(ranges[t], worker_seed(config.seed, t)).state();
  std::vector<std::exception_ptr> errors(sampler_count + 1);
  std::atomic<std::uint32_t> samplers_left{sampler_count};
  auto sample = [&](std::uint32_t t) {
    try {
      const std::uint32_t track = trace ? trace->track("sampler " + std::to_string(t)) : 0;
      auto packer = path.make_packer(ranges[t], worker_seed(config.seed, t));
      if (resume) packer.restore(resume->walkers[t]);
      for (bool finished = false; !finished;) {
        std::optional<std::size_t> s;
        {
          Trace::Span span(trace, track, "wait for a free slot");
          s = ring.acquire_free();
        }
        if (!s) break;
        {
          Trace::Span span(trace, track, "pack batch");
          [[maybe_unused]] auto traced = ops.scope("sample batch");
          slots[*s].packed = path.pack(packer, slots[*s].memory.host);
          if (save) {
            slots[*s].packed.sampler = t;
            slots[*s].packed.walker = std::as_const(packer).state();
          }
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
  };

  // Set by the monitor when a checkpoint is due (-1) or a signal asks for a stop (the signal);
  // the driver saves between two batches and clears it.
  std::atomic<int> checkpoint_request{0};
  using Clock = std::chrono::steady_clock;
  std::atomic<Clock::rep> last_save{Clock::now().time_since_epoch().count()};
  std::atomic<bool> done{false};
  auto drive = [&] {
    const std::uint32_t track = trace ? trace->track("driver") : 0;
    std::deque<std::size_t> in_flight;
    auto retire = [&](bool wait) {
      const std::size_t s = in_flight.front();
      {
        Trace::Span span(wait ? trace : nullptr, track, "wait for the device");
        if (!ops.batch_done(slots[s].memory, wait)) return false;
      }
      const auto [sum, count] = path.loss(slots[s].packed, slots[s].memory.host_loss);
      progress.add(0, sum, count);
      in_flight.pop_front();
      ring.release(s);
      return true;
    };
    auto take = [&](SlotState& slot) {
      progress.add(slot.packed.words, 0, 0);
      if (save) consumed[slot.packed.sampler] = std::move(slot.packed.walker);
    };
    try {
      std::uint64_t batches = 0;
      while (true) {
        // A stopped run (an error, a divergence) has nothing worth saving.
        if (const int request = checkpoint_request.load(); request && !progress.stopped()) {
          while (!in_flight.empty()) retire(true);
          TrainerState state;
          state.words_done = progress.words_done();
          state.loss_sum = progress.loss_sum();
          state.loss_count = progress.loss_count();
          state.walkers = consumed;
          save(state);
          last_save.store(Clock::now().time_since_epoch().count());
          checkpoint_request.store(0);
          if (request > 0) {
            progress.interrupt(request);
            break;
          }
        }
        while (!in_flight.empty() && retire(false)) {
        }
        if (in_flight.size() + 1 >= slot_count) retire(true);
        std::optional<std::size_t> s;
        {
          Trace::Span span(trace, track, "wait for a packed batch");
          s = ring.acquire_ready();
        }
        if (!s) break;
        SlotState& slot = slots[*s];
        if (progress.stopped() || slot.packed.empty()) {
          if (!progress.stopped()) take(slot);
          ring.release(*s);
          if (progress.stopped()) break;
          continue;
        }
        {
          Trace::Span span(trace, track, "enqueue step");
          ops.begin_batch(slot.memory);
          const BatchRate rate{static_cast<float>(progress.alpha()),
                               static_cast<float>(progress.alpha_after(slot.packed.words))};
          try {
            [[maybe_unused]] auto traced = ops.scope("train step");
            path.step(slot.memory.device, slot.packed, rate, slot.memory.loss);
          } catch (...) {
            ops.abandon_batch(slot.memory);
            throw;
          }
          ops.end_batch(slot.memory);
        }
        take(slot);
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
  };
  std::vector<std::thread> samplers;
  std::thread driver;
  // An error on this thread (a thread that cannot start, the monitor's loss log on a full
  // disk) stops the others and waits for them: a joinable std::thread destroyed ends the
  // process, with the message lost and the temporary files left.
  std::exception_ptr main_error;
  try {
    for (std::uint32_t t = 0; t < sampler_count; ++t) samplers.emplace_back(sample, t);
    driver = std::thread(drive);
    // A stop signal ends training after the batch in flight (with a checkpoint first when
    // they are on); the tables are copied back as at the end, so the vectors so far are
    // written.
    progress.monitor([&] { return done.load(); },
                     [&] {
                       if (!control || checkpoint_request.load() != 0) return;
                       const int signal = control->stop_signal ? control->stop_signal() : 0;
                       if (!save) {
                         if (signal) progress.interrupt(signal);
                         return;
                       }
                       const double since =
                           std::chrono::duration<double>(Clock::now().time_since_epoch() -
                                                         Clock::duration(last_save.load()))
                               .count();
                       if (signal || since >= control->save_every_seconds)
                         checkpoint_request.store(signal ? signal : -1);
                     });
  } catch (...) {
    main_error = std::current_exception();
    progress.cancel();
    ring.cancel();
  }
  if (driver.joinable()) driver.join();
  for (auto& th : samplers) th.join();
  progress.stop_clock();
  if (main_error) std::rethrow_exception(main_error);
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

// Trains `model` with a Path template (ModularPath, FusedPath) over the backend, from
// job.control's checkpoint when it resumes one, saving checkpoints when it asks.
template <template <class> class Path, PipelineOps Ops>
void train_with_path(Ops& ops, const TrainJob& job, Model& model, Progress& progress,
                     std::size_t slot_count) {
  Path<Ops> path(ops, job);
  path.load(model);
  const TrainControl* control = job.control;
  if (control && control->resume) path.restore_state(control->resume->extra);
  std::function<void(TrainerState&)> save;
  if (control && control->save)
    save = [&](TrainerState& state) {
      path.store(model);
      state.extra = path.save_state();
      control->save(state, model);
    };
  run_batch_pipeline(ops, path, job, progress, slot_count, save);
  path.store(model);
}

}  // namespace w2v
