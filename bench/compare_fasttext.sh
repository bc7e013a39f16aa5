#!/usr/bin/env bash
# w2v against fastText (and gensim with --gensim, Mikolov's word2vec.c with --word2vec-c
# BINARY), side by side on one machine: skip-gram and CBOW with the same settings and
# learning rate, every tool's vectors scored by w2v's own evaluators; and w2v once more with its
# own defaults (row w2v_defaults: its rates, skip-gram's noise shared by a window, CBOW's noise
# and written vectors). --loss hs: hierarchical softmax instead of negative sampling, in every
# tool (w2v_defaults: w2v's rates for it, word2vec.c's).
#
#   bench/compare_fasttext.sh [--seeds N] [--threads N] [--corpus FILE] [--lr X] [--gensim]
#                             [--word2vec-c BINARY] [--loss ns|hs]
#
# Environment: W2V (the binary, default build/w2v), W2V_BENCH_CORPUS, W2V_BENCH_THREADS.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data="$root/../shared/data"
w2v=${W2V:-$root/build/w2v}
corpus=${W2V_BENCH_CORPUS:-$data/text8_prefix.txt}
threads=${W2V_BENCH_THREADS:-2}
seeds=1
lr=0.05
gensim=0
word2vec_c=
loss=ns
# The fixed settings; fastText's flag for each is beside it below.
dim=100 window=5 negative=5 sample=1e-4 min_count=5 epochs=5

usage() { sed -n '2,11s/^# \{0,1\}//p' "$0"; exit "${1:-0}"; }
while (($#)); do
  case $1 in
    --seeds) seeds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --corpus) corpus=$2; shift 2 ;;
    --lr) lr=$2; shift 2 ;;
    --gensim) gensim=1; shift ;;
    --word2vec-c) word2vec_c=$2; shift 2 ;;
    --loss) loss=$2; shift 2 ;;
    -h | --help) usage ;;
    *) echo "unknown argument: $1" >&2; usage 2 ;;
  esac
done

die() { echo "compare_fasttext: $*" >&2; exit 1; }
[[ $loss == ns || $loss == hs ]] || die "--loss: ns or hs, got '$loss'"
# Each tool's flags for the objective.
hs=0 ft_loss=() c_negative=$negative
[[ $loss == hs ]] && hs=1 ft_loss=(-loss hs) c_negative=0
[[ -x $w2v ]] || die "no w2v binary at $w2v; build it first:
  cmake -S $root -B $root/build -G Ninja -DW2V_BUILD_TESTS=OFF -DW2V_BUILD_BENCH=OFF
  cmake --build $root/build --target w2v"
command -v fasttext >/dev/null || die "fastText is not installed: apt-get install fasttext"
command -v python3 >/dev/null || die "python3 is needed for the timing and the table"
[[ -z $word2vec_c || -x $word2vec_c ]] || die "no word2vec.c binary at $word2vec_c"
((gensim == 0)) || python3 -c 'import gensim' 2>/dev/null ||
  die "gensim is not installed (pip install gensim, or apt-get install python3-gensim)"
[[ -r $corpus ]] || die "cannot read corpus $corpus (set --corpus or W2V_BENCH_CORPUS)"
questions="$data/questions-words.txt" pairs="$data/wordsim353.tsv"
[[ -r $questions && -r $pairs ]] || die "missing $questions or $pairs"
corpus=$(realpath "$corpus")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
helper="$root/bench/compare_table.py"

evaluate() {  # VECTORS STEM
  "$w2v" analogy "$1" "$questions" --restrict 30000 >"$2.analogy"
  "$w2v" similarity "$1" "$pairs" >"$2.ws"
}

echo "corpus $corpus; loss $loss, dim $dim, window $window, negative $negative, sample $sample," \
  "min-count $min_count, epochs $epochs, threads $threads, lr $lr (w2v_defaults: its own), seeds $seeds" >&2
