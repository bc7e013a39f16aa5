// Fused negative sampling, skip-gram and CBOW: include/w2v/kernels/fused_ns.h defines what one
// center step computes; ref::fused_ns is its host reference. What one warp does is in
// fused_ns_warp.cuh (which tests/test_fused_emulated.cc also runs, emulated, on the CPU); this
// file has the kernels, their launcher and the choice of variant.
//
// Mapping: one warp trains one chunk (up to kFusedChunkCenters consecutive centers of one
// sentence) from its first center to its last, then takes the batch's next untaken one (a
// counter in global memory, one atomic a chunk: the chunks' lengths vary from 1 to 64
// centers, and a warp that drew short ones takes more). Blocks hold 1, 2 or 4 independent
// warps (configure()). Lane l holds elements l, l + 32, l + 64, ... of every row (kPerLane of
// them), so a row's global loads and atomics are coalesced 128-byte accesses per element
// group, and a lane touches only its own elements in shared memory: no lane reads what another
// wrote, no barrier is needed, and the ring's accesses are free of bank conflicts.
//   - The warp's ring (shared memory, 2 window + 1 rows of values, and the same rows as they
//     were read) holds the input rows of positions [i - window, i + window]: read once when
//     they enter, updated in place by every center they are a context of, their change (value
//     - as read) added to the table with atomics when they leave. Keeping the rows as read
//     rather than summing the changes takes a shared-memory read, add and write per element
//     out of every context update (skip-gram's pair loop: 219 -> 194 instructions).
//   - The center's targets (the center word and its noise words, drawn by lanes 0..negative-1
//     in parallel from Philox and the alias table) live in registers for the whole window:
//     o[k] the output rows, od[k] their changes, added with atomics at the end of the step.
//     They take most of the registers, so there are 6 target slots (negative <= 5, the
//     default everywhere), 8 or 16: at dim 128, 6 slots hold skip-gram to 128 registers (16
//     warps per SM) where 8 take 163-167 (12), and skip the 2 unused targets' arithmetic.
//   - Per context row, the kTargets partial dot products of each lane are summed across the
//     warp, and each lane applies the update to its own elements.
// Versions (FusedShape::version), which differ only in that reduction and the sigmoid:
//   - v1: each target's dot product summed with its own 5 shuffles (device_math.cuh's warp_sum);
//     every lane then computes every target's sigmoid and loss with the accurate expf, log1pf
//     and division: 794 instructions per lane and (center, context) pair at dim 128, 8
//     targets (SASS, bench/RESULTS.md), of which 129 are the row arithmetic; v2 takes 227,
//     and 194 with 6 target slots.
//   - v2: the transposed reduction (transposed_sum.cuh): 9 shuffles for 8
//     scores (6 targets are reduced as 8, the last two zero), after which lane l alone holds
//     score transposed_sum_value(l), computes its sigmoid and loss with the fast intrinsics
//     (__expf, __fdividef, __logf: a few ulp, far inside the reference tests' 1e-4), and the
//     steps are shuffled back to every lane.
//     v2 is compiled for every shape; v1 only with 8 target slots at dim 97..128 (negative
//     <= 7), to measure the two side by side (BM_FusedNs, the `ncu` stage of gpu_check.sh).
// Template arguments: kPerLane (the row width / 32, rounded up to a compiled width; elements
// past dim are zero and never stored), kTargets (6, 8 or 16 target slots; negative + 1 of them
// are used), the model and the version. Figures on an H200 are in bench/RESULTS.md.
#include <algorithm>
#include <climits>
#include <map>
#include <mutex>
#include <tuple>
#include <utility>

#include "common.cuh"
#include "fused_ns_warp.cuh"
#include "w2v/kernels/cuda_check.h"
#include "w2v/kernels/fused_ns.h"

