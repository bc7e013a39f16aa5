// The GPU trainer: run_batch_pipeline (include/w2v/pipeline.h) over the CUDA kernels, with the
// fused path (include/w2v/fused.h) for negative sampling where it takes the config and the
// modular path (include/w2v/modular.h) otherwise. Two streams: batch blocks go host -> device on
// the copy stream (pinned source, cudaMemcpyAsync), everything else runs on the compute stream,
// which waits for the copy's event; a second event per slot marks the end of the slot's step (and
// its loss copy back), after which the sampler threads may refill the slot's pinned block.
#ifdef W2V_HAVE_CUDA

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "w2v/cuda_check.h"
#include "w2v/fused.h"
#include "w2v/kernels.h"
#include "w2v/modular.h"

namespace w2v {
namespace {

constexpr std::size_t kSlots = 4;  // 3 batches in flight while a sampler fills the fourth
// cuBLAS's own workspace, the CUDA context's growth and allocation rounding.
constexpr std::size_t kHeadroomBytes = std::size_t(256) << 20;

void check_cublas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw Error(std::string("cuBLAS error in ") + what + ": " + cublasGetStatusString(status));
}

// The row counts the scatters and segment sums see, for their workspace.
std::size_t sort_workspace_bytes(const BatchLayout& l, const TrainConfig& c) {
  const std::int64_t n_in = l.input_ids(), n_out = l.output_ids();
  std::size_t bytes = 0;
  for (std::int64_t n : {n_in, n_out, n_in + n_out})
    bytes = std::max({bytes, gpu::segment_sum_workspace_bytes(n, c.dim),
                      gpu::scatter_add_sorted_workspace_bytes(n, c.dim)});
  return bytes;
}

class GpuOps {
 public:
  struct Slot {
    void* host = nullptr;  // pinned
    void* device = nullptr;
    float* host_loss = nullptr;  // pinned
    float* loss = nullptr;
    std::size_t bytes = 0, rows = 0;
    cudaEvent_t copied = nullptr, done = nullptr;
  };

  // The modular path's sort and softmax workspace.
  static std::size_t workspace_bytes(const BatchLayout& l, const TrainConfig& c,
                                     std::size_t vocab) {
    std::size_t bytes = sort_workspace_bytes(l, c);
    if (l.loss == LossKind::kSoftmax)
      bytes = std::max(bytes, gpu::softmax_nll_workspace_bytes(l.rows, vocab));
    return bytes;
  }

  explicit GpuOps(std::size_t workspace_bytes) {
    W2V_CUDA_CHECK(cudaStreamCreateWithFlags(&copy_, cudaStreamNonBlocking));
    W2V_CUDA_CHECK(cudaStreamCreateWithFlags(&compute_, cudaStreamNonBlocking));
    check_cublas(cublasCreate(&cublas_), "cublasCreate");
    check_cublas(cublasSetStream(cublas_, compute_), "cublasSetStream");
    workspace_bytes_ = workspace_bytes;
    workspace_ = alloc<char>(workspace_bytes_);
  }

  ~GpuOps() {
    // Errors are not thrown from here: the run has already failed or finished.
    cudaStreamSynchronize(compute_);
    cudaStreamSynchronize(copy_);
    for (Slot& s : slots_) {
      cudaEventDestroy(s.copied);
      cudaEventDestroy(s.done);
      cudaFreeHost(s.host);
      cudaFreeHost(s.host_loss);
    }
    for (void* p : device_) cudaFree(p);
    cublasDestroy(cublas_);
    cudaStreamDestroy(copy_);
    cudaStreamDestroy(compute_);
  }
  GpuOps(const GpuOps&) = delete;
  GpuOps& operator=(const GpuOps&) = delete;

