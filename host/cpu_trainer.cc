#include "w2v/cpu_trainer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "w2v/error.h"
#include "w2v/reference.h"
#include "w2v/vector_math.h"

namespace w2v {

namespace {

// Words a worker reads between reports to Progress (and alpha refreshes), as word2vec.c.
constexpr std::uint64_t kReportWords = 10000;

// A RowCopy of the tree's top nodes: its rows times threads, down to 63 rows. A merge passes
// over every copied row and comes every kMissedSteps / threads steps, so its work a step stays
// about half a row up to 8 threads. On 2 threads (255 rows) the text8 prefix trained skip-gram 9%
// and CBOW 16% faster than with 63 rows, at the same quality; 511 rows no faster for skip-gram.
// Fewer than 63 rows on 16 threads, which the 2-core VM runs only oversubscribed, measured nothing
// better (bench/QUALITY.md §13).
constexpr std::size_t kCopiedRowsTimesThreads = 512;
// A RowCopy of skip-gram's most frequent output rows: its rows times threads, down to 8, so
// that a merge's work stays an eighth of a row a step. On 2 threads 32 to 128 rows trained the
// text8 prefix equally fast; with a merge every 512 steps 256 rows were 10% slower than 64,
// 1024 rows 40% and 4096 three times (bench/QUALITY.md §14).
constexpr std::size_t kFrequentRowsTimesThreads = 128;
// A thread's copy misses the other threads' changes of up to about this many steps, its merge
// coming every kMissedSteps / threads steps: 512 steps a merge on 8 threads lost a point of
// analogy on the text8 prefix, 128 none (bench/QUALITY.md §13).
constexpr std::size_t kMissedSteps = 1024;

}  // namespace

LogisticTable::LogisticTable() {
  for (int i = 0; i <= kSize; ++i) {
    double x = (2.0 * i / kSize - 1.0) * kMaxLogit;
    sigmoid_[i] = static_cast<float>(ref::sigmoid(x));
    softplus_[i] = static_cast<float>(ref::softplus(x));
  }
}

// NaN fails both range checks and comes back unchanged, so a diverging run reports a NaN
// loss instead of indexing the table with it.
float LogisticTable::sigmoid(float x) const {
  if (!(x > -kMaxLogit && x < kMaxLogit)) return x >= kMaxLogit ? 1.0f : x <= -kMaxLogit ? 0.0f : x;
  return sigmoid_[static_cast<int>((x + kMaxLogit) * (kSize / (2 * kMaxLogit)) + 0.5f)];
}

float LogisticTable::softplus(float x) const {
  if (!(x > -kMaxLogit && x < kMaxLogit)) return x <= -kMaxLogit ? 0.0f : x;
  return softplus_[static_cast<int>((x + kMaxLogit) * (kSize / (2 * kMaxLogit)) + 0.5f)];
}

namespace {

// One logistic output with score f, labelled 1 (positive) or 0: its loss, and in g alpha times
// the gradient of the log-likelihood w.r.t. f.
inline float logistic_gradient(const LogisticTable& table, float f, bool positive, float alpha,
                               float& g) {
  if (positive) {
    g = (1.0f - table.sigmoid(f)) * alpha;
    return table.softplus(-f);
  }
  g = -table.sigmoid(f) * alpha;
  return table.softplus(f);
}

// The outputs a step takes at once (a path longer than this goes in stretches).
constexpr std::size_t kStretch = 16;

// Whether a step's rows can repeat: a noise word can be drawn twice, a path's nodes are distinct.
enum class Repeats { kPossible, kNone };

// Outputs rows[0..count) of `in`, labelled by positive[]: each row's share of in's gradient goes
// to `in_grad` and the row is updated in place, word2vec.c's order (the gradient first, from the
// row before its update, one output after another); their losses are added to `loss`. Where
// the rows are distinct and none is `in`, no output's score depends on another's update: the
// scores are taken first, independent of one another (the core overlaps them), then the
// updates, with the same sums. Otherwise (a noise word drawn twice, or tied embeddings' own
// row) each output is scored after the previous one's update.
void logistic_outputs(const LogisticTable& table, const float* in, float* const* rows,
                      const bool* positive, std::size_t count, std::size_t dim, float alpha,
                      Repeats repeats, float* in_grad, float& loss) {
  float g[kStretch];
  bool independent = true;
  for (std::size_t k = 0; k < count && independent; ++k) {
    independent = rows[k] != in;
    if (repeats == Repeats::kPossible)
      for (std::size_t j = 0; j < k && independent; ++j) independent = rows[j] != rows[k];
  }
  if (!independent) {
    for (std::size_t k = 0; k < count; ++k) {
      loss += logistic_gradient(table, dot(in, rows[k], dim), positive[k], alpha, g[k]);
      axpy(in_grad, g[k], rows[k], dim);
      axpy(rows[k], g[k], in, dim);
    }
    return;
  }
  for (std::size_t k = 0; k < count; ++k) g[k] = dot(in, rows[k], dim);
  for (std::size_t k = 0; k < count; ++k)
    loss += logistic_gradient(table, g[k], positive[k], alpha, g[k]);
  axpy_rows(in_grad, rows, g, count, in, dim);
}

// Row `row` of the output table `out` [.., dim], or its copy where `copied` holds it.
float* step_row(float* out, const CopiedRows* copied, std::uint32_t row, std::size_t dim) {
  return copied && copied->holds(row) ? copied->row(row, dim)
                                      : out + static_cast<std::size_t>(row) * dim;
}

}  // namespace

float ns_step(const LogisticTable& table, const float* in, float* out, std::size_t dim,
              const std::uint32_t* targets, std::size_t count, float alpha, float* in_grad,
              const CopiedRows* copied) {
  // More targets than a stretch (--negative 16 and up) go one by one: stretch after stretch
  // would not see a noise word repeated in the next.
  const bool at_once = count <= kStretch;
  float* rows[kStretch];
  bool positive[kStretch];
  float loss = 0;
  std::size_t used = 0;
  for (std::size_t k = 0; k < count; ++k) {
    if (k > 0 && !noise_word_used(targets[k], targets[0])) continue;
    rows[used] = step_row(out, copied, targets[k], dim);
    positive[used++] = k == 0;
    if (!at_once) {
      logistic_outputs(table, in, rows, positive, 1, dim, alpha, Repeats::kPossible, in_grad, loss);
      used = 0;
    }
  }
  if (used > 0)
    logistic_outputs(table, in, rows, positive, used, dim, alpha, Repeats::kPossible, in_grad,
                     loss);
  return loss;
}

// Code 0 is label 1. word2vec.c skips a node whose score is past ±6; here it takes its step,
// which is largest exactly when the score is large and on the wrong side. A path's nodes are
// distinct and `in` changes only after the step, so a stretch of the path is scored before its
// updates, which gives word2vec.c's node-by-node arithmetic.
float hs_step(const LogisticTable& table, const float* in, float* out, std::size_t dim,
              const std::uint32_t* nodes, const std::uint8_t* codes, std::size_t length,
              float alpha, float* in_grad, const CopiedRows* copied) {
  float* rows[kStretch];
  bool positive[kStretch];
  float loss = 0;
  for (std::size_t begin = 0; begin < length; begin += kStretch) {
    const std::size_t n = std::min(kStretch, length - begin);
    for (std::size_t k = 0; k < n; ++k) {
      rows[k] = step_row(out, copied, nodes[begin + k], dim);
      positive[k] = codes[begin + k] == 0;
    }
    logistic_outputs(table, in, rows, positive, n, dim, alpha, Repeats::kNone, in_grad, loss);
  }
  return loss;
}

std::size_t top_node_copy_rows(std::size_t threads, std::size_t inner) {
  if (threads < 2) return 0;
  return std::min(std::clamp<std::size_t>(kCopiedRowsTimesThreads / threads, 64, 256) - 1, inner);
}

std::size_t frequent_row_copy_rows(std::size_t threads, std::size_t vocab) {
  if (threads < 2) return 0;
  return std::min(std::max<std::size_t>(kFrequentRowsTimesThreads / threads, 8), vocab);
}

CopiedRange copied_output_rows(const TrainConfig& c, std::size_t vocab) {
  const std::size_t threads = c.thread_count();
  if (threads < 2 || c.tied) return {};
  const bool automatic = c.copied_rows == TrainConfig::kAutoCopiedRows;
  if (c.loss == LossKind::kHierarchicalSoftmax) {
    const std::size_t inner = vocab - 1;
    const std::size_t count = automatic ? top_node_copy_rows(threads, inner)
                                        : std::min<std::size_t>(c.copied_rows, inner);
    return {inner - count, count};
  }
  if (c.loss != LossKind::kNegativeSampling) return {};
  // CBOW's step is one a center, not one a context word: private output tables, the upper
  // bound, gave it 10% on 2 threads, a copy of 64 rows nothing.
  if (automatic)
    return {0, c.model == ModelKind::kSkipGram ? frequent_row_copy_rows(threads, vocab) : 0};
  return {0, std::min<std::size_t>(c.copied_rows, vocab)};
}

RowCopy::RowCopy(float* table, std::size_t first, std::size_t count, std::size_t dim)
    : shared_(table + first * dim),
      copy_(shared_, shared_ + count * dim),
      at_merge_(copy_),
      rows_{static_cast<std::uint32_t>(first), static_cast<std::uint32_t>(first + count),
            copy_.data()} {}

void RowCopy::merge() {
  for (std::size_t e = 0; e < copy_.size(); ++e) {
    shared_[e] += copy_[e] - at_merge_[e];
    copy_[e] = at_merge_[e] = shared_[e];
  }
}

namespace {

// Asks for a row's cache lines before it is read and written.
void prefetch_row(const float* row, std::size_t dim) {
  constexpr std::size_t kLine = 64;
  const char* bytes = reinterpret_cast<const char*>(row);
  for (std::size_t at = 0; at < dim * sizeof(float); at += kLine)
    __builtin_prefetch(bytes + at, /*rw=*/1, /*locality=*/3);
}

// Second half of a full-vocabulary step: grad [vocab] holds d loss / d logits.
void vocab_update(const float* h, float* out, std::size_t vocab, std::size_t dim, float alpha,
                  const float* grad, float* h_update) {
  std::fill(h_update, h_update + dim, 0.0f);
  for (std::size_t r = 0; r < vocab; ++r) {
    float step = -alpha * grad[r];
    float* row = out + r * dim;
    axpy(h_update, step, row, dim);
    axpy(row, step, h, dim);
  }
}

void compute_logits(const float* h, const float* out, std::size_t vocab, std::size_t dim,
                    float* logits) {
  for (std::size_t r = 0; r < vocab; ++r) logits[r] = dot(h, out + r * dim, dim);
}

}  // namespace

float softmax_step(const float* h, float* out, std::size_t vocab, std::size_t dim,
                   const std::uint32_t* targets, std::size_t count, float alpha, float* logits,
                   float* h_update) {
  compute_logits(h, out, vocab, dim, logits);
  // In place: the logits become the gradient softmax - mean one-hot.
  float loss = static_cast<float>(ref::softmax_nll(logits, vocab, targets, count, logits));
  vocab_update(h, out, vocab, dim, alpha, logits, h_update);
  return loss;
}

float full_bce_step(const float* h, float* out, std::size_t vocab, std::size_t dim,
                    const std::uint32_t* targets, std::size_t count, float alpha, float* logits,
                    float* h_update) {
  compute_logits(h, out, vocab, dim, logits);
  // Vocabulary ids are below 2^31 (an encoded corpus holds uint32 ids, kSentenceEnd apart), so
  // the reference's int32 targets read them unchanged.
  const std::vector<std::int32_t> positives(targets, targets + count);
  float loss = 0;
  ref::full_bce(logits, 1, static_cast<std::int64_t>(vocab), positives.data(),
                static_cast<int>(count), &loss, logits);
  vocab_update(h, out, vocab, dim, alpha, logits, h_update);
  return loss;
}

namespace {

// Brings every worker to a stop between two sentences, so that their walkers, the progress
// counts and the tables form one state a checkpoint can hold; then lets them go on. A worker
// that has finished (or failed) has left and is not waited for.
class PauseGate {
 public:
  explicit PauseGate(std::uint32_t workers) : workers_(workers) {}