namespace w2v::gpu {
namespace {

// Variants given `__launch_bounds__`' minimum of 4 blocks per SM (no minimum otherwise). At d
// 97..128, 4 blocks (16 warps, at most 128 registers) fit these without spills, where ptxas
// unasked takes 132 registers for CBOW (12 warps) and has given skip-gram with 6 slots 128 or
// a 16-byte spill as the code around it changed; skip-gram with 8 slots would spill 96 / 224
// bytes a thread, and narrower rows use fewer registers unasked (tools/ptxas_report.sh;
// bench/RESULTS.md, "Registers").
template <int kPerLane, int kTargets, bool kCbow>
constexpr bool kFitsSixteenWarps = kPerLane == 4 && (kTargets == 6 || (kCbow && kTargets == 8));

template <int kPerLane, int kTargets, bool kCbow, int kVersion>
__global__ void __launch_bounds__(kMaxBlockWarps * 32,
                                  kFitsSixteenWarps<kPerLane, kTargets, kCbow> ? 4 : 0)
    fused_ns_kernel(FusedArgs a) {
  extern __shared__ float shared[];
  train_chunks<kPerLane, kTargets, kCbow, kVersion>(a, shared, threadIdx.x, blockIdx.x, gridDim.x,
                                                    static_cast<int>(blockDim.x >> 5));
}

using Kernel = void (*)(FusedArgs);

struct KernelVariants {
  template <int kPerLane, int kTargets, bool kCbow, int kVersion>
  Kernel get() const {
    return fused_ns_kernel<kPerLane, kTargets, kCbow, kVersion>;
  }
};

void check_shape(const FusedShape& shape) {
  constexpr const char* kOp = "fused_ns";
  detail::require(
      shape.dim >= 1 && shape.dim <= kFusedMaxDim, kOp,
      "dim = " + std::to_string(shape.dim) + ", must be in 1.." + std::to_string(kFusedMaxDim));
  detail::require(
      shape.negative <= kFusedMaxNegative && (shape.negative <= 7 || shape.dim <= kFusedMaxWideDim),
      kOp,
      "negative = " + std::to_string(shape.negative) + " is not compiled for dim " +
          std::to_string(shape.dim));
  detail::require(shape.window >= 1, kOp, "window = 0, must be at least 1");
  detail::require(shape.max_warps % kMaxBlockWarps == 0, kOp,
                  "max_warps = " + std::to_string(shape.max_warps) + ", must be a multiple of " +
                      std::to_string(kMaxBlockWarps) + " (a block's warps at most)");
}

// The kernel for a shape, its shared memory opted in (above 48 KB a kernel must ask), its
// blocks' warps and shared memory, and how many of its blocks the device holds at once.
struct PreparedKernel {
  Kernel kernel;
  int block_warps;
  std::size_t shared_bytes;
  std::int64_t resident_blocks;
};

// The shared memory each kernel has opted in to, per device: shapes of other windows share a
// kernel, and a smaller window's must not lower a larger one's.
using OptedIn = std::map<std::pair<int, Kernel>, std::size_t>;

PreparedKernel configure(const FusedShape& shape, int device, OptedIn& opted_in) {
  PreparedKernel l;
  l.kernel = fused_variant<Kernel>(shape, KernelVariants{});
  // check_shape() admits every shape version 2 is compiled for: only a version can be missing.
  detail::require(l.kernel != nullptr, "fused_ns",
                  "version = " + std::to_string(shape.version) +
                      " is not compiled for this shape (2; 1 at dim 97..128, negative <= 7)");
  const std::size_t largest = fused_block_shared_bytes(shape.dim, shape.window);
  int most = 0;
  W2V_CUDA_CHECK(cudaDeviceGetAttribute(&most, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  detail::require(
      largest <= static_cast<std::size_t>(most), "fused_ns",
      "window = " + std::to_string(shape.window) + " at dim = " + std::to_string(shape.dim) +
          " needs " + std::to_string(largest) +
          " bytes of shared memory a block; this device allows " + std::to_string(most));
  std::size_t& allowed = opted_in[{device, l.kernel}];
  if (largest > allowed) {
    W2V_CUDA_CHECK(cudaFuncSetAttribute(l.kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(largest)));
    allowed = largest;
  }
  int sms = 0;
  W2V_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  const std::size_t ring = fused_ring_bytes(shape.dim, shape.window);
  auto resident_warps = [&](int block_warps) {
    int per_sm = 0;
    W2V_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
        &per_sm, l.kernel, block_warps * 32, block_warps * ring));
    return std::int64_t(per_sm) * block_warps * sms;
  };
  // The warps blocks of kMaxBlockWarps hold, in blocks of fewer where the device holds as many
  // of those: a block's place on an SM frees only once its last warp is done, so that the
  // next launch (--fused-streams) starts sooner beside a launch's last chunks with small
  // blocks (a model on the Wikipedia cut: 95% of the warp time training with blocks of 4, 99.8%
  // with blocks of 1; bench/RESULTS.md, "Launches on two streams").
  const std::int64_t warps = resident_warps(kMaxBlockWarps);
  detail::require(warps >= 1, "fused_ns", "the kernel does not fit on this device");
  l.block_warps = kMaxBlockWarps;
  for (int fewer : {1, 2})
    if (!shape.four_warp_blocks && resident_warps(fewer) >= warps) {
      l.block_warps = fewer;
      break;
    }
  l.shared_bytes = l.block_warps * ring;
  l.resident_blocks = warps / l.block_warps;
  return l;
}

// configure() once per device and kernel shape: every batch launches with the same one.
PreparedKernel prepare(const FusedShape& shape) {
  check_shape(shape);
  int device = 0;
  W2V_CUDA_CHECK(cudaGetDevice(&device));
  const auto key =
      std::make_tuple(device, shape.cbow, fused_row_per_lane(shape.dim), shape.negative,
                      shape.window, shape.version, shape.four_warp_blocks);
  static std::mutex mutex;
  static std::map<decltype(key), PreparedKernel> prepared;
  static OptedIn opted_in;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = prepared.find(key);
  if (it == prepared.end()) it = prepared.emplace(key, configure(shape, device, opted_in)).first;
  return it->second;
}

// The blocks a launch runs at once: what the device holds, or fewer under --fused-warps.
std::int64_t concurrent_blocks(const FusedShape& shape, const PreparedKernel& l) {
  return shape.max_warps == 0
             ? l.resident_blocks
             : std::min<std::int64_t>(l.resident_blocks, shape.max_warps / l.block_warps);
}

}  // namespace

std::size_t fused_ns_resident_warps(const FusedShape& shape) {
  const PreparedKernel l = prepare(shape);
  return static_cast<std::size_t>(concurrent_blocks(shape, l)) * l.block_warps;
}

void fused_ns(float* input, float* output, std::size_t vocab, const FusedShape& shape,
              const FusedStep& step, const FusedNoise& noise, const FusedBatch& batch,
              const FusedScales& scales, const Launch& launch) {
  constexpr const char* kOp = "fused_ns";
  const cudaStream_t stream = launch.stream;
  detail::require_size(batch.chunk_count, 0, kOp, "chunk_count");
  if (batch.chunk_count == 0) return;
  // Every warp counts one past the last chunk: the queue's 32 bits hold that.
  detail::require(batch.chunk_count <= INT32_MAX, kOp, "more than 2^31 - 1 chunks");
  const PreparedKernel l = prepare(shape);
  detail::require_size(static_cast<std::int64_t>(vocab), 1, kOp, "vocab");
  detail::require_pointer(input, kOp, "input");
  detail::require_pointer(output, kOp, "output");
  detail::require_pointer(batch.tokens, kOp, "tokens");
  detail::require_pointer(batch.chunks, kOp, "chunks");
  detail::require_pointer(batch.chunk_loss, kOp, "chunk_loss");
  detail::require_pointer(batch.chunk_examples, kOp, "chunk_examples");
  if (!shape.strided_chunks) detail::require_pointer(batch.chunk_queue, kOp, "chunk_queue");
  if (noise.fixed == nullptr) {
    detail::require_pointer(noise.threshold, kOp, "noise threshold");
    detail::require_pointer(noise.alias, kOp, "noise alias");
    detail::require(noise.size >= 1 && noise.size <= vocab, kOp, "noise table size out of range");
  }
  detail::check_indices_if_enabled(batch.tokens, batch.token_count,
                                   static_cast<std::int64_t>(vocab), "fused_ns tokens", stream);
  NvtxRange range(kOp);
  const FusedArgs args = fused_args(input, output, shape, step, noise, batch, scales);
  // No more warps than the device holds at once (or --fused-warps allows): the concurrency the
  // repeat scales assume.
  const std::int64_t blocks =
      std::min(ceil_div(batch.chunk_count, l.block_warps), concurrent_blocks(shape, l));
  if (!shape.strided_chunks)
    W2V_CUDA_CHECK(cudaMemsetAsync(batch.chunk_queue, 0, sizeof *batch.chunk_queue, stream));
  l.kernel<<<static_cast<unsigned>(blocks), l.block_warps * 32, l.shared_bytes, stream>>>(args);
  W2V_CHECK_LAUNCH(kOp, stream);
}

}  // namespace w2v::gpu
