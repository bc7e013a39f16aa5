// Sparse scatter-add of gradient rows into a [V, d] table, two ways.
//
// scatter_add_atomic: a grid-stride loop over the N x d gradient elements (float4 units when
//   d % 4 == 0 and the pointers are 16-byte aligned, with sm_90's vector atomicAdd; scalar
//   atomics otherwise). Fast; the order of additions to one row, and so its last bits, vary.
// segment_sum_rows / scatter_add_sorted: deterministic.
//   1. CUB radix sort of (index, position) pairs. Radix sort is stable, so rows end up grouped
//      by index and, within an index, in the order they came in.
//   2. segment_sum_rows: CUB run-length encode gives the distinct indices and their counts, an
//      exclusive scan their offsets; one warp per distinct index adds its rows in order and
//      writes the sum once.
//      scatter_add_sorted: one warp per sorted position that starts an index's run adds the
//      run's rows in order and adds scale x sum to the table row (no summed rows written and
//      read back).
//   The additions are __fadd_rn/__fmaf_rn in input order, so a batch gives the same bits on
//   every run (and a CPU loop with the same float operations gives them too). Until 2026-12-05
//   rows of one index were ordered by a 64-bit hash of their contents, which made any
//   permutation of the input give the same bits as well; hashing read every gradient row once
//   more and took a second, 64-bit sort, and held both ops at 0.17-0.19 of the copy bandwidth
//   (H200). The trainer's batches come in a fixed order (--deterministic: one sampler).
// An optional row_scale [N] multiplies gradient row n; a row whose scale is 0 is skipped (no
// atomics, no place in a sum or among the distinct indices). The trainer's batches give their
// padding slots one index and a scale of 0: a skip-gram batch of 1,024 centers has ~26,600 of
// them on Wikipedia, which as zero gradients were ~850,000 float4 atomics into one row, or one
// warp summing a run of ~26,600 rows. The sorts key those rows past every index, so their run
// comes last and is dropped. What one warp does after the sort is in scatter_add_warp.cuh,
// which tests/test_scatter_emulated.cc also runs, emulated, on the CPU.
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_run_length_encode.cuh>
#include <cub/device/device_scan.cuh>

#include "common.cuh"
#include "scatter_add_warp.cuh"
#include "w2v/kernels/ops.h"

