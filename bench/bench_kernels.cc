// Benchmarks of the CUDA kernel library (include/w2v/kernels/ops.h) and of the CPU references of
// the same ops (include/w2v/reference.h).
//
// GPU (BM_<Op>): every op at a typical training size and at a size well past the L2 cache
// (>= 200 MB moved per call). Each iteration flushes L2 (a memset of twice its size, outside
// the timed region), then times one launcher call between two CUDA events on a stream
// (manual time, so the reported time is the device time of the op). Counters:
//   GB/s       the fewest bytes the op must read and write (formula beside each op below) over
//              the mean time of a call;
//   of_copy    GB/s over the device-to-device copy bandwidth, measured once in this binary
//              (measure_copy_bandwidth: 1 GiB, 10 repeats); 1.0 is the memory system's ceiling;
//   MB         those bytes per call;
//   median_ms  the median time of a call (tools/softmax_vs_torch.py compares it with PyTorch).
// Inputs are random (fixed seeds), filled on the host and copied over. Without a CUDA device
// every GPU benchmark is skipped with "no CUDA device"; in a build without CUDA they do not
// exist. Time a Release build: Debug builds check every index on the device inside the op.
//
// CPU (BM_Ref<Op>): the references at small sizes, with the same byte formulas. They
// accumulate in double and are written for clarity: the baseline the kernels are checked
// against, not a fast CPU path.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <numeric>
#include <vector>

#include "gpu/fused_path.h"
#include "support/random.h"
#include "w2v/config.h"
#include "w2v/reference.h"
#include "w2v/sampling.h"

#ifdef W2V_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "w2v/kernels/cuda_check.h"
#include "w2v/kernels/cuda_resources.h"
#include "w2v/kernels/device.h"
#include "w2v/kernels/fused_ns.h"
#include "w2v/kernels/ops.h"
#endif