  // Setup only (allocation, zeroing, uploads): each waits for the device, because cudaMemset
  // and a pageable cudaMemcpy may still be in flight when they return, and the non-blocking
  // streams do not order themselves after the legacy stream they run on.
  template <class T>
  T* alloc(std::size_t n, bool zero = false) {
    if (n == 0) return nullptr;
    void* p = nullptr;
    W2V_CUDA_CHECK(cudaMalloc(&p, n * sizeof(T)));
    device_.push_back(p);
    if (zero) {
      W2V_CUDA_CHECK(cudaMemset(p, 0, n * sizeof(T)));
      W2V_CUDA_CHECK(cudaDeviceSynchronize());
    }
    return static_cast<T*>(p);
  }
  void upload(void* dst, const void* src, std::size_t bytes) {
    W2V_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
    W2V_CUDA_CHECK(cudaDeviceSynchronize());
  }
  void download(void* dst, const void* src, std::size_t bytes) {
    W2V_CUDA_CHECK(cudaStreamSynchronize(compute_));
    W2V_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
  }

  Slot make_slot(std::size_t, std::size_t bytes, std::size_t rows) {
    Slot s;
    s.bytes = bytes;
    s.rows = rows;
    // Registered in slots_ first, so that the destructor frees whatever was made.
    slots_.push_back(s);
    Slot& made = slots_.back();
    W2V_CUDA_CHECK(cudaHostAlloc(&made.host, bytes, cudaHostAllocDefault));
    W2V_CUDA_CHECK(cudaHostAlloc(reinterpret_cast<void**>(&made.host_loss), rows * sizeof(float),
                                 cudaHostAllocDefault));
    made.device = alloc<char>(bytes);
    made.loss = alloc<float>(rows);
    W2V_CUDA_CHECK(cudaEventCreateWithFlags(&made.copied, cudaEventDisableTiming));
    W2V_CUDA_CHECK(cudaEventCreateWithFlags(&made.done, cudaEventDisableTiming));
    return made;
  }
  void begin_batch(Slot& s) {
    NvtxRange range("copy batch");
    W2V_CUDA_CHECK(cudaMemcpyAsync(s.device, s.host, s.bytes, cudaMemcpyHostToDevice, copy_));
    W2V_CUDA_CHECK(cudaEventRecord(s.copied, copy_));
    W2V_CUDA_CHECK(cudaStreamWaitEvent(compute_, s.copied, 0));
  }
  void end_batch(Slot& s) {
    W2V_CUDA_CHECK(cudaMemcpyAsync(s.host_loss, s.loss, s.rows * sizeof(float),
                                   cudaMemcpyDeviceToHost, compute_));
    W2V_CUDA_CHECK(cudaEventRecord(s.done, compute_));
  }
  bool batch_done(Slot& s, bool wait) {
    if (wait) {
      NvtxRange range("wait for batch");
      W2V_CUDA_CHECK(cudaEventSynchronize(s.done));
      return true;
    }
    const cudaError_t status = cudaEventQuery(s.done);
    if (status == cudaErrorNotReady) return false;
    W2V_CUDA_CHECK(status);
    return true;
  }
  static NvtxRange scope(const char* name) { return NvtxRange(name); }

  void gather_rows(const float* table, std::int64_t V, int d, const std::int32_t* idx,
                   std::int64_t N, float* out) {
    gpu::gather_rows(table, V, d, idx, N, out, compute_);
  }
  void context_mean(const float* ctx, const std::int32_t* count, std::int64_t B, int C, int d,
                    float* h) {
    gpu::context_mean(ctx, count, B, C, d, h, compute_);
  }
  void context_mean_backward(const float* grad_h, const std::int32_t* count, std::int64_t B, int C,
                             int d, float* grad_ctx, Reduction r) {
    gpu::context_mean_backward(grad_h, count, B, C, d, grad_ctx, compute_, r);
  }
  void batched_dot(const float* v, const float* u, std::int64_t B, int L, int d, float* s) {
    gpu::batched_dot(v, u, B, L, d, s, compute_);
  }
  void batched_dot_backward(const float* v, const float* u, const float* g, std::int64_t B, int L,
                            int d, float* gv, float* gu) {
    gpu::batched_dot_backward(v, u, g, B, L, d, gv, gu, compute_);
  }
  void sigmoid_bce_masked(const float* x, const float* y, const float* m, std::int64_t B, int L,
                          float* loss, float* grad, Reduction r) {
    gpu::sigmoid_bce_masked(x, y, m, B, L, loss, grad, compute_, r);
  }
  void softmax_nll(const float* x, std::int64_t B, std::int64_t V, const std::int32_t* t, int T,
                   float* loss, float* grad, Reduction r) {
    gpu::softmax_nll(x, B, V, t, T, loss, grad, workspace_, workspace_bytes_, compute_, r);
  }
  void full_bce(const float* x, std::int64_t B, std::int64_t V, const std::int32_t* t, int T,
                float* loss, float* grad) {
    gpu::full_bce(x, B, V, t, T, loss, grad, compute_);
  }

