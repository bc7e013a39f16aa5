#pragma once
// The modular training path: batches packed by sampler threads (host/gpu/modular_batch.h) go
// through the kernel library's ops one at a time (gather -> scores -> loss -> backward ->
// scatter/optimizer). The composition is written once, as templates over a backend that
// provides the ops (ModularOps): the GPU trainer instantiates it with the CUDA launchers
// (host/gpu/cuda_ops.h), the CPU twin with their references (host/gpu/host_ops.h), so that CI
// runs the same step and pipeline code without a GPU and a GPU test can compare the two batch
// by batch.
//
// Gradients follow word2vec.c's semantics (Reduction::kSum): alpha is a rate per (center,
// context) pair, CBOW context rows receive the hidden vector's whole gradient, and the
// gradients of a batch are summed into the tables at the batch's end.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "gpu/memory_plan.h"
#include "gpu/modular_batch.h"
#include "gpu/pipeline.h"
#include "w2v/config.h"
#include "w2v/error.h"
#include "w2v/kernels/reduction.h"
#include "w2v/model.h"
#include "w2v/trainer.h"

namespace w2v {

// The kernel library's ops the modular step calls, each with its reference's arguments
// (include/w2v/reference.h): a backend forwards them to ref::NAME, or to gpu::NAME with its
// Launch appended, by expanding this list.
// clang-format off
#define W2V_MODULAR_STEP_OPS(X)                                                              \
  X(gather_rows) X(context_mean) X(context_mean_backward) X(batched_dot)                     \
  X(batched_dot_backward) X(sigmoid_bce_masked) X(softmax_nll) X(full_bce) X(gemm_logits)    \
  X(gemm_hidden_grad) X(gemm_table_grad) X(scatter_add_atomic) X(scatter_add_sorted)         \
  X(segment_sum_rows) X(sparse_sgd) X(sparse_momentum) X(sparse_adam)
// clang-format on

// A backend the modular step runs on: the pipeline's memory and slots, and every op above with
// its reference's argument types.
template <class Ops>
concept ModularOps = PipelineOps<Ops> &&
    requires(Ops& ops, float* out, const float* in, std::int32_t* ids_out, const std::int32_t* ids,
             std::int64_t rows, int width, float scalar, bool flag, Reduction reduction) {
  ops.gather_rows(in, rows, width, ids, rows, out);
  ops.context_mean(in, ids, rows, width, width, out);
  ops.context_mean_backward(in, ids, rows, width, width, out, reduction);
  ops.batched_dot(in, in, rows, width, width, out);
  ops.batched_dot_backward(in, in, in, rows, width, width, out, out);
  ops.sigmoid_bce_masked(in, in, in, rows, width, out, out, reduction);
  ops.softmax_nll(in, rows, rows, ids, width, out, out, reduction);
  ops.full_bce(in, rows, rows, ids, width, out, out);
  ops.gemm_logits(in, in, rows, rows, width, out);
  ops.gemm_hidden_grad(in, in, rows, rows, width, out);
  ops.gemm_table_grad(in, in, rows, rows, width, scalar, scalar, out);
  ops.scatter_add_atomic(out, rows, width, ids, rows, in, scalar, in);
  ops.scatter_add_sorted(out, rows, width, ids, rows, in, scalar, in);
  ops.segment_sum_rows(ids, rows, in, width, ids_out, out, ids_out, in);
  ops.sparse_sgd(out, width, ids, ids, rows, in, scalar);
  ops.sparse_momentum(out, out, width, ids, ids, rows, in, scalar, scalar, flag);
  ops.sparse_adam(out, out, out, width, ids, ids, rows, in, scalar, scalar, scalar, scalar, rows);
};

// One batch step over a backend.
template <ModularOps Ops>
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
    unique_count_ = ops_.template alloc<std::int32_t>(sizes_.unique_rows > 0 ? 1 : 0);
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

  // The optimizer's state beside the tables, for a checkpoint: its step count, then its
  // moment tables (momentum's velocity; Adam's two moments), each [vocab, dim].
  std::vector<unsigned char> save_state() const {
    const std::vector<float*> moments = moment_tables();
    const std::size_t table_bytes = sizes_.table * sizeof(float);
    std::vector<unsigned char> bytes(sizeof steps_ + moments.size() * table_bytes);
    std::memcpy(bytes.data(), &steps_, sizeof steps_);
    for (std::size_t i = 0; i < moments.size(); ++i)
      ops_.download(bytes.data() + sizeof steps_ + i * table_bytes, moments[i], table_bytes);
    return bytes;
  }
  void restore_state(const std::vector<unsigned char>& bytes) {
    const std::vector<float*> moments = moment_tables();
    const std::size_t table_bytes = sizes_.table * sizeof(float);
    if (bytes.size() != sizeof steps_ + moments.size() * table_bytes)
      throw Error("--resume: the checkpoint's optimizer state is " + std::to_string(bytes.size()) +
                  " bytes, --optimizer " + to_string(config_.optimizer) + " keeps " +
                  std::to_string(sizeof steps_ + moments.size() * table_bytes) + " (corrupt)");
    std::memcpy(&steps_, bytes.data(), sizeof steps_);
    for (std::size_t i = 0; i < moments.size(); ++i)
      ops_.upload(moments[i], bytes.data() + sizeof steps_ + i * table_bytes, table_bytes);
  }

  // Enqueues one batch (in backend memory) with learning rate lr; row_loss [rows] (backend
  // memory) receives each row's loss.
  void step(const BatchView& batch, float lr, float* row_loss) {
    ++steps_;
    const std::int64_t B = static_cast<std::int64_t>(layout_.rows);
    const int I = static_cast<int>(layout_.inputs), O = static_cast<int>(layout_.outputs);
    const std::int64_t n_in = B * I, n_out = B * O;
    // Row scales always: with the cap or not, they are 0 where a slot has no gradient, and the
    // scatters skip those slots (RepeatCap).
    const float* in_scale = batch.row_scale;
    const float* out_scale = batch.row_scale + n_in;
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

  std::vector<float*> moment_tables() const {
    std::vector<float*> moments;
    for (const Table* t : {&in_, &out_}) {
      if (t == &out_ && config_.tied) break;
      for (float* m : {t->state1, t->state2})
        if (m) moments.push_back(m);
    }
    return moments;
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

// The modular path for run_batch_pipeline: a batch is a BatchLayout block packed by a
// BatchPacker with its repeat cap, stepped by ModularStep.
template <ModularOps Ops>
class ModularPath {
 public:
  struct Packer {
    BatchPacker batches;
    RepeatCap cap;
    WalkerState state() const { return batches.state(); }
    void restore(const WalkerState& walker) { batches.restore(walker); }
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
                  RepeatCap(job_.vocab.size(), c.repeat_cap_on(/*fused=*/false), c.tied)};
  }
  PackResult pack(Packer& packer, void* block) const {
    return pack_batch(packer.batches, packer.cap, layout_, block);
  }
  std::vector<unsigned char> save_state() const { return step_.save_state(); }
  void restore_state(const std::vector<unsigned char>& bytes) { step_.restore_state(bytes); }
  void step(void* block, const PackResult&, BatchRate rate, float* loss) {
    step_.step(BatchView::carve(block, layout_), rate.begin, loss);
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

}  // namespace w2v
