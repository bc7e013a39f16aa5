#!/usr/bin/env bash
# gensim anchor run (bench/quality/gensim_anchor.py) evaluated by w2v's evaluators, one CSV row.
# usage: bench/quality/gensim_run.sh SEED   (RESULTS, CORPUS, W2V, MODEL, EPOCHS as in run.sh;
#        ALPHA default 0.05 CBOW, 0.025 skip-gram)
set -euo pipefail
seed=$1
here=$(cd "$(dirname "$0")" && pwd)
w2v=${W2V:-/tmp/w2v-quality/build/w2v}
corpus=${CORPUS:-/tmp/wiki.txt}
results=${RESULTS:-/tmp/wq-results.csv}
data=/work/shared/data
model=${MODEL:-cbow}
epochs=${EPOCHS:-3}
[[ $model == cbow ]] && alpha=${ALPHA:-0.05} || alpha=${ALPHA:-0.025}
out=/tmp/wq-out/gensim-$model-$epochs.$seed
load=$(cut -d' ' -f1 /proc/loadavg)
nice -n 10 python3 "$here/gensim_anchor.py" "$corpus" "$out.bin" "$seed" "$model" "$epochs" "$alpha" > "$out.train.log" 2>&1
nice -n 10 "$w2v" analogy "$out.bin" $data/questions-words.txt --restrict 30000 > "$out.analogy.log" 2>&1
nice -n 10 "$w2v" similarity "$out.bin" $data/wordsim353.tsv > "$out.ws.log" 2>&1
secs=$(sed -nE 's/^gensim trained in ([0-9.]+) s.*/\1/p' "$out.train.log")
wps=$(sed -nE 's/^gensim trained in .*: ([0-9]+) words\/s/\1/p' "$out.train.log")
an=$(awk '/^total accuracy/ {print $3}' "$out.analogy.log")
ws=$(awk '/^spearman/ {print $2}' "$out.ws.log")
# CBOW at 3 epochs keeps the first anchor's name; the others say what they are.
[[ $model == cbow && $epochs == 3 ]] && name=gensim-4.4 || name=gensim-$model$epochs
echo "$name,$seed,$an,$ws,$wps,$secs,model=$model epochs=$epochs,corpus_file workers=2 cbow_mean=1 alpha=$alpha,$load" >> "$results"
echo "gensim seed $seed: analogy $an ws353 $ws words/s $wps ($secs s)"
rm -f "$out.bin"
