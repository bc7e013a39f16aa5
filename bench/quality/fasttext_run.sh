#!/usr/bin/env bash
# fastText anchor run (Debian's fasttext 0.9.2, words only: -minn 0 -maxn 0) with the settings
# of run.sh, evaluated by w2v's evaluators, one CSV row.
# usage: bench/quality/fasttext_run.sh NAME SEED   (RESULTS, CORPUS, W2V, MODEL, EPOCHS, ALPHA
#        as in run.sh; THREADS default 2)
set -euo pipefail
name=$1 seed=$2
source "$(dirname "$0")/common.sh"
threads=${THREADS:-2}
out=/tmp/wq-out/$name.$seed
start=$(date +%s.%N)
nice -n 10 fasttext "$model" -input "$corpus" -output "$out" -dim 100 -ws 5 -neg 5 -t 1e-4 \
  -minCount 5 -epoch "$epochs" -thread "$threads" -lr "$alpha" -minn 0 -maxn 0 -seed "$seed" \
  -verbose 1 > "$out.train.log" 2>&1
secs=$(echo "$(date +%s.%N) - $start" | bc)
row_name=$name row_seed=$seed
score "$out.vec" "$out"
echo "$name,$seed,$an,$ws,,$secs,model=$model epochs=$epochs threads=$threads,fasttext 0.9.2 -lr $alpha,$load" >> "$results"
echo "$name seed $seed: analogy $an ws353 $ws ($secs s)"
rm -f "$out.vec" "$out.bin"