namespace w2v::gpu {
namespace {

constexpr int kBlock = 256;

template <bool kVector>
__global__ void scatter_add_atomic_kernel(float* table, int width,
                                          const std::int32_t* __restrict__ idx, std::int64_t total,
                                          const float* __restrict__ grad, float base_scale,
                                          const float* __restrict__ row_scale) {
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < total;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const std::int64_t row = i / width, col = i - row * width;
    const std::int64_t at = std::int64_t(idx[row]) * width + col;
    const float weight = row_scale ? row_scale[row] : 1.0f;
    if (weight == 0.0f) continue;
    const float scale = base_scale * weight;
    if constexpr (kVector) {
      float4 g = reinterpret_cast<const float4*>(grad)[i];
      g.x *= scale, g.y *= scale, g.z *= scale, g.w *= scale;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
      atomicAdd(reinterpret_cast<float4*>(table) + at, g);
#else
      float* t = table + at * 4;
      atomicAdd(t, g.x), atomicAdd(t + 1, g.y), atomicAdd(t + 2, g.z), atomicAdd(t + 3, g.w);
#endif
    } else {
      atomicAdd(table + at, scale * grad[i]);
    }
  }
}

// The sort's input: positions 0..N-1 and, when rows have scales, their keys (the index, or
// skipped_key for a row of scale 0).
__global__ void sort_input_kernel(const std::int32_t* __restrict__ idx,
                                  const float* __restrict__ row_scale, std::uint32_t skipped_key,
                                  std::int64_t N, std::uint32_t* __restrict__ keys,
                                  std::uint32_t* __restrict__ position) {
  for (std::int64_t n = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; n < N;
       n += std::int64_t(gridDim.x) * blockDim.x) {
    position[n] = std::uint32_t(n);
    if (row_scale) keys[n] = row_scale[n] == 0.0f ? skipped_key : std::uint32_t(idx[n]);
  }
}

// The warps of a grid-stride launch: lane, global warp index and warp count.
struct GridWarp {
  int lane;
  std::int64_t warp, warps;
};
__device__ __forceinline__ GridWarp grid_warp() {
  return {int(threadIdx.x & 31), (blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x) >> 5,
          std::int64_t(gridDim.x) * (blockDim.x >> 5)};
}

// runs: the run-length encoding's count, whose last run is skipped_key's when rows of scale 0
// were there; the others are the distinct indices, whose count this writes to num_unique.
template <class Unit>
__global__ void segment_sum_kernel(
    const Unit* __restrict__ grad, const float* __restrict__ row_scale, int width,
    const std::uint32_t* __restrict__ order, const std::int32_t* __restrict__ counts,
    const std::int32_t* __restrict__ offsets, const std::int32_t* __restrict__ runs,
    const std::int32_t* __restrict__ unique, std::uint32_t skipped_key,
    std::int32_t* __restrict__ num_unique, Unit* __restrict__ summed) {
  const std::int64_t n = *runs;
  const bool skipped = n > 0 && std::uint32_t(unique[n - 1]) == skipped_key;
  const std::int64_t kept = skipped ? n - 1 : n;
  if (blockIdx.x == 0 && threadIdx.x == 0) *num_unique = std::int32_t(kept);
  const GridWarp g = grid_warp();
  segment_sum_warp(grad, row_scale, width, order, counts, offsets, kept, summed, g.lane, g.warp,
                   g.warps);
}

template <class Unit>
__global__ void add_runs_kernel(Unit* table, const Unit* __restrict__ grad,
                                const float* __restrict__ row_scale, int width,
                                const std::uint32_t* __restrict__ keys,
                                const std::uint32_t* __restrict__ order, std::int64_t N,
                                float scale, std::uint32_t skipped_key) {
  const GridWarp g = grid_warp();
  add_runs_warp(table, grad, row_scale, width, keys, order, N, scale, skipped_key, g.lane, g.warp,
                g.warps);
}

// The workspace of segment_sum_rows, carved in 256-byte aligned pieces.
struct SegmentWorkspace {
  std::uint32_t *keys, *position, *keys_sorted, *order;
  std::int32_t *counts, *offsets, *runs;
  void* cub_temp;
  std::size_t cub_bytes;
  std::size_t total;
};

std::size_t cub_temp_bytes(std::int64_t N) {
  const int n = int(N);
  std::size_t sort = 0, rle = 0, scan = 0;
  W2V_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, sort, (std::uint32_t*)nullptr,
                                                 (std::uint32_t*)nullptr, (std::uint32_t*)nullptr,
                                                 (std::uint32_t*)nullptr, n));
  W2V_CUDA_CHECK(cub::DeviceRunLengthEncode::Encode(nullptr, rle, (std::uint32_t*)nullptr,
                                                    (std::int32_t*)nullptr, (std::int32_t*)nullptr,
                                                    (std::int32_t*)nullptr, n));
  W2V_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(nullptr, scan, (std::int32_t*)nullptr,
                                               (std::int32_t*)nullptr, n));
  return std::max(sort, std::max(rle, scan));
}

SegmentWorkspace carve(void* base, std::int64_t N) {
  SegmentWorkspace w{};
  char* p = static_cast<char*>(base);
  std::size_t used = 0;
  auto take = [&](std::size_t bytes) {
    char* at = p ? p + used : nullptr;
    used += (bytes + 255) / 256 * 256;
    return at;
  };
  w.keys = reinterpret_cast<std::uint32_t*>(take(4 * N));
  w.position = reinterpret_cast<std::uint32_t*>(take(4 * N));
  w.keys_sorted = reinterpret_cast<std::uint32_t*>(take(4 * N));
  w.order = reinterpret_cast<std::uint32_t*>(take(4 * N));
  w.counts = reinterpret_cast<std::int32_t*>(take(4 * N));
  w.offsets = reinterpret_cast<std::int32_t*>(take(4 * N));
  w.runs = reinterpret_cast<std::int32_t*>(take(4));
  w.cub_bytes = cub_temp_bytes(N);
  w.cub_temp = take(w.cub_bytes);
  w.total = used;
  return w;
}

