// ref::fused_ns: the fused kernel's semantics (include/w2v/kernels/fused_ns.h) warp by warp on
// the host.
#include <algorithm>
#include <vector>

#include "w2v/error.h"
#include "w2v/kernels/draws.h"
#include "w2v/reference.h"
#include "w2v/vector_math.h"

namespace w2v::ref {
namespace {

// Changes to table rows, landing together at the end of a phase: summed (atomics), or each
// row stored over the table's in turn (plain stores). add() returns where the caller writes
// the change, or with plain stores the row's new value.
class Additions {
 public:
  Additions(std::size_t dim, bool store_rows) : dim_(dim), store_rows_(store_rows) {}
  float* add(float* row) {
    rows_.push_back(row);
    deltas_.resize(rows_.size() * dim_);
    return deltas_.data() + (rows_.size() - 1) * dim_;
  }
  void land() {
    for (std::size_t r = 0; r < rows_.size(); ++r) {
      if (store_rows_)
        std::copy_n(&deltas_[r * dim_], dim_, rows_[r]);
      else
        axpy(rows_[r], 1.0f, &deltas_[r * dim_], dim_);
    }
    rows_.clear();
    deltas_.clear();
  }

 private:
  std::size_t dim_;
  bool store_rows_;
  std::vector<float*> rows_;
  std::vector<float> deltas_;
};

class Emulation {
 public:
  Emulation(float* input, float* output, const FusedShape& shape, const FusedStep& step,
            const FusedNoise& noise, const FusedBatch& batch, const FusedScales& scales)
      : scales_(scales),
        in_(input),
        out_(output),
        s_(shape),
        step_(step),
        noise_(noise),
        batch_(batch),
        d_(shape.dim),
        ring_(2 * shape.window + 1),
        additions_(shape.dim, shape.store_rows),
        targets_(shape.negative + 1),
        target_rows_((shape.negative + 1) * d_),
        target_deltas_((shape.negative + 1) * d_),
        in_grad_(d_),
        hidden_(d_) {}

  void run(std::size_t concurrency) {
    std::vector<Warp> warps(std::min<std::size_t>(concurrency, batch_.chunk_count));
    for (Warp& w : warps) {
      w.value.resize(ring_ * d_);
      w.delta.resize(ring_ * d_);
    }
    std::int64_t next_chunk = 0;
    for (bool busy = true; busy;) {
      busy = false;
      for (Warp& w : warps) retire_leaving(w);
      additions_.land();
      for (Warp& w : warps) {
        if (w.chunk < 0 && next_chunk < batch_.chunk_count) start(w, next_chunk++);
        if (w.chunk >= 0) {
          busy = true;
          enter_and_step(w);
        }
      }
      additions_.land();
    }
  }

 private:
  struct Warp {
    std::int64_t chunk = -1;
    std::int32_t next = 0;                       // the next center
    std::int32_t loaded_lo = 0, loaded_hi = -1;  // positions held in the ring
    bool loaded = false;
    // The previous center's (next - 1) contexts: [changed_lo, changed_hi] without it.
    std::int32_t changed_lo = 0, changed_hi = -1;
    double loss = 0, examples = 0;
    std::vector<float> value, delta;  // [ring, d]
  };

  const FusedChunk& chunk(const Warp& w) const { return batch_.chunks[w.chunk]; }
  float* in_row(std::int32_t position) {
    return in_ + static_cast<std::size_t>(batch_.tokens[position]) * d_;
  }
  std::size_t slot(std::int32_t position) const { return (position % ring_) * d_; }

  void start(Warp& w, std::int64_t c) {
    w.chunk = c;
    w.next = batch_.chunks[c].center_begin;
    w.loaded = false;
    w.loss = w.examples = 0;
  }
  void load(Warp& w, std::int32_t position) {
    std::copy_n(in_row(position), d_, &w.value[slot(position)]);
    std::fill_n(&w.delta[slot(position)], d_, 0.0f);
  }
  void retire(Warp& w, std::int32_t position) {
    const float* delta = &w.delta[slot(position)];
    if (std::all_of(delta, delta + d_, [](float x) { return x == 0.0f; }))
      return;  // never a context
    const std::int32_t word = batch_.tokens[position];
    const float scale = repeat_scale(scales_.input, word, scales_.inverse_warps);
    float* change = additions_.add(in_row(position));
    for (std::size_t e = 0; e < d_; ++e) change[e] = scale * delta[e];
    if (s_.store_rows) {  // the row as loaded, plus the scaled change
      axpy(change, 1.0f, &w.value[slot(position)], d_);
      axpy(change, -1.0f, delta, d_);
    }
  }

