#pragma once
// The modular training path: batches packed by sampler threads go through the kernel
// library's ops one at a time (gather -> scores -> loss -> backward -> scatter/optimizer).
// The composition is written once, as templates over an `Ops` backend with the kernel
// library's op names: the GPU trainer instantiates it with CUDA launchers on a stream
// (host/gpu_trainer.cc), and train_modular_on_host() with the CPU references
// (host/modular_host.cc), so that CI runs the same step and pipeline code without a GPU and a
// GPU test can compare the two batch by batch.
//
// A batch is one block of memory (BatchLayout): the input-table ids, the output-table ids
// right after them (so that tied embeddings apply both in one call), the CBOW context counts,
// then labels and mask. Gradients follow word2vec.c's semantics (Reduction::kSum): alpha is a
// rate per (center, context) pair, CBOW context rows receive the hidden vector's whole
// gradient, and the gradients of a batch are summed into the tables at the batch's end.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "w2v/batch.h"
#include "w2v/config.h"
#include "w2v/error.h"
#include "w2v/model.h"
#include "w2v/pipeline.h"
#include "w2v/progress.h"
#include "w2v/reduction.h"
#include "w2v/sampling.h"
#include "w2v/trainer.h"

namespace w2v {

// The shape of one batch: `rows` centers; per row `inputs` ids of the input table (the center
// for skip-gram, 2 window context slots for CBOW) and `outputs` ids of the output table
// (skip-gram: its context words, then noise words under --loss ns; CBOW: the center, then its
// noise words).
struct BatchLayout {
  ModelKind model = ModelKind::kSkipGram;
  LossKind loss = LossKind::kNegativeSampling;
  std::size_t rows = 0;
  std::uint32_t inputs = 0, outputs = 0;

  static BatchLayout for_config(const TrainConfig& config);
  bool cbow() const { return model == ModelKind::kCbow; }
  bool ns() const { return loss == LossKind::kNegativeSampling; }
  std::size_t input_ids() const { return rows * inputs; }
  std::size_t output_ids() const { return rows * outputs; }
  // ids, counts, labels, mask, row scales: 4-byte elements, so every part stays aligned.
  std::size_t block_bytes() const {
    return 4 * (input_ids() + 3 * output_ids() + rows + input_ids() + output_ids());
  }
};

// Pointers into a batch block (host or device memory).
struct BatchView {
  std::int32_t* input_ids;
  std::int32_t* output_ids;  // == input_ids + layout.input_ids()
  std::int32_t* counts;      // CBOW context counts [rows]
  float* labels;
  float* mask;
  // The repeat cap's scale of each input id's gradient row, then each output id's.
  float* row_scale;
  static BatchView carve(void* block, const BatchLayout& layout);
};

// Fills BatchView::row_scale for --repeat-cap: an id that occurs k > cap times among the rows
// a batch updates in one table (both ids when tied) scales each of its gradient rows by cap/k,
// so that its summed step is at most cap single steps: without it, the few hundred hits of a
// frequent noise word in a batch add up to a step that overshoots and diverges. Slots without
// a gradient (padding, masked noise) do not count and get 0.
class RepeatCap {
 public:
  RepeatCap(std::size_t vocab, std::uint32_t cap, bool tied)
      : counts_(vocab, 0), cap_(cap), tied_(tied) {}
  void apply(const BatchLayout& layout, const BatchView& batch, std::size_t rows);

