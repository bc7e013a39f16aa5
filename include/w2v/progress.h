#pragma once
// Progress shared by every trainer: workers add words read and loss; one monitoring thread
// prints a line per interval (progress, words/s, alpha, loss, ETA), writes the CSV log, and
// stops training on a NaN or infinite loss. The learning-rate schedule lives here too, so
// that every trainer decays alpha the same way.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "w2v/io.h"

namespace w2v {

// Linear decay from start to start*min_fraction over total_words (word2vec.c).
double scheduled_alpha(double start, double min_fraction, std::uint64_t words_done,
                       std::uint64_t total_words);

struct TrainStats {
  std::uint64_t words = 0;  // in-vocabulary corpus tokens read by this run, before subsampling
  double seconds = 0;       // of training (Progress::start_clock, stop_clock)
  double words_per_sec = 0;
  // The trainer's own setup before training and its wrap-up after (a GPU trainer's device
  // memory, batch slots and tables copied in; the tables copied out): 0 for a trainer that
  // does not mark them.
  double setup_seconds = 0, wrapup_seconds = 0;
  double final_loss = 0;  // mean loss over the last reporting interval
  int stop_signal = 0;    // the signal that stopped training early (SIGINT, SIGTERM), or 0
};

class Progress {
 public:
  struct Options {
    std::uint64_t total_words = 0;  // tokens per epoch x epochs
    double start_alpha = 0.025;
    double min_alpha_fraction = 1e-4;
    double interval_seconds = 1.0;
    bool quiet = false;
    std::string loss_log_path;  // "" = none
    std::FILE* out = stderr;
    // A resumed run starts from its checkpoint's counts.
    std::uint64_t words_done = 0;
    double loss_sum = 0;
    std::uint64_t loss_count = 0;
  };
  explicit Progress(Options options);
  ~Progress();

  // Worker side: thread-safe, called every few thousand words.
  void add(std::uint64_t words, double loss_sum, std::uint64_t loss_count);
  double alpha() const;
  // The rate once `more_words` beyond those done so far are read.
  double alpha_after(std::uint64_t more_words) const;
  bool stopped() const { return stop_.load(std::memory_order_relaxed); }
  // A worker failed: the others stop at their next sentence.
  void cancel() { stop_.store(true); }
  // A signal asked training to stop: workers stop at their next sentence or batch, and
  // summary() reports the stop instead of a divergence.
  void interrupt(int signal) {
    stop_signal_.store(signal);
    stop_.store(true);
  }
  // Words, loss sum and loss count so far (consistent while the workers are paused).
  std::uint64_t words_done() const { return words_.load(); }
  double loss_sum() const { return loss_sum_.load(); }
  std::uint64_t loss_count() const { return loss_count_.load(); }

  // Training proper starts now, after the trainer's setup, and ends at stop_clock() (else at
  // summary()): words/s and the summary's seconds count that time, as word2vec.c's count from
  // its threads' start, and the summary gives the setup and the wrap-up apart.
  void start_clock();
  void stop_clock();

  // Runs on the calling thread, printing a line per interval, until `finished()` returns
  // true or training stops; `tick` (if set) runs every 20 ms (or the interval, down to 1 ms),
  // for checkpoints and stop requests. Join the workers after it, then call summary().
  void monitor(const std::function<bool()>& finished, const std::function<void()>& tick = {});
  // After the workers are joined: throws DivergedError if training diverged, else prints
  // the summary line, commits the loss log and returns the figures.
  TrainStats summary();

 private:
  void report(bool final_line);
  Options options_;
  std::atomic<std::uint64_t> words_{0};
  std::atomic<double> loss_sum_{0};
  std::atomic<std::uint64_t> loss_count_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> stop_signal_{0};
  std::uint64_t resumed_words_ = 0;  // words_ at the start of this run
  std::string diverged_;
  std::chrono::steady_clock::time_point created_, start_;
  bool clock_started_ = false;
  std::optional<std::chrono::steady_clock::time_point> stopped_at_;
  double last_seconds_ = 0, last_loss_sum_ = 0;
  std::uint64_t last_loss_count_ = 0;
  // Totals at the report before the last one: a short final interval is merged with the
  // last full one.
  double earlier_loss_sum_ = 0;
  std::uint64_t earlier_loss_count_ = 0;
  double final_loss_ = 0;
  bool have_final_loss_ = false;
  std::unique_ptr<AtomicFile> log_;
};

}  // namespace w2v