namespace w2v {
namespace {

using i32 = std::int32_t;
using i64 = std::int64_t;

// ---- Random inputs from w2v::Rng (splitmix64): the large inputs hold up to 256M values,
// too many for std::mt19937 with a distribution.
using test::random_floats;
using test::random_indices;

// Uniform in [0, bound), bound < 2^31.
i32 below(Rng& rng, i64 bound) {
  return static_cast<i32>(rng.below(static_cast<std::uint32_t>(bound)));
}

// n distinct rows of [0, V), ascending (as segment_sum_rows hands them to the optimizers).
std::vector<i32> distinct_rows(i64 n, i64 V, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<i32> all(V);
  std::iota(all.begin(), all.end(), 0);
  for (i64 i = 0; i < n; ++i) std::swap(all[i], all[i + below(rng, V - i)]);
  all.resize(n);
  std::sort(all.begin(), all.end());
  return all;
}

i64 count_distinct(const std::vector<i32>& idx, i64 V) {
  std::vector<unsigned char> seen(V, 0);
  i64 distinct = 0;
  for (i32 i : idx) {
    if (seen[i] == 0) ++distinct;
    seen[i] = 1;
  }
  return distinct;
}

// count [B] in 1..C: how many context slots of each row are filled.
std::vector<i32> random_counts(i64 B, int C, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<i32> v(B);
  for (i32& x : v) x = 1 + below(rng, C);
  return v;
}

// targets [B, T] in [0, V); after the first of each row, a slot is padding (-1) one time in 5.
std::vector<i32> random_targets(i64 B, int T, i64 V, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<i32> v(B * T);
  for (i64 i = 0; i < B * T; ++i) v[i] = (i % T != 0 && below(rng, 5) == 0) ? -1 : below(rng, V);
  return v;
}

// n values in {0, 1}, 0 one time in `zero_in`: labels (zero_in = 2) or a mask (10).
std::vector<float> random_bits(i64 n, int zero_in, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = below(rng, zero_in) == 0 ? 0.0f : 1.0f;
  return v;
}

i64 sum(const std::vector<i32>& v) { return std::accumulate(v.begin(), v.end(), i64{0}); }

// ---- The fewest bytes each op must read and write (fp32 values and int32 indices, 4 bytes
// each). A row the op reads and writes back counts twice. Arguments are doubles so that
// products of sizes cannot overflow.

// gather_rows: N*d*4 read (the rows) + N*d*4 written + N*4 indices.
double gather_rows_bytes(double N, double d) { return 4 * (2 * N * d + N); }
// batched_dot: v B*d*4 + u B*L*d*4 read; scores B*L*4 written.
double batched_dot_bytes(double B, double L, double d) { return 4 * (B * d + B * L * d + B * L); }
// context_mean: the filled slots sum(count)*d*4 + count B*4 read; h B*d*4 written.
double context_mean_bytes(double B, double filled, double d) {
  return 4 * (filled * d + B + B * d);
}
// context_mean_backward: grad_h B*d*4 + count B*4 read; grad_ctx B*C*d*4 written (every slot,
// zeros in the unfilled ones).
double context_mean_backward_bytes(double B, double C, double d) {
  return 4 * (B * d + B + B * C * d);
}
// batched_dot_backward: v B*d*4 + u B*L*d*4 + grad_scores B*L*4 read; grad_v B*d*4 +
// grad_u B*L*d*4 written.
double batched_dot_backward_bytes(double B, double L, double d) {
  return 4 * (2 * B * d + 2 * B * L * d + B * L);
}
// sigmoid_bce_masked: logits, labels, mask 3*B*L*4 read; grad B*L*4 + loss B*4 written.
double sigmoid_bce_bytes(double B, double L) { return 4 * (4 * B * L + B); }
// softmax_nll and full_bce: logits B*V*4 + targets B*T*4 read; grad B*V*4 + loss B*4 written.
// (softmax_nll reads the logits twice, so past L2 its ceiling is about 2/3 of a copy.)
double logits_loss_bytes(double B, double V, double T) { return 4 * (2 * B * V + B * T + B); }
// scatter_add (atomic and sorted): grad N*d*4 + idx N*4 read; each of the U distinct
// destination rows read and written once, 2*U*d*4.
double scatter_add_bytes(double N, double U, double d) { return 4 * (N * d + N + 2 * U * d); }
// segment_sum_rows: idx N*4 + grad N*d*4 read; unique U*4 + summed U*d*4 + the count written.
double segment_sum_bytes(double N, double U, double d) { return 4 * (N + N * d + U + U * d + 1); }
// sparse optimizers over R rows: rows R*4 + grad R*d*4 read, and each of `tables` tables
// (parameters, plus velocity, or m and v) read and written on those rows, tables*2*R*d*4.
double sparse_step_bytes(double R, double d, double tables) {
  return 4 * (R + R * d + tables * 2 * R * d);
}

// ---- CPU references. GB/s is the same byte count over the wall time of the loop.
template <typename Op>
void run_cpu(benchmark::State& state, double bytes, Op&& op) {
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    op();
    benchmark::ClobberMemory();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (seconds > 0)
    state.counters["GB/s"] = bytes * static_cast<double>(state.iterations()) / seconds * 1e-9;
  state.counters["MB"] = bytes * 1e-6;
}

void BM_RefGatherRows(benchmark::State& state) {
  const i64 N = state.range(0), V = state.range(1);
  const int d = static_cast<int>(state.range(2));
  const auto table = random_floats(V * d, -0.5f, 0.5f, 1);
  const auto idx = random_indices(N, V, 2);
  std::vector<float> out(N * d);
  run_cpu(state, gather_rows_bytes(N, d),
          [&] { ref::gather_rows(table.data(), V, d, idx.data(), N, out.data()); });
}
BENCHMARK(BM_RefGatherRows)->ArgNames({"N", "V", "d"})->Args({4096, 10000, 128});

void BM_RefBatchedDot(benchmark::State& state) {
  const i64 B = state.range(0);
  const int L = static_cast<int>(state.range(1)), d = static_cast<int>(state.range(2));
  const auto v = random_floats(B * d, -0.5f, 0.5f, 3);
  const auto u = random_floats(B * L * d, -0.5f, 0.5f, 4);
  std::vector<float> scores(B * L);
  run_cpu(state, batched_dot_bytes(B, L, d),
          [&] { ref::batched_dot(v.data(), u.data(), B, L, d, scores.data()); });
}
BENCHMARK(BM_RefBatchedDot)->ArgNames({"B", "L", "d"})->Args({256, 6, 128});

void BM_RefContextMean(benchmark::State& state) {
  const i64 B = state.range(0);
  const int C = static_cast<int>(state.range(1)), d = static_cast<int>(state.range(2));
  const auto ctx = random_floats(B * C * d, -0.5f, 0.5f, 5);
  const auto count = random_counts(B, C, 6);
  std::vector<float> h(B * d);
  run_cpu(state, context_mean_bytes(B, sum(count), d),
          [&] { ref::context_mean(ctx.data(), count.data(), B, C, d, h.data()); });
}
BENCHMARK(BM_RefContextMean)->ArgNames({"B", "C", "d"})->Args({256, 10, 128});

void BM_RefContextMeanBackward(benchmark::State& state) {
  const i64 B = state.range(0);
  const int C = static_cast<int>(state.range(1)), d = static_cast<int>(state.range(2));
  const auto grad_h = random_floats(B * d, -0.1f, 0.1f, 7);
  const auto count = random_counts(B, C, 8);
  std::vector<float> grad_ctx(B * C * d);
  run_cpu(state, context_mean_backward_bytes(B, C, d), [&] {
    ref::context_mean_backward(grad_h.data(), count.data(), B, C, d, grad_ctx.data());
  });
}
BENCHMARK(BM_RefContextMeanBackward)->ArgNames({"B", "C", "d"})->Args({256, 10, 128});

void BM_RefBatchedDotBackward(benchmark::State& state) {
  const i64 B = state.range(0);
  const int L = static_cast<int>(state.range(1)), d = static_cast<int>(state.range(2));
  const auto v = random_floats(B * d, -0.5f, 0.5f, 9);
  const auto u = random_floats(B * L * d, -0.5f, 0.5f, 10);
  const auto g = random_floats(B * L, -1.0f, 1.0f, 11);
  std::vector<float> grad_v(B * d), grad_u(B * L * d);
  run_cpu(state, batched_dot_backward_bytes(B, L, d), [&] {
    ref::batched_dot_backward(v.data(), u.data(), g.data(), B, L, d, grad_v.data(), grad_u.data());
  });
}
BENCHMARK(BM_RefBatchedDotBackward)->ArgNames({"B", "L", "d"})->Args({256, 6, 128});

void BM_RefSigmoidBceMasked(benchmark::State& state) {
  const i64 B = state.range(0);
  const int L = static_cast<int>(state.range(1));
  const auto logits = random_floats(B * L, -4.0f, 4.0f, 12);
  const auto labels = random_bits(B * L, 2, 13);
  const auto mask = random_bits(B * L, 10, 14);
  std::vector<float> loss(B), grad(B * L);
  run_cpu(state, sigmoid_bce_bytes(B, L), [&] {
    ref::sigmoid_bce_masked(logits.data(), labels.data(), mask.data(), B, L, loss.data(),
                            grad.data());
  });
}
BENCHMARK(BM_RefSigmoidBceMasked)->ArgNames({"B", "L"})->Args({1024, 32});

void BM_RefSoftmaxNll(benchmark::State& state) {
  const i64 B = state.range(0), V = state.range(1);
  const int T = static_cast<int>(state.range(2));
  const auto logits = random_floats(B * V, -4.0f, 4.0f, 15);
  const auto targets = random_targets(B, T, V, 16);
  std::vector<float> loss(B), grad(B * V);
  run_cpu(state, logits_loss_bytes(B, V, T), [&] {
    ref::softmax_nll(logits.data(), B, V, targets.data(), T, loss.data(), grad.data());
  });
}
BENCHMARK(BM_RefSoftmaxNll)->ArgNames({"B", "V", "T"})->Args({8, 10000, 1});

void BM_RefFullBce(benchmark::State& state) {
  const i64 B = state.range(0), V = state.range(1);
  const int T = static_cast<int>(state.range(2));
  const auto logits = random_floats(B * V, -4.0f, 4.0f, 17);
  const auto targets = random_targets(B, T, V, 18);
  std::vector<float> loss(B), grad(B * V);
  run_cpu(state, logits_loss_bytes(B, V, T),
          [&] { ref::full_bce(logits.data(), B, V, targets.data(), T, loss.data(), grad.data()); });
}
BENCHMARK(BM_RefFullBce)->ArgNames({"B", "V", "T"})->Args({8, 10000, 10});

void BM_RefScatterAdd(benchmark::State& state) {
  const i64 N = state.range(0), V = state.range(1);
  const int d = static_cast<int>(state.range(2));
  auto table = random_floats(V * d, -0.5f, 0.5f, 19);
  const auto idx = random_indices(N, V, 20);
  const auto grad = random_floats(N * d, -0.1f, 0.1f, 21);
  run_cpu(state, scatter_add_bytes(N, count_distinct(idx, V), d),
          [&] { ref::scatter_add_atomic(table.data(), V, d, idx.data(), N, grad.data(), -0.01f); });
}
BENCHMARK(BM_RefScatterAdd)->ArgNames({"N", "V", "d"})->Args({4096, 10000, 128});

void BM_RefSegmentSumRows(benchmark::State& state) {
  const i64 N = state.range(0), V = state.range(1);
  const int d = static_cast<int>(state.range(2));
  const auto idx = random_indices(N, V, 22);
  const auto grad = random_floats(N * d, -0.1f, 0.1f, 23);
  std::vector<i32> unique(N);
  std::vector<float> summed(N * d);
  i32 count = 0;
  run_cpu(state, segment_sum_bytes(N, count_distinct(idx, V), d), [&] {
    ref::segment_sum_rows(idx.data(), N, grad.data(), d, unique.data(), summed.data(), &count);
    benchmark::DoNotOptimize(count);
  });
}
BENCHMARK(BM_RefSegmentSumRows)->ArgNames({"N", "V", "d"})->Args({4096, 10000, 128});

void BM_RefSparseSgd(benchmark::State& state) {
  const i64 R = state.range(0), V = state.range(1);
  const int d = static_cast<int>(state.range(2));
  auto table = random_floats(V * d, -0.5f, 0.5f, 24);
  const auto rows = distinct_rows(R, V, 25);
  const auto grad = random_floats(R * d, -0.1f, 0.1f, 26);
  run_cpu(state, sparse_step_bytes(R, d, 1),
          [&] { ref::sparse_sgd(table.data(), d, rows.data(), nullptr, R, grad.data(), 0.01f); });
}
BENCHMARK(BM_RefSparseSgd)->ArgNames({"R", "V", "d"})->Args({4096, 10000, 128});

void BM_RefSparseMomentum(benchmark::State& state) {
  const i64 R = state.range(0), V = state.range(1);
  const int d = static_cast<int>(state.range(2));
  const bool nesterov = state.range(3) != 0;
  auto table = random_floats(V * d, -0.5f, 0.5f, 27);
  auto velocity = random_floats(V * d, -0.1f, 0.1f, 28);
  const auto rows = distinct_rows(R, V, 29);
  const auto grad = random_floats(R * d, -0.1f, 0.1f, 30);
  run_cpu(state, sparse_step_bytes(R, d, 2), [&] {
    ref::sparse_momentum(table.data(), velocity.data(), d, rows.data(), nullptr, R, grad.data(),
                         0.01f, 0.9f, nesterov);
  });
}
BENCHMARK(BM_RefSparseMomentum)
    ->ArgNames({"R", "V", "d", "nesterov"})
    ->Args({4096, 10000, 128, 0})
    ->Args({4096, 10000, 128, 1});

void BM_RefSparseAdam(benchmark::State& state) {
  const i64 R = state.range(0), V = state.range(1);
  const int d = static_cast<int>(state.range(2));
  auto table = random_floats(V * d, -0.5f, 0.5f, 31);
  auto m = random_floats(V * d, -0.1f, 0.1f, 32);
  auto v = random_floats(V * d, 0.0f, 0.01f, 33);  // second moments are >= 0
  const auto rows = distinct_rows(R, V, 34);
  const auto grad = random_floats(R * d, -0.1f, 0.1f, 35);
  i64 step = 1;
  run_cpu(state, sparse_step_bytes(R, d, 3), [&] {
    ref::sparse_adam(table.data(), m.data(), v.data(), d, rows.data(), nullptr, R, grad.data(),
                     1e-3f, 0.9f, 0.999f, 1e-8f, step++);
  });
}
BENCHMARK(BM_RefSparseAdam)->ArgNames({"R", "V", "d"})->Args({4096, 10000, 128});

#ifdef W2V_HAVE_CUDA
// ---- GPU harness.

template <class T>
using DeviceBuffer = gpu::DeviceBuffer<T>;

// Twice the L2 size: a memset of this many bytes leaves none of an op's inputs in L2.
std::size_t l2_flush_bytes() {
  int device = 0, l2 = 0;
  W2V_CUDA_CHECK(cudaGetDevice(&device));
  W2V_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device));
  return 2 * static_cast<std::size_t>(std::max(l2, 1 << 20));
}