  // Worker side, between sentences: cheap when no pause is asked for.
  bool requested() const { return requested_.load(std::memory_order_relaxed); }
  void wait_here() {
    std::unique_lock lock(mutex_);
    ++paused_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !requested_.load(); });
    --paused_;
  }
  void leave() {
    std::lock_guard lock(mutex_);
    ++left_;
    changed_.notify_all();
  }

  // Coordinator side. False when every worker had left: nothing is paused, training is over.
  bool pause_all() {
    std::unique_lock lock(mutex_);
    requested_.store(true);
    changed_.wait(lock, [&] { return paused_ + left_ == workers_; });
    return left_ < workers_;
  }
  void resume_all() {
    std::lock_guard lock(mutex_);
    requested_.store(false);
    changed_.notify_all();
  }

 private:
  const std::uint32_t workers_;
  std::atomic<bool> requested_{false};
  std::mutex mutex_;
  std::condition_variable changed_;
  std::uint32_t paused_ = 0, left_ = 0;
};

class Worker {
 public:
  Worker(const TrainJob& job, Model& model, Progress& progress, const LogisticTable& table,
         std::uint32_t id, CorpusRange range, PauseGate& gate, WalkerState& published)
      : c_(job.config),
        job_(job),
        progress_(progress),
        table_(table),
        gate_(gate),
        published_(published),
        stream_(job.corpus, job.tables, range, job.config.epochs, worker_seed(job.config.seed, id)),
        rng_(stream_.rng()),
        dim_(job.config.dim),
        vocab_(job.vocab.size()),
        in_(model.input.data()),
        out_(model.output_data()),
        grad_(dim_),
        hidden_(dim_),
        targets_(std::max<std::size_t>(c_.negative + 1, 2 * c_.window)),
        next_targets_(targets_.size()),
        trace_(job.trace),
        track_(trace_ ? trace_->track("worker " + std::to_string(id)) : 0) {
    if (c_.loss == LossKind::kSoftmax || c_.loss == LossKind::kFullBce) logits_.resize(vocab_);
    if (const CopiedRange copied = copied_output_rows(c_, vocab_); copied.count > 0) {
      copy_.emplace(out_, copied.first, copied.count, dim_);
      merge_every_ = std::max<std::size_t>(16, kMissedSteps / c_.thread_count());
    }
    sentence_.reserve(kMaxSentenceTokens);
    if (job.control && job.control->resume) {
      const WalkerState& from = job.control->resume->walkers[id];
      if (!stream_.valid_state(from, vocab_) || !from.sentence.empty())
        throw Error("--resume: worker " + std::to_string(id) +
                    "'s corpus position in the checkpoint is outside its slice (corrupt)");
      stream_.restore(from);
    }
    published_ = stream_.state();
  }

