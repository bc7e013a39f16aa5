// Sparse scatter-add of gradient rows into a [V, d] table, two ways.
//
// scatter_add_atomic: a grid-stride loop over the N x d gradient elements (float4 units when
//   d % 4 == 0 and the pointers are 16-byte aligned, with sm_90's vector atomicAdd; scalar
//   atomics otherwise). Fast; the order of additions to one row, and so its last bits, vary.
// segment_sum_rows / scatter_add_sorted: deterministic.
//   1. row_hash_kernel: a 64-bit hash of each gradient row's bits;
//   2. CUB radix sort of (hash, position), then a stable radix sort of the permuted indices:
//      rows end up grouped by index and, within an index, ordered by content;
//   3. CUB run-length encode gives the distinct indices and their counts, an exclusive scan
//      their offsets;
//   4. segment_sum_kernel: one warp per distinct index adds its rows in that order and writes
//      the sum once (scatter_add_sorted then adds scale x sum to the table, one write per row).
//   The order of additions depends only on the multiset of (index, row) pairs, so the result
//   is bit-identical across runs and input permutations (unless two different rows of one
//   index collide in 64 bits).
// An optional row_scale [N] multiplies gradient row n (the hash covers it too).
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_run_length_encode.cuh>
#include <cub/device/device_scan.cuh>

#include "common.cuh"
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
    const float scale = row_scale ? base_scale * row_scale[row] : base_scale;
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

__device__ __forceinline__ std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

__global__ void row_hash_kernel(const float* __restrict__ grad, const float* __restrict__ row_scale,
                                std::int64_t N, int d, std::uint64_t* __restrict__ hash,
                                std::uint32_t* __restrict__ position) {
  for (std::int64_t n = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; n < N;
       n += std::int64_t(gridDim.x) * blockDim.x) {
    std::uint64_t h = 0x9e3779b97f4a7c15ull;
    if (row_scale) h = mix64(h ^ __float_as_uint(row_scale[n]));
    const float* row = grad + n * d;
    for (int k = 0; k < d; ++k) h = mix64(h ^ __float_as_uint(row[k]));
    hash[n] = h;
    position[n] = std::uint32_t(n);
  }
}

__global__ void permute_indices_kernel(const std::int32_t* __restrict__ idx,
                                       const std::uint32_t* __restrict__ order, std::int64_t N,
                                       std::uint32_t* __restrict__ out) {
  for (std::int64_t n = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; n < N;
       n += std::int64_t(gridDim.x) * blockDim.x)
    out[n] = std::uint32_t(idx[order[n]]);
}

__global__ void segment_sum_kernel(const float* __restrict__ grad,
                                   const float* __restrict__ row_scale, int d,
                                   const std::uint32_t* __restrict__ order,
                                   const std::int32_t* __restrict__ counts,
                                   const std::int32_t* __restrict__ offsets,
                                   const std::int32_t* __restrict__ num_unique,
                                   std::int64_t max_unique, float* __restrict__ summed) {
  const int lane = threadIdx.x & 31;
  const std::int64_t warps = std::int64_t(gridDim.x) * (blockDim.x >> 5);
  const std::int64_t unique = *num_unique;
  for (std::int64_t u = (blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x) >> 5;
       u < unique && u < max_unique; u += warps) {
    const std::int64_t begin = offsets[u], end = begin + counts[u];
    for (int k = lane; k < d; k += 32) {
      float s = 0.0f;
      for (std::int64_t r = begin; r < end; ++r) {
        const std::int64_t n = order[r];
        s = row_scale ? fmaf(row_scale[n], grad[n * d + k], s) : s + grad[n * d + k];
      }
      summed[u * d + k] = s;
    }
  }
}

__global__ void add_rows_kernel(float* table, int d, const std::int32_t* __restrict__ unique,
                                const std::int32_t* __restrict__ num_unique,
                                const float* __restrict__ summed, float scale) {
  const std::int64_t total = std::int64_t(*num_unique) * d;
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < total;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const std::int64_t u = i / d, k = i - u * d;
    table[std::int64_t(unique[u]) * d + k] += scale * summed[i];
  }
}

// The workspace of segment_sum_rows, carved in 256-byte aligned pieces.
struct SegmentWorkspace {
  std::uint64_t *hash, *hash_sorted;
  std::uint32_t *position, *by_hash, *keys, *keys_sorted, *order;
  std::int32_t *counts, *offsets;
  void* cub_temp;
  std::size_t cub_bytes;
  std::size_t total;
};

