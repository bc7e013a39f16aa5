// Fused negative sampling, skip-gram and CBOW: include/w2v/kernels/fused_ns.h defines what one
// center step computes; ref::fused_ns is its host reference.
//
// Mapping: one warp trains one chunk (up to kFusedChunkCenters consecutive centers of one
// sentence) from its first center to its last. Lane l holds elements l, l + 32, l + 64, ...
// of every row (kPerLane of them), so a row's global loads and atomics are coalesced 128-byte
// accesses per element group, and a lane touches only its own elements in shared memory: no
// lane reads what another wrote, no barrier is needed, and the ring's accesses are free of
// bank conflicts.
//   - The warp's ring (shared memory, 2 window + 1 rows of values, and the same rows as they
//     were read) holds the input rows of positions [i - window, i + window]: read once when
//     they enter, updated in place by every center they are a context of, their change (value
//     - as read) added to the table with atomics when they leave. Keeping the rows as read
//     rather than summing the changes takes a shared-memory read, add and write per element
//     out of every context update (skip-gram's pair loop: 219 -> 196 instructions).
//   - The center's targets (the center word and its noise words, drawn by lanes 0..negative-1
//     in parallel from Philox and the alias table) live in registers for the whole window:
//     o[k] the output rows, od[k] their changes, added with atomics at the end of the step.
//     They take most of the registers, so there are 6 target slots (negative <= 5, the
//     default everywhere), 8 or 16: at dim 128, 6 slots hold skip-gram to 128 registers (16
//     warps per SM) where 8 take 167 (12), and skip the 2 unused targets' arithmetic.
//   - Per context row, the kTargets partial dot products of each lane are summed across the
//     warp, and each lane applies the update to its own elements.
// Versions (FusedShape::version), which differ only in that reduction and the sigmoid:
//   - v1: each target's dot product summed with its own 5 shuffles (common.cuh's warp_sum);
//     every lane then computes every target's sigmoid and loss with the accurate expf, log1pf
//     and division: 793 instructions per lane and (center, context) pair at dim 128, 8
//     targets (SASS, bench/RESULTS.md), of which 129 are the row arithmetic; v2 takes 230,
//     and 196 with 6 target slots.
//   - v2: the transposed reduction (include/w2v/kernels/transposed_sum.h): 9 shuffles for 8
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
#include <map>
#include <mutex>
#include <tuple>

#include "common.cuh"
#include "w2v/kernels/cuda_check.h"
#include "w2v/kernels/draws.h"
#include "w2v/kernels/fused_ns.h"
#include "w2v/kernels/transposed_sum.h"