  // Pauses come only right after a flush: the worker holds no unreported words, and alpha_ is
  // what Progress gives for the words done, so a run resumed from here (one thread) repeats
  // the uninterrupted one exactly.
  void run() {
    alpha_ = static_cast<float>(progress_.alpha());
    if (trace_) trained_since_ = trace_->now_us();
    while (!progress_.stopped()) {
      if (!stream_.next(sentence_, words_)) {
        flush();
        published_ = stream_.state();
        return;
      }
      train_sentence();
      if (words_ >= kReportWords) {
        flush();
        if (gate_.requested()) {
          published_ = stream_.state();
          {
            const Trace::Span paused(trace_, track_, "paused for a checkpoint");
            gate_.wait_here();
          }
          if (trace_) trained_since_ = trace_->now_us();
        }
      }
    }
  }

 private:
  // A --trace span per flush: the time its words took.
  void flush() {
    // Every pause and the run's end come after a flush: a checkpoint holds every step.
    if (copy_) copy_->merge();
    if (trace_) {
      const double now = trace_->now_us();
      if (trained_since_ >= 0) trace_->add(track_, "train", trained_since_, now - trained_since_);
      trained_since_ = now;
    }
    progress_.add(words_, loss_sum_, loss_count_);
    words_ = 0;
    loss_sum_ = 0;
    loss_count_ = 0;
    alpha_ = static_cast<float>(progress_.alpha());
  }

