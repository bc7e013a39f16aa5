// Embedding gather: out [N, d] = table [V, d] rows idx [N].
//
// A grid-stride loop over the N * d output elements, one float4 per thread when d % 4 == 0
// and both pointers are 16-byte aligned (gather_rows_kernel_v2), one float otherwise
// (gather_rows_kernel_v1). Consecutive threads read consecutive elements of a row, so every
// warp's loads and stores are coalesced; the index of a row is re-read by each of its threads
// and served from L1. The element-to-row division runs in 32 bits when the output has fewer
// than 2^32 elements (64-bit division is emulated and would cost more than the load).
#include "common.cuh"
#include "w2v/kernels/ops.h"

namespace w2v::gpu {
namespace {

template <typename Index>
__global__ void gather_rows_kernel_v1(const float* __restrict__ table, Index d,
                                      const std::int32_t* __restrict__ idx, Index total,
                                      float* __restrict__ out) {
  for (Index i = blockIdx.x * Index(blockDim.x) + threadIdx.x; i < total;
       i += Index(gridDim.x) * blockDim.x) {
    Index row = i / d, col = i - row * d;
    out[i] = table[std::int64_t(idx[row]) * d + col];
  }
}

template <typename Index>
__global__ void gather_rows_kernel_v2(const float4* __restrict__ table, Index d4,
                                      const std::int32_t* __restrict__ idx, Index total,
                                      float4* __restrict__ out) {
  for (Index i = blockIdx.x * Index(blockDim.x) + threadIdx.x; i < total;
       i += Index(gridDim.x) * blockDim.x) {
    Index row = i / d4, col = i - row * d4;
    out[i] = table[std::int64_t(idx[row]) * d4 + col];
  }
}

}  // namespace

void gather_rows(const float* table, std::int64_t V, int d, const std::int32_t* idx, std::int64_t N,
                 float* out, const Launch& launch) {
  constexpr const char* kOp = "gather_rows";
  const cudaStream_t stream = launch.stream;
  detail::require_size(V, 1, kOp, "V");
  detail::require_size(d, 1, kOp, "d");
  detail::require_size(N, 0, kOp, "N");
  if (N == 0) return;
  detail::require_pointer(table, kOp, "table");
  detail::require_pointer(idx, kOp, "idx");
  detail::require_pointer(out, kOp, "out");
  detail::check_indices_if_enabled(idx, N, V, "gather_rows idx", stream);
  NvtxRange range(kOp);
  constexpr int kBlock = 256;
  const bool vector = d % 4 == 0 && detail::aligned16(table) && detail::aligned16(out);
  const int width = vector ? d / 4 : d;
  const std::int64_t total = N * width;
  const unsigned grid = detail::grid_for(total, kBlock);
  auto run = [&](auto index_zero) {
    using Index = decltype(index_zero);
    if (vector) {
      gather_rows_kernel_v2<Index>
          <<<grid, kBlock, 0, stream>>>(reinterpret_cast<const float4*>(table), Index(width), idx,
                                        Index(total), reinterpret_cast<float4*>(out));
    } else {
      gather_rows_kernel_v1<Index>
          <<<grid, kBlock, 0, stream>>>(table, Index(width), idx, Index(total), out);
    }
  };
  // The loop index must not wrap: i + gridDim * blockDim stays below 2^32.
  if (total + std::int64_t(grid) * kBlock < (std::int64_t(1) << 32))
    run(std::uint32_t{});
  else
    run(std::int64_t{});
  W2V_CHECK_LAUNCH(kOp, stream);
}

}  // namespace w2v::gpu