namespace w2v::gpu {
namespace {

constexpr int kWarpsPerBlock = 4;
constexpr int kWindowLane = 31;  // draws the center's window (above every noise-drawing lane)
static_assert(kFusedMaxNegative < kWindowLane);

struct FusedArgs {
  float* in;
  float* out;
  int dim, window, negative;
  bool store;  // FusedShape::store_rows
  FusedStep step;
  FusedNoise noise;
  FusedBatch batch;
  FusedScales scales;
};

template <int kPerLane>
struct Ring {
  float* value;  // [2 window + 1, 32 kPerLane]: element e of a row at slot * stride + e
  float* initial;  // the row as it was read: its change is value - initial when it leaves
  int slots;
  __device__ int at(int position) const { return (position % slots) * 32 * kPerLane; }
  // The offset of the next position's row: the window's loops walk the ring with this, not
  // with a division each (~20 instructions a context, 7% of skip-gram's pair).
  __device__ int next(int offset) const {
    const int following = offset + 32 * kPerLane;
    return following == slots * 32 * kPerLane ? 0 : following;
  }
};

template <int kPerLane>
__device__ __forceinline__ void ring_load(const FusedArgs& a, const Ring<kPerLane>& ring,
                                          int position, int lane) {
  const float* row = a.in + std::int64_t(a.batch.tokens[position]) * a.dim;
  const int at = ring.at(position);
#pragma unroll
  for (int q = 0; q < kPerLane; ++q) {
    const int e = lane + 32 * q;
    const float x = e < a.dim ? row[e] : 0.0f;
    ring.value[at + e] = x;
    ring.initial[at + e] = x;
  }
}

// The row leaves the window: its accumulated change goes to the table. Rows that were never a
// context (every change zero) are not written.
template <int kPerLane>
__device__ __forceinline__ void ring_retire(const FusedArgs& a, const Ring<kPerLane>& ring,
                                            int position, int lane) {
  const int word = a.batch.tokens[position];
  float* row = a.in + std::int64_t(word) * a.dim;
  const float scale = a.scales.input ? a.scales.input[word] : 1.0f;
  const int at = ring.at(position);
  if (a.store) {
    bool changed = false;
#pragma unroll
    for (int q = 0; q < kPerLane; ++q)
      changed |= ring.value[at + lane + 32 * q] != ring.initial[at + lane + 32 * q];
    if (!__any_sync(detail::kFullMask, changed)) return;
  }
#pragma unroll
  for (int q = 0; q < kPerLane; ++q) {
    const int e = lane + 32 * q;
    if (e >= a.dim) continue;
    const float change = ring.value[at + e] - ring.initial[at + e];
    if (a.store)
      row[e] = ring.initial[at + e] + scale * change;
    else if (change != 0.0f)
      atomicAdd(row + e, scale * change);
  }
}

// transposed_warp_sum's lane operations on the device.
struct WarpLanes {
  int lane;
  __device__ bool lane_bit(int mask) const { return (lane & mask) != 0; }
  __device__ float select(bool upper, float a, float b) const { return upper ? a : b; }
  __device__ float exchange(float x, int mask) const {
    return __shfl_xor_sync(detail::kFullMask, x, mask);
  }
};

template <int kPerLane, int kTargets, bool kCbow, int kVersion>
__device__ void step_center(const FusedArgs& a, const Ring<kPerLane>& ring, const FusedChunk& c,
                            float alpha, int i, int lane, float& loss, float& examples) {
  // The transposed reduction sums a power of two of scores: kTargets rounded up, the rest zero.
  constexpr int kScores = kTargets <= 8 ? 8 : 16;
  // One Philox evaluation per lane draws both the window (draw 0, on the lanes that draw no
  // noise word; lane 31 never does, as negative <= 15) and lane n's noise word n (draw
  // 1 + n / 2): one instruction sequence for the warp instead of two.
  const bool draws_noise = lane < a.negative && a.noise.fixed == nullptr;
  const Philox4x32 r = fused_draw(a.step.seed, a.step.launch, i, draws_noise ? 1 + lane / 2 : 0);
  const int b =
      static_cast<int>(fused_window(__shfl_sync(detail::kFullMask, r.v[0], kWindowLane), a.window));
  const int lo = max(c.sentence_begin, i - b), hi = min(c.sentence_end - 1, i + b);
  if (hi == lo) return;  // i alone: no context

  // Lane n draws noise word n; every lane then takes all of them.
  int drawn = 0;
  if (lane < a.negative) {
    if (a.noise.fixed) {
      drawn = a.noise.fixed[std::int64_t(i) * a.negative + lane];
    } else {
      // Constant indices keep r in registers (a computed one would put it in local memory).
      const bool odd = lane % 2 != 0;
      drawn = static_cast<int>(alias_draw(odd ? r.v[2] : r.v[0], odd ? r.v[3] : r.v[1],
                                          a.noise.threshold, a.noise.alias, a.noise.size));
    }
  }
  const int center = a.batch.tokens[i];
  int target[kTargets];
  unsigned active = 0;  // bit k: target k is trained
#pragma unroll
  for (int k = 0; k < kTargets; ++k) {
    const int noise = __shfl_sync(detail::kFullMask, drawn, (k + 31) % 32);
    target[k] = k == 0 ? center : noise;
    if (k == 0 || (k <= a.negative && noise_word_used(noise, center))) active |= 1u << k;
  }
  // v2: the target whose score this lane finishes, and whether its loss is this lane's to add
  // (lanes kScores.. hold copies).
  const int mine = transposed_sum_value<kScores>(lane);
  const bool mine_active = (active >> mine) & 1u, mine_counts = mine_active && lane < kScores;

  float o[kTargets][kPerLane], od[kTargets][kPerLane];
#pragma unroll
  for (int k = 0; k < kTargets; ++k) {
    const float* row = a.out + std::int64_t(target[k]) * a.dim;
#pragma unroll
    for (int q = 0; q < kPerLane; ++q) {
      const int e = lane + 32 * q;
      o[k][q] = (active >> k) & 1u && e < a.dim ? row[e] : 0.0f;
      od[k][q] = 0.0f;
    }
  }

  // Scores of one input vector x against every target; returns each target's gradient step
  // g[k] = alpha (label - sigmoid(score)) and adds the loss.
  auto score = [&](const float(&x)[kPerLane], float(&g)[kTargets]) {
    float partial[kScores];
#pragma unroll
    for (int k = 0; k < kScores; ++k) {
      partial[k] = 0.0f;
      if (k < kTargets)
#pragma unroll
        for (int q = 0; q < kPerLane; ++q) partial[k] += x[q] * o[k][q];
    }
    if constexpr (kVersion == 1) {
#pragma unroll
      for (int k = 0; k < kTargets; ++k) {
        if (!((active >> k) & 1u)) {
          g[k] = 0.0f;
          continue;
        }
        const float s = detail::warp_sum(partial[k]);
        const float label = k == 0 ? 1.0f : 0.0f;
        loss += detail::softplus(k == 0 ? -s : s);
        g[k] = alpha * (label - detail::sigmoid(s));
      }
    } else {
      const float s = transposed_warp_sum(WarpLanes{lane}, partial);
      // sigmoid(s) and softplus(-+s) from one exp(-|s|), as common.cuh's stable forms
      const float e = __expf(-fabsf(s));
      const float r = __fdividef(1.0f, 1.0f + e);
      const float sigmoid = s >= 0.0f ? r : e * r;
      if (mine_counts) loss += fmaxf(mine == 0 ? -s : s, 0.0f) + __logf(1.0f + e);
      const float step = mine_active ? alpha * ((mine == 0 ? 1.0f : 0.0f) - sigmoid) : 0.0f;
#pragma unroll
      for (int k = 0; k < kTargets; ++k)
        g[k] = __shfl_sync(detail::kFullMask, step, transposed_sum_lane<kScores>(k));
    }
  };
  // grad = sum_k g[k] o[k]
  auto input_step = [&](const float(&g)[kTargets], float(&grad)[kPerLane]) {
#pragma unroll
    for (int q = 0; q < kPerLane; ++q) {
      float sum = 0.0f;
#pragma unroll
      for (int k = 0; k < kTargets; ++k) sum += g[k] * o[k][q];
      grad[q] = sum;
    }
  };

  if constexpr (!kCbow) {
    for (int j = lo, at = ring.at(lo); j <= hi; ++j, at = ring.next(at)) {
      if (j == i) continue;
      float x[kPerLane], g[kTargets], grad[kPerLane];
#pragma unroll
      for (int q = 0; q < kPerLane; ++q) x[q] = ring.value[at + lane + 32 * q];
      score(x, g);
      input_step(g, grad);
      // The next context scores against the targets as this one left them (word2vec.c's
      // order): scoring the whole window against the same stale targets diverges at the CPU
      // trainer's rate.
#pragma unroll
      for (int k = 0; k < kTargets; ++k)
#pragma unroll
        for (int q = 0; q < kPerLane; ++q) {
          od[k][q] += g[k] * x[q];
          o[k][q] += g[k] * x[q];
        }
#pragma unroll
      for (int q = 0; q < kPerLane; ++q) ring.value[at + lane + 32 * q] = x[q] + grad[q];
    }
    examples += float(hi - lo);
  } else {
    float h[kPerLane], g[kTargets], grad[kPerLane];
#pragma unroll
    for (int q = 0; q < kPerLane; ++q) h[q] = 0.0f;
    const float inverse = 1.0f / float(hi - lo);
    for (int j = lo, at = ring.at(lo); j <= hi; ++j, at = ring.next(at)) {
      if (j == i) continue;
#pragma unroll
      for (int q = 0; q < kPerLane; ++q) h[q] += inverse * ring.value[at + lane + 32 * q];
    }
    score(h, g);
    input_step(g, grad);
#pragma unroll
    for (int k = 0; k < kTargets; ++k)
#pragma unroll
      for (int q = 0; q < kPerLane; ++q) {
        od[k][q] = g[k] * h[q];
        o[k][q] += od[k][q];
      }
    for (int j = lo, at = ring.at(lo); j <= hi; ++j, at = ring.next(at)) {
      if (j == i) continue;
#pragma unroll
      for (int q = 0; q < kPerLane; ++q) ring.value[at + lane + 32 * q] += grad[q];
    }
    examples += 1.0f;
  }

#pragma unroll
  for (int k = 0; k < kTargets; ++k) {
    if (!((active >> k) & 1u)) continue;
    float* row = a.out + std::int64_t(target[k]) * a.dim;
    const float scale = a.scales.output ? a.scales.output[target[k]] : 1.0f;
#pragma unroll
    for (int q = 0; q < kPerLane; ++q) {
      const int e = lane + 32 * q;
      if (e >= a.dim) continue;
      if (a.store)  // o holds the row as read plus od
        row[e] = o[k][q] + (scale - 1.0f) * od[k][q];
      else
        atomicAdd(row + e, scale * od[k][q]);
    }
  }
}

// Variants given `__launch_bounds__`' minimum of 4 blocks per SM (no minimum otherwise). At d
// 97..128, 4 blocks (16 warps, at most 128 registers) fit these without spills, where ptxas
// unasked takes 136 registers (CBOW: 12 warps) or spills 16 bytes (skip-gram, 6 slots);
// skip-gram with 8 slots would spill 96 / 224 bytes a thread, and narrower rows use fewer
// registers unasked (tools/ptxas_report.sh; bench/RESULTS.md, "Registers").
template <int kPerLane, int kTargets, bool kCbow>
constexpr bool kFitsSixteenWarps = kPerLane == 4 && (kTargets == 6 || (kCbow && kTargets == 8));

template <int kPerLane, int kTargets, bool kCbow, int kVersion>
__global__ void __launch_bounds__(kWarpsPerBlock * 32,
                                  kFitsSixteenWarps<kPerLane, kTargets, kCbow> ? 4 : 0)
    fused_ns_kernel(FusedArgs a) {
  extern __shared__ float shared[];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int slots = 2 * a.window + 1;
  Ring<kPerLane> ring{shared + std::size_t(2 * warp) * slots * 32 * kPerLane, nullptr, slots};
  ring.initial = ring.value + slots * 32 * kPerLane;

  for (std::int64_t chunk = std::int64_t(blockIdx.x) * kWarpsPerBlock + warp;
       chunk < a.batch.chunk_count; chunk += std::int64_t(gridDim.x) * kWarpsPerBlock) {
    const FusedChunk c = a.batch.chunks[chunk];
    const float alpha = a.step.chunk_alpha(chunk, a.batch.chunk_count);
    float loss = 0.0f, examples = 0.0f;
    int loaded_lo = max(c.sentence_begin, c.center_begin - a.window);
    const int first_hi = min(c.sentence_end - 1, c.center_begin + a.window);
    for (int p = loaded_lo; p <= first_hi; ++p) ring_load(a, ring, p, lane);
    for (int i = c.center_begin; i < c.center_end; ++i) {
      if (i > c.center_begin) {
        const int leaving = i - a.window - 1;
        if (leaving >= loaded_lo) {
          ring_retire(a, ring, leaving, lane);
          loaded_lo = leaving + 1;
        }
        if (i + a.window < c.sentence_end) ring_load(a, ring, i + a.window, lane);
      }
      step_center<kPerLane, kTargets, kCbow, kVersion>(a, ring, c, alpha, i, lane, loss, examples);
    }
    const int last_hi = min(c.sentence_end - 1, c.center_end - 1 + a.window);
    for (int p = loaded_lo; p <= last_hi; ++p) ring_retire(a, ring, p, lane);
    if constexpr (kVersion >= 2) loss = detail::warp_sum(loss);  // v1: every lane holds it all
    if (lane == 0) {
      a.batch.chunk_loss[chunk] = loss;
      a.batch.chunk_examples[chunk] = examples;
    }
  }
}

using Kernel = void (*)(FusedArgs);

template <int kPerLane, bool kCbow>
Kernel kernel_for_width(int negative, int version) {
  if (version != 2) {
    if constexpr (kPerLane == 4)
      if (version == 1 && negative + 1 <= 8) return fused_ns_kernel<kPerLane, 8, kCbow, 1>;
    return nullptr;
  }
  if (negative + 1 <= 6) return fused_ns_kernel<kPerLane, 6, kCbow, 2>;
  if (negative + 1 <= 8) return fused_ns_kernel<kPerLane, 8, kCbow, 2>;
  if constexpr (kPerLane * 32 <= int(kFusedMaxWideDim))
    return fused_ns_kernel<kPerLane, 16, kCbow, 2>;
  return nullptr;
}

template <bool kCbow>
Kernel kernel_for_model(int dim, int negative, int version) {
  switch (fused_row_per_lane(dim)) {
    case 1:
      return kernel_for_width<1, kCbow>(negative, version);
    case 2:
      return kernel_for_width<2, kCbow>(negative, version);
    case 3:
      return kernel_for_width<3, kCbow>(negative, version);
    case 4:
      return kernel_for_width<4, kCbow>(negative, version);
    case 6:
      return kernel_for_width<6, kCbow>(negative, version);
    case 8:
      return kernel_for_width<8, kCbow>(negative, version);
    case 10:
      return kernel_for_width<10, kCbow>(negative, version);
    case 12:
      return kernel_for_width<12, kCbow>(negative, version);
    case 16:
      return kernel_for_width<16, kCbow>(negative, version);
  }
  return nullptr;
}

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
  detail::require(
      shape.window >= 1 && fused_ring_bytes(shape.dim, shape.window) <= kFusedMaxRingBytes, kOp,
      "window = " + std::to_string(shape.window) + " does not fit shared memory");
}

// The kernel for a shape, its shared memory opted in (above 48 KB a kernel must ask), and how
// many of its blocks the device holds at once.
struct PreparedKernel {
  Kernel kernel;
  std::size_t shared_bytes;
  std::int64_t resident_blocks;
};

PreparedKernel configure(const FusedShape& shape, int device) {
  PreparedKernel l;
  const int version = static_cast<int>(shape.version);
  l.kernel = shape.cbow ? kernel_for_model<true>(shape.dim, shape.negative, version)
                        : kernel_for_model<false>(shape.dim, shape.negative, version);
  // check_shape() admits every shape version 2 is compiled for: only a version can be missing.
  detail::require(l.kernel != nullptr, "fused_ns",
                  "version = " + std::to_string(shape.version) +
                      " is not compiled for this shape (2; 1 at dim 97..128, negative <= 7)");
  l.shared_bytes = kWarpsPerBlock * fused_ring_bytes(shape.dim, shape.window);
  W2V_CUDA_CHECK(cudaFuncSetAttribute(l.kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                      static_cast<int>(l.shared_bytes)));
  int per_sm = 0, sms = 0;
  W2V_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
      &per_sm, l.kernel, kWarpsPerBlock * 32, l.shared_bytes));
  W2V_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  detail::require(per_sm >= 1, "fused_ns", "the kernel does not fit on this device");
  l.resident_blocks = std::int64_t(per_sm) * sms;
  return l;
}

