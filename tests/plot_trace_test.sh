#!/usr/bin/env bash
# tools/plot_trace.py draws a real --trace file of the GPU pipeline's CPU twin: every track by
# name, a box for the samplers' packing and the driver's steps, and a window of it; a file that
# is not a trace gives one line naming it, a non-zero exit and no picture.
# Usage: tests/plot_trace_test.sh W2V_BINARY CORPUS WORK_DIR
set -euo pipefail
w2v=$1
corpus=$2
work=$3
plot="$(dirname "$0")/../tools/plot_trace.py"
rm -rf "$work"
mkdir -p "$work"
head -c 300000 "$corpus" >"$work/corpus.txt"
"$w2v" train --corpus "$work/corpus.txt" --output "$work/v.bin" --device twin \
  --gpu-path modular --sampler-threads 2 --epochs 1 --dim 16 --trace "$work/trace.json" \
  >"$work/train.log" 2>&1
fail() {
  echo "$1" >&2
  exit 1
}
python3 "$plot" "$work/trace.json" "$work/all.svg" --title "whole run"
for track in main prepare "sampler 0" "sampler 1" driver; do
  grep -q ">$track</text>" "$work/all.svg" || fail "no track '$track' in all.svg"
done
for span in "pack batch" "enqueue step" "count words"; do
  grep -q "<title>$span: " "$work/all.svg" || fail "no box of '$span' in all.svg"
done
python3 "$plot" "$work/trace.json" "$work/window.svg" --train-middle 2
grep -q '<rect x=[^>]*fill="#' "$work/window.svg" || fail "no box in the 2 ms window"
! grep -q "count words" "$work/window.svg" || fail "the window shows the preparation"

echo '{"not": "a trace"}' >"$work/bad.json"
if python3 "$plot" "$work/bad.json" "$work/bad.svg" 2>"$work/bad.err"; then
  fail "a file that is not a trace was drawn"
fi
[[ $(wc -l <"$work/bad.err") == 1 ]] || fail "expected one error line, got: $(cat "$work/bad.err")"
grep -q "bad.json" "$work/bad.err" || fail "the error does not name the file"
[[ ! -e $work/bad.svg && ! -e $work/bad.svg.tmp ]] || fail "a picture was left behind"
echo "plot_trace: ok"
