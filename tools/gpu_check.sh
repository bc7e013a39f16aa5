#!/usr/bin/env bash
# Everything that needs a GPU, in one run on the device machine: build for sm_90, the tests that
# use the device (the other tests last), compute-sanitizer memcheck and racecheck over the
# kernel and GPU-step tests, the kernel benchmarks with the PyTorch softmax comparison, ncu over
# the fused kernel's versions, and the end-to-end table (every `w2v train` mode on the GPU, the
# CPU trainer and PyTorch beside them) on the text8 prefix and on the Wikipedia cut.
# $OUT/summary.md sums them up and $OUT/logs.tar.gz holds every log (the device tool brings back
# at most 8 files; without $OUT the logs stay in gpu-logs/).
#
#   [W2V_CHECK_SECONDS=450] [W2V_CHECK_STOP_SECONDS=570] tools/gpu_check.sh [STAGE...]
#     stages, in the order given: tests wiki ncu sanitize bench e2e trace prepare seeds resume
#     cputests synth1b avx512 cpucopy (default: the first eleven, in that order, the issues'
#     headline figures first)
#
# The device machine has no network, no GoogleTest or Google Benchmark and no ../shared:
# tools/gpu_prepare.sh puts all it needs in .deps/ (git-ignored, ~45 MiB); carry it:
#   run(command="tools/gpu_check.sh", carry=[".deps"], kind="nvidia-h200", timeout_s=600)
# (the issues' goals are an H200's: a call that names no kind may get an H100)
# A device call may run 10 minutes, and the whole check takes more: no stage starts once the
# run is W2V_CHECK_SECONDS old (the build included), one still running at
# W2V_CHECK_STOP_SECONDS is stopped (keep it under the call's timeout_s), and the summary ends
# with the command that runs the stages left. Call it at once, before the machine goes back
# (30 s idle), and the build is kept.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit
all_stages="tests wiki ncu sanitize bench e2e trace prepare seeds resume cputests synth1b avx512 cpucopy"
stages=${*:-tests wiki ncu sanitize bench e2e trace prepare seeds resume cputests}
for stage in $stages; do
  if [[ " $all_stages " != *" $stage "* ]]; then
    echo "gpu_check.sh: unknown stage '$stage' (stages: $all_stages)" >&2
    exit 2
  fi
done
budget=${W2V_CHECK_SECONDS:-450}
# On the device machine the logs are written outside $OUT and delivered there as two files,
# renewed every 30 s (W2V_CHECK_DELIVER_SECONDS) and at the end, so that a run stopped at the
# call's time limit still brings back all it finished.
deliver_to=${OUT:-}
if [[ -n $deliver_to ]]; then
  out=$(mktemp -d /tmp/w2v-gpu-check.XXXXXX)
else
  out=gpu-logs
  mkdir -p "$out"
  rm -f "$out/failed"