// configure() once per device and kernel shape: every batch launches with the same one.
PreparedKernel prepare(const FusedShape& shape) {
  check_shape(shape);
  int device = 0;
  W2V_CUDA_CHECK(cudaGetDevice(&device));
  const auto key = std::make_tuple(device, shape.cbow, fused_row_per_lane(shape.dim),
                                   shape.negative, shape.window, shape.version);
  static std::mutex mutex;
  static std::map<decltype(key), PreparedKernel> prepared;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = prepared.find(key);
  if (it == prepared.end()) it = prepared.emplace(key, configure(shape, device)).first;
  return it->second;
}

}  // namespace

std::size_t fused_ns_resident_warps(const FusedShape& shape) {
  return static_cast<std::size_t>(prepare(shape).resident_blocks) * kWarpsPerBlock;
}

void fused_ns(float* input, float* output, std::size_t vocab, const FusedShape& shape,
              const FusedStep& step, const FusedNoise& noise, const FusedBatch& batch,
              const FusedScales& scales, const Launch& launch) {
  constexpr const char* kOp = "fused_ns";
  const cudaStream_t stream = launch.stream;
  detail::require_size(batch.chunk_count, 0, kOp, "chunk_count");
  if (batch.chunk_count == 0) return;
  const PreparedKernel l = prepare(shape);
  detail::require_size(static_cast<std::int64_t>(vocab), 1, kOp, "vocab");
  detail::require_pointer(input, kOp, "input");
  detail::require_pointer(output, kOp, "output");
  detail::require_pointer(batch.tokens, kOp, "tokens");
  detail::require_pointer(batch.chunks, kOp, "chunks");
  detail::require_pointer(batch.chunk_loss, kOp, "chunk_loss");
  detail::require_pointer(batch.chunk_examples, kOp, "chunk_examples");
  if (noise.fixed == nullptr) {
    detail::require_pointer(noise.threshold, kOp, "noise threshold");
    detail::require_pointer(noise.alias, kOp, "noise alias");
    detail::require(noise.size >= 1 && noise.size <= vocab, kOp, "noise table size out of range");
  }
  detail::check_indices_if_enabled(batch.tokens, batch.token_count,
                                   static_cast<std::int64_t>(vocab), "fused_ns tokens", stream);
  NvtxRange range(kOp);
  const FusedArgs args{input,
                       output,
                       static_cast<int>(shape.dim),
                       static_cast<int>(shape.window),
                       static_cast<int>(shape.negative),
                       shape.store_rows,
                       step,
                       noise,
                       batch,
                       scales};
  // No more warps than the device holds at once: the concurrency the repeat scales assume.
  const std::int64_t blocks =
      std::min(ceil_div(batch.chunk_count, kWarpsPerBlock), l.resident_blocks);
  l.kernel<<<static_cast<unsigned>(blocks), kWarpsPerBlock * 32, l.shared_bytes, stream>>>(args);
  W2V_CHECK_LAUNCH(kOp, stream);
}

}  // namespace w2v::gpu
