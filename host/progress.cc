#include "w2v/progress.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "w2v/error.h"

namespace w2v {

double scheduled_alpha(double start, double min_fraction, std::uint64_t words_done,
                       std::uint64_t total_words) {
  double left = 1.0 - static_cast<double>(words_done) / static_cast<double>(total_words + 1);
  return start * std::max(min_fraction, left);
}

Progress::Progress(Options options)
    : options_(std::move(options)),
      words_(options_.words_done),
      loss_sum_(options_.loss_sum),
      loss_count_(options_.loss_count),
      resumed_words_(options_.words_done) {
  last_loss_sum_ = earlier_loss_sum_ = options_.loss_sum;
  last_loss_count_ = earlier_loss_count_ = options_.loss_count;
  created_ = start_ = std::chrono::steady_clock::now();
  if (!options_.loss_log_path.empty()) {
    log_ = std::make_unique<AtomicFile>(options_.loss_log_path);
    log_->write("words,seconds,alpha,loss,words_per_sec\n");
  }
}

Progress::~Progress() = default;

void Progress::start_clock() {
  start_ = std::chrono::steady_clock::now();
  clock_started_ = true;
}

void Progress::stop_clock() { stopped_at_ = std::chrono::steady_clock::now(); }

void Progress::add(std::uint64_t words, double loss_sum, std::uint64_t loss_count) {
  words_.fetch_add(words, std::memory_order_relaxed);
  loss_count_.fetch_add(loss_count, std::memory_order_relaxed);
  loss_sum_.fetch_add(loss_sum, std::memory_order_relaxed);
  if (!std::isfinite(loss_sum)) stop_.store(true, std::memory_order_relaxed);
}

double Progress::alpha() const { return alpha_after(0); }

double Progress::alpha_after(std::uint64_t more_words) const {
  return scheduled_alpha(options_.start_alpha, options_.min_alpha_fraction,
                         words_.load(std::memory_order_relaxed) + more_words, options_.total_words);
}

namespace {
std::string clock_text(double seconds) {
  long s = std::lround(std::max(0.0, seconds));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  return buf;
}
}  // namespace

void Progress::report(bool final_line) {
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::uint64_t words = words_.load();
  double loss_sum = loss_sum_.load();
  std::uint64_t loss_count = loss_count_.load();
  double since_sum = last_loss_sum_;
  std::uint64_t since_count = last_loss_count_;
  // A final interval much shorter than a regular one is too noisy to stand alone.
  if (final_line && have_final_loss_ && seconds - last_seconds_ < 0.5 * options_.interval_seconds) {
    since_sum = earlier_loss_sum_;
    since_count = earlier_loss_count_;
  }
  std::uint64_t interval_count = loss_count - since_count;
  double interval_loss = interval_count ? (loss_sum - since_sum) / interval_count : NAN;
  if (interval_count) {
    if (!std::isfinite(interval_loss)) {
      stop_ = true;
      if (diverged_.empty())
        diverged_ = "training diverged: the loss became " +
                    std::string(std::isnan(interval_loss) ? "NaN" : "infinite") + " after " +
                    std::to_string(words) + " words; lower --alpha";
      return;
    }
    final_loss_ = interval_loss;
    have_final_loss_ = true;
  }
  earlier_loss_sum_ = last_loss_sum_;
  earlier_loss_count_ = last_loss_count_;
  last_seconds_ = seconds;
  last_loss_sum_ = loss_sum;
  last_loss_count_ = loss_count;
  if (final_line) return;
  double rate = seconds > 0 ? (words - resumed_words_) / seconds : 0;
  double fraction =
      std::min(1.0, static_cast<double>(words) / std::max<std::uint64_t>(options_.total_words, 1));
  double eta = rate > 0 ? (options_.total_words - std::min(words, options_.total_words)) / rate : 0;
  double alpha_now = alpha();
  if (!options_.quiet)
    std::fprintf(options_.out, "progress %5.1f%%  words/s %9.0f  alpha %.6f  loss %.4f  eta %s\n",
                 100.0 * fraction, rate, alpha_now, final_loss_, clock_text(eta).c_str());
  if (log_) {
    char row[160];
    std::snprintf(row, sizeof row, "%llu,%.3f,%.8f,%.6f,%.0f\n",
                  static_cast<unsigned long long>(words), seconds, alpha_now, final_loss_, rate);
    log_->write(row);
    log_->flush();  // a full disk stops the run now, not at its end
  }
}

void Progress::monitor(const std::function<bool()>& finished, const std::function<void()>& tick) {
  using namespace std::chrono;
  auto next = steady_clock::now() + duration<double>(options_.interval_seconds);
  // Polls every 20 ms, or down to every millisecond when the lines are asked for more often: a
  // run on the GPU may last only tens of milliseconds.
  const auto poll = std::clamp<duration<double>>(duration<double>(options_.interval_seconds),
                                                 milliseconds(1), milliseconds(20));
  while (!finished() && !stopped()) {
    std::this_thread::sleep_for(poll);
    if (tick) tick();
    if (steady_clock::now() >= next) {
      next += duration<double>(options_.interval_seconds);
      report(false);
    }
  }
}

TrainStats Progress::summary() {
  if (stopped() && diverged_.empty() && stop_signal_.load() == 0) {
    // A worker saw the non-finite loss first.
    diverged_ = "training diverged: the loss became NaN or infinite after " +
                std::to_string(words_.load()) + " words; lower --alpha";
  }
  if (!diverged_.empty()) throw DivergedError(diverged_);
  report(true);
  TrainStats s;
  using Seconds = std::chrono::duration<double>;
  const auto now = std::chrono::steady_clock::now();
  const auto end = stopped_at_.value_or(now);
  s.seconds = Seconds(end - start_).count();
  if (clock_started_) {
    s.setup_seconds = Seconds(start_ - created_).count();
    s.wrapup_seconds = Seconds(now - end).count();
  }
  s.words = words_.load() - resumed_words_;
  s.words_per_sec = s.seconds > 0 ? s.words / s.seconds : 0;
  s.final_loss = have_final_loss_ ? final_loss_ : 0;
  s.stop_signal = stop_signal_.load();
  if (log_) {
    char row[160];
    std::snprintf(row, sizeof row, "%llu,%.3f,%.8f,%.6f,%.0f\n",
                  static_cast<unsigned long long>(s.words), s.seconds, alpha(), s.final_loss,
                  s.words_per_sec);
    log_->write(row);
    log_->commit();
  }
  std::fprintf(options_.out, "%s %llu words in %.2f s: %.0f words/s, final loss %.4f\n",
               s.stop_signal ? "stopped early: trained" : "trained",
               static_cast<unsigned long long>(s.words), s.seconds, s.words_per_sec, s.final_loss);
  if (clock_started_)
    std::fprintf(options_.out,
                 "trainer setup %.3f s before training, wrap-up %.3f s after (not in those "
                 "seconds)\n",
                 s.setup_seconds, s.wrapup_seconds);
  return s;
}

}  // namespace w2v