  float* in_row(std::uint32_t id) { return in_ + static_cast<std::size_t>(id) * dim_; }
  const float* out_row(std::uint32_t id) const {
    return out_ + static_cast<std::size_t>(id) * dim_;
  }
  const CopiedRows* copied() const { return copy_ ? &copy_->rows() : nullptr; }
  // After each step that may write copied rows.
  void count_copy_step() {
    if (copy_ && ++steps_since_merge_ == merge_every_) {
      copy_->merge();
      steps_since_merge_ = 0;
    }
  }

  void train_sentence() {
    const bool cbow = c_.model == ModelKind::kCbow;
    const bool ns = c_.loss == LossKind::kNegativeSampling;
    const bool hs = c_.loss == LossKind::kHierarchicalSoftmax;
    const std::size_t n = sentence_.size();
    for (std::size_t i = 0; i < n; ++i) {
      // The next center's output row and the input row that enters the window next.
      if (ns && i + 1 < n) prefetch_row(out_row(sentence_[i + 1]), dim_);
      if (i + c_.window + 1 < n) prefetch_row(in_row(sentence_[i + c_.window + 1]), dim_);
      std::size_t b = draw_window(rng_, c_.window);
      std::size_t lo = i >= b ? i - b : 0, hi = std::min(n - 1, i + b);
      if (cbow)
        cbow_center(i, lo, hi);
      else if (ns)
        skipgram_ns_center(i, lo, hi);
      else if (hs)
        skipgram_hs_center(i, lo, hi);
      else
        skipgram_vocab_center(i, lo, hi);
    }
  }