  // Phase 1: the row leaving the window of the next center goes back to the table, and with
  // refresh_rows the rows the previous center changed; after the chunk's last center, all of
  // them, and the chunk's loss is written.
  void retire_leaving(Warp& w) {
    if (w.chunk < 0 || !w.loaded) return;
    const FusedChunk& c = chunk(w);
    if (w.next == c.center_end) {
      for (std::int32_t p = w.loaded_lo; p <= w.loaded_hi; ++p) retire(w, p);
      batch_.chunk_loss[w.chunk] = static_cast<float>(w.loss);
      batch_.chunk_examples[w.chunk] = static_cast<float>(w.examples);
      w.chunk = -1;
      return;
    }
    const std::int32_t leaving = w.next - static_cast<std::int32_t>(s_.window) - 1;
    if (leaving >= w.loaded_lo) {
      retire(w, leaving);
      w.loaded_lo = leaving + 1;
    }
    if (s_.refresh_rows) {
      w.changed_lo = std::max(w.changed_lo, w.loaded_lo);
      for (std::int32_t p = w.changed_lo; p <= w.changed_hi; ++p)
        if (p != w.next - 1) retire(w, p);
    }
  }

  // Phase 2: the rows phase 1 refreshed are read again and the row entering the window is
  // read, then the center steps.
  void enter_and_step(Warp& w) {
    const FusedChunk& c = chunk(w);
    const auto window = static_cast<std::int32_t>(s_.window);
    if (!w.loaded) {
      w.loaded = true;
      w.loaded_lo = std::max(c.sentence_begin, c.center_begin - window);
      w.loaded_hi = std::min(c.sentence_end - 1, c.center_begin + window);
      for (std::int32_t p = w.loaded_lo; p <= w.loaded_hi; ++p) load(w, p);
    } else {
      if (s_.refresh_rows)
        for (std::int32_t p = w.changed_lo; p <= w.changed_hi; ++p)
          if (p != w.next - 1) load(w, p);
      if (w.next + window < c.sentence_end) {
        w.loaded_hi = w.next + window;
        load(w, w.loaded_hi);
      }
    }
    w.changed_hi = -1;
    step_center(w, w.next++);
  }

