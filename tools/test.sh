#!/usr/bin/env bash
# Builds w2v and runs every test twice: a Release build (with the CUDA kernels when nvcc is
# present; GPU tests skip without a device), then the host code under AddressSanitizer and
# UndefinedBehaviorSanitizer; last, where clang and libFuzzer are installed, 10 s of each fuzz
# harness (tools/fuzz.sh). Usage: tools/test.sh [--no-sanitize]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

run_suite() {
  local dir=$1
  shift
  cmake -S . -B "$dir" "${generator[@]}" "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  (cd "$dir" && ctest --output-on-failure -j "$jobs")
}

echo "== release build and tests (build-test/)"
run_suite build-test -DCMAKE_BUILD_TYPE=Release
if [[ "${1:-}" != "--no-sanitize" ]]; then
  echo "== AddressSanitizer + UndefinedBehaviorSanitizer build and tests (build-asan/)"
  # Sanitizers cover the host code; the CUDA runtime does not run under ASan's shadow memory.
  run_suite build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DW2V_SANITIZE=ON \
    -DW2V_ENABLE_CUDA=OFF -DW2V_BUILD_BENCH=OFF
fi

# True when clang++ can build a libFuzzer binary (the compiler and its runtime, whatever the
# version's library layout).
can_fuzz() {
  local dir status
  dir=$(mktemp -d)
  echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
    >"$dir/probe.cc"
  status=0
  clang++ -fsanitize=fuzzer,address,undefined "$dir/probe.cc" -o "$dir/probe" >/dev/null 2>&1 ||
    status=1
  rm -rf "$dir"
  return $status
}

if [[ "${1:-}" == "--no-sanitize" ]]; then
  echo "== fuzz regression skipped: --no-sanitize (the harnesses run under ASan + UBSan)"
elif ! command -v clang++ >/dev/null; then
  echo "== fuzz regression skipped: no clang++ (Debian: apt-get install clang libclang-rt-dev)"
elif ! can_fuzz; then
  echo "== fuzz regression skipped: clang++ cannot link libFuzzer (Debian: apt-get install libclang-rt-dev)"
else
  echo "== fuzz regression: 10 s of each libFuzzer harness (build-fuzz/)"
  tools/fuzz.sh 10
fi