std::size_t cub_temp_bytes(std::int64_t N) {
  const int n = int(N);
  std::size_t sort64 = 0, sort32 = 0, rle = 0, scan = 0;
  W2V_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, sort64, (std::uint64_t*)nullptr,
                                                 (std::uint64_t*)nullptr, (std::uint32_t*)nullptr,
                                                 (std::uint32_t*)nullptr, n));
  W2V_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, sort32, (std::uint32_t*)nullptr,
                                                 (std::uint32_t*)nullptr, (std::uint32_t*)nullptr,
                                                 (std::uint32_t*)nullptr, n));
  W2V_CUDA_CHECK(cub::DeviceRunLengthEncode::Encode(nullptr, rle, (std::uint32_t*)nullptr,
                                                    (std::int32_t*)nullptr, (std::int32_t*)nullptr,
                                                    (std::int32_t*)nullptr, n));
  W2V_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(nullptr, scan, (std::int32_t*)nullptr,
                                               (std::int32_t*)nullptr, n));
  return std::max(std::max(sort64, sort32), std::max(rle, scan));
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
  w.hash = reinterpret_cast<std::uint64_t*>(take(8 * N));
  w.hash_sorted = reinterpret_cast<std::uint64_t*>(take(8 * N));
  w.position = reinterpret_cast<std::uint32_t*>(take(4 * N));
  w.by_hash = reinterpret_cast<std::uint32_t*>(take(4 * N));
  w.keys = reinterpret_cast<std::uint32_t*>(take(4 * N));
  w.keys_sorted = reinterpret_cast<std::uint32_t*>(take(4 * N));
  w.order = reinterpret_cast<std::uint32_t*>(take(4 * N));
  w.counts = reinterpret_cast<std::int32_t*>(take(4 * N));
  w.offsets = reinterpret_cast<std::int32_t*>(take(4 * N));
  w.cub_bytes = cub_temp_bytes(N);
  w.cub_temp = take(w.cub_bytes);
  w.total = used;
  return w;
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
  detail::check_indices_if_enabled(idx, N, std::int64_t(1) << 31, "segment_sum_rows idx", stream);
  NvtxRange range(kOp);
  const int n = int(N);
  const unsigned grid = detail::grid_for(N, kBlock);
  row_hash_kernel<<<grid, kBlock, 0, stream>>>(grad, row_scale, N, d, w.hash, w.position);
  W2V_CHECK_LAUNCH(kOp, stream);
  std::size_t bytes = w.cub_bytes;
  W2V_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(w.cub_temp, bytes, w.hash, w.hash_sorted,
                                                 w.position, w.by_hash, n, 0, 64, stream));
  permute_indices_kernel<<<grid, kBlock, 0, stream>>>(idx, w.by_hash, N, w.keys);
  W2V_CHECK_LAUNCH(kOp, stream);
  bytes = w.cub_bytes;
  // Radix sort is stable: within one index the hash order of the first sort survives.
  W2V_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(w.cub_temp, bytes, w.keys, w.keys_sorted,
                                                 w.by_hash, w.order, n, 0, 32, stream));
  W2V_CUDA_CHECK(cudaMemsetAsync(w.counts, 0, sizeof(std::int32_t) * N, stream));
  bytes = w.cub_bytes;
  W2V_CUDA_CHECK(cub::DeviceRunLengthEncode::Encode(w.cub_temp, bytes, w.keys_sorted,
                                                    reinterpret_cast<std::uint32_t*>(unique),
                                                    w.counts, num_unique, n, stream));
  bytes = w.cub_bytes;
  W2V_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(w.cub_temp, bytes, w.counts, w.offsets, n, stream));
  segment_sum_kernel<<<detail::grid_for(N * 32, kBlock), kBlock, 0, stream>>>(
      grad, row_scale, d, w.order, w.counts, w.offsets, num_unique, N, summed);
  W2V_CHECK_LAUNCH(kOp, stream);
}

std::size_t scatter_add_sorted_workspace_bytes(std::int64_t N, int d) {
  const std::size_t rows = std::max<std::int64_t>(N, 1);
  return segment_sum_workspace_bytes(N, d) + (rows * sizeof(std::int32_t) + 255) / 256 * 256 +
         (rows * d * sizeof(float) + 255) / 256 * 256 + 256;
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
  detail::require_workspace(launch.workspace, launch.workspace_bytes,
                            scatter_add_sorted_workspace_bytes(N, d), kOp);
  detail::check_indices_if_enabled(idx, N, V, "scatter_add_sorted idx", stream);
  NvtxRange range(kOp);
  const std::size_t segment_bytes = segment_sum_workspace_bytes(N, d);
  char* p = static_cast<char*>(launch.workspace) + segment_bytes;
  auto* unique = reinterpret_cast<std::int32_t*>(p);
  p += (N * sizeof(std::int32_t) + 255) / 256 * 256;
  auto* summed = reinterpret_cast<float*>(p);
  p += (N * d * sizeof(float) + 255) / 256 * 256;
  auto* num_unique = reinterpret_cast<std::int32_t*>(p);
  segment_sum_rows(idx, N, grad, d, unique, summed, num_unique, row_scale,
                   Launch(stream, launch.workspace, segment_bytes));
  add_rows_kernel<<<detail::grid_for(N * d, kBlock), kBlock, 0, stream>>>(
      table, d, unique, num_unique, summed, scale);
  W2V_CHECK_LAUNCH(kOp, stream);
}

}  // namespace w2v::gpu
