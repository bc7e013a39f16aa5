#!/usr/bin/env bash
# tools/gpu_check.sh's bookkeeping, with stand-ins for cmake, ctest and nvidia-smi (no GPU
# needed): its logs come back as $OUT/summary.md and $OUT/logs.tar.gz (the device tool returns
# at most 8 files), also from a run killed at the call's time limit; no stage starts past
# W2V_CHECK_SECONDS and the summary names the stages left; an unknown stage is refused before
# anything runs; a stage still running at W2V_CHECK_STOP_SECONDS is stopped; every test that
# calls REQUIRE_GPU is in the GPU tests stage. Usage:
# tests/gpu_check_test.sh WORK_DIR
set -euo pipefail
source_dir=$(cd "$(dirname "$0")/.." && pwd)
work=$1
rm -rf "$work"
mkdir -p "$work/repo/tools" "$work/repo/.deps/root/usr" "$work/repo/build-gpu" "$work/bin"
cp "$source_dir/tools/gpu_check.sh" "$source_dir/tools/describe_cpu.sh" "$work/repo/tools/"
printf '#!/bin/sh\necho "name, memory.total"\necho "Stand-in GPU, 1 MiB"\n' >"$work/bin/nvidia-smi"
printf '#!/bin/sh\necho "stand-in cmake $*"\n' >"$work/bin/cmake"
# With CTEST_IGNORES_TERM the stand-in ctest, like w2v preparing a corpus, does not stop on TERM.
printf '#!/bin/sh\n[ -n "$CTEST_IGNORES_TERM" ] && trap "" TERM\necho "test 1 started"\nsleep "${CTEST_SECONDS:-0}"\necho "100%% tests passed"\n' \
  >"$work/bin/ctest"
chmod +x "$work/bin/"*
export PATH=$work/bin:$PATH
fail() {
  echo "gpu_check_test: $*" >&2
  exit 1
}
check() {  # NAME EXIT STAGES...: run the check into $work/NAME with that exit status
  local name=$1 expected=$2 status=0
  shift 2
  mkdir -p "$work/$name"
  OUT=$work/$name "$work/repo/tools/gpu_check.sh" "$@" >"$work/$name.log" 2>&1 || status=$?
  [[ $status == "$expected" ]] || fail "$name: exit $status, expected $expected ($work/$name.log)"
}
in_archive() {  # NAME FILE: FILE's text from NAME's archive
  tar -xzOf "$work/$1/logs.tar.gz" "./$2"
}

check whole 0 tests cputests
[[ $(ls "$work/whole") == $'logs.tar.gz\nsummary.md' ]] || fail "whole: \$OUT holds $(ls "$work/whole")"
grep -q '^- ctest: exit 0' "$work/whole/summary.md" || fail "whole: no ctest line in the summary"
grep -q '^- ctest, the other tests: exit 0' "$work/whole/summary.md" ||
  fail "whole: no line for the other tests in the summary"
in_archive whole ctest.log | grep -q 'tests passed' || fail "whole: ctest.log is not in the archive"

# The GPU tests stage takes the tests named by gpu_tests: each test that calls REQUIRE_GPU must
# be among them under its ctest name (Suite.Name, or Prefix/Suite.Name/N when parameterized).
gpu_tests=$(sed -n "s/^gpu_tests='\(.*\)'$/\1/p" "$source_dir/tools/gpu_check.sh")
[[ -n $gpu_tests ]] || fail "no gpu_tests in tools/gpu_check.sh"
declare -A prefix=()
while read -r suite name; do prefix[$suite]=$name; done < <(sed -nE \
  's/.*INSTANTIATE_TEST_SUITE_P\( *([A-Za-z0-9_]*) *, *([A-Za-z0-9_]+).*/\2 \1/p' \
  "$source_dir"/tests/*.cc)
needing_gpu=0
while read -r suite name parameterized; do
  test=$suite.$name
  if ((parameterized)); then
    test=$test/0
    [[ -n ${prefix[$suite]:-} ]] && test=${prefix[$suite]}/$test
  fi
  [[ $test =~ $gpu_tests ]] || fail "$test calls REQUIRE_GPU but is not in gpu_check.sh's gpu_tests"
  needing_gpu=$((needing_gpu + 1))
done < <(awk '/^TEST(_F|_P)?\(/ {
    line = $0; sub(/^TEST(_F|_P)?\( */, "", line); split(line, parts, /[ ,)]+/)
    suite = parts[1]; name = parts[2]; parameterized = ($0 ~ /^TEST_P/)
  }
  /REQUIRE_GPU\(\)/ { print suite, name, parameterized }' "$source_dir"/tests/*.cc)
((needing_gpu >= 20)) || fail "found only $needing_gpu tests calling REQUIRE_GPU"

W2V_CHECK_SECONDS=0 check late 1 tests wiki
grep -q '^- next: tools/gpu_check.sh tests wiki$' "$work/late/summary.md" ||
  fail "late: the summary does not name the stages left"

# A stage still running at W2V_CHECK_STOP_SECONDS is stopped with all it started (what ignores
# TERM is killed), and named first among the stages left.
began=$SECONDS
CTEST_IGNORES_TERM=1 CTEST_SECONDS=61 W2V_CHECK_STOP_SECONDS=2 check stopped 1 tests wiki
((SECONDS - began < 30)) || fail "stopped: the run took $((SECONDS - began)) s"
grep -q '^- tests: stopped at W2V_CHECK_STOP_SECONDS=2$' "$work/stopped/summary.md" ||
  fail "stopped: the summary does not say the stage was stopped"
grep -q '^- next: tools/gpu_check.sh tests wiki$' "$work/stopped/summary.md" ||
  fail "stopped: the summary does not name the stopped stage and those after it"
if pgrep -f 'sleep 61' >/dev/null; then fail "stopped: the stage's ctest still runs"; fi

check unknown 2 tests nonsense
[[ -z $(ls "$work/unknown") ]] || fail "unknown: wrote $(ls "$work/unknown")"
grep -q "unknown stage 'nonsense'" "$work/unknown.log" || fail "unknown: no message naming the stage"

# Killed (as the device tool does at a call's time limit) while ctest runs, after a delivery:
# what had been written by then comes back.
mkdir -p "$work/killed"
status=0
CTEST_SECONDS=20 W2V_CHECK_DELIVER_SECONDS=1 OUT=$work/killed \
  timeout 5 "$work/repo/tools/gpu_check.sh" tests >"$work/killed.log" 2>&1 || status=$?
[[ $status == 124 ]] || fail "killed: exit $status, expected 124 from timeout"
grep -q '^## GPU tests' "$work/killed/summary.md" || fail "killed: the summary stops before ctest"
in_archive killed ctest.log | grep -q 'test 1 started' ||
  fail "killed: the log of the stage in progress did not come back"
echo "gpu_check.sh: delivery, time budget, stop, unknown stage and a killed run all as expected"