  // Fills targets[1..negative] and asks for their output rows, random rows of a table larger
  // than the cache, ahead of their use. The shared rows of words this thread copies are asked
  // for too: skipping them trained skip-gram on 2 threads slower (text8 prefix, 2 epochs: 1.27
  // against 1.13 s, with either code layout), as though merges then found those rows' lines in
  // the other core.
  void draw_noise(std::vector<std::uint32_t>& targets) {
    for (std::size_t k = 1; k <= c_.negative; ++k) {
      targets[k] = job_.tables.noise.sample(rng_);
      prefetch_row(out_row(targets[k]), dim_);
    }
  }

  // word2vec.c: each context word's input row predicts the center through the output rows.
  // Under --sg-noise window the center's noise words serve all of them: as good, and a fifth
  // to a third faster (bench/QUALITY.md §12); the next center's are drawn while this one trains,
  // so that their rows, often last written by another thread, arrive by its first pair. Under
  // --sg-noise pair the next pair's noise words are drawn before this pair trains, so their
  // rows arrive meanwhile; nothing else draws within a center, so the draws are word2vec.c's.
  void skipgram_ns_center(std::size_t i, std::size_t lo, std::size_t hi) {
    auto after = [i](std::size_t j) { return j + 1 == i ? j + 2 : j + 1; };
    std::size_t j = lo == i ? after(lo) : lo;
    if (j > hi) return;
    const bool noise_per_pair = c_.sg_noise == NoiseSharing::kPair;
    targets_[0] = next_targets_[0] = sentence_[i];
    if (noise_per_pair) {
      draw_noise(targets_);
    } else {
      if (noise_ahead_)
        std::copy(next_targets_.begin() + 1, next_targets_.begin() + c_.negative + 1,
                  targets_.begin() + 1);
      else
        draw_noise(targets_);
      // Only within a sentence: a checkpoint, taken between sentences, holds no drawn words.
      // The next center has a context word (this one), so it takes them.
      noise_ahead_ = i + 1 < sentence_.size();
      if (noise_ahead_) draw_noise(next_targets_);
    }
    for (; j <= hi; j = after(j)) {
      if (after(j) <= hi) {
        if (noise_per_pair) draw_noise(next_targets_);
        prefetch_row(in_row(sentence_[after(j)]), dim_);
      }
      float* row = in_row(sentence_[j]);
      std::fill(grad_.begin(), grad_.end(), 0.0f);
      loss_sum_ += ns_step(table_, row, out_, dim_, targets_.data(), c_.negative + 1, alpha_,
                           grad_.data(), copied());
      axpy(row, 1.0f, grad_.data(), dim_);
      ++loss_count_;
      count_copy_step();
      if (noise_per_pair) std::swap(targets_, next_targets_);
    }
  }

  // A word's path down the tree, its rows asked for ahead of their use: a frequent word's short
  // path is mostly the tree's top, in cache; a rare word's ends in random rows.
  void prefetch_path(std::uint32_t word) {
    const HuffmanTree& tree = job_.tables.tree;
    const std::uint32_t* nodes = tree.nodes(word);
    for (std::size_t k = 0; k < tree.path_length(word); ++k)
      if (!copy_ || !copy_->rows().holds(nodes[k])) prefetch_row(out_row(nodes[k]), dim_);
  }
  float hs_center_step(std::uint32_t center, const float* in, float* in_grad) {
    const HuffmanTree& tree = job_.tables.tree;
    const float loss = hs_step(table_, in, out_, dim_, tree.nodes(center), tree.codes(center),
                               tree.path_length(center), alpha_, in_grad, copied());
    count_copy_step();
    return loss;
  }