fi
deliver() {
  local part=.$BASHPID.part archive=$deliver_to/logs.tar.gz
  cp "$out/summary.md" "$deliver_to/summary.md$part" && mv "$deliver_to/summary.md$part" "$deliver_to/summary.md"
  archive_logs "$archive$part" || return
  # The tool's limit is 16 MiB a file: the traces' JSON goes first (summary.md has their busy
  # times, the SVGs their pictures).
  if (($(stat -c %s "$archive$part") > 15 << 20)); then
    archive_logs "$archive$part" --exclude='trace-*.json' || return
  fi
  mv "$archive$part" "$archive"
}
# A log that grows while tar reads it (the running stage's) makes tar exit 1: the archive is
# whole up to that moment, and taken.
archive_logs() {  # ARCHIVE [TAR_OPTION...]
  local archive=$1
  shift
  tar -C "$out" -czf "$archive" --warning=no-file-changed "$@" .
  (($? <= 1))
}
status=0
summary=$out/summary.md
started=$SECONDS
step() { printf '\n## %s\n\n' "$*" | tee -a "$summary"; }
# Stages run in the background (run_stage): what failed is kept in a file, not a variable.
record() {  # NAME EXIT
  echo "- $1: exit $2 ($((SECONDS - started)) s into the run)" | tee -a "$summary"
  [[ $2 == 0 ]] || echo "$1" >>"$out/failed"
}
# One bench/e2e.sh table on the GPU into the summary, and its per-mode logs (not its vectors)
# into the archive.
e2e_table() {  # NAME E2E_FLAGS...
  local name=$1 dir=/tmp/w2v-$1
  shift
  bench/e2e.sh --w2v build-gpu/w2v --device cuda --out "$dir" "$@" >"$out/$name.md" 2>&1
  record "$name" $?
  mkdir -p "$out/$name-logs" && cp "$dir"/*.log "$out/$name-logs/" 2>/dev/null
  tee -a "$summary" <"$out/$name.md"
}
# A log's lines matching a pattern, as a block in the summary.
excerpt() {  # FILE PATTERN
  { echo '```'; grep -E "$2" "$1" | tail -${3:-12}; echo '```'; } | tee -a "$summary"
}

# The device's copy of the tree has no .git: tools/gpu_prepare.sh wrote the commit into .deps.
if ! commit=$(git describe --always --dirty 2>/dev/null); then
  commit=unknown
  [[ -f .deps/commit ]] && commit="$(<.deps/commit) (as tools/gpu_prepare.sh found it)"
fi
echo "# GPU check, $(date -u +%F), commit $commit" | tee "$summary"
step "device"
{ echo '```'; nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem \
  --format=csv; echo '```'; } | tee -a "$summary"
echo "CPU: $(tools/describe_cpu.sh)" | tee -a "$summary"
if [[ -n $deliver_to ]]; then
  (
    trap 'kill $! 2>/dev/null; exit 0' TERM
    while true; do
      sleep "${W2V_CHECK_DELIVER_SECONDS:-30}" &
      wait $!
      deliver
    done
  ) &
  deliverer=$!
fi

# A process and all it started, each held (SIGSTOP: it starts nothing more) until its children
# are signalled; prints their PIDs. Through /proc: the device's image may have no pgrep. (Not
# a process group of its own: a stage must stay in the group that the device tool stops at its
# time limit.)
signal_tree() {  # SIGNAL PID
  local stat rest pid ppid
  kill -STOP "$2" 2>/dev/null || return 0
  for stat in /proc/[0-9]*/stat; do
    { read -r rest <"$stat"; } 2>/dev/null || continue
    pid=${rest%% *}
    rest=${rest##*) }  # past the command's name, which may hold spaces
    read -r _ ppid _ <<<"$rest"
    [[ $ppid == "$2" ]] && signal_tree "$1" "$pid"
  done
  kill "-$1" "$2" 2>/dev/null
  kill -CONT "$2" 2>/dev/null
  echo "$2"
}
# TERM to a process and all it started, then KILL to what still runs 5 s later: w2v takes a
# TERM as a request to stop after its batch, which its corpus preparation does not heed, and
# nothing of a stopped stage may go on into the next call on the warm machine.
stop_tree() {  # PID
  local pids pid alive i state
  pids=$(signal_tree TERM "$1")
  for ((i = 0; i < 25; ++i)); do
    alive=()
    for pid in $pids; do
      { read -r state <"/proc/$pid/stat"; } 2>/dev/null || continue
      state=${state##*) }
      [[ ${state%% *} != Z ]] && alive+=("$pid")
    done
    ((${#alive[@]})) || return 0
    sleep 0.2
  done
  kill -KILL "${alive[@]}" 2>/dev/null
}
# Each stage runs in the background, so that one still running once the run is
# W2V_CHECK_STOP_SECONDS old is stopped, with all it started, before the device call's time
# limit: the summary then names it among the stages left. A TERM or INT to this script stops
# the stage the same way and delivers what there is; one to the whole process group ends the
# stage's shells at once, and what does not heed it (w2v preparing a corpus) may outlive them:
# keep W2V_CHECK_STOP_SECONDS under the device call's timeout_s.
stop_at=${W2V_CHECK_STOP_SECONDS:-570}
stage_pid=
# The periodic deliveries end (their unfinished .part files dropped) and the last is made.
deliver_last() {
  [[ -n $deliver_to ]] || return 0
  kill "$deliverer" 2>/dev/null
  wait "$deliverer" 2>/dev/null
  rm -f "$deliver_to"/*.part
  deliver
}
stopped_by_signal() {  # EXIT
  [[ -n $stage_pid ]] && stop_tree "$stage_pid"
  deliver_last
  exit "$1"
}
trap 'stopped_by_signal 143' TERM
trap 'stopped_by_signal 130' INT
run_stage() {  # STAGE: exit 1 when it was stopped
  "stage_$1" &
  stage_pid=$!
  while kill -0 "$stage_pid" 2>/dev/null; do
    if ((SECONDS - started >= stop_at)); then
      stop_tree "$stage_pid"
      wait "$stage_pid" 2>/dev/null
      stage_pid=
      echo "- $1: stopped at W2V_CHECK_STOP_SECONDS=$stop_at" | tee -a "$summary"
      return 1
    fi
    sleep 0.2
  done
  wait "$stage_pid"
  stage_pid=
}

prefix=$PWD/.deps/root
mkdir -p "$prefix"
for deb in .deps/*.deb; do [[ -f $deb ]] && dpkg -x "$deb" "$prefix"; done
export LD_LIBRARY_PATH=$prefix/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# The Wikipedia cut tools/gpu_prepare.sh carries, or in a developer's checkout the whole corpus.
wiki_corpus=.deps/data/enwiki_cut.txt.xz
[[ -f $wiki_corpus ]] || wiki_corpus=../shared/data/extra/enwiki2015_60m.txt.xz
# The tests look for the data beside the repository, as in a developer's checkout.
if [[ ! -f ../shared/data/text8_prefix.txt && -d .deps/data ]]; then
  mkdir -p ../shared/data
  for f in text8_prefix.txt questions-words.txt wordsim353.tsv; do
    xz -dc ".deps/data/$f.xz" >"../shared/data/$f"
  done
fi
if [[ ! -f ../shared/data/ptb/ptb.train.txt && -f .deps/data/ptb.train.txt.xz ]]; then
  mkdir -p ../shared/data/ptb
  xz -dc .deps/data/ptb.train.txt.xz >../shared/data/ptb/ptb.train.txt
fi

step "build (Release, sm_90)"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B build-gpu "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DW2V_CUDA_ARCHITECTURES=90 -DCMAKE_PREFIX_PATH="$prefix/usr" >"$out/build.log" 2>&1 &&
  cmake --build build-gpu -j "$(nproc)" >>"$out/build.log" 2>&1
record build $?
excerpt "$out/build.log" 'error|warning|Linking' 3

# The tests that use the device (REQUIRE_GPU, or its limits through the device probe) first;
# the rest, which CI runs on every change and which take a minute or more of the machine's
# cores here, last. tests/gpu_check_test.sh checks that every REQUIRE_GPU test is listed.
gpu_tests='^(Dims|Shapes)/|^(FusedKernel|FusedOnGpu|ModularOnGpu|ScatterAdd|SparseOptimizers|Gemm|KernelArguments|DeviceMemory|FusedPath)\.|^ModularOnHost\.TheModularTestsConfigTakesTheModularPath$|^Cli\.TrainsOnTheGpuWhenThereIsOne$|^Trace\.(TheFusedPathsBatchesTakeTheComputeStreamsInTurn|FusedLaunchesUnderFusedWarpsNeverOverlap)$'
ctest_stage() {  # TITLE RECORD LOG CTEST_OPTION...
  local title=$1 name=$2 log=$out/$3
  shift 3
  step "$title"
  (cd build-gpu && ctest -j 8 --output-on-failure "$@") >"$log" 2>&1
  record "$name" $?
  excerpt "$log" 'tests passed|\*\*\*Failed|Skipped\)' 20
}
stage_tests() {
  ctest_stage "GPU tests (ctest: the tests that use the device)" ctest ctest.log -R "$gpu_tests"
}
stage_cputests() {
  ctest_stage "the other tests (ctest), as CI runs them, on this machine" \
    "ctest, the other tests" ctest-cpu.log -E "$gpu_tests"
}

# The host code as GCC 12 builds it for this CPU with AVX-512, which CMakeLists.txt leaves out,
# and the CPU tests on it (the device machine of 2026-12-04 was a Xeon with 48 KiB L1d and
# 2 MiB L2 a core, so one with AVX-512): does AVX-512 code generation fail
# ModularOnHost.SkipGramLearns, as CI did at c59d86d on its machine?
stage_avx512() {
  step "host tests built with AVX-512 (not the default build)"
  if grep -q -w avx512f /proc/cpuinfo; then
    cmake -S . -B build-avx512 "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DW2V_ENABLE_CUDA=OFF \
      -DW2V_BUILD_BENCH=OFF -DW2V_NATIVE=OFF \
      -DCMAKE_CXX_FLAGS="-march=native -fno-tree-slp-vectorize" \
      -DCMAKE_PREFIX_PATH="$prefix/usr" >"$out/avx512.log" 2>&1 &&
      cmake --build build-avx512 -j "$(nproc)" >>"$out/avx512.log" 2>&1 &&
      (cd build-avx512 && ctest -j 8 --output-on-failure) >>"$out/avx512.log" 2>&1
    record "host tests with AVX-512" $?
    excerpt "$out/avx512.log" 'tests passed|\*\*\*Failed|loss at' 10
  else
    echo "- no avx512f on this CPU: nothing to check" | tee -a "$summary"
  fi
}

# The kernels, and the GPU trainer's step on real batches (ModularOnGpu.FirstBatches...). The
# fused kernel's lock-free updates are global-memory races by design (include/w2v/kernels/fused_ns.h);
# racecheck checks shared memory, where its lanes never share an element. (The *Emulated tests
# run kernels' code on the CPU: nothing there for the sanitizers.)
sanitized_tests='Dims/*:Shapes/*:*Kernel*:Gemm.*:ScatterAdd.*:SparseOptimizers.*:*FirstBatches*'
sanitized_tests+='-*Emulated*'
stage_sanitize() {
  for tool in memcheck racecheck; do
    step "compute-sanitizer $tool over the kernel and trainer-step tests"
    compute-sanitizer --tool "$tool" --error-exitcode 9 build-gpu/w2v_tests \
      --gtest_filter="$sanitized_tests" >"$out/$tool.log" 2>&1
    record "$tool" $?
    excerpt "$out/$tool.log" 'ERROR SUMMARY|RACECHECK SUMMARY|PASSED|FAILED' 4
  done
}

# A run stopped by SIGINT and resumed from its checkpoint: with --deterministic its vectors
# must equal an uninterrupted run's byte for byte; the fused path (not deterministic) must
# finish and learn as well. The fused path trains 3 epochs of the text8 prefix in about 0.1 s,
# before a first progress line: it runs 40.
stage_resume() {
  step "checkpoint and resume on the GPU (text8 prefix)"
  dir=/tmp/w2v-resume
  rm -rf "$dir" && mkdir -p "$dir"
  train=(build-gpu/w2v train --corpus ../shared/data/text8_prefix.txt --cache-dir "$dir"
    --device cuda --sample 1e-4 --progress-interval 0.05)
  stop_and_resume() {  # NAME OUTPUT FLAGS...
    local name=$1 output=$2
    shift 2
    "${train[@]}" "$@" --output "$output" --checkpoint "$dir/$name.ckpt" 2>"$out/resume-$name.log" &
    local pid=$!
    until grep -q '^progress' "$out/resume-$name.log" || ! kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
    kill -INT "$pid" 2>/dev/null
    wait "$pid"
    echo "stopped: exit $?" >>"$out/resume-$name.log"
    if [[ ! -f $dir/$name.ckpt ]]; then
      echo "finished before the signal: no checkpoint, nothing resumed" | tee -a "$out/resume-$name.log"
      return 3
    fi
    "${train[@]}" "$@" --output "$output" --checkpoint "$dir/$name.ckpt" \
      --resume "$dir/$name.ckpt" >>"$out/resume-$name.log" 2>&1
  }
  "${train[@]}" --epochs 3 --deterministic --output "$dir/whole.bin" >"$out/resume-whole.log" 2>&1 &&
    stop_and_resume deterministic "$dir/resumed.bin" --epochs 3 --deterministic &&
    cmp "$dir/whole.bin" "$dir/resumed.bin" >>"$out/resume-deterministic.log" 2>&1
  record "resume --deterministic, bit-identical" $?
  "${train[@]}" --epochs 40 --output "$dir/fused-whole.bin" >"$out/resume-fused-whole.log" 2>&1 &&
    stop_and_resume fused "$dir/fused-resumed.bin" --epochs 40
  record "resume fused" $?
  for f in whole resumed fused-whole fused-resumed; do
    echo "$f: $(build-gpu/w2v analogy "$dir/$f.bin" ../shared/data/questions-words.txt | grep '^total')"
  done | tee -a "$summary"
  excerpt "$out/resume-deterministic.log" 'stopped|resuming|exit|differ' 6
}

stage_trace() {
  step "timelines (--trace, open in ui.perfetto.dev): where a step's time goes"
  mkdir -p /tmp/w2v-trace
  # modular-pairs: the modular path with --sg-rows pair (README, "What bounds the device step").
  for path in modular modular-pairs fused; do
    flags=(--gpu-path "${path%%-*}")
    [[ $path == *-pairs ]] && flags+=(--sg-rows pair)
    build-gpu/w2v train --corpus ../shared/data/text8_prefix.txt --cache-dir /tmp/w2v-trace \
      --output /tmp/w2v-trace/$path.bin --device cuda "${flags[@]}" --epochs 1 --sample 1e-4 \
      --trace "$out/trace-$path.json" >"$out/trace-$path.log" 2>&1
    record "trace $path" $?
    # Busy time per track and span name: the top of each track.
    python3 - "$out/trace-$path.json" <<'PY' 2>&1 | tee -a "$summary"
import collections, json, sys
events = json.load(open(sys.argv[1]))["traceEvents"]
names = {e["tid"]: e["args"]["name"] for e in events if e.get("name") == "thread_name"}
busy = collections.Counter()
count = collections.Counter()
for e in events:
    if e["ph"] == "X":
        busy[(names[e["tid"]], e["name"])] += e["dur"]
        count[(names[e["tid"]], e["name"])] += 1
print("```")
for (track, name), us in sorted(busy.items(), key=lambda kv: (kv[0][0], -kv[1]))[:40]:
    print(f"{track:16} {name:28} {us / 1e3:10.1f} ms  {count[(track, name)]:7d} spans")
print("```")
PY
    # The pictures for the README: the whole run, and 5 ms of the steady state.
    python3 tools/plot_trace.py "$out/trace-$path.json" "$out/trace-$path.svg" \
      --title "w2v --trace, $path path, text8 prefix, one epoch" >/dev/null
    python3 tools/plot_trace.py "$out/trace-$path.json" "$out/trace-$path-5ms.svg" \
      --train-middle 5 --title "w2v --trace, $path path: 5 ms in the middle of training" >/dev/null
  done
  # Issue 14's end to end against the kernel's own rate on the same data: the share of the
  # training's wall time that the compute streams spend in fused_ns (the union of their spans:
  # with two streams, launches overlap), on the Wikipedia cut.
  for run in skipgram cbow skipgram-streams2 cbow-streams2; do
    name=trace-fused-wiki-$run
    flags=(--model "${run%%-*}")
    [[ $run == *-streams2 ]] && flags+=(--fused-streams 2)
    build-gpu/w2v train --corpus "$wiki_corpus" --cache-dir /tmp/w2v-trace "${flags[@]}" \
      --output /tmp/w2v-trace/$name.bin --device cuda --epochs 3 --sample 1e-4 --dim 128 \
      --trace "$out/$name.json" >"$out/$name.log" 2>&1
    record "$name" $?
    python3 - "$out/$name.json" "$out/$name.log" <<'PY' 2>&1 | tee -a "$summary"
import json, re, sys
events = json.load(open(sys.argv[1]))["traceEvents"]
kernel_s, reach = 0.0, float("-inf")
for start, dur in sorted((e["ts"], e["dur"]) for e in events
                         if e["ph"] == "X" and e["name"] == "fused_ns"):
    kernel_s += max(0.0, start + dur - max(start, reach))
    reach = max(reach, start + dur)
kernel_s /= 1e6
log = open(sys.argv[2]).read()
# The summary's seconds have 2 decimals, its words/s all of them.
words, rate = re.search(r"trained (\d+) words in [\d.]+ s: (\d+) words/s", log).groups()
words, rate = int(words), float(rate)
seconds = words / rate
setup = re.search(r"trainer setup ([\d.]+) s before training, wrap-up ([\d.]+) s after", log)
print(f"- {sys.argv[1].split('/')[-1]}: {words:,} words in {seconds:.3f} s ({rate / 1e6:.1f}M words/s "
      f"end to end); fused_ns busy {kernel_s:.3f} s ({words / kernel_s / 1e6:.1f}M words/s "
      f"of kernel time): end to end at {kernel_s / seconds:.2f} of the kernel's rate; "
      f"setup {setup.group(1)} s before, wrap-up {setup.group(2)} s after")
PY
  done
}

# The GPU's benchmarks and the samplers' packing on its 16 cores; not the CPU-only ones (word
# tables, the CPU trainer's step, alias draws: about a minute that CI's machine can take).
stage_bench() {
  step "kernel benchmarks"
  build-gpu/w2v_bench --benchmark_filter='-BM_Ref|BM_Count|BM_NsStep|BM_SoftmaxStep|BM_AliasDraw' \
    --benchmark_out="$out/bench.json" --benchmark_out_format=json >"$out/bench.txt" 2>&1
  record bench $?
  excerpt "$out/bench.txt" 'BM_DeviceCopy|BM_FusedNs|/iterations:20/|BM_ScatterModularBatch|BM_ModularPack|BM_FusedPack' 64
  step "softmax + NLL against PyTorch cross_entropy"
  python3 tools/softmax_vs_torch.py --bench build-gpu/w2v_bench >"$out/torch.md" 2>&1
  record torch $?
  tee -a "$summary" <"$out/torch.md"
}

# One launch of each of the fused kernel's versions at d 128 (BM_FusedNs's V = 1M rows), version
# 2 with its window rows refreshed (the default) and held, with every section: what limits it
# (issue slots or memory), and its instructions per center against the static count in
# bench/RESULTS.md ("Instructions of the fused kernel").
stage_ncu() {
  step "ncu: the fused kernel, d 128, V 1M, version 2 refreshed and held, version 1 held"
  for model in 0 1; do
    for variant in 2/refresh:1 2/refresh:0 1/refresh:0; do
      name=ncu-fused-cbow$model-v${variant%%/*}-refresh${variant##*:}
      ncu --set full -k regex:fused_ns -c 1 -f -o "/tmp/$name" build-gpu/w2v_bench \
        --benchmark_filter="BM_FusedNs/T:4194304/V:1000000/d:128/window:5/negative:5/cbow:$model/version:$variant/" \
        >"$out/$name.txt" 2>&1
      record "$name" $?
      # The report's details page, and from its raw page the stall reasons (cycles a warp
      # spends on each, per issued instruction), the largest in the summary: which waits the
      # kernel's latency goes to.
      ncu --import "/tmp/$name.ncu-rep" >>"$out/$name.txt" 2>&1
      ncu --import "/tmp/$name.ncu-rep" --page raw 2>&1 | grep issue_stalled >"$out/$name-stalls.txt"
      excerpt "$out/$name.txt" 'fused_ns_kernel|  Duration|Registers Per Thread|Theoretical Occupancy|Achieved Active Warps|Issue Slots Busy|Issued Ipc Active|Compute \(SM\) Throughput|DRAM Throughput|L2 Hit Rate  |  Executed Instructions  |No Eligible' 14
      { echo '```'; grep per_issue_active "$out/$name-stalls.txt" | awk '{print $NF, $1}' |
        sort -g -r | head -8; echo '```'; } | tee -a "$summary"
    done
  done
  # Sentences as the Wikipedia cut's (chunks of 1 to 64 centers): the warps a launch keeps
  # busy when they take chunks from the queue and when they take every P-th (README, the
  # fused path's first bullet). Achieved against theoretical active warps says it.
  step "ncu: the fused kernel over the Wikipedia cut's sentence lengths, queue and strided"
  for strided in 0 1; do
    name=ncu-fused-sg-sentence43-strided$strided
    ncu --section SpeedOfLight --section Occupancy --section LaunchStats -k regex:fused_ns -c 1 \
      build-gpu/w2v_bench \
      --benchmark_filter="BM_FusedNs/T:1048576/V:1000000/d:128/window:5/negative:5/cbow:0/version:2/refresh:1/sentence:43/strided:$strided/launches:1/" \
      >"$out/$name.txt" 2>&1
    record "$name" $?
    excerpt "$out/$name.txt" '  Duration|  Block Size|  Grid Size|Theoretical Occupancy|Achieved Occupancy|Achieved Active Warps' 6
  done
}

stage_e2e() {
  step "end to end: text8 prefix, 5 epochs, every mode; PyTorch d2l-style beside it"
  e2e_table e2e-text8 --epochs 5 --torch --torch-epochs 1 --extra "--max-vocab 30000" \
    --modes "sg-ns cbow-ns sg-ns-modular cbow-ns-modular sg-ns-tied sg-ns-momentum sg-ns-nesterov sg-ns-adam sg-ns-cpu cbow-ns-cpu"
  # The vocabulary losses step 8 centers at a time (TrainConfig::batch_rows): one epoch.
  step "end to end: text8 prefix, 1 epoch, softmax and BCE"
  e2e_table e2e-text8-vocab --epochs 1 --extra "--max-vocab 30000" \
    --modes "sg-softmax cbow-softmax sg-bce cbow-bce"
  # PTB, the seeds' data set: neighbours against the CPU trainer's and its twin's in
  # bench/RESULTS.md ("Softmax and BCE on PTB"), which take an hour on 2 cores.
  step "end to end: PTB, 5 epochs, softmax and BCE, nearest neighbours"
  e2e_table e2e-ptb --epochs 5 --corpus ../shared/data/ptb/ptb.train.txt \
    --modes "sg-softmax sg-bce" --neighbours "chip intel monday stock baby president"
}
stage_wiki() {
  # The modular path three times: at the default samplers (7 on 16 cores) and at 14, each
  # packing about 11M words/s of skip-gram batches (bench/bench_pack.cc on the cut, 2026-12-07):
  # which bounds it, they or the GPU? And with rows of (center, context) pairs, which move ~35% fewer bytes a word
  # through the device step (README, "What bounds the device step"); and those with each step
  # launched as one CUDA graph (--step-graph), against the gaps between the step's kernels.
  # The fused path with its window rows held (the default before --fused-window-rows): on the
  # twin, refreshing them cut skip-gram's WS-353 gap to the CPU trainer from 0.015 to 0.008 and
  # gained 0.5 analogy points (bench/RESULTS.md, 12 seeds); at what cost in words/s? And
  # skip-gram held at 1,584 warps (12 an SM; d 128 holds 16), which recovered part of it too.
  # And its batches over two compute streams, a launch's last warps beside the next launch's
  # first (--fused-streams 2): the 11% of warp time a model leaves idle at the launches' ends.
  # And d 300, which issue 14 asks to report beside d 128.
  step "end to end: Wikipedia (the carried cut), 3 epochs, fused GPU against the CPU trainer"
  e2e_table e2e-wiki --epochs 3 --corpus "$wiki_corpus" \
    --modes "sg-ns sg-ns-streams2 sg-ns-hold sg-ns-hold-warps1584 cbow-ns cbow-ns-streams2 cbow-ns-hold sg-ns-dim300 cbow-ns-dim300 sg-ns-modular sg-ns-modular-samplers14 sg-ns-modular-pairs sg-ns-modular-pairs-graph sg-ns-cpu cbow-ns-cpu"
}

# Issue 14's quality goal (the CPU trainer's within 1 analogy point and 0.01 WS-353, skip-gram
# and CBOW, on the Wikipedia cut and the text8 prefix) against seeds whose spread is as large
# (±0.01 WS-353 on the cut): more seeds of the fused path and of the CPU trainer beside seed 1 of
# the e2e tables, and each mode's mean ± standard error over all of them.
stage_seeds() {
  step "quality over seeds: the fused path against the CPU trainer (seed 1 from the e2e tables when this call ran them)"
  local modes=""
  for seed in 2 3 4 5; do modes+=" sg-ns-seed$seed cbow-ns-seed$seed"; done
  for seed in 2 3; do modes+=" sg-ns-cpu-seed$seed cbow-ns-cpu-seed$seed"; done
  e2e_table e2e-wiki-seeds --epochs 3 --corpus "$wiki_corpus" --modes "$modes"
  e2e_table e2e-text8-seeds --epochs 5 --extra "--max-vocab 30000" --modes "$modes"
  for corpus in wiki text8; do
    python3 - "$corpus" "$out/e2e-$corpus.md" "$out/e2e-$corpus-seeds.md" <<'PY' 2>&1 | tee -a "$summary"
import collections, math, re, sys
runs = collections.defaultdict(dict)  # mode -> seed -> (analogy, ws)
for path in sys.argv[2:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) != 7 or not cells[0] or not cells[1].startswith("w2v"):
            continue
        m = re.fullmatch(r"((?:sg|cbow)-ns(?:-cpu)?)(?:-seed(\d+))?", cells[0])
        if not m:
            continue
        try:
            runs[m.group(1)][int(m.group(2) or 1)] = (float(cells[5]), float(cells[6]))
        except ValueError:
            pass
def mean_se(values):
    n = len(values)
    mean = sum(values) / n
    se = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1) / n) if n > 1 else float("nan")
    return mean, se
print(f"\n{sys.argv[1]}: analogy % and WS-353, mean ± standard error over seeds\n")
print("| mode | seeds | analogy % | WS-353 |")
print("|---|---|---:|---:|")
for mode in ("sg-ns", "sg-ns-cpu", "cbow-ns", "cbow-ns-cpu"):
    seeds = sorted(runs[mode])
    if not seeds:
        continue
    a, a_se = mean_se([runs[mode][s][0] for s in seeds])
    w, w_se = mean_se([runs[mode][s][1] for s in seeds])
    print(f"| {mode} | {','.join(map(str, seeds))} | {a:.2f} ± {a_se:.2f} | {w:.4f} ± {w_se:.4f} |")
for model in ("sg", "cbow"):
    gpu, cpu = runs[f"{model}-ns"], runs[f"{model}-ns-cpu"]
    if len(gpu) > 1 and len(cpu) > 1:
        (a, a_se), (b, b_se) = mean_se([v[0] for v in gpu.values()]), mean_se([v[0] for v in cpu.values()])
        (w, w_se), (x, x_se) = mean_se([v[1] for v in gpu.values()]), mean_se([v[1] for v in cpu.values()])
        print(f"\n- {model}: fused − CPU trainer {a - b:+.2f} ± {math.hypot(a_se, b_se):.2f} analogy points, "
              f"{w - x:+.4f} ± {math.hypot(w_se, x_se):.4f} WS-353 (goal: above −1 and −0.01)")
PY
  done
}

# Issue 13 on the 16-core machine: the preparation of the Wikipedia cut on 1 and 8 threads from
# a cold page cache (root drops it), each stage from --trace, and a whole 5-epoch fused run's
# preparation against its training.
stage_prepare() {
  step "preparation of the Wikipedia cut: 1 and 8 threads, cold cache; a 5-epoch fused run"
  dir=/tmp/w2v-prepare
  rm -rf "$dir" && mkdir -p "$dir"
  xz -dc "$wiki_corpus" >"$dir/wiki.txt"
  traced_run() {  # NAME FLAGS...
    local name=$1
    shift
    rm -rf "$dir/cache" && mkdir -p "$dir/cache"
    sync && { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null
    build-gpu/w2v train --corpus "$dir/wiki.txt" --output "$dir/cache/v.bin" --cache-dir "$dir/cache" \
      --trace "$out/trace-prepare-$name.json" "$@" >"$out/prepare-$name.log" 2>&1
    record "prepare $name" $?
    python3 - "$name" "$out/trace-prepare-$name.json" <<'PY' 2>&1 | tee -a "$summary"
import json, sys
events = json.load(open(sys.argv[2]))["traceEvents"]
names = {e["tid"]: e["args"]["name"] for e in events if e.get("name") == "thread_name"}
spans = [f"{e['name']} {e['dur'] / 1e6:.3f} s" for e in events
         if e["ph"] == "X" and names[e["tid"]] in ("main", "prepare")]
print(f"- {sys.argv[1]}: " + "; ".join(spans))
PY
  }
  for run in 1 2 3; do
    for threads in 1 8; do
      traced_run "threads$threads-run$run" --threads "$threads" --device cuda --epochs 1
    done
  done
  traced_run fused-5-epochs --device cuda --epochs 5 --sample 1e-4
}

stage_synth1b() {
  step "end to end: 1B-token synthetic corpus (1M word types), 1 epoch, fused"
  e2e_table e2e-synth1b --epochs 1 --synth 1000000000 --modes "sg-ns cbow-ns"
}

# The CPU trainer on this machine's cores, no GPU: each thread's copy of the output rows every
# step writes (--copied-rows) was sized on 2 cores (bench/QUALITY.md §13, §14) and its rule for
# 8 and 16 threads is extrapolated. Train seconds of the text8 prefix, 2 epochs, per copy size.
stage_cpucopy() {
  step "CPU trainer: --copied-rows on 8 and 16 threads (text8 prefix, 2 epochs, no GPU)"
  # The vectors and the encoded corpus stay out of $out, whose files come back.
  local log=$out/cpucopy.log status=0 scratch=build-gpu/cpucopy
  echo "| loss | threads | --copied-rows | train s, seeds 1 2 3 |" | tee -a "$summary"
  echo "|---|---|---|---|" | tee -a "$summary"
  for loss in ns hs; do
    for threads in 8 16; do
      for rows in 0 auto 8 32 128 255; do
        [[ $loss == hs && ( $rows == 8 || $rows == 32 ) ]] && continue
        local seconds=()
        for seed in 1 2 3; do
          local line
          line=$(build-gpu/w2v train --corpus ../shared/data/text8_prefix.txt \
            --output "$scratch.bin" --cache-dir "$scratch-cache" --device cpu \
            --loss "$loss" --threads "$threads" --copied-rows "$rows" --epochs 2 \
            --sample 1e-4 --alpha 0.05 --seed "$seed" --quiet 2>&1 | tee -a "$log" |
            grep -o 'in [0-9.]* s' | tail -1) || status=1
          seconds+=("${line//[!0-9.]/}")
        done
        echo "| $loss | $threads | $rows | ${seconds[*]} |" | tee -a "$summary"
      done
    done
  done
  record "CPU trainer, --copied-rows" $status
}

left=()
for stage in $stages; do
  if ((${#left[@]} || SECONDS - started >= budget || SECONDS - started >= stop_at)) ||
    ! run_stage "$stage"; then
    left+=("$stage")
  fi
done
if ((${#left[@]})); then
  step "not finished: the run had passed W2V_CHECK_SECONDS=$budget or W2V_CHECK_STOP_SECONDS=$stop_at"
  echo "- next: tools/gpu_check.sh ${left[*]}" | tee -a "$summary"
  status=1
fi
[[ -s $out/failed ]] && status=1
deliver_last
exit "$status"
