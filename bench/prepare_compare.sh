#!/usr/bin/env bash
# The corpus preparation side by side on the same cores: w2v's vocabulary + encoding (from the
# start of `w2v train` to its vocabulary line), word2vec.c's vocabulary pass (to its
# "Words in train file" line) and gensim's build_vocab, each from a cold page cache when the
# machine lets us drop it (root), on a text corpus. A compressed corpus is also timed against
# its decompressor alone. Prints a markdown table.
#
#   bench/prepare_compare.sh --corpus FILE [--w2v BINARY] [--old-w2v BINARY]
#                            [--word2vec-c BINARY] [--gensim] [--threads N] [--runs N]
#                            [--compressed FILE.xz|.gz|.zst]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
die() { echo "prepare_compare: $*" >&2; exit 1; }
w2v=build/w2v old="" w2vc="" gensim=0 threads=$(nproc) runs=3 corpus="" compressed=""
out=${OUT:-/tmp/w2v-prepare-compare}
while (($#)); do
  case $1 in
    --corpus) corpus=$2; shift 2 ;;
    --w2v) w2v=$2; shift 2 ;;
    --old-w2v) old=$2; shift 2 ;;
    --word2vec-c) w2vc=$2; shift 2 ;;
    --gensim) gensim=1; shift ;;
    --threads) threads=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --compressed) compressed=$2; shift 2 ;;
    *) die "unknown argument $1" ;;
  esac
done
[[ -f $corpus ]] || die "--corpus FILE: a text corpus"
mkdir -p "$out"

cold() { sync; { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null || true; }
# Seconds from a command's start to the first stderr/stdout line matching PATTERN; then stops it.
until_line() {  # PATTERN COMMAND...
  python3 - "$@" <<'PY'
import re, subprocess, sys, time
pattern, cmd = re.compile(sys.argv[1]), sys.argv[2:]
start = time.time()
p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
for line in p.stdout:
    if pattern.search(line):
        print(f"{time.time() - start:.2f}")
        p.kill()
        break
else:
    print("failed")
p.wait()
PY
}
w2v_prepare() {  # BINARY CORPUS
  rm -rf "$out/cache" && mkdir -p "$out/cache"
  until_line '^vocabulary ' "$1" train --corpus "$2" --output "$out/cache/v.bin" \
    --cache-dir "$out/cache" --threads "$threads" --device cpu --epochs 1
}
row() {  # NAME COMMAND...
  local name=$1 times=()
  shift
  for ((r = 0; r < runs; r++)); do
    cold
    times+=("$("$@")")
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -g | sed -n "$(((runs + 1) / 2))p")
  echo "| $name | $median | ${times[*]} |"
}

echo "corpus: $corpus ($(wc -c <"$corpus") bytes), $threads threads, $(nproc) cores, $runs runs each"
echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%F)"
echo
echo "| preparation | median s | seconds per run |"
echo "|---|---|---|"
row "w2v (vocabulary + encoding)" w2v_prepare "$w2v" "$corpus"
[[ -n $old ]] && row "w2v before the parallel path ($old)" w2v_prepare "$old" "$corpus"
if [[ -n $w2vc ]]; then
  row "word2vec.c (vocabulary only)" until_line '^Words in train file' "$w2vc" -train "$corpus" \
    -output "$out/w2vc.bin" -min-count 5 -threads "$threads" -iter 1
fi
if ((gensim)); then
  row "gensim build_vocab (vocabulary only)" python3 -c "
import time, logging
from gensim.models import Word2Vec
start = time.time()
Word2Vec(min_count=5, workers=$threads).build_vocab(corpus_file='$corpus')
print(f'{time.time() - start:.2f}')"
fi
if [[ -n $compressed ]]; then
  case $compressed in
    *.xz) decode=(xz -dc) ;; *.gz) decode=(gzip -dc) ;; *.zst) decode=(zstd -dc) ;;
    *) die "--compressed: .xz, .gz or .zst" ;;
  esac
  row "w2v on $(basename "$compressed")" w2v_prepare "$w2v" "$compressed"
  row "the decompressor alone (${decode[*]}, piped to wc -c)" bash -c \
    'start=$(date +%s.%N); "$@" | wc -c >/dev/null; printf "%.2f" "$(echo "$(date +%s.%N) - $start" | bc)"' \
    _ "${decode[@]}" "$compressed"
fi