  // word2vec.c's -hs skip-gram: each context word's input row predicts the center's path.
  void skipgram_hs_center(std::size_t i, std::size_t lo, std::size_t hi) {
    if (hi == lo) return;  // no context word
    prefetch_path(sentence_[i]);
    for (std::size_t j = lo; j <= hi; ++j) {
      if (j == i) continue;
      float* row = in_row(sentence_[j]);
      std::fill(grad_.begin(), grad_.end(), 0.0f);
      loss_sum_ += hs_center_step(sentence_[i], row, grad_.data());
      axpy(row, 1.0f, grad_.data(), dim_);
      ++loss_count_;
    }
  }

  float vocab_step(const float* h, const std::uint32_t* targets, std::size_t count, float step) {
    return (c_.loss == LossKind::kSoftmax ? softmax_step : full_bce_step)(
        h, out_, vocab_, dim_, targets, count, step, logits_.data(), grad_.data());
  }

  // The center's input row predicts every context word at once through the softmax (or the
  // one-vs-all BCE with all context words as positives).
  void skipgram_vocab_center(std::size_t i, std::size_t lo, std::size_t hi) {
    std::size_t count = 0;
    for (std::size_t j = lo; j <= hi; ++j)
      if (j != i) targets_[count++] = sentence_[j];
    if (count == 0) return;
    float* row = in_row(sentence_[i]);
    // A copy: with tied embeddings the row is also one of the output rows being updated.
    std::copy(row, row + dim_, hidden_.begin());
    if (c_.loss == LossKind::kSoftmax) {
      // The softmax loss is the mean over the context words, but alpha is a rate per (center,
      // context) pair as in word2vec.c, so the step is scaled by their count: without it a
      // center with 2b context words would learn 2b times slower than under negative
      // sampling. The loss is reported per pair too, as the GPU trainer's sum reduction does.
      const float n = static_cast<float>(count);
      loss_sum_ += n * vocab_step(hidden_.data(), targets_.data(), count, alpha_ * n);
      loss_count_ += count;
    } else {
      loss_sum_ += vocab_step(hidden_.data(), targets_.data(), count, alpha_);
      ++loss_count_;
    }
    axpy(row, 1.0f, grad_.data(), dim_);
  }

  // The mean of the context rows predicts the center (word2vec.c's cbow_mean).
  void cbow_center(std::size_t i, std::size_t lo, std::size_t hi) {
    if (hi == lo) return;  // no context word
    const bool ns = c_.loss == LossKind::kNegativeSampling;
    const bool hs = c_.loss == LossKind::kHierarchicalSoftmax;
    targets_[0] = sentence_[i];
    if (ns) {
      // Drawn first (nothing else draws in between), so that the output rows arrive while the
      // context rows are summed.
      prefetch_row(out_row(targets_[0]), dim_);
      draw_noise(targets_);
    } else if (hs) {
      prefetch_path(targets_[0]);
    }
    std::fill(hidden_.begin(), hidden_.end(), 0.0f);
    for (std::size_t j = lo; j <= hi; ++j)
      if (j != i) axpy(hidden_.data(), 1.0f, in_row(sentence_[j]), dim_);
    const float inv = 1.0f / static_cast<float>(hi - lo);  // lo <= i <= hi: hi - lo contexts
    for (float& h : hidden_) h *= inv;
    if (hs) {
      std::fill(grad_.begin(), grad_.end(), 0.0f);
      loss_sum_ += hs_center_step(targets_[0], hidden_.data(), grad_.data());
    } else if (!ns) {
      loss_sum_ += vocab_step(hidden_.data(), targets_.data(), 1, alpha_);
    } else {
      std::fill(grad_.begin(), grad_.end(), 0.0f);
      loss_sum_ += ns_step(table_, hidden_.data(), out_, dim_, targets_.data(), c_.negative + 1,
                           alpha_, grad_.data(), copied());
      count_copy_step();
    }
    for (std::size_t j = lo; j <= hi; ++j)
      if (j != i) axpy(in_row(sentence_[j]), 1.0f, grad_.data(), dim_);
    ++loss_count_;
  }