// The key bits of indices below V with room for skipped_key above them: 2^bits > V.
int key_bits(std::int64_t V) {
  int bits = 1;
  while (bits < 31 && (std::int64_t(1) << bits) <= V) ++bits;
  return bits;
}

// The sort key of the rows of scale 0: above every index.
std::uint32_t skipped_key(int index_bits) { return (std::uint32_t(1) << index_bits) - 1; }

// Sorts positions 0..N-1 by idx (stable), into w.keys_sorted and w.order, with the rows of
// scale 0 keyed skipped_key() past every index. Indices are below that key, 2^index_bits - 1;
// the radix sort makes one pass per 8 of those bits.
void sort_by_index(const std::int32_t* idx, const float* row_scale, std::int64_t N, int index_bits,
                   const SegmentWorkspace& w, const char* op, cudaStream_t stream) {
  sort_input_kernel<<<detail::grid_for(N, kBlock), kBlock, 0, stream>>>(
      idx, row_scale, skipped_key(index_bits), N, w.keys, w.position);
  W2V_CHECK_LAUNCH(op, stream);
  std::size_t bytes = w.cub_bytes;
  // Indices are non-negative, so their int32 bits sort as uint32.
  const std::uint32_t* keys = row_scale ? w.keys : reinterpret_cast<const std::uint32_t*>(idx);
  W2V_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(w.cub_temp, bytes, keys, w.keys_sorted, w.position,
                                                 w.order, int(N), 0, index_bits, stream));
}

bool float4_rows(int d, const void* a, const void* b) {
  return d % 4 == 0 && detail::aligned16(a) && detail::aligned16(b);
}

void check_rows(const char* op, std::int64_t N, int d) {
  detail::require_size(N, 0, op, "N");
  detail::require_size(d, 1, op, "d");
  detail::require(N < (std::int64_t(1) << 31), op, "N must be below 2^31");
}

}  // namespace

void scatter_add_atomic(float* table, std::int64_t V, int d, const std::int32_t* idx,
                        std::int64_t N, const float* grad, float scale, const float* row_scale,
                        const Launch& launch) {
  constexpr const char* kOp = "scatter_add_atomic";
  const cudaStream_t stream = launch.stream;
  detail::require_size(V, 1, kOp, "V");
  check_rows(kOp, N, d);
  if (N == 0) return;
  detail::require_pointer(table, kOp, "table");
  detail::require_pointer(idx, kOp, "idx");
  detail::require_pointer(grad, kOp, "grad");
  detail::check_indices_if_enabled(idx, N, V, "scatter_add_atomic idx", stream);
  NvtxRange range(kOp);
  if (d % 4 == 0 && detail::aligned16(table) && detail::aligned16(grad)) {
    const std::int64_t total = N * (d / 4);
    scatter_add_atomic_kernel<true><<<detail::grid_for(total, kBlock), kBlock, 0, stream>>>(
        table, d / 4, idx, total, grad, scale, row_scale);
  } else {
    const std::int64_t total = N * d;
    scatter_add_atomic_kernel<false><<<detail::grid_for(total, kBlock), kBlock, 0, stream>>>(
        table, d, idx, total, grad, scale, row_scale);
  }
  W2V_CHECK_LAUNCH(kOp, stream);
}

std::size_t segment_sum_workspace_bytes(std::int64_t N, int d) {
  check_rows("segment_sum_workspace_bytes", N, d);
  return carve(nullptr, std::max<std::int64_t>(N, 1)).total;
}

