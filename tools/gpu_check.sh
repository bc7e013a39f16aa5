#!/usr/bin/env bash
# Everything that needs a GPU, on the device machine: build for sm_90, run the whole test
# suite, compute-sanitizer memcheck and racecheck over the kernel and GPU-trainer tests, the
# kernel benchmarks with the PyTorch softmax comparison, and the end-to-end trainer benchmark
# against PyTorch. Logs go to $OUT (default gpu-logs/).
#
#   tools/gpu_check.sh [STAGE...]    stages: tests sanitize bench e2e wiki synth1b
#                                    (default: tests sanitize bench e2e)
#
# A device call may run 10 minutes: split the stages over calls if needed (the build is kept
# while the machine stays warm).
#
# The GPU machine has no GoogleTest, Google Benchmark or ../shared: prepare them here once,
# then carry .deps in the device call (it is git-ignored):
#   mkdir -p .deps/data && (cd .deps && apt-get download libgtest-dev libbenchmark-dev \
#     libbenchmark1debian) && cp ../shared/data/{text8_prefix.txt,questions-words.txt,wordsim353.tsv} .deps/data/
# For the wiki stage, a cut of the Wikipedia corpus that fits the 64 MiB carry:
#   xz -dc ../shared/data/extra/enwiki2015_60m.txt.xz | head -c 215000000 | xz -6 >.deps/data/enwiki_cut.txt.xz
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${OUT:-gpu-logs}
mkdir -p "$out"
stages=${*:-tests sanitize bench e2e}
want() { [[ " $stages " == *" $1 "* ]]; }
status=0
step() { printf '\n== %s\n' "$*" | tee -a "$out/summary.txt"; }
record() {  # NAME EXIT
  echo "$1: exit $2" | tee -a "$out/summary.txt"
  ((status |= $2 != 0))
}

step "device"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem \
  --format=csv | tee -a "$out/summary.txt"
echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)" | tee -a "$out/summary.txt"

prefix=$PWD/.deps/root
if [[ ! -d $prefix/usr ]]; then
  mkdir -p "$prefix"
  for deb in .deps/*.deb; do dpkg -x "$deb" "$prefix"; done
fi
export LD_LIBRARY_PATH=$prefix/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# The tests look for the data beside the repository, as in a developer's checkout.
if [[ ! -f ../shared/data/text8_prefix.txt && -d .deps/data ]]; then
  mkdir -p ../shared/data && cp .deps/data/* ../shared/data/
fi

step "build (Release, sm_90)"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B build-gpu "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DW2V_CUDA_ARCHITECTURES=90 -DCMAKE_PREFIX_PATH="$prefix/usr" >"$out/build.log" 2>&1 &&
  cmake --build build-gpu -j "$(nproc)" >>"$out/build.log" 2>&1
record build $?
tail -3 "$out/build.log"

if want tests; then
  step "all tests (ctest)"
  (cd build-gpu && ctest -j 8 --output-on-failure) >"$out/ctest.log" 2>&1
  record ctest $?
  grep -E "tests passed|FAILED|Skipped" "$out/ctest.log" | tail -8
fi

# The kernels, and the GPU trainer's step on real batches (ModularOnGpu.FirstBatches...). The
# fused kernel's lock-free updates are global-memory races by design (include/w2v/kernels/fused_ns.h);
# racecheck checks shared memory, where its lanes never share an element.
sanitized_tests='Dims/*:Shapes/*:*Kernel*:Gemm.*:ScatterAdd.*:SparseOptimizers.*:*FirstBatches*'
if want sanitize; then
  for tool in memcheck racecheck; do
    step "compute-sanitizer $tool over the kernel and trainer-step tests"
    compute-sanitizer --tool "$tool" --error-exitcode 9 build-gpu/w2v_tests \
      --gtest_filter="$sanitized_tests" >"$out/$tool.log" 2>&1
    record "$tool" $?
    grep -E "ERROR SUMMARY|RACECHECK SUMMARY|PASSED|FAILED" "$out/$tool.log" | tail -4
  done
fi

if want bench; then
  step "kernel benchmarks"
  build-gpu/w2v_bench --benchmark_filter=-BM_Ref \
    --benchmark_out="$out/bench.json" --benchmark_out_format=json >"$out/bench.txt" 2>&1
  record bench $?
  step "softmax + NLL against PyTorch cross_entropy"
  python3 tools/softmax_vs_torch.py --bench build-gpu/w2v_bench >"$out/torch.md" 2>&1
  record torch $?
  cat "$out/torch.md"
fi

if want e2e; then
  step "end to end: text8 prefix, 5 epochs, every mode; PyTorch d2l-style beside it"
  bench/e2e.sh --w2v build-gpu/w2v --device cuda --epochs 5 --torch --out "$out/e2e-text8" \
    --modes "sg-ns cbow-ns sg-ns-modular cbow-ns-modular sg-ns-tied sg-ns-adam sg-softmax cbow-softmax sg-ns-cpu cbow-ns-cpu" \
    --extra "--max-vocab 30000" >"$out/e2e-text8.md" 2>&1
  record e2e-text8 $?
  cat "$out/e2e-text8.md"
  step "end to end: 200M-token synthetic corpus (1M word types), 1 epoch"
  bench/e2e.sh --w2v build-gpu/w2v --device cuda --epochs 1 --synth 200000000 \
    --out /tmp/w2v-e2e-synth --modes "sg-ns cbow-ns" >"$out/e2e-synth.md" 2>&1
  record e2e-synth $?
  cat "$out/e2e-synth.md"
fi
if want wiki; then
  step "end to end: Wikipedia (the carried cut), 5 epochs, fused GPU against the CPU trainer"
  corpus=.deps/data/enwiki_cut.txt.xz
  [[ -f $corpus ]] || corpus=../shared/data/extra/enwiki2015_60m.txt.xz
  bench/e2e.sh --w2v build-gpu/w2v --device cuda --epochs 5 --corpus "$corpus" --torch \
    --torch-epochs 1 --out /tmp/w2v-e2e-wiki --modes "sg-ns cbow-ns sg-ns-cpu cbow-ns-cpu" \
    >"$out/e2e-wiki.md" 2>&1
  record e2e-wiki $?
  cat "$out/e2e-wiki.md"
fi

if want synth1b; then
  step "end to end: 1B-token synthetic corpus (1M word types), 1 epoch, fused"
  bench/e2e.sh --w2v build-gpu/w2v --device cuda --epochs 1 --synth 1000000000 \
    --out /tmp/w2v-e2e-synth1b --modes "sg-ns cbow-ns" >"$out/e2e-synth1b.md" 2>&1
  record e2e-synth1b $?
  cat "$out/e2e-synth1b.md"
fi
exit "$status"