// Bytes read + written per second by a 1 GiB device-to-device copy, measured once.
double copy_bandwidth(cudaStream_t stream) {
  static const double bandwidth = gpu::measure_copy_bandwidth(std::size_t{1} << 30, 10, stream);
  return bandwidth;
}

// A stream, two events and the L2 flush buffer for one benchmark run.
class GpuTimer {
 public:
  GpuTimer() : flush_(l2_flush_bytes()) {}
  cudaStream_t stream() const { return stream_.get(); }

  // Calls op(stream) once to warm up (module load, cached launch parameters), then once per
  // iteration between two events after an L2 flush; sets the iteration times and counters.
  template <typename Op>
  void run(benchmark::State& state, double bytes, Op&& op) {
    const double copy = copy_bandwidth(stream());
    // The inputs were uploaded with cudaMemcpy on the legacy default stream, which this
    // non-blocking stream does not wait for; a pageable copy may return before its DMA ends.
    W2V_CUDA_CHECK(cudaDeviceSynchronize());
    op(stream());
    W2V_CUDA_CHECK(cudaStreamSynchronize(stream()));
    std::vector<double> seconds;
    seconds.reserve(static_cast<std::size_t>(state.max_iterations));
    for (auto _ : state) {
      W2V_CUDA_CHECK(cudaMemsetAsync(flush_.get(), static_cast<int>(seconds.size() & 0x7f),
                                     flush_.size(), stream()));
      W2V_CUDA_CHECK(cudaEventRecord(start_.get(), stream()));
      op(stream());
      W2V_CUDA_CHECK(cudaEventRecord(stop_.get(), stream()));
      W2V_CUDA_CHECK(cudaEventSynchronize(stop_.get()));
      float ms = 0;
      W2V_CUDA_CHECK(cudaEventElapsedTime(&ms, start_.get(), stop_.get()));
      seconds.push_back(ms * 1e-3);
      state.SetIterationTime(ms * 1e-3);
    }
    if (seconds.empty()) return;
    const double total = std::accumulate(seconds.begin(), seconds.end(), 0.0);
    const double rate = total > 0 ? bytes * static_cast<double>(seconds.size()) / total : 0.0;
    auto middle = seconds.begin() + static_cast<std::ptrdiff_t>(seconds.size() / 2);
    std::nth_element(seconds.begin(), middle, seconds.end());
    state.counters["GB/s"] = rate * 1e-9;
    state.counters["of_copy"] = rate / copy;
    state.counters["MB"] = bytes * 1e-6;
    state.counters["median_ms"] = *middle * 1e3;
  }

 private:
  gpu::CudaStream stream_;
  gpu::CudaEvent start_, stop_;
  DeviceBuffer<unsigned char> flush_;
};

