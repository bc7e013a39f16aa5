#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz/ with clang (ASan + UBSan, build-fuzz/) and runs
# each in turn, one process, for SECONDS (default 60) over its seeds (tests/fuzz/corpus/NAME/)
# merged into a scratch corpus (build-fuzz/corpus/NAME/, kept between runs; the seeds are
# never written to). Prints one line per harness and exits 1 if any crashed (or leaked, hung,
# ran out of memory), naming the saved input. --regress runs each harness once over its seeds,
# without fuzzing (CI). NAMEs (e.g. vocab checkpoint) limit the run to those harnesses.
# Usage: tools/fuzz.sh [SECONDS | --regress] [NAME...]
set -euo pipefail
cd "$(dirname "$0")/.."
# UBSan names only the line of a report unless asked for the stack.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
mode=fuzz seconds=60
if [[ "${1:-}" == --regress ]]; then
  mode=regress
  shift
elif [[ "${1:-}" =~ ^[1-9][0-9]*$ ]]; then  # libFuzzer reads 0 seconds as no limit
  seconds=$1
  shift
elif [[ "${1:-}" == -* ]]; then
  echo "usage: tools/fuzz.sh [SECONDS | --regress] [NAME...]" >&2
  exit 2
fi

names=("$@")
if ((${#names[@]} == 0)); then
  for f in tests/fuzz/fuzz_*.cc; do
    n=${f#tests/fuzz/fuzz_}
    names+=("${n%.cc}")
  done
fi
for n in "${names[@]}"; do
  [[ -f tests/fuzz/fuzz_$n.cc ]] || { echo "no harness tests/fuzz/fuzz_$n.cc" >&2; exit 2; }
done

# Longest input per harness: room for the seeds and a few rows or flags more; shorter inputs
# run faster and shrink the same bugs.
max_len() {
  case $1 in
    flags | corpus) echo 512 ;;
    vectors_text | checkpoint) echo 2048 ;;
    *) echo 1024 ;;
  esac
}

build="build-fuzz"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
echo "== building fuzz harnesses with clang ($build/)"
build_log=$(mktemp)
trap 'rm -f "$build_log"' EXIT
if ! { CC=clang CXX=clang++ cmake -S . -B "$build" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DW2V_FUZZ=ON -DW2V_ENABLE_CUDA=OFF -DW2V_BUILD_TESTS=OFF \
  -DW2V_BUILD_BENCH=OFF &&
  cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target "${names[@]/#/fuzz_}"; } \
  >"$build_log" 2>&1; then
  tail -n 40 "$build_log"
  echo "fuzz build failed" >&2
  exit 1
fi

failed=0
for n in "${names[@]}"; do
  bin=$build/fuzz_$n
  seeds=tests/fuzz/corpus/$n
  log=$build/logs/$n.log
  artifacts=$build/crashes/$n/
  mkdir -p "$build/logs" "$artifacts"
  status=0
  if [[ $mode == regress ]]; then
    # Each seed once, by name: nothing is mutated and nothing is written.
    "$bin" -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$artifacts" "$seeds"/* >"$log" 2>&1 ||
      status=$?
    runs=$(find "$seeds" -type f | wc -l)
    if ((status == 0)); then
      printf '%-16s %4d seeds  ok\n' "$n" "$runs"
    else
      printf '%-16s %4d seeds  FAILED (exit %d): see %s\n' "$n" "$runs" "$status" "$log"
      grep -E '^(SUMMARY|==[0-9]+==ERROR)|runtime error|invariant failed|Running: ' "$log" |
        tail -4 | sed 's/^/    /'
      failed=1
    fi
    continue
  fi
  scratch=$build/corpus/$n
  mkdir -p "$scratch"
  cp -n "$seeds"/* "$scratch"/ 2>/dev/null || true
  "$bin" -max_total_time="$seconds" -max_len="$(max_len "$n")" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts" "$scratch" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [[ -z $execs ]]; then  # a crash skips the final stats: take the last status line
    execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log" | tail -1)
    rate=$(sed -n 's/^#[0-9].* exec\/s: \([0-9]*\).*/\1/p' "$log" | tail -1)
  fi
  crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
  if ((status == 0)) && [[ -z $crash ]]; then
    printf '%-16s %12s execs %8s exec/s  no crash\n' "$n" "${execs:-?}" "${rate:-?}"
  else
    kind=$(grep -oE 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer): [a-z-]+|invariant failed|runtime error' "$log" | head -1 || true)
    printf '%-16s %12s execs %8s exec/s  CRASH (%s): %s (log %s)\n' "$n" "${execs:-?}" \
      "${rate:-?}" "${kind:-exit $status}" "${crash:-no input saved}" "$log"
    # The report's first line and the top of its stack.
    { grep -m1 -E 'runtime error|ERROR: |invariant failed' "$log" || true
      grep -E '^ +#[0-9]+ ' "$log" | head -4 || true; } | sed 's/^ */    /' | cut -c1-200
    failed=1
  fi
done
exit "$failed"
