#ifdef W2V_HAVE_CUDA

#include "gpu/cuda_ops.h"

#include <algorithm>
#include <memory>

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

GpuOps::GpuOps(std::size_t workspace_bytes, bool gemms, std::uint32_t compute_streams) {
  if (compute_streams < 1 || (compute_streams > 1 && (workspace_bytes > 0 || gemms)))
    throw Error("GpuOps: " + std::to_string(compute_streams) +
                " compute streams (several only without a workspace or cuBLAS, which they would "
                "share)");
  if (gemms) {
    cublasHandle_t handle = nullptr;
    check_cublas(cublasCreate(&handle), "cublasCreate");
    cublas_.reset(handle);
  }
  void* const workspace = alloc<std::byte>(workspace_bytes);
  for (std::uint32_t i = 0; i < compute_streams; ++i) {
    const cudaStream_t stream = compute_.emplace_back().get();
    launches_.emplace_back(stream, workspace, workspace_bytes, cublas_.get());
  }
  compute_tracks_.assign(compute_streams, 0);
}

GpuOps::~GpuOps() {
  // Errors are not thrown from here: the run has already failed or finished. The streams are
  // drained before the buffers they use are freed.
  if (step_graph_) cudaGraphExecDestroy(step_graph_);
  for (const gpu::CudaStream& stream : compute_) cudaStreamSynchronize(stream.get());
  cudaStreamSynchronize(copy_.get());
}

void GpuOps::upload(void* to, const void* from, std::size_t bytes) {
  W2V_CUDA_CHECK(cudaMemcpy(to, from, bytes, cudaMemcpyHostToDevice));
  W2V_CUDA_CHECK(cudaDeviceSynchronize());
}

void GpuOps::download(void* to, const void* from, std::size_t bytes) {
  for (const gpu::CudaStream& stream : compute_)
    W2V_CUDA_CHECK(cudaStreamSynchronize(stream.get()));
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
  current_ = (current_ + 1) % compute_.size();
  NvtxRange range("copy batch");
  {
    const DeviceSpan span(*this, copy_track_, "copy batch", copy_.get());
    W2V_CUDA_CHECK(
        cudaMemcpyAsync(s.device, s.host, s.bytes, cudaMemcpyHostToDevice, copy_.get()));
  }
  W2V_CUDA_CHECK(cudaEventRecord(s.copied, copy_.get()));
  W2V_CUDA_CHECK(cudaStreamWaitEvent(compute(), s.copied, 0));
  // Only this thread's calls are checked against the capture: the samplers make none.
  if (capturing_steps())
    W2V_CUDA_CHECK(cudaStreamBeginCapture(compute(), cudaStreamCaptureModeThreadLocal));
}

void GpuOps::capture_steps(bool on) {
#if defined(W2V_DEBUG_SYNC) || defined(W2V_CHECK_INDICES)
  if (on)
    throw Error(
        "--step-graph: this build synchronises inside the step (W2V_DEBUG_SYNC or "
        "W2V_CHECK_INDICES), which a captured stream cannot do");
#endif
  capture_steps_ = on;
}

// The step's topology is the same every batch, so the update only changes kernel arguments;
// launches already in flight keep the arguments they were launched with.
void GpuOps::launch_captured_step() {
  cudaGraph_t captured = nullptr;
  W2V_CUDA_CHECK(cudaStreamEndCapture(compute(), &captured));
  const std::unique_ptr<CUgraph_st, cudaError_t (*)(cudaGraph_t)> graph(captured, cudaGraphDestroy);
  if (step_graph_) {
    cudaGraphExecUpdateResultInfo result{};
    if (cudaGraphExecUpdate(step_graph_, graph.get(), &result) != cudaSuccess) {
      cudaGetLastError();  // not sticky: instantiate afresh
      W2V_CUDA_CHECK(cudaGraphExecDestroy(step_graph_));
      step_graph_ = nullptr;
    }
  }
  if (!step_graph_) W2V_CUDA_CHECK(cudaGraphInstantiate(&step_graph_, graph.get(), 0));
  W2V_CUDA_CHECK(cudaGraphLaunch(step_graph_, compute()));
}

void GpuOps::end_batch(Slot& s) {
  if (capturing_steps()) launch_captured_step();
  {
    const DeviceSpan span(*this, compute_tracks_[current_], "copy losses", compute());
    W2V_CUDA_CHECK(cudaMemcpyAsync(s.host_loss, s.loss, s.loss_floats * sizeof(float),
                                   cudaMemcpyDeviceToHost, compute()));
  }
  W2V_CUDA_CHECK(cudaEventRecord(s.done, compute()));
}