  void step_center(Warp& w, std::int32_t i) {
    const FusedChunk& c = chunk(w);
    const std::uint32_t b =
        fused_window(fused_draw(step_.seed, step_.launch, i, 0).v[0], s_.window);
    const std::int32_t lo = std::max(c.sentence_begin, i - static_cast<std::int32_t>(b));
    const std::int32_t hi = std::min(c.sentence_end - 1, i + static_cast<std::int32_t>(b));
    if (hi == lo) return;  // i alone: no context
    w.changed_lo = lo;
    w.changed_hi = hi;
    const std::size_t K = s_.negative + 1;
    const float alpha = step_.chunk_alpha(w.chunk, batch_.chunk_count);
    targets_[0] = batch_.tokens[i];
    for (std::uint32_t n = 0; n < s_.negative; ++n) {
      if (noise_.fixed) {
        targets_[n + 1] = noise_.fixed[static_cast<std::size_t>(i) * s_.negative + n];
      } else {
        const Philox4x32 r = fused_draw(step_.seed, step_.launch, i, 1 + n / 2);
        const std::uint32_t* bits = &r.v[2 * (n % 2)];
        targets_[n + 1] = static_cast<std::int32_t>(
            alias_draw(bits[0], bits[1], noise_.threshold, noise_.alias, noise_.size));
      }
    }
    for (std::size_t k = 0; k < K; ++k)
      std::copy_n(out_ + static_cast<std::size_t>(targets_[k]) * d_, d_, &target_rows_[k * d_]);
    std::fill(target_deltas_.begin(), target_deltas_.end(), 0.0f);
    auto active = [&](std::size_t k) {
      return k == 0 || noise_word_used(targets_[k], targets_[0]);
    };
    // Returns alpha times the log-likelihood's gradient w.r.t. the score; adds the loss.
    auto score = [&](std::size_t k, const float* v) {
      const double s = dot(v, &target_rows_[k * d_], d_);
      w.loss += k == 0 ? softplus(-s) : softplus(s);
      return static_cast<float>(alpha * ((k == 0 ? 1.0 : 0.0) - sigmoid(s)));
    };

    if (!s_.cbow) {
      for (std::int32_t j = lo; j <= hi; ++j) {
        if (j == i) continue;
        float* value = &w.value[slot(j)];
        std::fill(in_grad_.begin(), in_grad_.end(), 0.0f);
        for (std::size_t k = 0; k < K; ++k) {
          if (!active(k)) continue;
          const float g = score(k, value);
          axpy(in_grad_.data(), g, &target_rows_[k * d_], d_);
          axpy(&target_deltas_[k * d_], g, value, d_);
          axpy(&target_rows_[k * d_], g, value, d_);  // the next context sees the change
        }
        axpy(value, 1.0f, in_grad_.data(), d_);
        axpy(&w.delta[slot(j)], 1.0f, in_grad_.data(), d_);
      }
      w.examples += hi - lo;
    } else {
      std::fill(hidden_.begin(), hidden_.end(), 0.0f);
      for (std::int32_t j = lo; j <= hi; ++j)
        if (j != i) axpy(hidden_.data(), 1.0f / static_cast<float>(hi - lo), &w.value[slot(j)], d_);
      std::fill(in_grad_.begin(), in_grad_.end(), 0.0f);
      for (std::size_t k = 0; k < K; ++k) {
        if (!active(k)) continue;
        const float g = score(k, hidden_.data());
        axpy(in_grad_.data(), g, &target_rows_[k * d_], d_);
        axpy(&target_deltas_[k * d_], g, hidden_.data(), d_);
        axpy(&target_rows_[k * d_], g, hidden_.data(), d_);
      }
      for (std::int32_t j = lo; j <= hi; ++j) {
        if (j == i) continue;
        axpy(&w.value[slot(j)], 1.0f, in_grad_.data(), d_);
        axpy(&w.delta[slot(j)], 1.0f, in_grad_.data(), d_);
      }
      w.examples += 1;
    }
    for (std::size_t k = 0; k < K; ++k) {
      if (!active(k)) continue;
      float* change = additions_.add(out_ + static_cast<std::size_t>(targets_[k]) * d_);
      const float scale = repeat_scale(scales_.output, targets_[k], scales_.inverse_warps);
      // Store mode writes the row as read plus the scaled change; target_rows_ already holds
      // the row as read plus the unscaled change (as the kernel's o does).
      const float* row = &target_rows_[k * d_];
      const float* delta = &target_deltas_[k * d_];
      for (std::size_t e = 0; e < d_; ++e)
        change[e] = s_.store_rows ? row[e] + (scale - 1.0f) * delta[e] : scale * delta[e];
    }
  }

  FusedScales scales_;
  float* in_;
  float* out_;
  FusedShape s_;
  FusedStep step_;
  FusedNoise noise_;
  FusedBatch batch_;
  std::size_t d_;
  std::int32_t ring_;
  Additions additions_;
  std::vector<std::int32_t> targets_;
  std::vector<float> target_rows_, target_deltas_, in_grad_, hidden_;
};

}  // namespace

void fused_ns(float* input, float* output, std::size_t vocab, const FusedShape& shape,
              const FusedStep& step, const FusedNoise& noise, const FusedBatch& batch,
              const FusedScales& scales, std::size_t concurrency) {
  if (shape.dim == 0 || shape.window == 0 || concurrency == 0)
    throw Error("ref::fused_ns: dim, window and concurrency must be at least 1");
  if (!noise.fixed && (noise.size == 0 || noise.size > vocab))
    throw Error("ref::fused_ns: the noise table must have 1..vocab entries");
  for (std::int64_t t = 0; t < batch.token_count; ++t)
    if (batch.tokens[t] < 0 || static_cast<std::size_t>(batch.tokens[t]) >= vocab)
      throw Error("ref::fused_ns: token " + std::to_string(t) + " is outside the vocabulary");
  Emulation(input, output, shape, step, noise, batch, scales).run(concurrency);
}

}  // namespace w2v::ref