 private:
  std::vector<std::uint32_t> counts_;
  std::uint32_t cap_;
  bool tied_;
};

// What a batch's summed row losses are divided by for the reported loss: (center, context)
// pairs for skip-gram (centers under --loss bce, whose loss is per center), centers for CBOW;
// the CPU trainer reports the same quantities.
inline std::uint64_t loss_count(const BatchLayout& layout, const PackResult& packed) {
  return layout.loss == LossKind::kFullBce && !layout.cbow() ? packed.rows : packed.examples;
}

// Packs the next batch into a host block, row scales included; PackResult as BatchPacker
// gives it.
PackResult pack_batch(BatchPacker& packer, RepeatCap& cap, const BatchLayout& layout, void* block);

// The buffers the modular step needs, in elements, for the memory prediction and for
// allocation (one source for both).
struct StepBuffers {
  std::size_t table = 0;            // V * d per table
  std::size_t tables = 0;           // 1 when tied, else 2
  std::size_t state_per_table = 0;  // optimizer state: 0 (SGD), 1 (momentum), 2 (Adam) tables
  std::size_t input_rows = 0;       // gathered input rows [rows * inputs, d]
  std::size_t hidden = 0;       // CBOW mean [rows, d] (0 for skip-gram: the gathered rows are h)
  std::size_t output_rows = 0;  // NS: gathered output rows [rows * outputs, d]
  std::size_t scores = 0;       // NS: scores and their gradient [rows * outputs]
  std::size_t grads = 0;        // input-row then output-row gradients
  std::size_t hidden_grad = 0;  // CBOW: gradient of h [rows, d]
  std::size_t logits = 0;       // softmax/BCE: [rows, V]
  std::size_t dense_grad = 0;   // softmax/BCE when the output step is not a plain GEMM: [V, d]
  std::size_t all_rows = 0;     // ids 0..V-1 for dense optimizer steps
  std::size_t unique_rows = 0;  // segment sums for the optimizers: ids and [n, d] sums

  static StepBuffers plan(const BatchLayout& layout, const TrainConfig& config, std::size_t vocab);
  // Named byte counts, for the memory report.
  std::vector<std::pair<std::string, std::size_t>> parts(std::size_t dim) const;
};

// The memory a GPU run needs, by part, against what the device has free: throws w2v::Error
// with both figures and what to change when it does not fit.
void check_memory_fits(const std::vector<std::pair<std::string, std::size_t>>& parts,
                       std::size_t free_bytes, const std::string& device);
std::string format_bytes(std::size_t bytes);

// One batch step over a backend. Ops provides the kernel library's ops (same names and
// arguments, without the stream), GEMMs for the vocabulary losses, and memory:
//   T* alloc<T>(n), upload(dst, src, bytes), download(dst, src, bytes).
template <class Ops>
class ModularStep {
 public:
  ModularStep(Ops& ops, const BatchLayout& layout, const TrainConfig& config, std::size_t vocab)
      : ops_(ops),
        layout_(layout),
        config_(config),
        sizes_(StepBuffers::plan(layout, config, vocab)),
        vocab_(static_cast<std::int64_t>(vocab)),
        dim_(static_cast<int>(config.dim)),
        sorted_(config.scatter_kind() == ScatterKind::kSorted) {
    in_ = make_table();
    out_ = config.tied ? in_ : make_table();
    input_rows_ = ops_.template alloc<float>(sizes_.input_rows);
    hidden_ = layout.cbow() ? ops_.template alloc<float>(sizes_.hidden) : input_rows_;
    output_rows_ = ops_.template alloc<float>(sizes_.output_rows);
    scores_ = ops_.template alloc<float>(sizes_.scores);
    score_grad_ = ops_.template alloc<float>(sizes_.scores);
    grads_ = ops_.template alloc<float>(sizes_.grads);
    hidden_grad_ = layout.cbow() ? ops_.template alloc<float>(sizes_.hidden_grad) : grads_;
    logits_ = ops_.template alloc<float>(sizes_.logits);
    dense_grad_ = ops_.template alloc<float>(sizes_.dense_grad);
    all_rows_ = ops_.template alloc<std::int32_t>(sizes_.all_rows);
    if (sizes_.all_rows) {
      std::vector<std::int32_t> ids(sizes_.all_rows);
      for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int32_t>(i);
      ops_.upload(all_rows_, ids.data(), ids.size() * sizeof(std::int32_t));
    }
    unique_ = ops_.template alloc<std::int32_t>(sizes_.unique_rows);
    summed_ = ops_.template alloc<float>(sizes_.unique_rows * dim_);
    unique_count_ = ops_.template alloc<std::int32_t>(1);
  }

