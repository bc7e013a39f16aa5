#pragma once
// The fused negative-sampling kernels' interface: one kernel takes whole subsampled sentences and
// does window -> noise draws -> dots -> sigmoid -> updates inside (kernels/fused_ns.cu). This
// header defines what it computes, once, for the kernel, its host reference (ref::fused_ns in
// include/w2v/reference.h, which the tests compare the kernel with and which CI trains with)
// and the packer that feeds both (host/gpu/fused_path.h).
//
// A batch is a run of kept tokens (subsampled by the sampler threads with read_sentence, as
// every trainer) cut into chunks: a chunk trains the centers [center_begin, center_end) of one
// sentence [sentence_begin, sentence_end), at most kFusedChunkCenters of them, and one warp
// trains one chunk from its first center to its last.
//
// One center i of a chunk (word c = tokens[i]):
//   - the window b = fused_window(draw 0) in 1..window and the context positions
//     J = [i - b, i + b] within the sentence, without i; no context, no step;
//   - targets: c (label 1), then `negative` noise words from the alias table (Philox draws of
//     the center's position, include/w2v/kernels/draws.h), or from `fixed_noise` when given; a
//     noise word equal to c is left out (noise_word_used);
//   - skip-gram, as word2vec.c: each context row in_j in turn (j ascending) predicts the
//     targets through their output rows out_k as the contexts before it left them, and the
//     center's noise words are shared by its whole window:
//       g[j, k] = alpha (label_k - sigmoid(<in_j, out_k>)),
//       in_j += sum_k g[j, k] out_k,   then out_k += g[j, k] in_j
//     (scoring the whole window against the targets as read, a mini-batch of the window,
//     diverges at the CPU trainer's rates with a GPU's thousands of warps: bench/RESULTS.md);
//   - CBOW: h = mean of in_j over J, g_k = alpha (label_k - sigmoid(<h, out_k>)),
//     every in_j += sum_k g_k out_k (undivided, as word2vec.c), out_k += g_k h;
//   - the changes a warp writes back are scaled per word by FusedScales (1 when absent);
//   - loss: sum of softplus(-s) for the center and softplus(s) for the unmasked noise words, per
//     (context, center) pair for skip-gram and per center for CBOW.
// The warp keeps the input rows of positions [i - window, i + window] in shared memory: each is
// read when it enters, updated there by every center it is a context of, and its accumulated
// change is added to the table (atomically) when it leaves. With refresh_rows, before each
// center the rows the previous center changed (its contexts) also go back to the table, all of
// them, and are then read again: a row trains on the other warps' changes up to one center old,
// not up to 2 window + 1. The output rows of a center's targets are read when its step starts and
// their change added (atomically) when it ends. Warps run concurrently without locks (Hogwild, as
// word2vec.c's threads): a warp may read a row another warp is adding to, and no addition is
// lost.
#include <cstddef>
#include <cstdint>

#ifdef W2V_HAVE_CUDA
#include "w2v/kernels/launch.h"
#endif

