#!/usr/bin/env bash
# Does a Hogwild run (several threads) stopped half-way and resumed learn as well as one that
# was never stopped? For each seed: an uninterrupted run, and a run stopped by SIGINT at about
# half its training and resumed from its checkpoint; the analogy accuracy of both.
# Usage: bench/resume_quality.sh W2V_BINARY CORPUS QUESTIONS WORK_DIR [SEEDS] [extra train flags]
set -euo pipefail
w2v=$1 corpus=$2 questions=$3 work=$4
seeds=${5:-"1 2 3"}
shift 5 || shift $#
mkdir -p "$work"
base=(train --corpus "$corpus" --cache-dir "$work" --device cpu --sample 1e-4 --quiet "$@")
accuracy() { "$w2v" analogy "$1" "$questions" --restrict 30000 | awk '/^total accuracy/ {print $3}'; }
echo "| seed | uninterrupted analogy | stopped at | resumed analogy |"
echo "|---|---:|---:|---:|"
for seed in $seeds; do
  start=$(date +%s%N)
  "$w2v" "${base[@]}" --seed "$seed" --output "$work/whole.bin" 2>/dev/null
  half_s=$(awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.2f", ns / 2e9 }')
  rm -f "$work/run.ckpt"
  "$w2v" "${base[@]}" --seed "$seed" --output "$work/resumed.bin" --checkpoint "$work/run.ckpt" \
    2>"$work/stop.log" &
  pid=$!
  sleep "$half_s"
  kill -INT "$pid"
  wait "$pid" || true
  stopped=$(grep -o 'stopped early: trained [0-9]*' "$work/stop.log" | awk '{print $4}')
  "$w2v" "${base[@]}" --seed "$seed" --output "$work/resumed.bin" --resume "$work/run.ckpt"
  echo "| $seed | $(accuracy "$work/whole.bin") | ${stopped:-?} words | $(accuracy "$work/resumed.bin") |"
done
