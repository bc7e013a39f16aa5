#!/usr/bin/env bash
# fastText anchor run (Debian's fasttext 0.9.2, words only: -minn 0 -maxn 0) with the settings
# of run.sh, evaluated by w2v's evaluators, one CSV row.
# usage: bench/quality/fasttext_run.sh NAME SEED   (RESULTS, CORPUS, W2V, MODEL, EPOCHS as in
#        run.sh; THREADS default 2; ALPHA default 0.05 CBOW, 0.025 skip-gram)
set -euo pipefail
name=$1 seed=$2
w2v=${W2V:-/tmp/w2v-quality/build/w2v}
corpus=${CORPUS:-/tmp/wiki.txt}
results=${RESULTS:-/tmp/wq-results.csv}
model=${MODEL:-cbow}
epochs=${EPOCHS:-3}
threads=${THREADS:-2}
[[ $model == cbow ]] && alpha=${ALPHA:-0.05} || alpha=${ALPHA:-0.025}
data=/work/shared/data
out=/tmp/wq-out/$name.$seed
mkdir -p /tmp/wq-out
load=$(cut -d' ' -f1 /proc/loadavg)
start=$(date +%s.%N)
nice -n 10 fasttext "$model" -input "$corpus" -output "$out" -dim 100 -ws 5 -neg 5 -t 1e-4 \
  -minCount 5 -epoch "$epochs" -thread "$threads" -lr "$alpha" -minn 0 -maxn 0 -seed "$seed" \
  -verbose 1 > "$out.train.log" 2>&1
secs=$(echo "$(date +%s.%N) - $start" | bc)
nice -n 10 "$w2v" analogy "$out.vec" $data/questions-words.txt --restrict 30000 > "$out.analogy.log" 2>&1
nice -n 10 "$w2v" similarity "$out.vec" $data/wordsim353.tsv > "$out.ws.log" 2>&1
an=$(awk '/^total accuracy/ {print $3}' "$out.analogy.log")
ws=$(awk '/^spearman/ {print $2}' "$out.ws.log")
echo "$name,$seed,$an,$ws,,$secs,model=$model epochs=$epochs threads=$threads,fasttext 0.9.2 -lr $alpha,$load" >> "$results"
echo "$name seed $seed: analogy $an ws353 $ws ($secs s)"
rm -f "$out.vec" "$out.bin"
