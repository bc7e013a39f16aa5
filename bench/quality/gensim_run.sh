#!/usr/bin/env bash
# gensim anchor run (bench/quality/gensim_anchor.py) evaluated by w2v's evaluators, one CSV row.
# usage: bench/quality/gensim_run.sh SEED   (RESULTS, CORPUS, W2V, MODEL, EPOCHS, ALPHA as in
#        run.sh; GENSIM_SUM=1 also scores the input + output vectors, row NAME-sum)
set -euo pipefail
seed=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
out=/tmp/wq-out/gensim-$model-$epochs.$seed
nice -n 10 python3 "$here/gensim_anchor.py" "$corpus" "$out.bin" "$seed" "$model" "$epochs" "$alpha" > "$out.train.log" 2>&1
# CBOW at 3 epochs keeps the first anchor's name; the others say what they are.
[[ $model == cbow && $epochs == 3 ]] && name=gensim-4.4 || name=gensim-$model$epochs
row_name=$name row_seed=$seed
score "$out.bin" "$out"
secs=$(sed -nE 's/^gensim trained in ([0-9.]+) s.*/\1/p' "$out.train.log")
wps=$(sed -nE 's/^gensim trained in .*: ([0-9]+) words\/s/\1/p' "$out.train.log")
echo "$name,$seed,$an,$ws,$wps,$secs,model=$model epochs=$epochs,corpus_file workers=2 cbow_mean=1 alpha=$alpha,$load" >> "$results"
echo "gensim seed $seed: analogy $an ws353 $ws words/s $wps ($secs s)"
if [[ -n ${GENSIM_SUM:-} ]]; then
  row_name=$name-sum
  score "$out.sum.bin" "$out.sum"
  echo "$name-sum,$seed,$an,$ws,$wps,$secs,model=$model epochs=$epochs GENSIM_SUM=1,corpus_file workers=2 cbow_mean=1 alpha=$alpha,$load" >> "$results"
  echo "gensim input+output seed $seed: analogy $an ws353 $ws"
  rm -f "$out.sum.bin"
fi
rm -f "$out.bin"
