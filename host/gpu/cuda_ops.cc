#ifdef W2V_HAVE_CUDA

#include "gpu/cuda_ops.h"

#include <algorithm>

namespace w2v {

static_assert(ModularOps<GpuOps>);
static_assert(FusedOps<GpuOps>);
static_assert(BatchPath<ModularPath<GpuOps>>);
static_assert(BatchPath<FusedPath<GpuOps>>);

namespace {

void check_cublas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw Error(std::string("cuBLAS error in ") + what + ": " + cublasGetStatusString(status));
}

}  // namespace

std::size_t GpuOps::workspace_bytes(const TrainConfig& config, std::size_t vocab) {
  const BatchLayout l = BatchLayout::for_config(config);
  // The row counts the scatters and segment sums see.
  const std::int64_t n_in = l.input_ids(), n_out = l.output_ids();
  std::size_t bytes = 0;
  for (std::int64_t n : {n_in, n_out, n_in + n_out})
    bytes = std::max({bytes, gpu::segment_sum_workspace_bytes(n, config.dim),
                      gpu::scatter_add_sorted_workspace_bytes(n, config.dim)});
  if (l.loss == LossKind::kSoftmax)
    bytes = std::max(bytes, gpu::softmax_nll_workspace_bytes(l.rows, vocab));
  return bytes;
}

GpuOps::GpuOps(std::size_t workspace_bytes) {
  check_cublas(cublasCreate(&cublas_), "cublasCreate");
  launch_ =
      gpu::Launch(compute_.get(), alloc<std::byte>(workspace_bytes), workspace_bytes, cublas_);
}

GpuOps::~GpuOps() {
  // Errors are not thrown from here: the run has already failed or finished. The streams are
  // drained before the buffers they use are freed.
  cudaStreamSynchronize(compute_.get());
  cudaStreamSynchronize(copy_.get());
  if (cublas_) cublasDestroy(cublas_);
}

void GpuOps::upload(void* to, const void* from, std::size_t bytes) {
  W2V_CUDA_CHECK(cudaMemcpy(to, from, bytes, cudaMemcpyHostToDevice));
  W2V_CUDA_CHECK(cudaDeviceSynchronize());
}

void GpuOps::download(void* to, const void* from, std::size_t bytes) {
  W2V_CUDA_CHECK(cudaStreamSynchronize(compute_.get()));
  W2V_CUDA_CHECK(cudaMemcpy(to, from, bytes, cudaMemcpyDeviceToHost));
}

GpuOps::Slot GpuOps::make_slot(std::size_t, std::size_t bytes, std::size_t loss_floats) {
  SlotMemory& memory = slots_.emplace_back(
      SlotMemory{gpu::PinnedBuffer<std::byte>(bytes), gpu::PinnedBuffer<float>(loss_floats)});
  Slot s;
  s.bytes = bytes;
  s.loss_floats = loss_floats;
  s.host = memory.host.get();
  s.host_loss = memory.host_loss.get();
  s.device = alloc<std::byte>(bytes);
  s.loss = alloc<float>(loss_floats);
  s.copied = memory.copied.get();
  s.done = memory.done.get();
  return s;
}

void GpuOps::begin_batch(Slot& s) {
  NvtxRange range("copy batch");
  W2V_CUDA_CHECK(cudaMemcpyAsync(s.device, s.host, s.bytes, cudaMemcpyHostToDevice, copy_.get()));
  W2V_CUDA_CHECK(cudaEventRecord(s.copied, copy_.get()));
  W2V_CUDA_CHECK(cudaStreamWaitEvent(compute_.get(), s.copied, 0));
}

void GpuOps::end_batch(Slot& s) {
  W2V_CUDA_CHECK(cudaMemcpyAsync(s.host_loss, s.loss, s.loss_floats * sizeof(float),
                                 cudaMemcpyDeviceToHost, compute_.get()));
  W2V_CUDA_CHECK(cudaEventRecord(s.done, compute_.get()));
}

bool GpuOps::batch_done(Slot& s, bool wait) {
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

}  // namespace w2v

#endif  // W2V_HAVE_CUDA