  // Row-major [r, c] is column-major [c, r]: each product below is written for cuBLAS's
  // column-major view of our row-major matrices.
  // logits [B, V] = h [B, d] table [V, d]^T
  void gemm_logits(const float* h, const float* table, std::int64_t B, std::int64_t V, int d,
                   float* logits) {
    NvtxRange range("gemm logits");
    const float one = 1.0f, zero = 0.0f;
    check_cublas(cublasSgemm(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, int(V), int(B), d, &one, table, d,
                             h, d, &zero, logits, int(V)),
                 "gemm logits");
  }
  // gh [B, d] = G [B, V] table [V, d]
  void gemm_hidden_grad(const float* G, const float* table, std::int64_t B, std::int64_t V, int d,
                        float* gh) {
    NvtxRange range("gemm hidden grad");
    const float one = 1.0f, zero = 0.0f;
    check_cublas(cublasSgemm(cublas_, CUBLAS_OP_N, CUBLAS_OP_N, d, int(B), int(V), &one, table, d,
                             G, int(V), &zero, gh, d),
                 "gemm hidden grad");
  }
  // out [V, d] = beta out + alpha G [B, V]^T h [B, d]
  void gemm_table_grad(const float* G, const float* h, std::int64_t B, std::int64_t V, int d,
                       float alpha, float beta, float* out) {
    NvtxRange range("gemm table grad");
    check_cublas(cublasSgemm(cublas_, CUBLAS_OP_N, CUBLAS_OP_T, d, int(V), int(B), &alpha, h, d, G,
                             int(V), &beta, out, d),
                 "gemm table grad");
  }

  void scatter_add_atomic(float* table, std::int64_t V, int d, const std::int32_t* idx,
                          std::int64_t N, const float* grad, float scale, const float* row_scale) {
    gpu::scatter_add_atomic(table, V, d, idx, N, grad, scale, compute_, row_scale);
  }
  void scatter_add_sorted(float* table, std::int64_t V, int d, const std::int32_t* idx,
                          std::int64_t N, const float* grad, float scale, const float* row_scale) {
    gpu::scatter_add_sorted(table, V, d, idx, N, grad, scale, workspace_, workspace_bytes_,
                            compute_, row_scale);
  }
  void segment_sum_rows(const std::int32_t* idx, std::int64_t N, const float* grad, int d,
                        std::int32_t* unique, float* summed, std::int32_t* num_unique,
                        const float* row_scale) {
    gpu::segment_sum_rows(idx, N, grad, d, unique, summed, num_unique, workspace_, workspace_bytes_,
                          compute_, row_scale);
  }
  void fused_ns(float* input, float* output, std::size_t vocab, const FusedShape& shape,
                const FusedStep& step, const FusedNoise& noise, const FusedBatch& batch,
                const FusedScales& scales) {
    gpu::fused_ns(input, output, vocab, shape, step, noise, batch, scales, compute_);
  }
  static std::size_t fused_concurrency(const FusedShape& shape) {
    return gpu::fused_ns_resident_warps(shape);
  }
  void sparse_sgd(float* table, int d, const std::int32_t* rows, const std::int32_t* num_rows,
                  std::int64_t max_rows, const float* grad, float lr) {
    gpu::sparse_sgd(table, d, rows, num_rows, max_rows, grad, lr, compute_);
  }
  void sparse_momentum(float* table, float* velocity, int d, const std::int32_t* rows,
                       const std::int32_t* num_rows, std::int64_t max_rows, const float* grad,
                       float lr, float momentum, bool nesterov) {
    gpu::sparse_momentum(table, velocity, d, rows, num_rows, max_rows, grad, lr, momentum, nesterov,
                         compute_);
  }
  void sparse_adam(float* table, float* m, float* v, int d, const std::int32_t* rows,
                   const std::int32_t* num_rows, std::int64_t max_rows, const float* grad, float lr,
                   float beta1, float beta2, float eps, std::int64_t step) {
    gpu::sparse_adam(table, m, v, d, rows, num_rows, max_rows, grad, lr, beta1, beta2, eps, step,
                     compute_);
  }