// A launch with fewer chunks than the device holds warps runs them all at once, and its repeat
// scales assume that many warps (FusedScales::inverse_warps): beside another launch's warps more
// would run at once. So would one under --fused-warps below what the device holds. So on
// several streams such a launch waits for the previous one to end, and the next waits for it;
// launches that fill the whole device may overlap, their warps together never more than it
// holds.
void GpuOps::fused_ns(float* input, float* output, std::size_t vocab, const FusedShape& shape,
                      const FusedStep& step, const FusedNoise& noise, const FusedBatch& batch,
                      const FusedScales& scales) {
  FusedShape uncapped = shape;
  uncapped.max_warps = 0;
  const std::size_t device_warps = fused_concurrency(uncapped);
  const bool fills = fused_concurrency(shape) == device_warps &&
                     static_cast<std::size_t>(batch.chunk_count) >= device_warps;
  if (compute_.size() > 1 && !(fills && fused_filled_))
    W2V_CUDA_CHECK(cudaStreamWaitEvent(compute(), fused_done_.get(), 0));
  {
    const DeviceSpan span(*this, compute_tracks_[current_], "fused_ns", compute());
    gpu::fused_ns(input, output, vocab, shape, step, noise, batch, scales, launches_[current_]);
  }
  W2V_CUDA_CHECK(cudaEventRecord(fused_done_.get(), compute()));
  fused_filled_ = fills;
}

// A step that threw while it was captured: the capture is ended on this thread (a thread-local
// capture cannot be ended on another) and its graph dropped, so that the stream can drain.
// Not thrown from: the step's own error is the one to report.
void GpuOps::abandon_batch(Slot&) {
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(compute(), &capture) != cudaSuccess ||
      capture == cudaStreamCaptureStatusNone)
    return;
  cudaGraph_t graph = nullptr;
  cudaStreamEndCapture(compute(), &graph);
  if (graph) cudaGraphDestroy(graph);
  cudaGetLastError();
}

bool GpuOps::batch_done(Slot& s, bool wait) {
  if (wait) {
    NvtxRange range("wait for batch");
    W2V_CUDA_CHECK(cudaEventSynchronize(s.done));
  } else {
    const cudaError_t status = cudaEventQuery(s.done);
    if (status == cudaErrorNotReady) return false;
    W2V_CUDA_CHECK(status);
  }
  if (trace_) resolve_trace();
  return true;
}

void GpuOps::attach_trace(Trace* trace) {
  if (!trace || trace_) return;
  copy_track_ = trace->track("copy stream");
  for (std::size_t i = 0; i < compute_tracks_.size(); ++i)
    compute_tracks_[i] = trace->track(i == 0 ? std::string("compute stream")
                                             : "compute stream " + std::to_string(i + 1));
  trace_origin_.emplace(cudaEventDefault);
  W2V_CUDA_CHECK(cudaEventRecord(trace_origin_->get(), compute_[0].get()));
  W2V_CUDA_CHECK(cudaEventSynchronize(trace_origin_->get()));
  trace_origin_us_ = trace->now_us();
  trace_ = trace;
}

GpuOps::DeviceSpan::DeviceSpan(GpuOps& ops, std::uint32_t track, const char* name,
                               cudaStream_t stream)
    : stream_(stream) {
  if (!ops.trace_) return;
  span_ = &ops.pending_spans_.emplace_back(
      TimedSpan{track, name, gpu::CudaEvent(cudaEventDefault), gpu::CudaEvent(cudaEventDefault)});
  W2V_CUDA_CHECK(cudaEventRecord(span_->start.get(), stream_));
}

// Not thrown from while the launcher's own error unwinds (a sticky CUDA error fails this
// record too): a second exception would terminate the process.
GpuOps::DeviceSpan::~DeviceSpan() noexcept(false) {
  if (!span_) return;
  const cudaError_t recorded = cudaEventRecord(span_->end.get(), stream_);
  if (std::uncaught_exceptions() == unwinding_) W2V_CUDA_CHECK(recorded);
}

// The spans whose work has finished, oldest first, placed on the trace's clock through the
// origin event. A span still running (another stream's) waits for the next finished batch.
// Event times are float milliseconds, whose steps grow with the distance (62.5 us ten minutes
// on, as long as a kernel): a span is timed from its own start, and the origin moves up to a
// batch copy's start once that is a second past it. Only to a copy's: every span enqueued after
// it starts after it (the copies run in order, and each batch's steps wait for its copy), which
// a step on one compute stream is not of a step enqueued after it on another.
void GpuOps::resolve_trace() {
  while (!pending_spans_.empty()) {
    TimedSpan& span = pending_spans_.front();
    const cudaError_t status = cudaEventQuery(span.end.get());
    if (status == cudaErrorNotReady) return;
    W2V_CUDA_CHECK(status);
    float start_ms = 0, duration_ms = 0;
    W2V_CUDA_CHECK(cudaEventElapsedTime(&start_ms, trace_origin_->get(), span.start.get()));
    W2V_CUDA_CHECK(cudaEventElapsedTime(&duration_ms, span.start.get(), span.end.get()));
    const double start_us = trace_origin_us_ + 1000.0 * start_ms;
    trace_->add(span.track, span.name, start_us, 1000.0 * duration_ms);
    if (start_ms > 1000 && span.track == copy_track_) {
      trace_origin_ = std::move(span.start);
      trace_origin_us_ = start_us;
    }
    pending_spans_.pop_front();
  }
}

}  // namespace w2v

#endif  // W2V_HAVE_CUDA
