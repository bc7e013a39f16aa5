#pragma once
// The trainer interface: the CPU trainer and the GPU trainer, chosen by --device.
#include <functional>
#include <memory>
#include <string>

#include "w2v/checkpoint.h"
#include "w2v/config.h"
#include "w2v/corpus.h"
#include "w2v/io.h"
#include "w2v/model.h"
#include "w2v/progress.h"
#include "w2v/sampling.h"
#include "w2v/trace.h"
#include "w2v/vocab.h"

namespace w2v {

// What a run asks of its trainer besides training: to stop early, to save its state now and
// then, and to continue from a saved state.
struct TrainControl {
  // Polled by the monitoring thread: the signal that asks training to stop (SIGINT, SIGTERM),
  // or 0. The trainer stops at its next sentence or batch, saving a checkpoint first when
  // `save` is set.
  std::function<int()> stop_signal;
  // Writes a checkpoint of a consistent state (null: no checkpoints).
  std::function<void(const TrainerState&, const Model&)> save;
  double save_every_seconds = 600;
  const TrainerState* resume = nullptr;  // where to continue from (null: the start)
};

struct TrainJob {
  const TrainConfig& config;
  const Vocab& vocab;
  const EncodedCorpus& corpus;
  const SamplingTables& tables;
  LogLine log = nullptr;  // where a trainer says how it runs (the GPU trainer's setup line)
  const TrainControl* control = nullptr;
  Trace* trace = nullptr;  // --trace: the timeline its threads and streams add to
};

class Trainer {
 public:
  virtual ~Trainer() = default;
  virtual const char* name() const = 0;
  // Trains `model` in place; progress lines go through `progress`.
  virtual void train(const TrainJob& job, Model& model, Progress& progress) = 0;
};

// The GPU trainer (host/gpu/gpu_trainer.cc); only called when a CUDA device was found.
std::unique_ptr<Trainer> make_gpu_trainer();

// Picks the trainer for --device and says which one in `announcement`. Throws w2v::Error
// when --device cuda cannot be honoured, or the chosen trainer cannot run the config.
std::unique_ptr<Trainer> make_trainer(const TrainConfig& config, std::string& announcement);

}  // namespace w2v
