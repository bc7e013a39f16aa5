// The modular path's CPU backend: the kernel library's CPU references, one call per op,
// synchronous. Slow (double accumulation, one thread); it exists so that CI runs the same
// step and pipeline code as the GPU trainer and GPU tests have a batch-exact reference.
#include <cstdlib>
#include <cstring>
#include <memory>

#include "w2v/fused.h"
#include "w2v/modular.h"
#include "w2v/reference.h"

namespace w2v {
namespace {

class HostOps {
 public:
  // ref::fused_ns's lock-step warps for the fused path.
  explicit HostOps(std::size_t fused_concurrency = 1) : fused_concurrency_(fused_concurrency) {}

  struct Slot {
    void* host = nullptr;
    void* device = nullptr;  // the same block: nothing to copy
    float* host_loss = nullptr;
    float* loss = nullptr;
  };

  template <class T>
  T* alloc(std::size_t n, bool /*zero*/ = false) {
    if (n == 0) return nullptr;
    const std::size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, bytes);
    if (!p) throw std::bad_alloc();
    std::memset(p, 0, bytes);  // always zeroed: optimizer state starts at 0
    blocks_.emplace_back(p);
    return static_cast<T*>(p);
  }
  void upload(void* dst, const void* src, std::size_t bytes) { std::memcpy(dst, src, bytes); }
  void download(void* dst, const void* src, std::size_t bytes) { std::memcpy(dst, src, bytes); }

  Slot make_slot(std::size_t, std::size_t bytes, std::size_t rows) {
    Slot s;
    s.host = s.device = alloc<char>(bytes);
    s.host_loss = s.loss = alloc<float>(rows);
    return s;
  }
  void begin_batch(Slot&) {}
  void end_batch(Slot&) {}
  bool batch_done(Slot&, bool) { return true; }
  struct NoScope {};
  static NoScope scope(const char*) { return {}; }

  void gather_rows(const float* table, std::int64_t V, int d, const std::int32_t* idx,
                   std::int64_t N, float* out) {
    ref::gather_rows(table, V, d, idx, N, out);
  }
  void context_mean(const float* ctx, const std::int32_t* count, std::int64_t B, int C, int d,
                    float* h) {
    ref::context_mean(ctx, count, B, C, d, h);
  }
  void context_mean_backward(const float* grad_h, const std::int32_t* count, std::int64_t B, int C,
                             int d, float* grad_ctx, Reduction r) {
    ref::context_mean_backward(grad_h, count, B, C, d, grad_ctx, r);
  }
  void batched_dot(const float* v, const float* u, std::int64_t B, int L, int d, float* s) {
    ref::batched_dot(v, u, B, L, d, s);
  }
  void batched_dot_backward(const float* v, const float* u, const float* g, std::int64_t B, int L,
                            int d, float* gv, float* gu) {
    ref::batched_dot_backward(v, u, g, B, L, d, gv, gu);
  }
  void sigmoid_bce_masked(const float* x, const float* y, const float* m, std::int64_t B, int L,
                          float* loss, float* grad, Reduction r) {
    ref::sigmoid_bce_masked(x, y, m, B, L, loss, grad, r);
  }
  void softmax_nll(const float* x, std::int64_t B, std::int64_t V, const std::int32_t* t, int T,
                   float* loss, float* grad, Reduction r) {
    ref::softmax_nll_rows(x, B, V, t, T, loss, grad, r);
  }
  void full_bce(const float* x, std::int64_t B, std::int64_t V, const std::int32_t* t, int T,
                float* loss, float* grad) {
    ref::full_bce(x, B, V, t, T, loss, grad);
  }