void segment_sum_rows(const std::int32_t* idx, std::int64_t N, const float* grad, int d,
                      std::int32_t* unique, float* summed, std::int32_t* num_unique,
                      const float* row_scale, const Launch& launch) {
  constexpr const char* kOp = "segment_sum_rows";
  const cudaStream_t stream = launch.stream;
  check_rows(kOp, N, d);
  detail::require_pointer(num_unique, kOp, "num_unique");
  if (N == 0) {
    W2V_CUDA_CHECK(cudaMemsetAsync(num_unique, 0, sizeof *num_unique, stream));
    return;
  }
  detail::require_pointer(idx, kOp, "idx");
  detail::require_pointer(grad, kOp, "grad");
  detail::require_pointer(unique, kOp, "unique");
  detail::require_pointer(summed, kOp, "summed");
  SegmentWorkspace w = carve(launch.workspace, N);
  detail::require_workspace(launch.workspace, launch.workspace_bytes, w.total, kOp);
  // 31 key bits: the largest int32 is the skipped rows' key, no index.
  constexpr int kBits = 31;
  detail::check_indices_if_enabled(idx, N, skipped_key(kBits), "segment_sum_rows idx", stream);
  NvtxRange range(kOp);
  const int n = int(N);
  sort_by_index(idx, row_scale, N, kBits, w, kOp, stream);
  // The scan below reads all N counts; the encode writes only the first U.
  W2V_CUDA_CHECK(cudaMemsetAsync(w.counts, 0, sizeof(std::int32_t) * N, stream));
  std::size_t bytes = w.cub_bytes;
  W2V_CUDA_CHECK(cub::DeviceRunLengthEncode::Encode(w.cub_temp, bytes, w.keys_sorted,
                                                    reinterpret_cast<std::uint32_t*>(unique),
                                                    w.counts, w.runs, n, stream));
  bytes = w.cub_bytes;
  W2V_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(w.cub_temp, bytes, w.counts, w.offsets, n, stream));
  const unsigned grid = detail::grid_for(N * 32, kBlock);
  if (float4_rows(d, grad, summed))
    segment_sum_kernel<<<grid, kBlock, 0, stream>>>(
        reinterpret_cast<const float4*>(grad), row_scale, d / 4, w.order, w.counts, w.offsets,
        w.runs, unique, skipped_key(kBits), num_unique, reinterpret_cast<float4*>(summed));
  else
    segment_sum_kernel<<<grid, kBlock, 0, stream>>>(grad, row_scale, d, w.order, w.counts,
                                                    w.offsets, w.runs, unique, skipped_key(kBits),
                                                    num_unique, summed);
  W2V_CHECK_LAUNCH(kOp, stream);
}

// The sort's part of segment_sum_rows' workspace: no unique or summed rows.
std::size_t scatter_add_sorted_workspace_bytes(std::int64_t N, int d) {
  return segment_sum_workspace_bytes(N, d);
}

void scatter_add_sorted(float* table, std::int64_t V, int d, const std::int32_t* idx,
                        std::int64_t N, const float* grad, float scale, const float* row_scale,
                        const Launch& launch) {
  constexpr const char* kOp = "scatter_add_sorted";
  const cudaStream_t stream = launch.stream;
  detail::require_size(V, 1, kOp, "V");
  check_rows(kOp, N, d);
  if (N == 0) return;
  detail::require_pointer(table, kOp, "table");
  detail::require_pointer(idx, kOp, "idx");
  detail::require_pointer(grad, kOp, "grad");
  SegmentWorkspace w = carve(launch.workspace, N);
  detail::require_workspace(launch.workspace, launch.workspace_bytes, w.total, kOp);
  detail::check_indices_if_enabled(idx, N, V, "scatter_add_sorted idx", stream);
  NvtxRange range(kOp);
  const int bits = key_bits(V);
  sort_by_index(idx, row_scale, N, bits, w, kOp, stream);
  const unsigned grid = detail::grid_for(N * 32, kBlock);
  if (float4_rows(d, table, grad))
    add_runs_kernel<<<grid, kBlock, 0, stream>>>(
        reinterpret_cast<float4*>(table), reinterpret_cast<const float4*>(grad), row_scale, d / 4,
        w.keys_sorted, w.order, N, scale, skipped_key(bits));
  else
    add_runs_kernel<<<grid, kBlock, 0, stream>>>(table, grad, row_scale, d, w.keys_sorted, w.order,
                                                 N, scale, skipped_key(bits));
  W2V_CHECK_LAUNCH(kOp, stream);
}

}  // namespace w2v::gpu