 private:
  cudaStream_t copy_ = nullptr, compute_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  void* workspace_ = nullptr;
  std::size_t workspace_bytes_ = 0;
  std::vector<void*> device_;
  std::deque<Slot> slots_;  // stable addresses while slots are added
};

class GpuTrainer final : public Trainer {
 public:
  const char* name() const override { return "cuda"; }

  void train(const TrainJob& job, Model& model, Progress& progress) override {
    const TrainConfig& config = job.config;
    if (use_fused_path(config))
      train_fused(job, model, progress);
    else
      train_modular(job, model, progress);
  }

 private:
  // Compares the predicted memory with what the device has, before anything is allocated,
  // then says which path runs with which settings ("gpu: <setup>; memory X of Y free").
  static void check_memory(std::vector<std::pair<std::string, std::size_t>> parts,
                           const TrainConfig& config, const std::string& setup) {
    parts.emplace_back("cuBLAS and CUDA headroom", kHeadroomBytes);
    std::size_t free_bytes = 0, total_bytes = 0;
    W2V_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    check_memory_fits(parts, free_bytes, "the GPU");
    std::size_t need = 0;
    for (const auto& part : parts) need += part.second;
    if (!config.quiet)
      std::fprintf(stderr, "gpu: %s; memory %s of %s free\n", setup.c_str(),
                   format_bytes(need).c_str(), format_bytes(free_bytes).c_str());
  }

  void train_modular(const TrainJob& job, Model& model, Progress& progress) {
    const TrainConfig& config = job.config;
    const std::size_t vocab = job.vocab.size();
    const BatchLayout layout = BatchLayout::for_config(config);
    auto parts = StepBuffers::plan(layout, config, vocab).parts(config.dim);
    parts.emplace_back("batch slots", kSlots * (layout.block_bytes() + layout.rows * 4));
    const std::size_t workspace = GpuOps::workspace_bytes(layout, config, vocab);
    parts.emplace_back("sort and softmax workspace", workspace);
    check_memory(parts, config,
                 "modular path, batch " + std::to_string(layout.rows) + " rows x " +
                     std::to_string(layout.outputs) + " slots, " +
                     std::to_string(config.sampler_thread_count()) + " sampler threads, " +
                     to_string(config.scatter_kind()) + " scatter, optimizer " +
                     to_string(config.optimizer));
    GpuOps ops(workspace);
    train_with_path<ModularPath>(ops, job, model, progress, kSlots);
  }

  void train_fused(const TrainJob& job, Model& model, Progress& progress) {
    const TrainConfig& config = job.config;
    check_memory(FusedPath<GpuOps>::parts(config, job.vocab.size(), kSlots), config,
                 "fused path, batches of " + std::to_string(config.fused_tokens) + " tokens, " +
                     std::to_string(config.sampler_thread_count()) + " sampler threads");
    GpuOps ops(0);
    train_with_path<FusedPath>(ops, job, model, progress, kSlots);
  }
};

}  // namespace

std::unique_ptr<Trainer> make_gpu_trainer() { return std::make_unique<GpuTrainer>(); }

std::vector<double> run_modular_batches_on_gpu(const TrainJob& job, Model& model,
                                               std::size_t batches) {
  const BatchLayout layout = BatchLayout::for_config(job.config);
  GpuOps ops(GpuOps::workspace_bytes(layout, job.config, job.vocab.size()));
  return run_modular_batches(ops, job, model, batches);
}

}  // namespace w2v

#endif  // W2V_HAVE_CUDA
