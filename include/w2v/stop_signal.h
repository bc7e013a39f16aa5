#pragma once
// SIGINT and SIGTERM while `w2v train` runs. The first asks training to stop at its next
// sentence or batch: it saves a checkpoint (with --checkpoint) and the vectors so far, and
// the command exits with 128 + the signal. A second one exits at once, after deleting the
// temporary files of unfinished writes, so that no partial file is left. A command with
// nothing to save (synth) takes the second path at the first signal.
namespace w2v {

class StopSignals {
 public:
  enum class First { kAsksToStop, kExitsAtOnce };
  explicit StopSignals(First first = First::kAsksToStop);  // installs the handlers
  ~StopSignals();  // restores the previous ones
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
};

// The first stop signal received since the handlers were installed, or 0.
int stop_signal();

}  // namespace w2v