for model in skipgram cbow; do
  for ((seed = 1; seed <= seeds; seed++)); do
    # w2v twice: with the other tools' algorithm (their rate, word2vec.c's noise distribution
    # drawn for each skip-gram pair, the input vectors), and with its own defaults. A fresh
    # cache dir per run: w2v's wall time includes vocabulary and encoding, as fastText's does.
    for tool in w2v w2v_defaults; do
      stem="$tmp/$model.$tool.$seed"
      echo "== $model $tool seed $seed" >&2
      flags=()
      if [[ $tool == w2v ]]; then
        flags=(--alpha "$lr" --vectors input)
        ((hs)) || flags+=(--ns-exponent 0.75)
        [[ $model == skipgram ]] && ((!hs)) && flags+=(--sg-noise pair)
      fi
      ((hs)) && flags+=(--loss hs)
      python3 "$helper" run "$stem.log" -- "$w2v" train --corpus "$corpus" --output "$stem.txt" \
        --cache-dir "$stem.cache" --model "$model" --dim $dim --window $window \
        --negative $negative --sample $sample --min-count $min_count --epochs $epochs \
        --threads "$threads" --seed "$seed" --quiet "${flags[@]}" ||
        die "w2v failed:$(echo; tail -5 "$stem.log")"
      grep "^trained" "$stem.log" >&2
      evaluate "$stem.txt" "$stem"
      rm -rf "$stem.txt" "$stem.cache"
    done

    stem="$tmp/$model.fasttext.$seed"
    echo "== $model fastText seed $seed" >&2
    python3 "$helper" run "$stem.log" -- fasttext "$model" -input "$corpus" -output "$stem" \
      -minn 0 -maxn 0 -dim $dim -ws $window -neg $negative -t $sample -minCount $min_count \
      -epoch $epochs -thread "$threads" -lr "$lr" -seed "$seed" "${ft_loss[@]}" ||
      die "fastText failed:$(echo; tail -c 500 "$stem.log")"
    tr '\r' '\n' <"$stem.log" | grep 'Progress:' | tail -1 >&2
    evaluate "$stem.vec" "$stem"
    rm -f "$stem.vec" "$stem.bin"

    if [[ -n $word2vec_c ]]; then
      stem="$tmp/$model.word2vec_c.$seed"
      echo "== $model word2vec.c seed $seed" >&2
      # word2vec.c has no seed flag: its threads seed their generators with their ids.
      python3 "$helper" run "$stem.log" -- "$word2vec_c" -train "$corpus" -output "$stem.txt" \
        -cbow $([[ $model == cbow ]] && echo 1 || echo 0) -size $dim -window $window \
        -negative $c_negative -hs $hs -sample $sample -min-count $min_count -iter $epochs \
        -threads "$threads" -alpha "$lr" -binary 0 || die "word2vec.c failed:$(echo; tail -c 500 "$stem.log")"
      evaluate "$stem.txt" "$stem"
      rm -f "$stem.txt"
    fi

    ((gensim)) || continue
    stem="$tmp/$model.gensim.$seed"
    echo "== $model gensim seed $seed" >&2
    python3 "$helper" run "$stem.log" -- python3 "$root/bench/gensim_train.py" "$corpus" \
      "$stem.txt" "$model" $dim $window $negative $sample $min_count $epochs "$threads" "$lr" \
      "$seed" "$loss" || die "gensim failed:$(echo; tail -5 "$stem.log")"
    grep "trained" "$stem.log" >&2
    evaluate "$stem.txt" "$stem"
    rm -f "$stem.txt"
  done
done

echo
ft_version=$(dpkg-query -W -f '${Version}' fasttext 2>/dev/null || echo "version unknown")
gensim_version=$( ((gensim)) && python3 -c 'import gensim; print(", gensim", gensim.__version__)' || true)
echo "w2v vs fastText ($ft_version$gensim_version) on $(basename "$corpus"), $(nproc) cores: loss $loss, dim $dim, window $window," \
  "negative $negative, sample $sample, min-count $min_count, epochs $epochs, threads $threads," \
  "lr $lr for every tool but w2v_defaults"
echo
python3 "$helper" table "$tmp" "$corpus" "$threads" "$epochs"
