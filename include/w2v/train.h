#pragma once
// The training sequence of `w2v train`, written once for the CLI and the tests: corpus ->
// vocabulary and encoding (built, or taken from the cache) -> sampling tables -> model ->
// trainer -> vectors.
#include <cstdint>
#include <functional>
#include <memory>

#include "w2v/config.h"
#include "w2v/corpus.h"
#include "w2v/io.h"
#include "w2v/model.h"
#include "w2v/progress.h"
#include "w2v/sampling.h"
#include "w2v/vocab.h"

namespace w2v {

// What a run trains on.
struct TrainingData {
  Vocab vocab;
  std::unique_ptr<EncodedCorpus> corpus;
  SamplingTables tables;
};

// The vocabulary, encoded corpus and sampling tables of config.corpus, with the cache in
// config.cache_dir or else beside config.output (in the working directory when that is a device
// or a pipe). `log` hears what is built or reused; `trace`
// (--trace) gets the stages on its "prepare" track.
// A non-zero `stop_signal` stops the preparation with StoppedError (CorpusBuildOptions).
TrainingData prepare_training_data(const TrainConfig& config, LogLine log, Trace* trace = nullptr,
                                   const std::function<int()>& stop_signal = {});

// The progress reporter's options for a run of `config` over `corpus_tokens` tokens an epoch.
Progress::Options progress_options(const TrainConfig& config, std::uint64_t corpus_tokens);

// Writes the trained vectors to config.output in config.format: the input vectors, or with
// config.writes_sum() each word's input plus output vector.
void write_trained_vectors(const TrainConfig& config, const Vocab& vocab, const Model& model);

// Everything `w2v train` does after parsing its flags: picks the trainer, prepares the data,
// trains (from config.resume, saving config.checkpoint) and writes config.output. `log` hears
// the device, the setup, the cache and the written file (with config.quiet only the device,
// the setup line and the file); progress lines go to stderr. `stop_signal` (if set) is
// polled during training: non-zero stops it early, with a checkpoint and the vectors so far
// (TrainStats::stop_signal says so). Throws w2v::Error on bad input, DivergedError when
// training diverges.
TrainStats run_training(const TrainConfig& config, LogLine log,
                        const std::function<int()>& stop_signal = {});

}  // namespace w2v