namespace w2v {

constexpr std::uint32_t kFusedChunkCenters = 64;

// What the kernels take: a lane holds fused_row_per_lane(dim) elements of a row (dim rounded
// up to one of the compiled widths); up to 7 noise words at any width, up to 15 with
// dim <= 256; the rings of input rows of a block of kFusedWarpsPerBlock warps, the most a block
// holds, must fit the shared memory a kernel may opt in to: fused_block_shared_bytes <=
// DeviceInfo::shared_bytes_per_block. (The launcher takes blocks of 1 or 2 warps where the
// device holds as many warps in those.)
constexpr std::uint32_t kFusedMaxDim = 512, kFusedMaxNegative = 15, kFusedMaxWideDim = 256;
constexpr std::uint32_t kFusedWarpsPerBlock = 4;
// The H200's (and every sm_90's) opt-in limit, 227 KiB: the twin's, standing for that GPU.
constexpr std::size_t kHopperSharedBytesPerBlock = 232448;
constexpr std::uint32_t fused_row_per_lane(std::uint32_t dim) {
  const std::uint32_t need = (dim + 31) / 32;
  for (std::uint32_t width : {1u, 2u, 3u, 4u, 6u, 8u, 10u, 12u, 16u})
    if (need <= width) return width;
  return 0;  // too wide
}
// Shared memory of one warp: 2 window + 1 rows, their values and the same rows as read.
constexpr std::size_t fused_ring_bytes(std::uint32_t dim, std::uint32_t window) {
  return std::size_t(2) * (2 * window + 1) * 32 * fused_row_per_lane(dim) * sizeof(float);
}
constexpr std::size_t fused_block_shared_bytes(std::uint32_t dim, std::uint32_t window) {
  return kFusedWarpsPerBlock * fused_ring_bytes(dim, window);
}

// Token positions in the batch.
struct FusedChunk {
  std::int32_t sentence_begin, sentence_end, center_begin, center_end;
};

struct FusedShape {
  bool cbow = false;
  std::uint32_t dim = 0, window = 0, negative = 0;
  // How a warp's changes reach the tables: added with atomics (false: none is lost; concurrent
  // changes to a row sum up), or the warp's updated copy stored over the row (true: Hogwild as
  // word2vec.c's threads; of concurrent writers the last one wins).
  bool store_rows = false;
  // --fused-window-rows refresh: before each center, the window rows the previous center
  // changed go back to the table and are read again (false: held until they leave the window).
  bool refresh_rows = false;
  // The kernel's version (kernels/fused_ns.cu): 2, or 1 where it is kept to be measured
  // against it (dim 97..128, negative <= 7). The reference computes what both compute.
  std::uint32_t version = 2;
  // --fused-warps: the warps a launch runs at once at most, a multiple of kFusedWarpsPerBlock
  // (0: as many as the device holds).
  std::uint32_t max_warps = 0;
  // How the kernel's warps share a batch's chunks: each takes the next one from the launch's
  // queue when it is free (false), or warp w of P trains chunks w, w + P, w + 2P, ... (true:
  // the kernel until 2026-12-07, kept to measure the two; the benchmark's only). Chunks are
  // whole sentences of 1 to kFusedChunkCenters centers, so striding leaves the warps that drew
  // short ones idle while the others finish: modelled on the Wikipedia cut's batches, 64% of
  // the device's warp time trains, against 92% with the queue (bench/RESULTS.md, "Warps that
  // take the next chunk"). The reference takes chunks as the queue does.
  bool strided_chunks = false;
  // Blocks of kFusedWarpsPerBlock warps whatever the device would hold in blocks of fewer (the
  // launcher until 2026-12-07, kept to measure against them; the benchmark's only). A block's
  // place on an SM frees when its last warp is done: on several streams (--fused-streams) the
  // next launch's blocks wait on the slowest of 4 (bench/RESULTS.md, "Launches on two streams").
  bool four_warp_blocks = false;
};

// Per launch: the learning rate and the random stream (the run's seed, the batch's number).
// The rate falls linearly from `alpha` at the first chunk to `alpha_end` at the last, in the
// order the warps take them, so that a batch holding a large share of the run (an epoch of a
// small corpus) decays as smoothly as the CPU trainer's; negative alpha_end: alpha throughout.
struct FusedStep {
  float alpha = 0;
  std::uint64_t seed = 0;
  std::uint32_t launch = 0;
  float alpha_end = -1;

#ifdef __CUDACC__
  __host__ __device__
#endif
      float
      chunk_alpha(std::int64_t chunk, std::int64_t chunks) const {
    if (alpha_end < 0 || chunks <= 1) return alpha;
    return alpha + (alpha_end - alpha) * (float(chunk) / float(chunks - 1));
  }
};

// Noise words: drawn from the alias table (AliasTable's threshold and alias arrays, `size`
// entries), or, when `fixed` is set, fixed [tokens, negative]: the noise words of the center
// at each position (the tests' way to pin them).
struct FusedNoise {
  const std::uint32_t* threshold = nullptr;
  const std::uint32_t* alias = nullptr;
  std::uint32_t size = 0;
  const std::int32_t* fixed = nullptr;
};

// Per-word scales of the changes a warp writes back (null: no scaling): the fused path's
// repeat cap. A row that k other warps change between this warp's read and its write takes
// the sum of k stale steps; scaling each by cap/k when k > cap keeps that sum at cap steps.
// k grows with the warps running at once, which a batch with fewer chunks than the device
// holds warps has fewer of: the tables hold each word's allowance cap / k1, k1 being its k
// for one warp (fused_repeat_scales), and a launch's scale is min(1, allowance / warps).
struct FusedScales {
  const float* input = nullptr;   // [vocab] input rows (the ring)
  const float* output = nullptr;  // [vocab] output rows (the targets)
  float inverse_warps = 1.0f;     // 1 / the warps this launch runs at once
};

// The scale of word `word`'s change, for the kernel and its reference alike.
#ifdef __CUDACC__
__host__ __device__
#endif
    inline float
    repeat_scale(const float* allowance, std::int32_t word, float inverse_warps) {
  if (allowance == nullptr) return 1.0f;
  const float scale = allowance[word] * inverse_warps;
  return scale < 1.0f ? scale : 1.0f;
}

// One batch, in the memory the caller runs it in: tokens [token_count] and chunks
// [chunk_count] in; chunk_loss and chunk_examples [chunk_count] out (the summed loss of each
// chunk and what it is averaged over); chunk_queue, one word the kernels count the chunks
// taken with (the launcher zeroes it first; the reference does not use it).
struct FusedBatch {
  const std::int32_t* tokens = nullptr;
  std::int64_t token_count = 0;
  const FusedChunk* chunks = nullptr;
  std::int64_t chunk_count = 0;
  float* chunk_loss = nullptr;
  float* chunk_examples = nullptr;
  std::uint32_t* chunk_queue = nullptr;
};

#ifdef W2V_HAVE_CUDA
namespace gpu {
// The fused kernels (kernels/fused_ns.cu): ref::fused_ns's semantics with every chunk's warp
// running concurrently. Device pointers; dim <= kFusedMaxDim, negative <= kFusedMaxNegative.
void fused_ns(float* input, float* output, std::size_t vocab, const FusedShape& shape,
              const FusedStep& step, const FusedNoise& noise, const FusedBatch& batch,
              const FusedScales& scales, const Launch& launch);
// How many warps of the kernel for `shape` the device keeps resident at once. The launcher
// never runs more: a launch runs the fewer of these and its chunks at once (inverse_warps).
std::size_t fused_ns_resident_warps(const FusedShape& shape);
}  // namespace gpu
#endif

}  // namespace w2v