  void load(const Model& model) {
    const std::size_t bytes = sizes_.table * sizeof(float);
    ops_.upload(in_.param, model.input.data(), bytes);
    if (!config_.tied) ops_.upload(out_.param, model.output.data(), bytes);
  }
  void store(Model& model) {
    const std::size_t bytes = sizes_.table * sizeof(float);
    ops_.download(model.input.data(), in_.param, bytes);
    if (!config_.tied) ops_.download(model.output.data(), out_.param, bytes);
  }

  // Enqueues one batch (in backend memory) with learning rate lr; row_loss [rows] (backend
  // memory) receives each row's loss.
  void step(const BatchView& batch, float lr, float* row_loss) {
    ++steps_;
    const std::int64_t B = static_cast<std::int64_t>(layout_.rows);
    const int I = static_cast<int>(layout_.inputs), O = static_cast<int>(layout_.outputs);
    const std::int64_t n_in = B * I, n_out = B * O;
    const float* in_scale = config_.repeat_cap ? batch.row_scale : nullptr;
    const float* out_scale = config_.repeat_cap ? batch.row_scale + n_in : nullptr;
    ops_.gather_rows(in_.param, vocab_, dim_, batch.input_ids, n_in, input_rows_);
    if (layout_.cbow()) ops_.context_mean(input_rows_, batch.counts, B, I, dim_, hidden_);
    float* input_grad = grads_;
    if (layout_.ns()) {
      float* output_grad = grads_ + n_in * dim_;
      ops_.gather_rows(out_.param, vocab_, dim_, batch.output_ids, n_out, output_rows_);
      ops_.batched_dot(hidden_, output_rows_, B, O, dim_, scores_);
      ops_.sigmoid_bce_masked(scores_, batch.labels, batch.mask, B, O, row_loss, score_grad_,
                              Reduction::kSum);
      ops_.batched_dot_backward(hidden_, output_rows_, score_grad_, B, O, dim_, hidden_grad_,
                                output_grad);
      if (layout_.cbow())
        ops_.context_mean_backward(hidden_grad_, batch.counts, B, I, dim_, input_grad,
                                   Reduction::kSum);
      if (config_.tied) {
        // output_ids follow input_ids and output_grad follows input_grad: one update.
        apply(in_, batch.input_ids, n_in + n_out, input_grad, lr, in_scale);
      } else {
        apply(in_, batch.input_ids, n_in, input_grad, lr, in_scale);
        apply(out_, batch.output_ids, n_out, output_grad, lr, out_scale);
      }
      return;
    }
    // Softmax / full BCE: logits = h out^T, one GEMM; gradients through two more.
    ops_.gemm_logits(hidden_, out_.param, B, vocab_, dim_, logits_);
    if (layout_.loss == LossKind::kSoftmax)
      ops_.softmax_nll(logits_, B, vocab_, batch.output_ids, O, row_loss, logits_, Reduction::kSum);
    else
      ops_.full_bce(logits_, B, vocab_, batch.output_ids, O, row_loss, logits_);
    ops_.gemm_hidden_grad(logits_, out_.param, B, vocab_, dim_, hidden_grad_);
    if (layout_.cbow())
      ops_.context_mean_backward(hidden_grad_, batch.counts, B, I, dim_, input_grad,
                                 Reduction::kSum);
    if (!dense_grad_) {
      // SGD, separate tables: out -= lr G^T h straight into the table.
      ops_.gemm_table_grad(logits_, hidden_, B, vocab_, dim_, -lr, 1.0f, out_.param);
      apply(in_, batch.input_ids, n_in, input_grad, lr, in_scale);
      return;
    }
    ops_.gemm_table_grad(logits_, hidden_, B, vocab_, dim_, 1.0f, 0.0f, dense_grad_);
    if (config_.tied) {
      scatter(dense_grad_, batch.input_ids, n_in, input_grad, 1.0f, in_scale);
      optimizer_step(in_, all_rows_, nullptr, vocab_, dense_grad_, lr);
    } else {
      optimizer_step(out_, all_rows_, nullptr, vocab_, dense_grad_, lr);
      apply(in_, batch.input_ids, n_in, input_grad, lr, in_scale);
    }
  }

