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
#include <string>

#include "w2v/io.h"

namespace w2v {

// Linear decay from start to start*min_fraction over total_words (word2vec.c).
double scheduled_alpha(double start, double min_fraction, std::uint64_t words_done,
                       std::uint64_t total_words);

struct TrainStats {
  std::uint64_t words = 0;  // in-vocabulary corpus tokens read, before subsampling
  double seconds = 0;
  double words_per_sec = 0;
  double final_loss = 0;  // mean loss over the last reporting interval
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
  };
  explicit Progress(Options options);
  ~Progress();

  // Worker side: thread-safe, called every few thousand words.
  void add(std::uint64_t words, double loss_sum, std::uint64_t loss_count);
  double alpha() const;
  bool stopped() const { return stop_.load(std::memory_order_relaxed); }
  // A worker failed: the others stop at their next sentence.
  void cancel() { stop_.store(true); }

  // Runs on the calling thread, printing a line per interval, until `finished()` returns
  // true or training diverges. Join the workers after it, then call summary().
  void monitor(const std::function<bool()>& finished);
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
  std::string diverged_;
  std::chrono::steady_clock::time_point start_;
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
