#pragma once
// The trainer interface: the CPU trainer and the GPU trainer, chosen by --device.
#include <memory>
#include <string>

#include "w2v/config.h"
#include "w2v/corpus.h"
#include "w2v/io.h"
#include "w2v/model.h"
#include "w2v/progress.h"
#include "w2v/sampling.h"
#include "w2v/vocab.h"

namespace w2v {

struct TrainJob {
  const TrainConfig& config;
  const Vocab& vocab;
  const EncodedCorpus& corpus;
  const SamplingTables& tables;
  LogLine log = nullptr;  // where a trainer says how it runs (the GPU trainer's setup line)
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