 private:
  struct Table {
    float* param = nullptr;
    float* state1 = nullptr;  // momentum velocity, or Adam's first moment
    float* state2 = nullptr;  // Adam's second moment
  };

  Table make_table() {
    Table t;
    t.param = ops_.template alloc<float>(sizes_.table);
    if (sizes_.state_per_table >= 1) t.state1 = ops_.template alloc<float>(sizes_.table, true);
    if (sizes_.state_per_table >= 2) t.state2 = ops_.template alloc<float>(sizes_.table, true);
    return t;
  }

  void scatter(float* table, const std::int32_t* ids, std::int64_t n, const float* grad,
               float scale, const float* row_scale) {
    if (sorted_)
      ops_.scatter_add_sorted(table, vocab_, dim_, ids, n, grad, scale, row_scale);
    else
      ops_.scatter_add_atomic(table, vocab_, dim_, ids, n, grad, scale, row_scale);
  }

  // Row gradients with repeated ids into a table: SGD adds them; the other optimizers first
  // sum the rows of each id, so that each touched row takes one step.
  void apply(Table& t, const std::int32_t* ids, std::int64_t n, const float* grad, float lr,
             const float* row_scale) {
    [[maybe_unused]] auto traced = ops_.scope("update");
    if (config_.optimizer == OptimizerKind::kSgd) {
      scatter(t.param, ids, n, grad, -lr, row_scale);
      return;
    }
    ops_.segment_sum_rows(ids, n, grad, dim_, unique_, summed_, unique_count_, row_scale);
    optimizer_step(t, unique_, unique_count_, n, summed_, lr);
  }

  void optimizer_step(Table& t, const std::int32_t* rows, const std::int32_t* count,
                      std::int64_t max_rows, const float* grad, float lr) {
    switch (config_.optimizer) {
      case OptimizerKind::kSgd:
        ops_.sparse_sgd(t.param, dim_, rows, count, max_rows, grad, lr);
        break;
      case OptimizerKind::kMomentum:
      case OptimizerKind::kNesterov:
        ops_.sparse_momentum(t.param, t.state1, dim_, rows, count, max_rows, grad, lr,
                             static_cast<float>(config_.momentum),
                             config_.optimizer == OptimizerKind::kNesterov);
        break;
      case OptimizerKind::kAdam:
        ops_.sparse_adam(t.param, t.state1, t.state2, dim_, rows, count, max_rows, grad, lr,
                         kAdamBeta1, kAdamBeta2, kAdamEps, steps_);
        break;
    }
  }

  static constexpr float kAdamBeta1 = 0.9f, kAdamBeta2 = 0.999f, kAdamEps = 1e-8f;

  Ops& ops_;
  BatchLayout layout_;
  const TrainConfig& config_;
  StepBuffers sizes_;
  std::int64_t vocab_;
  int dim_;
  bool sorted_;
  std::int64_t steps_ = 0;
  Table in_, out_;
  float *input_rows_, *hidden_, *output_rows_, *scores_, *score_grad_, *grads_, *hidden_grad_,
      *logits_, *dense_grad_, *summed_;
  std::int32_t *all_rows_, *unique_, *unique_count_;
};

// The modular path for run_batch_pipeline (include/w2v/pipeline.h): a batch is a BatchLayout
// block packed by a BatchPacker with its repeat cap, stepped by ModularStep.
template <class Ops>
class ModularPath {
 public:
  struct Packer {
    BatchPacker batches;
    RepeatCap cap;
  };
  using Packed = PackResult;