  const TrainConfig& c_;
  const TrainJob& job_;
  Progress& progress_;
  const LogisticTable& table_;
  PauseGate& gate_;
  WalkerState& published_;  // read by the coordinator while this worker is paused or gone
  SentenceStream stream_;
  Rng& rng_;
  const std::size_t dim_, vocab_;
  float* in_;
  float* out_;
  std::vector<float> grad_, hidden_, logits_;
  std::optional<RowCopy> copy_;  // copied_output_rows(), on several threads
  std::size_t merge_every_ = 0, steps_since_merge_ = 0;
  std::vector<std::uint32_t> targets_, next_targets_, sentence_;
  bool noise_ahead_ = false;  // next_targets_ holds the next center's noise words
  float alpha_ = 0;
  std::uint64_t words_ = 0, loss_count_ = 0;
  double loss_sum_ = 0;
  Trace* trace_;
  std::uint32_t track_;
  double trained_since_ = -1;  // µs on the trace's clock
};

}  // namespace

void check_cpu_trainer_config(const TrainConfig& c) {
  // GPU-only flags are refused rather than silently ignored.
  if (c.optimizer != OptimizerKind::kSgd)
    throw Error(std::string("--optimizer ") + to_string(c.optimizer) +
                ": the CPU trainer runs SGD only (use sgd, or train on a GPU)");
  if (c.profile_steps > 0)
    throw Error("--profile-steps: only the GPU trainer runs in batches (train on a GPU)");
  if (c.fused_warps > 0)
    throw Error("--fused-warps: the fused kernels run on a GPU only (train on a GPU)");
  if (c.fused_streams > 0)
    throw Error("--fused-streams: the fused kernels run on a GPU only (train on a GPU)");
  if (c.gpu_path == GpuPathKind::kFused)
    throw Error("--gpu-path fused: the fused kernels run on a GPU only (train on a GPU)");
}

void CpuTrainer::train(const TrainJob& job, Model& model, Progress& progress) {
  check_cpu_trainer_config(job.config);
  const std::uint32_t threads = job.config.thread_count();
  const TrainControl* control = job.control;
  if (control && control->resume && control->resume->walkers.size() != threads)
    throw Error("--resume: the checkpoint holds " +
                std::to_string(control->resume->walkers.size()) + " workers, this run " +
                std::to_string(threads) + " (corrupt)");
  const std::vector<CorpusRange> ranges = job.corpus.split(threads);
  const LogisticTable table;
  PauseGate gate(threads);
  std::vector<WalkerState> walkers(threads);
  std::atomic<std::uint32_t> running{threads};
  std::vector<std::exception_ptr> errors(threads);
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (std::uint32_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      try {
        Worker(job, model, progress, table, t, ranges[t], gate, walkers[t]).run();
      } catch (...) {
        errors[t] = std::current_exception();
        progress.cancel();
      }
      gate.leave();
      running.fetch_sub(1);
    });
  }

  using Clock = std::chrono::steady_clock;
  auto last_save = Clock::now();
  const std::uint32_t monitor_track = job.trace ? job.trace->track("monitor") : 0;
  auto save = [&] {
    const Trace::Span saving(job.trace, monitor_track, "save checkpoint");
    TrainerState state;
    state.words_done = progress.words_done();
    state.loss_sum = progress.loss_sum();
    state.loss_count = progress.loss_count();
    state.walkers = walkers;
    control->save(state, model);
    last_save = Clock::now();
  };
  // On the monitoring thread: a checkpoint when one is due, and a stop when a signal asks.
  auto tick = [&] {
    if (!control) return;
    const int signal = control->stop_signal ? control->stop_signal() : 0;
    const bool due = control->save && std::chrono::duration<double>(Clock::now() - last_save)
                                              .count() >= control->save_every_seconds;
    if (!signal && !due) return;
    // A stopped run (a failed worker, a divergence) has nothing worth saving: its workers
    // left mid-walk.
    if (!gate.pause_all() || progress.stopped()) {
      gate.resume_all();
      return;
    }
    try {
      if (control->save) save();
    } catch (...) {
      gate.resume_all();
      progress.cancel();
      throw;
    }
    if (signal) progress.interrupt(signal);
    gate.resume_all();
  };
  std::exception_ptr monitor_error;
  try {
    progress.monitor([&] { return running.load() == 0; }, tick);
  } catch (...) {
    monitor_error = std::current_exception();
    progress.cancel();
  }
  for (auto& th : pool) th.join();
  if (monitor_error) std::rethrow_exception(monitor_error);
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace w2v
