#pragma once
// The multithreaded CPU trainer (word2vec.c's scheme): each thread walks its own slice of
// the encoded corpus and updates the shared matrices without locks. Races between threads
// on a row lose an occasional update, which SGD tolerates; this is the accepted Hogwild
// trade and the reason the CPU trainer scales.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "w2v/config.h"
#include "w2v/trainer.h"

namespace w2v {

class CpuTrainer final : public Trainer {
 public:
  const char* name() const override { return "cpu"; }
  void train(const TrainJob& job, Model& model, Progress& progress) override;
};

// Throws w2v::Error for flags only the GPU trainer honours (--optimizer other than sgd,
// --profile-steps).
void check_cpu_trainer_config(const TrainConfig& config);

// Tabulated sigmoid and softplus on [-kMaxLogit, kMaxLogit]; outside it the saturated values.
class LogisticTable {
 public:
  static constexpr float kMaxLogit = 8.0f;
  static constexpr int kSize = 4096;
  LogisticTable();
  float sigmoid(float x) const;
  float softplus(float x) const;  // log(1 + e^x)

 private:
  float sigmoid_[kSize + 1];
  float softplus_[kSize + 1];
};

// Rows [first, end) of an output table that a thread steps in its own copy (RowCopy).
struct CopiedRows {
  std::uint32_t first, end;
  float* rows;
  bool holds(std::uint32_t row) const { return row >= first && row < end; }
  float* row(std::uint32_t table_row, std::size_t dim) const {
    return rows + static_cast<std::size_t>(table_row - first) * dim;
  }
};

// One SGD step of negative sampling for input row `in` against targets[0] (positive) and
// targets[1..count-1] (noise), learning rate alpha; word2vec.c's update order. The input
// row's gradient is accumulated into `in_grad` [dim] (added to the input rows by the caller),
// the output rows are updated in place. Noise targets equal to targets[0] are skipped, as
// word2vec.c does. Returns the loss before the step. With `copied`, the rows it holds are read
// and written there instead of in `out`.
float ns_step(const LogisticTable& table, const float* in, float* out, std::size_t dim,
              const std::uint32_t* targets, std::size_t count, float alpha, float* in_grad,
              const CopiedRows* copied = nullptr);

// One SGD step of hierarchical softmax for input row `in`: the binary decisions codes[0..length)
// at the tree's inner nodes nodes[0..length) (output rows), word2vec.c's -hs update. As ns_step:
// the input row's gradient is accumulated into `in_grad`, the node rows are updated in place,
// the loss before the step is returned, and rows held in `copied` are stepped there.
float hs_step(const LogisticTable& table, const float* in, float* out, std::size_t dim,
              const std::uint32_t* nodes, const std::uint8_t* codes, std::size_t length,
              float alpha, float* in_grad, const CopiedRows* copied = nullptr);

// Output rows that every thread's steps write: rows whose cache lines, written in place by all
// threads, keep moving between cores. In hierarchical softmax every path starts at the tree's
// top nodes (on the 2-core VM two threads trained skip-gram only 1.4x as fast as one, and at
// times a third as fast as that); in skip-gram's negative sampling the most frequent words are
// the most drawn targets (two threads with private output tables, an upper bound, trained 20%
// faster). A thread steps its own copy of those rows instead, and every so many steps adds what
// it changed to the shared rows and takes back the sum, the other threads' changes with it.
// Merges that meet lose an occasional change, as Hogwild's steps do.
class RowCopy {
 public:
  // Rows [first, first + count) of `table` [.., dim].
  RowCopy(float* table, std::size_t first, std::size_t count, std::size_t dim);
  const CopiedRows& rows() const { return rows_; }
  // Adds the copy's changes since the last merge to the shared rows, then copies them back.
  void merge();

 private:
  float* shared_;
  std::vector<float> copy_, at_merge_;
  CopiedRows rows_;
};

// How many of the `inner` node rows, the highest-numbered (the root is inner - 1 and a node's
// parent is numbered above it), a thread copies on `threads` threads (none on one): fewer,
// down to 63, the more threads merge.
std::size_t top_node_copy_rows(std::size_t threads, std::size_t inner);

// How many of the most frequent words' output rows (ids 0, 1, ...) a thread copies in
// skip-gram's negative sampling on `threads` threads (none on one): fewer, down to 8, the more
// threads merge.
std::size_t frequent_row_copy_rows(std::size_t threads, std::size_t vocab);

// The output rows [first, first + count) each thread of a run copies (count 0: none), for a
// vocabulary of `vocab` words: --copied-rows, or under auto the two rules above (CBOW's
// negative sampling: none). One thread copies nothing, nor do tied tables, whose output rows
// are the input rows.
struct CopiedRange {
  std::size_t first = 0, count = 0;
};
CopiedRange copied_output_rows(const TrainConfig& config, std::size_t vocab);

// One SGD step of the full softmax for hidden vector h [dim] against output table out
// [vocab, dim]: averaged over targets. Scratch buffer `logits` [vocab]. Output rows are
// updated in place; the gradient of the loss w.r.t. h times -alpha is written to
// `h_update` [dim]. Returns the loss before the step.
float softmax_step(const float* h, float* out, std::size_t vocab, std::size_t dim,
                   const std::uint32_t* targets, std::size_t count, float alpha, float* logits,
                   float* h_update);
// The same for the one-vs-all sigmoid BCE over the vocabulary: targets are the positives (a
// repeat counts once), every other word a negative; the loss is the sum over the vocabulary.
float full_bce_step(const float* h, float* out, std::size_t vocab, std::size_t dim,
                    const std::uint32_t* targets, std::size_t count, float alpha, float* logits,
                    float* h_update);

}  // namespace w2v
