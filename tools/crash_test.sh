#!/usr/bin/env bash
# Kills `w2v train` with SIGKILL at random moments, many times, and checks after every kill
# that nothing is lost or broken: the vectors file, if there is one, loads; the rerun (with
# --resume when a checkpoint exists) finishes, which loads and verifies the checkpoint and the
# cache (a damaged cache would be reported as "cache unusable" and fails the check). Where a
# kill landed is read from the temporary file it left (cache, checkpoint, vectors) and else
# from the last step the run had logged.
# Usage: tools/crash_test.sh W2V_BINARY CORPUS WORK_DIR [KILLS] [SEED]
set -euo pipefail
w2v=$1
corpus_source=$2
work=$3
kills=${4:-20}
RANDOM=${5:-1}
rm -rf "$work"
mkdir -p "$work/cache"
head -c 6000000 "$corpus_source" >"$work/corpus.txt"
args=(train --corpus "$work/corpus.txt" --output "$work/vectors.txt" --cache-dir "$work/cache"
  --device cpu --threads 2 --dim 24 --epochs 2 --progress-interval 0.2
  --checkpoint "$work/run.ckpt" --checkpoint-every 0.05)

fail() {
  echo "crash_test: FAILED after kill $1: $2" >&2
  exit 1
}

# A whole run, timed, sets the range the kills are drawn from (preparation included).
start=$(date +%s%N)
"$w2v" "${args[@]}" 2>"$work/first.log" || fail 0 "a run without kills failed: $(tail -1 "$work/first.log")"
run_ms=$((($(date +%s%N) - start) / 1000000))

declare -A landed=([preparing]=0 [checkpointing]=0 [writing-vectors]=0 [training]=0 [after-the-end]=0)
for ((i = 1; i <= kills; i++)); do
  # A new run each time (the last one finished); now and then without its cache, so that
  # kills land in the preparation too.
  rm -f "$work/run.ckpt"
  fresh=0
  if ((RANDOM % 4 == 0)); then
    rm -f "$work"/cache/*
    fresh=1
  fi
  "$w2v" "${args[@]}" 2>"$work/killed.log" &
  pid=$!
  # Half the kills at a uniform moment of the run; the other half aimed at the short phases:
  # just after training ends (vector writing), or about when the next checkpoint is written
  # (one every 50 ms; the log line comes after each).
  target= offset_ms=0 span_ms=$((run_ms + run_ms / 10 + 1))
  ((fresh)) && span_ms=$((run_ms / 4 + 1))  # the preparation comes first
  case $((RANDOM % 4)) in
    2) target='^trained ' ;;
    3) target='^checkpoint at' offset_ms=40 ;;
  esac
  if [[ -n $target ]]; then
    while kill -0 "$pid" 2>/dev/null && ! grep -q "$target" "$work/killed.log" 2>/dev/null; do
      sleep 0.002
    done
    delay_ms=$((RANDOM % 20 + offset_ms))
  else
    delay_ms=$((RANDOM * 32768 + RANDOM))
    delay_ms=$((delay_ms % span_ms))
  fi
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  if kill -KILL "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || true
    if compgen -G "$work/cache/*.tmp.$pid" >/dev/null || ! grep -q '^vocabulary ' "$work/killed.log"; then
      landed[preparing]=$((landed[preparing] + 1))
    elif [[ -e $work/run.ckpt.tmp.$pid ]]; then
      landed[checkpointing]=$((landed[checkpointing] + 1))
    elif [[ -e $work/vectors.txt.tmp.$pid ]] || grep -q '^trained ' "$work/killed.log"; then
      landed[writing-vectors]=$((landed[writing-vectors] + 1))
    else
      landed[training]=$((landed[training] + 1))
    fi
  else
    wait "$pid" || fail "$i" "the run that was not killed failed: $(tail -1 "$work/killed.log")"
    landed[after-the-end]=$((landed[after-the-end] + 1))
  fi

  if [[ -f $work/vectors.txt ]]; then
    "$w2v" similar "$work/vectors.txt" the -k 1 >/dev/null 2>"$work/load.log" ||
      fail "$i" "the vectors file does not load: $(cat "$work/load.log")"
  fi
  resume=()
  [[ -f $work/run.ckpt ]] && resume=(--resume "$work/run.ckpt")
  "$w2v" "${args[@]}" "${resume[@]}" 2>"$work/rerun.log" ||
    fail "$i" "the rerun ${resume[*]} failed: $(grep 'error' "$work/rerun.log" | head -1)"
  if grep -q "cache unusable" "$work/rerun.log"; then
    fail "$i" "a damaged cache file was left: $(grep 'cache unusable' "$work/rerun.log")"
  fi
done
leftover=$(find "$work" -name '*.tmp.*' | wc -l)
echo "crash_test: $kills kills, nothing lost: every file loaded and every rerun finished" \
  "(kills landed: preparing ${landed[preparing]}, training ${landed[training]}," \
  "checkpointing ${landed[checkpointing]}, writing vectors ${landed[writing-vectors]}," \
  "after the end ${landed[after-the-end]}; a run takes ${run_ms} ms;" \
  "temporary files of killed runs not yet replaced: $leftover)"
