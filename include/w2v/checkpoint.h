#pragma once
// Checkpoints: what a run needs to continue where it stopped, in one versioned file written
// through AtomicFile (fsynced, renamed), so it is the previous checkpoint or the whole new
// one, never half of one.
//
// File layout (little-endian):
//   "W2VCKPT\0", u32 version, u32 0, u64 body bytes, u64 XXH3-64 of the body
//   body: u32 setting count, each key and value as u32 length + bytes;
//         u64 words done, f64 loss sum, u64 loss count;
//         u32 walker count, each u64 position, u32 epoch, u32 next center, u64 RNG state,
//         u32 sentence length, the sentence's ids;
//         u64 rows, u32 cols, u32 tables (1 tied, 2 separate), float [tables][rows][cols];
//         u64 extra bytes, the trainer's extra state (optimizer moments).
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "w2v/config.h"
#include "w2v/corpus.h"
#include "w2v/model.h"
#include "w2v/vocab.h"

namespace w2v {

// Where one corpus walker (a CPU worker, a GPU sampler's packer) stands: SentenceStream's
// state, and the sentence it read but has not wholly used (a GPU batch can end inside one).
struct WalkerState {
  std::uint64_t position = 0;
  std::uint32_t epoch = 0;
  std::uint64_t rng = 0;
  std::vector<std::uint32_t> sentence;
  std::uint32_t next_center = 0;  // of `sentence`
  bool operator==(const WalkerState&) const = default;
};

// A trainer's state between two sentences (CPU) or batches (GPU), besides its tables.
struct TrainerState {
  std::uint64_t words_done = 0;  // as Progress counts them: the learning rate's position
  double loss_sum = 0;
  std::uint64_t loss_count = 0;
  std::vector<WalkerState> walkers;
  std::vector<unsigned char> extra;
};

// The run a checkpoint belongs to, as (name, value) pairs: the flags that shape training, the
// trainer, the vocabulary and the corpus. A resumed run must agree on every one.
using CheckpointSettings = std::vector<std::pair<std::string, std::string>>;

struct Checkpoint {
  CheckpointSettings settings;
  TrainerState state;
  Model model;
};

inline constexpr char kCheckpointMagic[8] = {'W', '2', 'V', 'C', 'K', 'P', 'T', '\0'};
inline constexpr std::uint32_t kCheckpointVersion = 1;

CheckpointSettings checkpoint_settings(const TrainConfig& config, const std::string& trainer,
                                       const Vocab& vocab, const EncodedCorpus& corpus);

void write_checkpoint(const std::string& path, const CheckpointSettings& settings,
                      const TrainerState& state, const Model& model);
// Reads and verifies (checksum, every length) a checkpoint; throws w2v::Error naming `path`.
Checkpoint read_checkpoint(const std::string& path);
// The same over bytes in memory; `name` is the file in error messages (and for the fuzzer).
Checkpoint parse_checkpoint(const unsigned char* data, std::size_t size, const std::string& name);

// Throws w2v::Error "PATH: written by a run with --dim 100; this run has --dim 200" for the
// first setting that differs.
void check_resumable(const std::string& path, const CheckpointSettings& saved,
                     const CheckpointSettings& now);

}  // namespace w2v
