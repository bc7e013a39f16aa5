#pragma once
// What one warp of the fused kernel does (kernels/fused_ns.cu has the mapping, the launcher and
// the figures), apart from the launcher so that the CPU's warp emulation
// (tests/support/warp_emulator.h, FusedKernelEmulated.*) runs the same code in CI. Included by
// fused_ns.cu and that test only; its anonymous namespace keeps the two compilations of it (device
// and emulated) apart.
#include <cstddef>
#include <cstdint>

#include "device_math.cuh"
#include "transposed_sum.cuh"
#include "w2v/kernels/draws.h"
#include "w2v/kernels/fused_ns.h"

namespace w2v::gpu {
namespace {

constexpr int kMaxBlockWarps = kFusedWarpsPerBlock;
constexpr int kWindowLane = 31;  // draws the center's window (above every noise-drawing lane)
static_assert(kFusedMaxNegative < kWindowLane);

struct FusedArgs {
  float* in;
  float* out;
  int dim, window, negative;
  bool store;           // FusedShape::store_rows
  bool refresh;         // FusedShape::refresh_rows
  bool strided_chunks;  // FusedShape::strided_chunks
  FusedStep step;
  FusedNoise noise;
  FusedBatch batch;
  FusedScales scales;
};

// The kernel's arguments for gpu::fused_ns's (the launcher and the emulated test alike).
inline FusedArgs fused_args(float* input, float* output, const FusedShape& shape,
                            const FusedStep& step, const FusedNoise& noise, const FusedBatch& batch,
                            const FusedScales& scales) {
  return {input,
          output,
          static_cast<int>(shape.dim),
          static_cast<int>(shape.window),
          static_cast<int>(shape.negative),
          shape.store_rows,
          shape.refresh_rows,
          shape.strided_chunks,
          step,
          noise,
          batch,
          scales};
}

template <int kPerLane>
struct Ring {
  float* value;    // [2 window + 1, 32 kPerLane]: element e of a row at slot * stride + e
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

// Window positions a warp reads into its ring or writes back from it, a group at a time, in
// this order: [next, last] without `skip`, then `after` (each -1 for none).
struct RingRows {
  int next, last, skip, after;
  __device__ RingRows without_after() const { return {next, last, skip, -1}; }
  // The next group's positions, -1 past the last; false when there are none.
  template <int kGroup>
  __device__ bool take(int (&position)[kGroup]) {
#pragma unroll
    for (int g = 0; g < kGroup; ++g) {
      if (next == skip) ++next;
      if (next <= last) {
        position[g] = next++;
      } else {
        position[g] = after;
        after = -1;
      }
    }
    return position[0] >= 0;
  }
};

// Reads the rows into the ring with every load of a group issued before its first store, so
// that a center's reads (after a refresh, the previous center's contexts and the entering row)
// wait one round trip a group, not one a row: the kernel waits on latency. A group holds up to
// 8 rows (a refresh at window 5 reads 7 on average) and 32 registers of them.
template <int kPerLane>
__device__ __forceinline__ void ring_load(const FusedArgs& a, const Ring<kPerLane>& ring,
                                          RingRows rows, int lane) {
  constexpr int kReadGroup = kPerLane <= 4 ? 8 : 32 / kPerLane;
  int position[kReadGroup];
  while (rows.take(position)) {
    const float* row[kReadGroup];
#pragma unroll
    for (int g = 0; g < kReadGroup; ++g)
      row[g] = position[g] < 0 ? nullptr : a.in + std::int64_t(a.batch.tokens[position[g]]) * a.dim;
    float x[kReadGroup][kPerLane];
#pragma unroll
    for (int g = 0; g < kReadGroup; ++g)
#pragma unroll
      for (int q = 0; q < kPerLane; ++q) {
        const int e = lane + 32 * q;
        x[g][q] = row[g] != nullptr && e < a.dim ? row[g][e] : 0.0f;
      }
#pragma unroll
    for (int g = 0; g < kReadGroup; ++g) {
      if (position[g] < 0) return;
      const int at = ring.at(position[g]);
#pragma unroll
      for (int q = 0; q < kPerLane; ++q) {
        ring.value[at + lane + 32 * q] = x[g][q];
        ring.initial[at + lane + 32 * q] = x[g][q];
      }
    }
  }
}

// The rows leave the window (or, refreshed, go back before they are read again): their
// accumulated changes go to the table. Rows that were never a context (every change zero) are
// not written. A group's words and scales are read before its first row is written, so that
// a refresh waits for them once a group rather than once a row, as ring_load's rows.
template <int kPerLane>
__device__ __forceinline__ void ring_retire(const FusedArgs& a, const Ring<kPerLane>& ring,
                                            RingRows rows, int lane) {
  constexpr int kRetireGroup = 4;
  int position[kRetireGroup];
  while (rows.take(position)) {
    int word[kRetireGroup];
    float scale[kRetireGroup];
#pragma unroll
    for (int g = 0; g < kRetireGroup; ++g)
      word[g] = position[g] < 0 ? 0 : a.batch.tokens[position[g]];
#pragma unroll
    for (int g = 0; g < kRetireGroup; ++g)
      scale[g] =
          position[g] < 0 ? 0.0f : repeat_scale(a.scales.input, word[g], a.scales.inverse_warps);
#pragma unroll
    for (int g = 0; g < kRetireGroup; ++g) {
      if (position[g] < 0) return;
      float* row = a.in + std::int64_t(word[g]) * a.dim;
      const int at = ring.at(position[g]);
      if (a.store) {
        bool changed = false;
#pragma unroll
        for (int q = 0; q < kPerLane; ++q)
          changed |= ring.value[at + lane + 32 * q] != ring.initial[at + lane + 32 * q];
        if (!__any_sync(detail::kFullMask, changed)) continue;
      }
#pragma unroll
      for (int q = 0; q < kPerLane; ++q) {
        const int e = lane + 32 * q;
        if (e >= a.dim) continue;
        const float change = ring.value[at + e] - ring.initial[at + e];
        if (a.store)
          row[e] = ring.initial[at + e] + scale[g] * change;
        else if (change != 0.0f)
          atomicAdd(row + e, scale[g] * change);
      }
    }
  }
}

// A center's draws: its window b and, on lane n < negative, its noise word n.
struct CenterDraw {
  int b, drawn;
};

__device__ __forceinline__ CenterDraw draw_center(const FusedArgs& a, int i, int lane) {
  // One Philox evaluation per lane draws both the window (draw 0, on the lanes that draw no
  // noise word; lane 31 never does, as negative <= 15) and lane n's noise word n (draw
  // 1 + n / 2): one instruction sequence for the warp instead of two.
  const bool draws_noise = lane < a.negative && a.noise.fixed == nullptr;
  const Philox4x32 r = fused_draw(a.step.seed, a.step.launch, i, draws_noise ? 1 + lane / 2 : 0);
  CenterDraw d{
      static_cast<int>(fused_window(__shfl_sync(detail::kFullMask, r.v[0], kWindowLane), a.window)),
      0};
  if (lane < a.negative) {
    if (a.noise.fixed) {
      d.drawn = a.noise.fixed[std::int64_t(i) * a.negative + lane];
    } else {
      // Constant indices keep r in registers (a computed one would put it in local memory).
      const bool odd = lane % 2 != 0;
      d.drawn = static_cast<int>(alias_draw(odd ? r.v[2] : r.v[0], odd ? r.v[3] : r.v[1],
                                            a.noise.threshold, a.noise.alias, a.noise.size));
    }
  }
  return d;
}

// Trains center i, whose draws `draw` holds; leaves in it center i + 1's.
template <int kPerLane, int kTargets, bool kCbow, int kVersion>
__device__ void step_center(const FusedArgs& a, const Ring<kPerLane>& ring, const FusedChunk& c,
                            float alpha, int i, int lane, float& loss, float& examples,
                            int& changed_lo, int& changed_hi, CenterDraw& draw) {
  // The transposed reduction sums a power of two of scores: kTargets rounded up, the rest zero.
  constexpr int kScores = kTargets <= 8 ? 8 : 16;
  const int b = draw.b, drawn = draw.drawn;
  const int lo = max(c.sentence_begin, i - b), hi = min(c.sentence_end - 1, i + b);
  if (hi == lo) {  // i alone: no context
    if (i + 1 < c.center_end) draw = draw_center(a, i + 1, lane);
    return;
  }
  changed_lo = lo;
  changed_hi = hi;

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
  // The next center's draws, whose noise table reads are in flight while this center trains.
  if (i + 1 < c.center_end) draw = draw_center(a, i + 1, lane);

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
      const float s = transposed_warp_sum(lane, partial);
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
    const float scale = repeat_scale(a.scales.output, target[k], a.scales.inverse_warps);
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

// The next chunk for a warp whose last one is done: the launch's next untaken one, or with
// strided chunks warp w's next of w, w + P, ... (`taken`: the last, -1 before the first).
__device__ std::int64_t next_chunk(const FusedArgs& a, std::int64_t taken, std::int64_t warp,
                                   std::int64_t warps, int lane) {
  if (a.strided_chunks) return taken < 0 ? warp : taken + warps;
  unsigned chunk = 0;
  if (lane == 0) chunk = atomicAdd(a.batch.chunk_queue, 1u);
  return __shfl_sync(detail::kFullMask, chunk, 0);
}

// What thread `thread` of block `block` (of `blocks`, each of `block_warps` warps) does: its
// warp trains chunks until the batch has none left (next_chunk), with `shared` the block's
// dynamic shared memory (block_warps rings of fused_ring_bytes).
template <int kPerLane, int kTargets, bool kCbow, int kVersion>
__device__ void train_chunks(const FusedArgs& a, float* shared, int thread, std::int64_t block,
                             std::int64_t blocks, int block_warps) {
  const int lane = thread & 31, warp = thread >> 5;
  const int slots = 2 * a.window + 1;
  Ring<kPerLane> ring{shared + std::size_t(2 * warp) * slots * 32 * kPerLane, nullptr, slots};
  ring.initial = ring.value + slots * 32 * kPerLane;
  const std::int64_t warp_in_grid = block * block_warps + warp;
  const std::int64_t warps = blocks * block_warps;

  for (std::int64_t chunk = next_chunk(a, -1, warp_in_grid, warps, lane);
       chunk < a.batch.chunk_count; chunk = next_chunk(a, chunk, warp_in_grid, warps, lane)) {
    const FusedChunk c = a.batch.chunks[chunk];
    const float alpha = a.step.chunk_alpha(chunk, a.batch.chunk_count);
    float loss = 0.0f, examples = 0.0f;
    int loaded_lo = max(c.sentence_begin, c.center_begin - a.window);
    int changed_lo = 0, changed_hi = -1;  // the previous center's contexts (and the center)
    const int first_hi = min(c.sentence_end - 1, c.center_begin + a.window);
    CenterDraw draw = draw_center(a, c.center_begin, lane);
    ring_load(a, ring, RingRows{loaded_lo, first_hi, -1, -1}, lane);
    for (int i = c.center_begin; i < c.center_end; ++i) {
      if (i > c.center_begin) {
        const int leaving = i - a.window - 1;
        if (leaving >= loaded_lo) {
          ring_retire(a, ring, RingRows{leaving, leaving, -1, -1}, lane);
          loaded_lo = leaving + 1;
        }
        RingRows reads{0, -1, -1, i + a.window < c.sentence_end ? i + a.window : -1};
        if (a.refresh) {
          // The previous center's contexts (not i - 1, the center) all go back before any is
          // read again, so that two copies of a word both carry both changes. A lane's atomics
          // come before its reads of the same addresses: the rows read again hold this warp's
          // changes as well as the other warps' so far.
          reads.next = max(changed_lo, loaded_lo);
          reads.last = changed_hi;
          reads.skip = i - 1;
          ring_retire(a, ring, reads.without_after(), lane);
        }
        ring_load(a, ring, reads, lane);
      }
      changed_hi = -1;
      step_center<kPerLane, kTargets, kCbow, kVersion>(a, ring, c, alpha, i, lane, loss, examples,
                                                       changed_lo, changed_hi, draw);
    }
    const int last_hi = min(c.sentence_end - 1, c.center_end - 1 + a.window);
    ring_retire(a, ring, RingRows{loaded_lo, last_hi, -1, -1}, lane);
    if constexpr (kVersion >= 2) loss = detail::warp_sum(loss);  // v1: every lane holds it all
    if (lane == 0) {
      a.batch.chunk_loss[chunk] = loss;
      a.batch.chunk_examples[chunk] = examples;
    }
  }
}

// The variant compiled for a shape: `variants.template get<kPerLane, kTargets, kCbow,
// kVersion>()` of the one that trains it, or R{} where none is (version 1 is compiled only with
// 8 target slots at dim 97..128). The launcher gets its kernel through this, the CPU's warp
// emulation its train_chunks.
template <class R, int kPerLane, bool kCbow, class Variants>
R fused_variant_for_width(int negative, int version, const Variants& variants) {
  if (version != 2) {
    if constexpr (kPerLane == 4)
      if (version == 1 && negative + 1 <= 8) return variants.template get<kPerLane, 8, kCbow, 1>();
    return R{};
  }
  if (negative + 1 <= 6) return variants.template get<kPerLane, 6, kCbow, 2>();
  if (negative + 1 <= 8) return variants.template get<kPerLane, 8, kCbow, 2>();
  if constexpr (kPerLane * 32 <= int(kFusedMaxWideDim))
    return variants.template get<kPerLane, 16, kCbow, 2>();
  return R{};
}

// The variant of the width among kWidths that equals `width`, or R{}.
template <class R, bool kCbow, int... kWidths, class Variants>
R fused_variant_among(int width, int negative, int version, const Variants& variants) {
  R found{};
  ((width == kWidths &&
    (found = fused_variant_for_width<R, kWidths, kCbow>(negative, version, variants), true)) ||
   ...);
  return found;
}

template <class R, bool kCbow, class Variants>
R fused_variant_for_model(const FusedShape& shape, const Variants& variants) {
  // fused_row_per_lane's widths
  return fused_variant_among<R, kCbow, 1, 2, 3, 4, 6, 8, 10, 12, 16>(
      static_cast<int>(fused_row_per_lane(shape.dim)), static_cast<int>(shape.negative),
      static_cast<int>(shape.version), variants);
}

template <class R, class Variants>
R fused_variant(const FusedShape& shape, const Variants& variants) {
  return shape.cbow ? fused_variant_for_model<R, true>(shape, variants)
                    : fused_variant_for_model<R, false>(shape, variants);
}

}  // namespace
}  // namespace w2v::gpu