  ModularPath(Ops& ops, const TrainJob& job)
      : job_(job),
        layout_(BatchLayout::for_config(job.config)),
        step_(ops, layout_, job.config, job.vocab.size()) {}

  void load(const Model& model) { step_.load(model); }
  void store(Model& model) { step_.store(model); }
  std::size_t block_bytes() const { return layout_.block_bytes(); }
  std::size_t loss_floats() const { return layout_.rows; }
  Packer make_packer(CorpusRange range, std::uint64_t seed) const {
    const TrainConfig& c = job_.config;
    return Packer{BatchPacker(c, job_.corpus, job_.tables, range, seed),
                  RepeatCap(job_.vocab.size(), c.repeat_cap, c.tied)};
  }
  PackResult pack(Packer& packer, void* block) const {
    return pack_batch(packer.batches, packer.cap, layout_, block);
  }
  void step(void* block, const PackResult&, float lr, float* loss) {
    step_.step(BatchView::carve(block, layout_), lr, loss);
  }
  // The summed loss of a finished batch and what it is averaged over.
  std::pair<double, std::uint64_t> loss(const PackResult& packed, const float* row_loss) const {
    double sum = 0;
    for (std::size_t r = 0; r < packed.rows; ++r) sum += row_loss[r];
    return {sum, loss_count(layout_, packed)};
  }

 private:
  const TrainJob& job_;
  BatchLayout layout_;
  ModularStep<Ops> step_;
};

// For tests: the first `batches` batches of one sampler (the whole corpus, worker seed 0), each
// stepped `repeats` times at the start learning rate with no pipeline; returns the mean loss
// before each step and leaves the trained tables in `model`. The host and GPU backends see
// identical batches.
template <class Ops>
std::vector<double> run_modular_batches(Ops& ops, const TrainJob& job, Model& model,
                                        std::size_t batches, std::size_t repeats = 1) {
  const TrainConfig& config = job.config;
  const BatchLayout layout = BatchLayout::for_config(config);
  ModularStep<Ops> step(ops, layout, config, job.vocab.size());
  step.load(model);
  typename Ops::Slot slot = ops.make_slot(0, layout.block_bytes(), layout.rows);
  BatchPacker packer(config, job.corpus, job.tables, {0, job.corpus.entry_count()},
                     worker_seed(config.seed, 0));
  RepeatCap cap(job.vocab.size(), config.repeat_cap, config.tied);
  std::vector<double> losses;
  for (std::size_t b = 0; b < batches; ++b) {
    const PackResult packed = pack_batch(packer, cap, layout, slot.host);
    if (packed.rows == 0) break;
    ops.begin_batch(slot);
    for (std::size_t r = 0; r < repeats; ++r) {
      step.step(BatchView::carve(slot.device, layout), static_cast<float>(config.start_alpha()),
                slot.loss);
      ops.end_batch(slot);
      ops.batch_done(slot, true);
      double sum = 0;
      for (std::size_t row = 0; row < packed.rows; ++row) sum += slot.host_loss[row];
      losses.push_back(sum / static_cast<double>(loss_count(layout, packed)));
    }
    if (packed.finished) break;
  }
  step.store(model);
  return losses;
}

// The modular path with the CPU references as the backend, synchronous: for tests, and for
// comparing the GPU trainer's batches with it.
void train_modular_on_host(const TrainJob& job, Model& model, Progress& progress);
std::vector<double> run_modular_batches_on_host(const TrainJob& job, Model& model,
                                                std::size_t batches, std::size_t repeats = 1);
#ifdef W2V_HAVE_CUDA
// The same batches through the CUDA kernels (host/gpu_trainer.cc). Needs a CUDA device.
std::vector<double> run_modular_batches_on_gpu(const TrainJob& job, Model& model,
                                               std::size_t batches);
#endif

}  // namespace w2v
