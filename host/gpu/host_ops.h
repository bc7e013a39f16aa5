#pragma once
// The GPU trainer's CPU twin: a backend that runs both paths' ops on their CPU references
// (include/w2v/reference.h), one call per op, synchronously, in host memory. Slow (double
// accumulation, one thread); it exists so that CI runs the same step and pipeline code as the
// GPU trainer, and GPU tests have a batch-exact reference.
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "gpu/fused_path.h"
#include "gpu/modular_step.h"
#include "w2v/reference.h"
#include "w2v/trace.h"

namespace w2v {

class HostOps {
 public:
  // ref::fused_ns runs this many warps in lock step for the fused path.
  explicit HostOps(std::size_t fused_concurrency = 1) : fused_concurrency_(fused_concurrency) {}

  struct Slot {
    void* host = nullptr;
    void* device = nullptr;  // the same block: nothing to copy
    float* host_loss = nullptr;
    float* loss = nullptr;
  };

  // Always zeroed: optimizer state starts at 0.
  template <class T>
  T* alloc(std::size_t n, bool /*zero*/ = false) {
    if (n == 0) return nullptr;
    const std::size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, bytes);
    if (!p) throw std::bad_alloc();
    std::memset(p, 0, bytes);
    blocks_.emplace_back(p);
    return static_cast<T*>(p);
  }
  void upload(void* to, const void* from, std::size_t bytes) { std::memcpy(to, from, bytes); }
  void download(void* to, const void* from, std::size_t bytes) { std::memcpy(to, from, bytes); }

  Slot make_slot(std::size_t, std::size_t bytes, std::size_t loss_floats) {
    Slot s;
    s.host = s.device = alloc<char>(bytes);
    s.host_loss = s.loss = alloc<float>(loss_floats);
    return s;
  }
  void begin_batch(Slot&) {}
  void end_batch(Slot&) {}
  void abandon_batch(Slot&) {}
  bool batch_done(Slot&, bool) { return true; }
  struct NoScope {};
  static NoScope scope(const char*) { return {}; }
  // The twin's device work runs inside the driver's "enqueue step" span: nothing to add.
  void attach_trace(Trace*) {}

#define W2V_CALL_REFERENCE(op)                                              \
  template <class... Args>                                                  \
  auto op(Args&&... args)->decltype(ref::op(std::forward<Args>(args)...)) { \
    return ref::op(std::forward<Args>(args)...);                            \
  }
  W2V_MODULAR_STEP_OPS(W2V_CALL_REFERENCE)
#undef W2V_CALL_REFERENCE

  // ref::fused_ns with this backend's warps in lock step.
  template <class... Args>
  auto fused_ns(Args&&... args)
      -> decltype(ref::fused_ns(std::forward<Args>(args)..., std::size_t{})) {
    return ref::fused_ns(std::forward<Args>(args)..., fused_concurrency_);
  }
  std::size_t fused_concurrency(const FusedShape&) const { return fused_concurrency_; }

 private:
  std::size_t fused_concurrency_;
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::vector<std::unique_ptr<void, Free>> blocks_;
};

// The CPU twins of the GPU trainer's two paths: the whole pipeline (sampler threads, slot
// ring, driver) over HostOps. For tests, and for measuring on a CPU what a GPU's concurrency
// does to quality: the fused path's `concurrency` warps run in lock step.
void train_modular_on_host(const TrainJob& job, Model& model, Progress& progress);
void train_fused_on_host(const TrainJob& job, Model& model, Progress& progress,
                         std::size_t concurrency);
// --device twin: the path the GPU trainer would take, on the CPU twin, the fused path with
// --twin-warps warps in lock step.
std::unique_ptr<Trainer> make_twin_trainer();

}  // namespace w2v