  // logits [B, V] = h [B, d] table [V, d]^T
  void gemm_logits(const float* h, const float* table, std::int64_t B, std::int64_t V, int d,
                   float* logits) {
    for (std::int64_t b = 0; b < B; ++b)
      for (std::int64_t v = 0; v < V; ++v) {
        double s = 0;
        for (int k = 0; k < d; ++k) s += double(h[b * d + k]) * table[v * d + k];
        logits[b * V + v] = static_cast<float>(s);
      }
  }
  // gh [B, d] = G [B, V] table [V, d]
  void gemm_hidden_grad(const float* G, const float* table, std::int64_t B, std::int64_t V, int d,
                        float* gh) {
    std::vector<double> acc(d);
    for (std::int64_t b = 0; b < B; ++b) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (std::int64_t v = 0; v < V; ++v)
        for (int k = 0; k < d; ++k) acc[k] += double(G[b * V + v]) * table[v * d + k];
      for (int k = 0; k < d; ++k) gh[b * d + k] = static_cast<float>(acc[k]);
    }
  }
  // out [V, d] = beta out + alpha G^T h  (beta 0: out is not read)
  void gemm_table_grad(const float* G, const float* h, std::int64_t B, std::int64_t V, int d,
                       float alpha, float beta, float* out) {
    std::vector<double> acc(d);
    for (std::int64_t v = 0; v < V; ++v) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (std::int64_t b = 0; b < B; ++b)
        for (int k = 0; k < d; ++k) acc[k] += double(G[b * V + v]) * h[b * d + k];
      for (int k = 0; k < d; ++k)
        out[v * d + k] = static_cast<float>((beta == 0 ? 0.0 : double(beta) * out[v * d + k]) +
                                            double(alpha) * acc[k]);
    }
  }

  void scatter_add_atomic(float* table, std::int64_t V, int d, const std::int32_t* idx,
                          std::int64_t N, const float* grad, float scale, const float* row_scale) {
    ref::scatter_add(table, V, d, idx, N, grad, scale, row_scale);
  }
  void scatter_add_sorted(float* table, std::int64_t V, int d, const std::int32_t* idx,
                          std::int64_t N, const float* grad, float scale, const float* row_scale) {
    ref::scatter_add(table, V, d, idx, N, grad, scale, row_scale);
  }
  void segment_sum_rows(const std::int32_t* idx, std::int64_t N, const float* grad, int d,
                        std::int32_t* unique, float* summed, std::int32_t* num_unique,
                        const float* row_scale) {
    *num_unique = static_cast<std::int32_t>(
        ref::segment_sum_rows(idx, N, grad, d, unique, summed, row_scale));
  }
  void sparse_sgd(float* table, int d, const std::int32_t* rows, const std::int32_t* num_rows,
                  std::int64_t max_rows, const float* grad, float lr) {
    ref::sparse_sgd(table, d, rows, num_rows ? *num_rows : max_rows, grad, lr);
  }
  void sparse_momentum(float* table, float* velocity, int d, const std::int32_t* rows,
                       const std::int32_t* num_rows, std::int64_t max_rows, const float* grad,
                       float lr, float momentum, bool nesterov) {
    ref::sparse_momentum(table, velocity, d, rows, num_rows ? *num_rows : max_rows, grad, lr,
                         momentum, nesterov);
  }
  void sparse_adam(float* table, float* m, float* v, int d, const std::int32_t* rows,
                   const std::int32_t* num_rows, std::int64_t max_rows, const float* grad, float lr,
                   float beta1, float beta2, float eps, std::int64_t step) {
    ref::sparse_adam(table, m, v, d, rows, num_rows ? *num_rows : max_rows, grad, lr, beta1, beta2,
                     eps, step);
  }

  void fused_ns(float* input, float* output, std::size_t vocab, const FusedShape& shape,
                const FusedStep& step, const FusedNoise& noise, const FusedBatch& batch,
                const FusedScales& scales) {
    ref::fused_ns(input, output, vocab, shape, step, noise, batch, scales, fused_concurrency_);
  }
  std::size_t fused_concurrency(const FusedShape&) const { return fused_concurrency_; }

 private:
  std::size_t fused_concurrency_;
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::vector<std::unique_ptr<void, Free>> blocks_;
};

}  // namespace

void train_modular_on_host(const TrainJob& job, Model& model, Progress& progress) {
  HostOps ops;
  train_with_path<ModularPath>(ops, job, model, progress, 4);
}

std::vector<double> run_modular_batches_on_host(const TrainJob& job, Model& model,
                                                std::size_t batches, std::size_t repeats) {
  HostOps ops;
  return run_modular_batches(ops, job, model, batches, repeats);
}

}  // namespace w2v

namespace w2v {

void train_fused_on_host(const TrainJob& job, Model& model, Progress& progress,
                         std::size_t concurrency) {
  HostOps ops(concurrency);
  train_with_path<FusedPath>(ops, job, model, progress, 4);
}

}  // namespace w2v
