#!/usr/bin/env bash
# Issue 16 experiments: one run on the 60M-word Wikipedia corpus, then its analogy
# (top 30,000 words) and WS-353 scores, appended as one CSV row.
#
# usage: bench/quality/run.sh NAME SEED [extra w2v train flags...]
#   W2V        w2v binary (default /tmp/w2v-quality/build/w2v, the experimental copy)
#   CORPUS     training text (default /tmp/wiki.txt: xz -dc enwiki2015_60m.txt.xz)
#   RESULTS    CSV the row is appended to (default /tmp/wq-results.csv)
#   MODEL      cbow (default) or skipgram;  EPOCHS  default 3
#   ALPHA      the anchors' (gensim_run.sh, fasttext_run.sh) rate: default 0.05 CBOW, 0.025
#              skip-gram
#   WORD_SETS  a directory of further similarity sets (*.txt) to score, into
#              bench/quality/word_sets.csv (common.sh; table: word_sets.py)
# Variant switches of the experimental copy are environment variables (W2V_Q_*), passed
# through unchanged; NAME should say which are set.
set -euo pipefail
name=$1 seed=$2; shift 2
source "$(dirname "$0")/common.sh"
out=/tmp/wq-out/$name.$seed
mkdir -p /tmp/wq-cache
nice -n 10 "$w2v" train --corpus "$corpus" --output "$out.bin" --model "$model" --dim 100 --window 5 \
  --negative 5 --sample 1e-4 --min-count 5 --epochs "$epochs" --threads 2 --device cpu --seed "$seed" \
  --cache-dir /tmp/wq-cache --quiet "$@" > "$out.train.log" 2>&1
row_name=$name row_seed=$seed
score "$out.bin" "$out"
line=$(grep -E '^(trained|stopped)' "$out.train.log" | tail -1)
wps=$(sed -E 's/.*: ([0-9]+) words\/s.*/\1/' <<<"$line")
secs=$(sed -E 's/.* in ([0-9.]+) s.*/\1/' <<<"$line")
envs=$(env | grep '^W2V_Q_' | sort | tr '\n' ' ' || true)
[[ $model != cbow || $epochs != 3 ]] && envs="$envs model=$model epochs=$epochs"
[[ -n ${W2V_Q_LABEL:-} ]] && envs="$envs $W2V_Q_LABEL"
echo "$name,$seed,$an,$ws,$wps,$secs,$envs,$*,$load" >> "$results"
echo "$name seed $seed: analogy $an ws353 $ws words/s $wps ($secs s)"
# The experimental copy with patches/write-sum.patch and W2V_Q_WC=1 also writes the input +
# output vectors (.wc.bin) and their normalised sum (.wcn.bin): rows NAME-sum, NAME-nsum.
for kind in sum:wc nsum:wcn; do
  [[ -f $out.bin.${kind#*:}.bin ]] || continue
  row_name=$name-${kind%:*}
  score "$out.bin.${kind#*:}.bin" "$out.${kind#*:}"
  echo "$name-${kind%:*},$seed,$an,$ws,$wps,$secs,$envs,$*,$load" >> "$results"
  echo "$name-${kind%:*} seed $seed: analogy $an ws353 $ws"
done
rm -f "$out.bin" "$out.bin.wc.bin" "$out.bin.wcn.bin"
