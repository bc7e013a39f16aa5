// The fused kernel's own code (kernels/fused_ns_warp.cuh: the ring, the draws, the transposed
// reduction, the target slots, every version and variant the launcher picks) run on the CPU
// with its warps emulated lane by lane (support/warp_emulator.h), against the reference, so
// that CI checks the kernel's logic without a GPU. What it cannot check is what only a GPU
// has: warps racing on shared rows, the memory model, speed; FusedKernel.* does on a GPU.
// clang-format off
#include "support/warp_emulator.h"  // first: the CUDA qualifiers and intrinsics the kernel uses
// clang-format on

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "fused_ns_warp.cuh"  // CMakeLists.txt: built with -Wno-unknown-pragmas (#pragma unroll)
#include "support/fused_case.h"
#include "support/random.h"
#include "w2v/error.h"

namespace w2v {
namespace {

TEST(WarpEmulator, ShufflesAndVotesAcrossTheWarp) {
  std::vector<int> next(32), beyond(32), sums(32), any_odd(32), any_big(32);
  std::vector<unsigned> ballot(32);
  emulator::run_warp([&](int lane) {
    next[lane] = __shfl_sync(0xffffffffu, lane * 10, lane + 1);  // source lane taken mod 32
    beyond[lane] = __shfl_xor_sync(0xffffffffu, lane, 32);       // past the warp: its own
    sums[lane] = static_cast<int>(gpu::detail::warp_sum(static_cast<float>(lane)));
    any_odd[lane] = __any_sync(0xffffffffu, lane == 17);
    any_big[lane] = __any_sync(0xffffffffu, lane > 40);
    ballot[lane] = __ballot_sync(0xffffffffu, lane % 3 == 0);
  });
  for (int lane = 0; lane < 32; ++lane) {
    EXPECT_EQ(next[lane], (lane + 1) % 32 * 10) << lane;
    EXPECT_EQ(beyond[lane], lane) << lane;
    EXPECT_EQ(sums[lane], 496) << lane;
    EXPECT_EQ(any_odd[lane], 1) << lane;
    EXPECT_EQ(any_big[lane], 0) << lane;
    EXPECT_EQ(ballot[lane], 0x49249249u) << lane;  // lanes 0, 3, 6, ...
  }
}

TEST(WarpEmulator, RefusesDivergentCollectives) {
  EXPECT_THROW(emulator::run_warp([](int lane) {
                 if (lane < 16) __shfl_sync(0xffffffffu, lane, 0);
               }),
               Error);
  EXPECT_THROW(emulator::run_warp([](int lane) {
                 if (lane < 16)
                   __shfl_sync(0xffffffffu, lane, 0);
                 else
                   __any_sync(0xffffffffu, true);
               }),
               Error);
  EXPECT_THROW(emulator::run_warp([](int lane) { __shfl_sync(0xffffu, lane, 0); }), Error);
}

// The transposed reduction (transposed_sum.cuh): lane l ends with the whole sum over the 32 lanes
// of value transposed_sum_value(l), and lanes 0..K-1 hold each value once, at
// transposed_sum_lane(k).
template <int kValues>
void expect_transposed_sums(std::mt19937& gen) {
  std::vector<std::vector<float>> x(kValues);
  std::vector<double> want(kValues, 0.0);
  for (int k = 0; k < kValues; ++k) {
    x[k] = test::random_floats(32, gen);
    for (float e : x[k]) want[k] += e;
  }
  std::vector<float> sum(32);
  emulator::run_warp([&](int lane) {
    float v[kValues];
    for (int k = 0; k < kValues; ++k) v[k] = x[k][lane];
    sum[lane] = gpu::transposed_warp_sum(lane, v);
  });
  std::vector<int> held(kValues, 0);
  for (int l = 0; l < 32; ++l) {
    const int k = gpu::transposed_sum_value<kValues>(l);
    ASSERT_GE(k, 0);
    ASSERT_LT(k, kValues);
    EXPECT_NEAR(sum[l], want[k], 1e-5) << kValues << " values, lane " << l;
    if (l < kValues) ++held[k];
  }
  for (int k = 0; k < kValues; ++k) {
    EXPECT_EQ(held[k], 1) << kValues << " values: lanes 0.." << kValues - 1 << " hold value " << k;
    EXPECT_EQ(gpu::transposed_sum_value<kValues>(gpu::transposed_sum_lane<kValues>(k)), k);
    EXPECT_LT(gpu::transposed_sum_lane<kValues>(k), kValues);
  }
}

TEST(FusedTransposedSum, EveryLaneHoldsItsValuesWholeSum) {
  std::mt19937 gen(17);
  for (int round = 0; round < 3; ++round) {
    expect_transposed_sums<1>(gen);
    expect_transposed_sums<2>(gen);
    expect_transposed_sums<4>(gen);
    expect_transposed_sums<8>(gen);
    expect_transposed_sums<16>(gen);
    expect_transposed_sums<32>(gen);
  }
}

// The launcher's choice of variant (fused_variant, as gpu::fused_ns makes it) and a grid of
// 4 warps, in one block or in blocks of fewer (as the launcher makes them where the device holds
// as many warps so), run one after another: from the queue, the first takes every chunk;
// strided, each its own. Shared memory starts as NaN: a ring entry read before it is written
// spoils the result.
using WarpCode = void (*)(const gpu::FusedArgs&, float*, int, std::int64_t, std::int64_t, int);
struct EmulatedVariants {
  template <int kPerLane, int kTargets, bool kCbow, int kVersion>
  WarpCode get() const {
    return gpu::train_chunks<kPerLane, kTargets, kCbow, kVersion>;
  }
};

void expect_emulated_kernel_matches_reference(const FusedShape& shape, bool fixed_noise,
                                              bool scaled, int block_warps = gpu::kMaxBlockWarps) {
  test::FusedCase t(shape, fixed_noise, scaled);
  const WarpCode code = gpu::fused_variant<WarpCode>(shape, EmulatedVariants{});
  ASSERT_NE(code, nullptr) << t.what() << ": no variant";
  std::vector<float> in = t.in, out = t.out, loss(t.chunks.size()), examples(t.chunks.size());
  std::uint32_t queue = 0;  // as the launcher leaves it
  const gpu::FusedArgs args = gpu::fused_args(
      in.data(), out.data(), shape, t.step,
      t.noise(t.threshold.data(), t.alias.data(), t.fixed.data()),
      t.batch(t.tokens.data(), t.chunks.data(), loss.data(), examples.data(), &queue),
      t.scale_rows(t.scales.data()));
  const int warps = gpu::kMaxBlockWarps;
  const std::int64_t blocks = warps / block_warps;
  for (std::int64_t block = 0; block < blocks; ++block) {
    std::vector<float> shared(
        block_warps * fused_ring_bytes(shape.dim, shape.window) / sizeof(float),
        std::numeric_limits<float>::quiet_NaN());
    for (int warp = 0; warp < block_warps; ++warp)
      emulator::run_warp([&](int lane) {
        code(args, shared.data(), warp * 32 + lane, block, blocks, block_warps);
      });
  }
  t.expect_matches(in, out, loss, examples);
  // Each warp took one index past the last chunk, and nothing else touched the queue.
  EXPECT_EQ(queue, shape.strided_chunks ? 0 : t.chunks.size() + warps) << t.what();
}

TEST(FusedKernelEmulated, MatchesTheReference) {
  // every row width but 8 and 12; negative 2, 5, 7, 10: 6, 8 and 16 target slots
  for (const auto& c :
       test::fused_kernel_cases({1, 33, 65, 100, 128, 190, 300, 512}, {2, 5, 7, 10}))
    expect_emulated_kernel_matches_reference(c.shape, c.fixed_noise, c.scaled);
}

TEST(FusedKernelEmulated, StridedChunksMatchTheReference) {
  for (const auto& c : test::fused_kernel_cases({33, 128}, {5})) {
    FusedShape shape = c.shape;
    shape.strided_chunks = true;
    expect_emulated_kernel_matches_reference(shape, c.fixed_noise, c.scaled);
  }
}

// Blocks of 1 and 2 warps: each warp's ring in its own block's shared memory, and strided,
// each warp's chunks by its place in the grid.
TEST(FusedKernelEmulated, BlocksOfFewerWarpsMatchTheReference) {
  for (const auto& c : test::fused_kernel_cases({33, 128}, {5}))
    for (bool strided : {false, true})
      for (int block_warps : {1, 2}) {
        FusedShape shape = c.shape;
        shape.strided_chunks = strided;
        SCOPED_TRACE(std::to_string(block_warps) + " warps a block" + (strided ? ", strided" : ""));
        expect_emulated_kernel_matches_reference(shape, c.fixed_noise, c.scaled, block_warps);
      }
}

// The launcher refuses what fused_variant has no variant for (FusedKernel.RefusesAVersion... on
// a GPU); here the choice itself.
TEST(FusedKernelEmulated, NoVariantForAVersionNotCompiledForTheShape) {
  for (const FusedShape shape : {FusedShape{.dim = 300, .window = 5, .negative = 5, .version = 1},
                                 FusedShape{.dim = 128, .window = 5, .negative = 10, .version = 1},
                                 FusedShape{.dim = 128, .window = 5, .negative = 5, .version = 3},
                                 FusedShape{.dim = 512, .window = 5, .negative = 10}})
    EXPECT_EQ(gpu::fused_variant<WarpCode>(shape, EmulatedVariants{}), nullptr)
        << "dim " << shape.dim << " negative " << shape.negative << " version " << shape.version;
  EXPECT_NE(gpu::fused_variant<WarpCode>({.dim = 128, .window = 5, .negative = 5, .version = 1},
                                         EmulatedVariants{}),
            nullptr);
}

}  // namespace
}  // namespace w2v