// Runs one GPU benchmark: skipped without a device; a w2v::Error (a failed CUDA call or a
// launcher rejecting its arguments) skips it with the message, after its buffers are freed.
template <typename Body>
void gpu_benchmark(benchmark::State& state, Body&& body) {
  static const gpu::DeviceInfo device = gpu::probe_device();
  if (!device.available) {
    state.SkipWithError(("no CUDA device (" + device.description + ")").c_str());
    return;
  }
  try {
    GpuTimer timer;
    body(timer);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

// Typical training sizes are short kernels: many repeats. Large sizes move >= 200 MB a call.
void typical(benchmark::internal::Benchmark* b) {
  b->UseManualTime()->Iterations(200)->Unit(benchmark::kMicrosecond);
}
void large(benchmark::internal::Benchmark* b) {
  b->UseManualTime()->Iterations(20)->Unit(benchmark::kMicrosecond);
}

// ---- GPU benchmarks, one per op and variant.

// The copy the other benchmarks are measured against, timed by the same harness: of_copy ~1.
// Bytes: n read + n written.
void BM_DeviceCopy(benchmark::State& state) {
  gpu_benchmark(state, [&](GpuTimer& timer) {
    const i64 n = state.range(0);
    DeviceBuffer<unsigned char> src(n), dst(n);
    W2V_CUDA_CHECK(cudaMemsetAsync(src.get(), 1, src.size(), timer.stream()));
    timer.run(state, 2.0 * static_cast<double>(n), [&](cudaStream_t s) {
      W2V_CUDA_CHECK(
          cudaMemcpyAsync(dst.get(), src.get(), src.size(), cudaMemcpyDeviceToDevice, s));
    });
  });
}
BENCHMARK(BM_DeviceCopy)->Apply(large)->ArgNames({"bytes"})->Arg(i64{1} << 30);

// gather_rows: N*d*4 read + N*d*4 written + N*4 indices. `offset` floats shift both the table
// and the output off 16-byte alignment.
void gather_rows_benchmark(benchmark::State& state, i64 offset) {
  gpu_benchmark(state, [&](GpuTimer& timer) {
    const i64 N = state.range(0), V = state.range(1);
    const int d = static_cast<int>(state.range(2));
    const bool vector = d % 4 == 0 && offset % 4 == 0;
    state.SetLabel(vector ? "float4 path" : "scalar path");
    DeviceBuffer<float> table(random_floats(V * d + offset, -0.5f, 0.5f, 101));
    DeviceBuffer<i32> idx(random_indices(N, V, 102));
    DeviceBuffer<float> out(N * d + offset);
    timer.run(state, gather_rows_bytes(N, d), [&](cudaStream_t s) {
      gpu::gather_rows(table.get() + offset, V, d, idx.get(), N, out.get() + offset, s);
    });
  });
}
void BM_GatherRowsVec4(benchmark::State& state) { gather_rows_benchmark(state, 0); }
void BM_GatherRowsScalar(benchmark::State& state) { gather_rows_benchmark(state, state.range(3)); }
BENCHMARK(BM_GatherRowsVec4)
    ->Apply(typical)
    ->ArgNames({"N", "V", "d"})
    ->Args({32768, 100000, 128})
    ->Args({32768, 100000, 100});
BENCHMARK(BM_GatherRowsVec4)
    ->Apply(large)
    ->ArgNames({"N", "V", "d"})
    ->Args({1 << 20, 2000000, 128})
    ->Args({1 << 20, 2000000, 100});
BENCHMARK(BM_GatherRowsScalar)
    ->Apply(typical)
    ->ArgNames({"N", "V", "d", "offset"})
    ->Args({32768, 100000, 100, 1})
    ->Args({32768, 100000, 3, 0});
BENCHMARK(BM_GatherRowsScalar)
    ->Apply(large)
    ->ArgNames({"N", "V", "d", "offset"})
    ->Args({1 << 20, 2000000, 100, 1})
    ->Args({1 << 24, 16000000, 3, 0});

// batched_dot: v B*d*4 + u B*L*d*4 read; scores B*L*4 written.
void BM_BatchedDot(benchmark::State& state) {
  gpu_benchmark(state, [&](GpuTimer& timer) {
    const i64 B = state.range(0);
    const int L = static_cast<int>(state.range(1)), d = static_cast<int>(state.range(2));
    DeviceBuffer<float> v(random_floats(B * d, -0.5f, 0.5f, 111));
    DeviceBuffer<float> u(random_floats(B * L * d, -0.5f, 0.5f, 112));
    DeviceBuffer<float> scores(B * L);
    timer.run(state, batched_dot_bytes(B, L, d), [&](cudaStream_t s) {
      gpu::batched_dot(v.get(), u.get(), B, L, d, scores.get(), s);
    });
  });
}
BENCHMARK(BM_BatchedDot)->Apply(typical)->ArgNames({"B", "L", "d"})->Args({4096, 6, 128});
BENCHMARK(BM_BatchedDot)->Apply(large)->ArgNames({"B", "L", "d"})->Args({131072, 6, 128});

// context_mean: sum(count)*d*4 (filled slots) + count B*4 read; h B*d*4 written.
void BM_ContextMean(benchmark::State& state) {
  gpu_benchmark(state, [&](GpuTimer& timer) {
    const i64 B = state.range(0);
    const int C = static_cast<int>(state.range(1)), d = static_cast<int>(state.range(2));
    const auto host_count = random_counts(B, C, 122);
    DeviceBuffer<float> ctx(random_floats(B * C * d, -0.5f, 0.5f, 121));
    DeviceBuffer<i32> count(host_count);
    DeviceBuffer<float> h(B * d);
    timer.run(state, context_mean_bytes(B, sum(host_count), d), [&](cudaStream_t s) {
      gpu::context_mean(ctx.get(), count.get(), B, C, d, h.get(), s);
    });
  });
}
BENCHMARK(BM_ContextMean)->Apply(typical)->ArgNames({"B", "C", "d"})->Args({4096, 10, 128});
BENCHMARK(BM_ContextMean)->Apply(large)->ArgNames({"B", "C", "d"})->Args({131072, 10, 128});

// context_mean_backward: grad_h B*d*4 + count B*4 read; grad_ctx B*C*d*4 written.
void BM_ContextMeanBackward(benchmark::State& state) {
  gpu_benchmark(state, [&](GpuTimer& timer) {
    const i64 B = state.range(0);
    const int C = static_cast<int>(state.range(1)), d = static_cast<int>(state.range(2));
    DeviceBuffer<float> grad_h(random_floats(B * d, -0.1f, 0.1f, 131));
    DeviceBuffer<i32> count(random_counts(B, C, 132));
    DeviceBuffer<float> grad_ctx(B * C * d);
    timer.run(state, context_mean_backward_bytes(B, C, d), [&](cudaStream_t s) {
      gpu::context_mean_backward(grad_h.get(), count.get(), B, C, d, grad_ctx.get(),
                                 Reduction::kMean, s);
    });
  });
}
BENCHMARK(BM_ContextMeanBackward)->Apply(typical)->ArgNames({"B", "C", "d"})->Args({4096, 10, 128});
BENCHMARK(BM_ContextMeanBackward)->Apply(large)->ArgNames({"B", "C", "d"})->Args({131072, 10, 128});

// batched_dot_backward: v B*d*4 + u B*L*d*4 + grad_scores B*L*4 read; grad_v B*d*4 +
// grad_u B*L*d*4 written.
void BM_BatchedDotBackward(benchmark::State& state) {
  gpu_benchmark(state, [&](GpuTimer& timer) {
    const i64 B = state.range(0);
    const int L = static_cast<int>(state.range(1)), d = static_cast<int>(state.range(2));
    DeviceBuffer<float> v(random_floats(B * d, -0.5f, 0.5f, 141));
    DeviceBuffer<float> u(random_floats(B * L * d, -0.5f, 0.5f, 142));
    DeviceBuffer<float> g(random_floats(B * L, -1.0f, 1.0f, 143));
    DeviceBuffer<float> grad_v(B * d), grad_u(B * L * d);
    timer.run(state, batched_dot_backward_bytes(B, L, d), [&](cudaStream_t s) {
      gpu::batched_dot_backward(v.get(), u.get(), g.get(), B, L, d, grad_v.get(), grad_u.get(), s);
    });
  });
}
BENCHMARK(BM_BatchedDotBackward)->Apply(typical)->ArgNames({"B", "L", "d"})->Args({4096, 6, 128});
BENCHMARK(BM_BatchedDotBackward)->Apply(large)->ArgNames({"B", "L", "d"})->Args({131072, 6, 128});

// sigmoid_bce_masked: logits, labels, mask 3*B*L*4 read; grad B*L*4 + loss B*4 written.
void BM_SigmoidBceMasked(benchmark::State& state) {
  gpu_benchmark(state, [&](GpuTimer& timer) {
    const i64 B = state.range(0);
    const int L = static_cast<int>(state.range(1));
    DeviceBuffer<float> logits(random_floats(B * L, -4.0f, 4.0f, 151));
    DeviceBuffer<float> labels(random_bits(B * L, 2, 152));
    DeviceBuffer<float> mask(random_bits(B * L, 10, 153));
    DeviceBuffer<float> loss(B), grad(B * L);
    timer.run(state, sigmoid_bce_bytes(B, L), [&](cudaStream_t s) {
      gpu::sigmoid_bce_masked(logits.get(), labels.get(), mask.get(), B, L, loss.get(), grad.get(),
                              Reduction::kMean, s);
    });
  });
}
BENCHMARK(BM_SigmoidBceMasked)->Apply(typical)->ArgNames({"B", "L"})->Args({4096, 32});
BENCHMARK(BM_SigmoidBceMasked)->Apply(large)->ArgNames({"B", "L"})->Args({1 << 21, 32});

// softmax_nll: logits B*V*4 + targets B*T*4 read; grad B*V*4 + loss B*4 written. The (B, V)
// with T = 1 are the shapes tools/softmax_vs_torch.py compares with PyTorch's cross_entropy.
void BM_SoftmaxNll(benchmark::State& state) {
  gpu_benchmark(state, [&](GpuTimer& timer) {
    const i64 B = state.range(0), V = state.range(1);
    const int T = static_cast<int>(state.range(2));
    DeviceBuffer<float> logits(random_floats(B * V, -4.0f, 4.0f, 161));
    DeviceBuffer<i32> targets(random_targets(B, T, V, 162));
    DeviceBuffer<float> loss(B), grad(B * V);
    const std::size_t workspace_bytes = gpu::softmax_nll_workspace_bytes(B, V);
    DeviceBuffer<unsigned char> workspace(workspace_bytes);
    timer.run(state, logits_loss_bytes(B, V, T), [&](cudaStream_t s) {
      gpu::softmax_nll(logits.get(), B, V, targets.get(), T, loss.get(), grad.get(),
                       Reduction::kMean, {s, workspace.get(), workspace_bytes});
    });
  });
}
BENCHMARK(BM_SoftmaxNll)
    ->Apply(typical)
    ->ArgNames({"B", "V", "T"})
    ->Args({256, 10000, 1})
    ->Args({256, 100000, 1});
BENCHMARK(BM_SoftmaxNll)
    ->Apply(large)
    ->ArgNames({"B", "V", "T"})
    ->Args({64, 1000000, 1})
    ->Args({8, 5000000, 1});

// full_bce: logits B*V*4 + targets B*T*4 read; grad B*V*4 + loss B*4 written.
void BM_FullBce(benchmark::State& state) {
  gpu_benchmark(state, [&](GpuTimer& timer) {
    const i64 B = state.range(0), V = state.range(1);
    const int T = static_cast<int>(state.range(2));
    DeviceBuffer<float> logits(random_floats(B * V, -4.0f, 4.0f, 171));
    DeviceBuffer<i32> targets(random_targets(B, T, V, 172));
    DeviceBuffer<float> loss(B), grad(B * V);
    timer.run(state, logits_loss_bytes(B, V, T), [&](cudaStream_t s) {
      gpu::full_bce(logits.get(), B, V, targets.get(), T, loss.get(), grad.get(), s);
    });
  });
}
BENCHMARK(BM_FullBce)->Apply(typical)->ArgNames({"B", "V", "T"})->Args({256, 10000, 10});
BENCHMARK(BM_FullBce)->Apply(large)->ArgNames({"B", "V", "T"})->Args({64, 1000000, 10});

// scatter_add_atomic: grad N*d*4 + idx N*4 read; the U distinct rows read and written,
// 2*U*d*4. Indices are uniform over V (word frequencies would add contention on frequent rows).
void BM_ScatterAddAtomic(benchmark::State& state) {
  gpu_benchmark(state, [&](GpuTimer& timer) {
    const i64 N = state.range(0), V = state.range(1);
    const int d = static_cast<int>(state.range(2));
    const auto host_idx = random_indices(N, V, 182);
    DeviceBuffer<float> table(random_floats(V * d, -0.5f, 0.5f, 181));
    DeviceBuffer<i32> idx(host_idx);
    DeviceBuffer<float> grad(random_floats(N * d, -0.1f, 0.1f, 183));
    timer.run(state, scatter_add_bytes(N, count_distinct(host_idx, V), d), [&](cudaStream_t s) {
      gpu::scatter_add_atomic(table.get(), V, d, idx.get(), N, grad.get(), -0.01f, nullptr, s);
    });
  });
}
BENCHMARK(BM_ScatterAddAtomic)
    ->Apply(typical)
    ->ArgNames({"N", "V", "d"})
    ->Args({32768, 100000, 128});
BENCHMARK(BM_ScatterAddAtomic)
    ->Apply(large)
    ->ArgNames({"N", "V", "d"})
    ->Args({1 << 20, 2000000, 128});

// scatter_add_sorted: the same minimum as the atomic version (the sort of N (index, position)
// pairs is the price of determinism, not bytes the op must move).
void BM_ScatterAddSorted(benchmark::State& state) {
  gpu_benchmark(state, [&](GpuTimer& timer) {
    const i64 N = state.range(0), V = state.range(1);
    const int d = static_cast<int>(state.range(2));
    const auto host_idx = random_indices(N, V, 192);
    DeviceBuffer<float> table(random_floats(V * d, -0.5f, 0.5f, 191));
    DeviceBuffer<i32> idx(host_idx);
    DeviceBuffer<float> grad(random_floats(N * d, -0.1f, 0.1f, 193));
    const std::size_t workspace_bytes = gpu::scatter_add_sorted_workspace_bytes(N, d);
    DeviceBuffer<unsigned char> workspace(workspace_bytes);
    timer.run(state, scatter_add_bytes(N, count_distinct(host_idx, V), d), [&](cudaStream_t s) {
      gpu::scatter_add_sorted(table.get(), V, d, idx.get(), N, grad.get(), -0.01f, nullptr,
                              {s, workspace.get(), workspace_bytes});
    });
  });
}
BENCHMARK(BM_ScatterAddSorted)
    ->Apply(typical)
    ->ArgNames({"N", "V", "d"})
    ->Args({32768, 100000, 128});
BENCHMARK(BM_ScatterAddSorted)
    ->Apply(large)
    ->ArgNames({"N", "V", "d"})
    ->Args({1 << 20, 2000000, 128});

// segment_sum_rows: idx N*4 + grad N*d*4 read; unique U*4 + summed U*d*4 + the count written.
void BM_SegmentSumRows(benchmark::State& state) {
  gpu_benchmark(state, [&](GpuTimer& timer) {
    const i64 N = state.range(0), V = state.range(1);
    const int d = static_cast<int>(state.range(2));
    const auto host_idx = random_indices(N, V, 202);
    DeviceBuffer<i32> idx(host_idx);
    DeviceBuffer<float> grad(random_floats(N * d, -0.1f, 0.1f, 203));
    DeviceBuffer<i32> unique(N), num_unique(1);
    DeviceBuffer<float> summed(N * d);
    const std::size_t workspace_bytes = gpu::segment_sum_workspace_bytes(N, d);
    DeviceBuffer<unsigned char> workspace(workspace_bytes);
    timer.run(state, segment_sum_bytes(N, count_distinct(host_idx, V), d), [&](cudaStream_t s) {
      gpu::segment_sum_rows(idx.get(), N, grad.get(), d, unique.get(), summed.get(),
                            num_unique.get(), nullptr, {s, workspace.get(), workspace_bytes});
    });
  });
}
BENCHMARK(BM_SegmentSumRows)->Apply(typical)->ArgNames({"N", "V", "d"})->Args({32768, 100000, 128});
BENCHMARK(BM_SegmentSumRows)
    ->Apply(large)
    ->ArgNames({"N", "V", "d"})
    ->Args({1 << 20, 2000000, 128});

// The words a trainer's batches hold over a Zipf corpus of V words (exponent 1): those that
// subsampling at 1e-4 keeps (the trainer's --sample for these benchmarks), and the noise words
// from unigram^exponent (the trainer's: 0.75 skip-gram, 0.6 CBOW). Raw Zipf draws make the top word
// 7% of the tokens at V = 1M where subsampling leaves 0.4%, which overstates hot rows, their
// atomics and the L2's hits.
struct ZipfBatchWords {
  static constexpr double kSample = 1e-4;
  std::vector<double> kept, noise;  // probabilities, each summing to 1
  ZipfBatchWords(i64 V, double noise_exponent) : kept(V), noise(V) {
    double harmonic = 0, kept_sum = 0, noise_sum = 0;
    for (i64 w = 0; w < V; ++w) harmonic += 1.0 / double(w + 1);
    for (i64 w = 0; w < V; ++w) {
      const double f = 1.0 / double(w + 1) / harmonic;
      kept[w] = f * keep_probability(f, kSample);
      noise[w] = std::pow(f, noise_exponent);
      kept_sum += kept[w];
      noise_sum += noise[w];
    }
    for (double& p : kept) p /= kept_sum;
    for (double& p : noise) p /= noise_sum;
  }
};

// The output slots of a modular skip-gram batch as the trainer scatters them (--batch 1024,
// window 5, negative 5: 60 slots a row). A row's first 6c slots are in use (c, its context
// words, uniform in 2..10: a dynamic window's 1..5 on each side): each context word (a kept
// word) and its 5 noise words, with scale 1; the rest are padding, id 0, scale 0.
// `zero_rows` 1 scatters the padding as the trainer did before 2026-12-06, with scale 1 and a
// zero gradient: every padding slot an update of row 0. op: 0 scatter_add_atomic,
// 1 scatter_add_sorted, 2 segment_sum_rows (the step of momentum and Adam). Bytes: those of
// the slots in use.
struct ModularOutputSlots {
  static constexpr i64 kRows = 1024, kSlots = 60;
  std::vector<i32> idx;
  std::vector<float> scale;
  std::vector<i64> row_used;  // each row's slots in use, the first ones
  i64 used = 0, distinct = 0;
  ModularOutputSlots(i64 V, bool zero_rows, std::uint64_t seed)
      : idx(kRows * kSlots, 0), scale(kRows * kSlots, zero_rows ? 1.0f : 0.0f) {
    const ZipfBatchWords words(V, TrainConfig{}.noise_exponent());  // skip-gram's
    const AliasTable kept(words.kept), noise(words.noise);
    Rng rng(seed);
    std::vector<i32> in_use;
    for (i64 r = 0; r < kRows; ++r) {
      const i64 slots = 6 * (2 + below(rng, 9));
      row_used.push_back(slots);
      for (i64 s = 0; s < slots; ++s) {
        const auto id = static_cast<i32>(s % 6 == 0 ? kept.sample(rng) : noise.sample(rng));
        idx[r * kSlots + s] = id;
        scale[r * kSlots + s] = 1.0f;
        in_use.push_back(id);
      }
    }
    used = static_cast<i64>(in_use.size());
    distinct = count_distinct(in_use, V);
  }
};

void BM_ScatterModularBatch(benchmark::State& state) {
  gpu_benchmark(state, [&](GpuTimer& timer) {
    const i64 V = 1000000;
    const int d = 128, op = static_cast<int>(state.range(0));
    const ModularOutputSlots slots(V, state.range(1) != 0, 221);
    const i64 N = static_cast<i64>(slots.idx.size());
    std::vector<float> host_grad = random_floats(N * d, -0.1f, 0.1f, 222);
    for (i64 r = 0; r < ModularOutputSlots::kRows; ++r)  // padding: a zero gradient
      std::fill(host_grad.begin() + (r * ModularOutputSlots::kSlots + slots.row_used[r]) * d,
                host_grad.begin() + (r + 1) * ModularOutputSlots::kSlots * d, 0.0f);
    DeviceBuffer<float> table(random_floats(V * d, -0.5f, 0.5f, 223));
    DeviceBuffer<i32> idx(slots.idx), unique(N), num_unique(1);
    DeviceBuffer<float> grad(host_grad), scale(slots.scale), summed(N * d);
    const std::size_t workspace_bytes = gpu::segment_sum_workspace_bytes(N, d);
    DeviceBuffer<unsigned char> workspace(workspace_bytes);
    const double bytes = op == 2 ? segment_sum_bytes(slots.used, slots.distinct, d)
                                 : scatter_add_bytes(slots.used, slots.distinct, d);
    state.counters["slots_used"] = static_cast<double>(slots.used) / static_cast<double>(N);
    timer.run(state, bytes, [&](cudaStream_t s) {
      const gpu::Launch launch(s, workspace.get(), workspace_bytes);
      if (op == 0)
        gpu::scatter_add_atomic(table.get(), V, d, idx.get(), N, grad.get(), -0.01f, scale.get(),
                                launch);
      else if (op == 1)
        gpu::scatter_add_sorted(table.get(), V, d, idx.get(), N, grad.get(), -0.01f, scale.get(),
                                launch);
      else
        gpu::segment_sum_rows(idx.get(), N, grad.get(), d, unique.get(), summed.get(),
                              num_unique.get(), scale.get(), launch);
    });
  });
}
BENCHMARK(BM_ScatterModularBatch)
    ->Apply(typical)
    ->ArgNames({"op", "zero_rows"})
    ->ArgsProduct({{0, 1, 2}, {0, 1}});

// The optimizers step R distinct rows of a [V, d] table; the row count is on the device, as
// segment_sum_rows leaves it.
struct SparseRows {
  SparseRows(i64 R, i64 V, std::uint64_t seed)
      : rows(distinct_rows(R, V, seed)), count(std::vector<i32>{static_cast<i32>(R)}) {}
  DeviceBuffer<i32> rows;
  DeviceBuffer<i32> count;
};

// sparse_sgd: rows R*4 + grad R*d*4 read; the table's rows read and written, 2*R*d*4.
void BM_SparseSgd(benchmark::State& state) {
  gpu_benchmark(state, [&](GpuTimer& timer) {
    const i64 R = state.range(0), V = state.range(1);
    const int d = static_cast<int>(state.range(2));
    DeviceBuffer<float> table(random_floats(V * d, -0.5f, 0.5f, 211));
    SparseRows rows(R, V, 212);
    DeviceBuffer<float> grad(random_floats(R * d, -0.1f, 0.1f, 213));
    timer.run(state, sparse_step_bytes(R, d, 1), [&](cudaStream_t s) {
      gpu::sparse_sgd(table.get(), d, rows.rows.get(), rows.count.get(), R, grad.get(), 0.01f, s);
    });
  });
}
BENCHMARK(BM_SparseSgd)->Apply(typical)->ArgNames({"R", "V", "d"})->Args({32768, 100000, 128});
BENCHMARK(BM_SparseSgd)->Apply(large)->ArgNames({"R", "V", "d"})->Args({1 << 20, 2000000, 128});

// sparse_momentum: rows R*4 + grad R*d*4 read; table and velocity rows read and written,
// 2*2*R*d*4. Both variants (plain and Nesterov) move the same bytes.
void BM_SparseMomentum(benchmark::State& state) {
  gpu_benchmark(state, [&](GpuTimer& timer) {
    const i64 R = state.range(0), V = state.range(1);
    const int d = static_cast<int>(state.range(2));
    const bool nesterov = state.range(3) != 0;
    DeviceBuffer<float> table(random_floats(V * d, -0.5f, 0.5f, 221));
    DeviceBuffer<float> velocity(random_floats(V * d, -0.1f, 0.1f, 222));
    SparseRows rows(R, V, 223);
    DeviceBuffer<float> grad(random_floats(R * d, -0.1f, 0.1f, 224));
    timer.run(state, sparse_step_bytes(R, d, 2), [&](cudaStream_t s) {
      gpu::sparse_momentum(table.get(), velocity.get(), d, rows.rows.get(), rows.count.get(), R,
                           grad.get(), 0.01f, 0.9f, nesterov, s);
    });
  });
}
BENCHMARK(BM_SparseMomentum)
    ->Apply(typical)
    ->ArgNames({"R", "V", "d", "nesterov"})
    ->Args({32768, 100000, 128, 0})
    ->Args({32768, 100000, 128, 1});
BENCHMARK(BM_SparseMomentum)
    ->Apply(large)
    ->ArgNames({"R", "V", "d", "nesterov"})
    ->Args({1 << 20, 2000000, 128, 0})
    ->Args({1 << 20, 2000000, 128, 1});

// sparse_adam: rows R*4 + grad R*d*4 read; table, m and v rows read and written, 3*2*R*d*4.
void BM_SparseAdam(benchmark::State& state) {
  gpu_benchmark(state, [&](GpuTimer& timer) {
    const i64 R = state.range(0), V = state.range(1);
    const int d = static_cast<int>(state.range(2));
    DeviceBuffer<float> table(random_floats(V * d, -0.5f, 0.5f, 231));
    DeviceBuffer<float> m(random_floats(V * d, -0.1f, 0.1f, 232));
    DeviceBuffer<float> v(random_floats(V * d, 0.0f, 0.01f, 233));  // second moments are >= 0
    SparseRows rows(R, V, 234);
    DeviceBuffer<float> grad(random_floats(R * d, -0.1f, 0.1f, 235));
    i64 step = 1;
    timer.run(state, sparse_step_bytes(R, d, 3), [&](cudaStream_t s) {
      gpu::sparse_adam(table.get(), m.get(), v.get(), d, rows.rows.get(), rows.count.get(), R,
                       grad.get(), 1e-3f, 0.9f, 0.999f, 1e-8f, step++, s);
    });
  });
}
BENCHMARK(BM_SparseAdam)->Apply(typical)->ArgNames({"R", "V", "d"})->Args({32768, 100000, 128});
BENCHMARK(BM_SparseAdam)->Apply(large)->ArgNames({"R", "V", "d"})->Args({1 << 20, 2000000, 128});

// fused_ns (kernels/fused_ns.cu): one batch of `T` kept tokens (the kept words of a Zipf corpus
// over V, ZipfBatchWords) in sentences of `sentence` tokens on average: 1000 each (the limit,
// as a corpus without sentence ends gives), or drawn uniformly from 2..2 sentence - 2 (43: a
// kept sentence of the Wikipedia cut, whose chunks average 35 centers, 19% of them the full
// 64), in chunks the warps take from the launch's queue or, `strided:1`, in turn (FusedShape::
// strided_chunks: what the queue gains over uneven chunks); noise as the model's default, the
// repeat cap at the fused path's default (8, fused_repeat_scales's allowances for these
// distributions, scaled for the warps the launch runs). Each center needs, at least, its input row
// read and its change written once (it enters and leaves one ring) and 1 + N output rows read and
// written: (2 + 2 (1 + N)) d * 4 bytes plus its token. `centers/s` is kept tokens trained per
// second (corpus words/s is this over the kept fraction, about 0.5 at sample 1e-4).
// Tables start at word2vec's init and alpha is small, so repeated calls stay finite. `version`
// is the kernel's (FusedShape::version): 1 is kept at d 128 to be measured against 2. An
// iteration is `launches` launches of the batch, on one stream or, `streams:2`, taking two
// in turn (each with its own chunk queue), as the trainer's batches do under --fused-streams:
// what a launch's next one gains by starting beside its last warps; `blocks4:1` keeps blocks of
// 4 warps there (FusedShape::four_warp_blocks).
void BM_FusedNs(benchmark::State& state) {
  gpu_benchmark(state, [&](GpuTimer& timer) {
    const i64 T = state.range(0), V = state.range(1);
    const FusedShape shape{.cbow = state.range(5) != 0,
                           .dim = static_cast<std::uint32_t>(state.range(2)),
                           .window = static_cast<std::uint32_t>(state.range(3)),
                           .negative = static_cast<std::uint32_t>(state.range(4)),
                           .refresh_rows = state.range(7) != 0,
                           .version = static_cast<std::uint32_t>(state.range(6)),
                           .strided_chunks = state.range(9) != 0,
                           .four_warp_blocks = state.range(12) != 0};
    const i64 sentence = state.range(8);
    const i64 launches = state.range(10), streams = state.range(11);
    TrainConfig trainer;  // the defaults this benchmark follows
    trainer.model = shape.cbow ? ModelKind::kCbow : ModelKind::kSkipGram;
    const ZipfBatchWords distribution(V, trainer.noise_exponent());
    const AliasTable words(distribution.kept), noise_table(distribution.noise);
    Rng rng(301);
    std::vector<i32> tokens(T);
    for (i32& t : tokens) t = static_cast<i32>(words.sample(rng));
    const std::vector<float> allowances = fused_repeat_allowances(
        distribution.kept, distribution.noise, trainer.repeat_cap_on(/*fused=*/true), shape.window,
        shape.negative);
    std::vector<FusedChunk> chunks;
    const i64 spread = std::min(sentence - 2, 1000 - sentence);
    for (i64 s = 0, length = 0; s < T; s += length) {
      length = sentence - spread + static_cast<i64>(rng.below(2 * spread + 1));
      const i32 end = static_cast<i32>(std::min<i64>(T, s + length));
      for (i32 c = static_cast<i32>(s); c < end; c += kFusedChunkCenters)
        chunks.push_back({static_cast<i32>(s), end, c, std::min<i32>(end, c + kFusedChunkCenters)});
    }
    const i64 C = static_cast<i64>(chunks.size());
    std::vector<i32> chunk_words(4 * C);
    std::memcpy(chunk_words.data(), chunks.data(), chunk_words.size() * sizeof(i32));
    const float init = 0.5f / static_cast<float>(shape.dim);
    DeviceBuffer<float> in(random_floats(V * shape.dim, -init, init, 302));
    DeviceBuffer<float> out(random_floats(V * shape.dim, -init, init, 303));
    DeviceBuffer<i32> d_tokens(tokens), d_chunks(chunk_words);
    DeviceBuffer<std::uint32_t> threshold(noise_table.thresholds()), alias(noise_table.aliases());
    DeviceBuffer<float> loss(C), examples(C), d_allowances(allowances);
    DeviceBuffer<std::uint32_t> queue(2);
    gpu::CudaStream second;
    gpu::CudaEvent fork(cudaEventDisableTiming), join(cudaEventDisableTiming);
    const FusedScales scales{
        d_allowances.get(), d_allowances.get() + V,
        1.0f / static_cast<float>(std::min<std::size_t>(static_cast<std::size_t>(C),
                                                        gpu::fused_ns_resident_warps(shape)))};
    // Rows a center reads and writes: the window's entering and leaving rows and its targets'
    // and refreshed, its contexts' (window + 1 of them on average) once more each way.
    const double rows =
        2.0 + 2.0 * (1 + shape.negative) + (shape.refresh_rows ? 2.0 * (shape.window + 1) : 0.0);
    const double bytes = static_cast<double>(T) * (rows * shape.dim * 4 + 4);
    std::uint32_t launch = 0;
    timer.run(state, bytes * static_cast<double>(launches), [&](cudaStream_t s) {
      if (streams > 1) {
        W2V_CUDA_CHECK(cudaEventRecord(fork.get(), s));
        W2V_CUDA_CHECK(cudaStreamWaitEvent(second.get(), fork.get(), 0));
      }
      for (i64 l = 0; l < launches; ++l) {
        const bool other = streams > 1 && l % 2 == 1;
        gpu::fused_ns(in.get(), out.get(), static_cast<std::size_t>(V), shape, {1e-3f, 1, launch++},
                      {threshold.get(), alias.get(), static_cast<std::uint32_t>(V), nullptr},
                      {d_tokens.get(), T, reinterpret_cast<const FusedChunk*>(d_chunks.get()), C,
                       loss.get(), examples.get(), queue.get() + (other ? 1 : 0)},
                      scales, other ? second.get() : s);
      }
      if (streams > 1) {
        W2V_CUDA_CHECK(cudaEventRecord(join.get(), second.get()));
        W2V_CUDA_CHECK(cudaStreamWaitEvent(s, join.get(), 0));
      }
    });
    state.counters["centers/s"] = benchmark::Counter(static_cast<double>(T * launches),
                                                     benchmark::Counter::kIsIterationInvariantRate);
    state.counters["warps"] = static_cast<double>(gpu::fused_ns_resident_warps(shape));
  });
}
BENCHMARK(BM_FusedNs)
    ->Apply(large)
    ->ArgNames({"T", "V", "d", "window", "negative", "cbow", "version", "refresh", "sentence",
                "strided", "launches", "streams", "blocks4"})
    ->Args({4 << 20, 71290, 128, 5, 5, 0, 2, 1, 1000, 0, 1, 1, 0})
    ->Args({4 << 20, 1000000, 128, 5, 5, 0, 2, 1, 1000, 0, 1, 1, 0})
    ->Args({4 << 20, 1000000, 128, 5, 5, 0, 2, 0, 1000, 0, 1, 1, 0})  // held: what refreshing costs
    ->Args({4 << 20, 1000000, 128, 5, 5, 0, 1, 0, 1000, 0, 1, 1, 0})
    ->Args({4 << 20, 1000000, 128, 5, 7, 0, 2, 1, 1000, 0, 1, 1, 0})  // 8 target slots, 12 warps/SM
    ->Args({4 << 20, 1000000, 128, 5, 5, 1, 2, 1, 1000, 0, 1, 1, 0})
    ->Args({4 << 20, 1000000, 128, 5, 5, 1, 2, 0, 1000, 0, 1, 1, 0})
    ->Args({4 << 20, 1000000, 128, 5, 5, 1, 1, 0, 1000, 0, 1, 1, 0})
    ->Args({4 << 20, 1000000, 100, 5, 5, 0, 2, 1, 1000, 0, 1, 1, 0})
    ->Args({4 << 20, 1000000, 300, 5, 5, 0, 2, 1, 1000, 0, 1, 1, 0})
    ->Args({4 << 20, 1000000, 300, 5, 5, 1, 2, 1, 1000, 0, 1, 1, 0})
    // Sentences as the Wikipedia cut's, in batches of the trainer's default 2^20 tokens: the
    // queue against strided chunks; then 4 launches a time on one stream and on two, in blocks
    // of the launcher's choice and of 4 warps.
    ->Args({1 << 20, 1000000, 128, 5, 5, 0, 2, 1, 43, 0, 1, 1, 0})
    ->Args({1 << 20, 1000000, 128, 5, 5, 0, 2, 1, 43, 1, 1, 1, 0})
    ->Args({1 << 20, 1000000, 128, 5, 5, 1, 2, 1, 43, 0, 1, 1, 0})
    ->Args({1 << 20, 1000000, 128, 5, 5, 1, 2, 1, 43, 1, 1, 1, 0})
    ->Args({1 << 20, 1000000, 128, 5, 5, 0, 2, 1, 43, 0, 4, 1, 0})
    ->Args({1 << 20, 1000000, 128, 5, 5, 0, 2, 1, 43, 0, 4, 2, 0})
    ->Args({1 << 20, 1000000, 128, 5, 5, 0, 2, 1, 43, 0, 4, 2, 1})
    ->Args({1 << 20, 1000000, 128, 5, 5, 1, 2, 1, 43, 0, 4, 1, 0})
    ->Args({1 << 20, 1000000, 128, 5, 5, 1, 2, 1, 43, 0, 4, 2, 0});

#endif  // W2V_HAVE_CUDA

}  // namespace
}  // namespace w2v
