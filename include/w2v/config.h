#pragma once
// Every training flag, its default and its help text in one place: the CLI parses into
// TrainConfig and prints --help from a default-constructed one, so help never drifts.
#include <cstdint>
#include <string>
#include <vector>

#include "w2v/flags.h"

namespace w2v {

enum class ModelKind { kSkipGram, kCbow };
enum class LossKind { kNegativeSampling, kSoftmax };
enum class DeviceKind { kAuto, kCpu, kCuda };

struct TrainConfig {
  // Files.
  std::string corpus;
  std::string output;
  std::string format = "auto";
  std::string vocab;
  std::string cache_dir;
  std::string loss_log;
  // Data.
  std::uint64_t min_count = 5;
  std::uint64_t max_vocab = 0;
  bool lowercase = false;
  double sample = 1e-3;
  double ns_exponent = 0.75;
  // Model.
  ModelKind model = ModelKind::kSkipGram;
  LossKind loss = LossKind::kNegativeSampling;
  std::uint32_t dim = 100;
  std::uint32_t window = 5;
  std::uint32_t negative = 5;
  bool tied = false;
  // Optimisation.
  double alpha = 0;  // 0: 0.025 for skip-gram, 0.05 for CBOW (word2vec.c)
  double min_alpha_fraction = 1e-4;
  std::uint32_t epochs = 5;
  std::uint32_t threads = 0;  // 0: all cores
  std::uint64_t seed = 1;
  DeviceKind device = DeviceKind::kAuto;
  double progress_interval = 1.0;  // seconds between progress lines
  bool quiet = false;

  double start_alpha() const {
    return alpha > 0 ? alpha : (model == ModelKind::kCbow ? 0.05 : 0.025);
  }
  std::uint32_t thread_count() const;
};

const char* to_string(ModelKind m);
const char* to_string(LossKind l);
const char* to_string(DeviceKind d);

using Flag = FlagSpec<TrainConfig>;

const std::vector<Flag>& train_flags();

// Parses "--name value", "--name=value" and switches; rejects unknown flags and stray
// arguments, then validates the whole config (ranges, required flags).
TrainConfig parse_train_args(const std::vector<std::string>& args);
void validate(const TrainConfig& config);
std::string train_help();

}  // namespace w2v
