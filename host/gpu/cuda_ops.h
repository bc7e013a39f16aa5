#pragma once
// The GPU trainer's backend: both paths' ops on the CUDA kernel library, on a copy stream and
// one or more compute streams. Batch blocks go host -> device on the copy stream (pinned
// source, cudaMemcpyAsync); everything else runs on a compute stream, which waits for the
// copy's event; a second event per slot marks the end of the slot's step (and its loss copy
// back), after which the sampler threads may refill the slot's pinned block. With several
// compute streams the batches take them in turn, so that a batch's kernels may start while
// the one before's last warps finish (the fused path's --fused-streams). CUDA builds only.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gpu/fused_path.h"
#include "gpu/modular_batch.h"
#include "gpu/modular_step.h"
#include "w2v/kernels/cuda_check.h"
#include "w2v/kernels/cuda_resources.h"
#include "w2v/kernels/fused_ns.h"
#include "w2v/kernels/ops.h"
#include "w2v/trace.h"

namespace w2v {

class GpuOps {
 public:
  struct Slot {
    void* host = nullptr;  // pinned
    void* device = nullptr;
    float* host_loss = nullptr;  // pinned
    float* loss = nullptr;
    std::size_t bytes = 0, loss_floats = 0;
    cudaEvent_t copied = nullptr, done = nullptr;
  };

  // The modular path's sort and softmax scratch for this config.
  static std::size_t workspace_bytes(const TrainConfig& config, std::size_t vocab);

  // `gemms`: a cuBLAS handle, for the vocabulary losses' GEMMs (the other paths skip its
  // creation's time and memory). `compute_streams`: how many the batches take in turn; more
  // than one only without a workspace, which the streams would share.
  GpuOps(std::size_t workspace_bytes, bool gemms, std::uint32_t compute_streams = 1);
  ~GpuOps();
  GpuOps(const GpuOps&) = delete;
  GpuOps& operator=(const GpuOps&) = delete;

  // Setup only (allocation, zeroing, uploads): each waits for the device, because cudaMemset
  // and a pageable cudaMemcpy may still be in flight when they return, and the non-blocking
  // streams do not order themselves after the legacy stream they run on.
  template <class T>
  T* alloc(std::size_t n, bool zero = false) {
    if (n == 0) return nullptr;
    T* p = device_.emplace_back(n * sizeof(T)).get_as<T>();
    if (zero) {
      W2V_CUDA_CHECK(cudaMemset(p, 0, n * sizeof(T)));
      W2V_CUDA_CHECK(cudaDeviceSynchronize());
    }
    return p;
  }
  void upload(void* to, const void* from, std::size_t bytes);
  void download(void* to, const void* from, std::size_t bytes);

  Slot make_slot(std::size_t index, std::size_t bytes, std::size_t loss_floats);
  void begin_batch(Slot& slot);
  void end_batch(Slot& slot);
  void abandon_batch(Slot& slot);
  bool batch_done(Slot& slot, bool wait);
  static NvtxRange scope(const char* name) { return NvtxRange(name); }
  // From now on every copy, step and kernel is timed by CUDA events and added to `trace` on
  // the "copy stream" and "compute stream" tracks ("compute stream 2" and on for the others)
  // once its batch is done.
  void attach_trace(Trace* trace);
  // --step-graph: what the compute stream is given between begin_batch and end_batch (a
  // modular step's kernels) is captured and launched as one CUDA graph: the executable graph
  // of the first step, updated with each later step's arguments (its slot's block, the
  // learning rate). Not while tracing: the trace times each kernel on its own.
  void capture_steps(bool on);

#define W2V_CALL_LAUNCHER(op)                                                              \
  template <class... Args>                                                                 \
  auto op(Args&&... args)->decltype(gpu::op(std::forward<Args>(args)..., gpu::Launch())) { \
    const DeviceSpan span(*this, compute_tracks_[current_], #op, compute());               \
    return gpu::op(std::forward<Args>(args)..., launches_[current_]);                      \
  }
  W2V_MODULAR_STEP_OPS(W2V_CALL_LAUNCHER)
#undef W2V_CALL_LAUNCHER

  // With several compute streams a launch may start beside the previous one's last warps,
  // but one of fewer chunks than the device holds warps runs alone (cuda_ops.cc).
  void fused_ns(float* input, float* output, std::size_t vocab, const FusedShape& shape,
                const FusedStep& step, const FusedNoise& noise, const FusedBatch& batch,
                const FusedScales& scales);
  static std::size_t fused_concurrency(const FusedShape& shape) {
    return gpu::fused_ns_resident_warps(shape);
  }

 private:
  // --trace: a span of device work between two events recorded on `stream`, kept until both
  // have happened (resolve_trace(), after each finished batch). Does nothing untraced.
  struct TimedSpan {
    std::uint32_t track;
    const char* name;
    gpu::CudaEvent start, end;
  };
  class DeviceSpan {
   public:
    DeviceSpan(GpuOps& ops, std::uint32_t track, const char* name, cudaStream_t stream);
    ~DeviceSpan() noexcept(false);
    DeviceSpan(const DeviceSpan&) = delete;
    DeviceSpan& operator=(const DeviceSpan&) = delete;

   private:
    TimedSpan* span_ = nullptr;
    cudaStream_t stream_;
    int unwinding_ = std::uncaught_exceptions();  // at construction
  };
  void resolve_trace();
  bool capturing_steps() const { return capture_steps_ && !trace_; }
  // The compute stream of the batch begun last.
  cudaStream_t compute() const { return compute_[current_].get(); }
  void launch_captured_step();

  // Device memory of any type.
  struct Bytes : gpu::DeviceBuffer<std::byte> {
    using gpu::DeviceBuffer<std::byte>::DeviceBuffer;
    template <class T>
    T* get_as() const {
      return reinterpret_cast<T*>(get());
    }
  };
  // What a slot owns.
  struct SlotMemory {
    gpu::PinnedBuffer<std::byte> host;
    gpu::PinnedBuffer<float> host_loss;
    gpu::CudaEvent copied{cudaEventDisableTiming}, done{cudaEventDisableTiming};
  };

  gpu::CudaStream copy_;
  std::deque<gpu::CudaStream> compute_;
  struct DestroyCublas {
    void operator()(cublasHandle_t handle) const { cublasDestroy(handle); }
  };
  std::unique_ptr<cublasContext, DestroyCublas> cublas_;
  std::deque<Bytes> device_;  // stable addresses while buffers are added
  std::deque<SlotMemory> slots_;
  std::vector<gpu::Launch> launches_;  // per compute stream: it, the workspace, cuBLAS
  std::size_t current_ = 0;            // the compute stream of the batch begun last
  Trace* trace_ = nullptr;
  std::uint32_t copy_track_ = 0;
  std::vector<std::uint32_t> compute_tracks_;
  // Recorded when the trace was attached, then a resolved span's start (resolve_trace).
  std::optional<gpu::CudaEvent> trace_origin_;
  double trace_origin_us_ = 0;  // the trace's clock at the origin
  std::deque<TimedSpan> pending_spans_;
  bool capture_steps_ = false;
  cudaGraphExec_t step_graph_ = nullptr;
  // The end of the last fused launch, and whether it had the chunks to fill the device.
  gpu::CudaEvent fused_done_{cudaEventDisableTiming};
  bool fused_filled_ = true;
};

}  // namespace w2v
