#!/usr/bin/env bash
# The five-minute tour: build w2v, train skip-gram vectors on text8, show what they learnt.
#
#   tools/demo.sh [CORPUS]
#
# Without CORPUS it takes, in order: data/text8, data/text8.zip (unzipped into data/),
# ../shared/data/text8_prefix.txt, or downloads text8.zip into data/. Everything it writes
# goes under data/ (git-ignored): data/demo/vectors.bin, loss.csv, loss.png.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
die() { echo "demo: $*" >&2; exit 1; }
step() { printf '\n== %s\n' "$*"; }

step "building w2v (Release) into build/"
if [[ -f build/CMakeCache.txt ]]; then
  # Keep an existing build's generator and options; only the w2v target is built.
  grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' build/CMakeCache.txt ||
    echo "note: build/ is not a Release build; timings will be slow" >&2
else
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DW2V_BUILD_TESTS=OFF -DW2V_BUILD_BENCH=OFF
fi
cmake --build build --target w2v --parallel "$(nproc)"
w2v=build/w2v

step "finding the corpus"
text8_url=http://mattmahoney.net/dc/text8.zip
unzip_text8() {
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("text8", "data")' \
    data/text8.zip 2>/dev/null || unzip -o -q data/text8.zip text8 -d data ||
    die "cannot unzip data/text8.zip (a partial download? delete it and run again)"
}
if (($#)); then
  corpus=$1
elif [[ -f data/text8 ]]; then
  corpus=data/text8
elif [[ -f data/text8.zip ]]; then
  unzip_text8 && corpus=data/text8
elif [[ -f ../shared/data/text8_prefix.txt ]]; then
  corpus=../shared/data/text8_prefix.txt
else
  echo "no text8 here; downloading $text8_url (31 MB) into data/"
  mkdir -p data
  if command -v curl >/dev/null; then
    fetch=(curl -fL --connect-timeout 15 --max-time 900 -o data/text8.zip.part "$text8_url")
  else
    fetch=(wget -T 15 -O data/text8.zip.part "$text8_url")
  fi
  "${fetch[@]}" || die "download failed (offline?). Put text8.zip ($text8_url) into data/ and run again"
  mv data/text8.zip.part data/text8.zip
  unzip_text8 && corpus=data/text8
fi
[[ -r $corpus ]] || die "cannot read corpus $corpus"
echo "corpus: $corpus ($(wc -c <"$corpus") bytes)"

step "training skip-gram vectors"
mkdir -p data/demo
# Default device (auto): a GPU when w2v has one, else all CPU cores. The encoded corpus is
# cached in data/demo, so a second run skips that step.
"$w2v" train --corpus "$corpus" --output data/demo/vectors.bin --model skipgram \
  --sample 1e-4 --epochs 5 --alpha 0.05 --loss-log data/demo/loss.csv --progress-interval 0.25

step "nearest neighbours (cosine)"
for word in france king computer three; do
  neighbours=$("$w2v" similar data/demo/vectors.bin "$word" -k 8 | awk '{printf " %s", $1}')
  printf '%-10s%s\n' "$word:" "$neighbours"
done

# The evaluation sets: data/ first, then the shared data folder beside the repository.
find_data() {
  local dir
  for dir in data ../shared/data; do
    [[ -f $dir/$1 ]] && { echo "$dir/$1"; return; }
  done
  echo "note: $1 not found in data/ or ../shared/data/; skipped" >&2
}

step "Google analogies (3CosAdd over the 30000 most frequent words)"
questions=$(find_data questions-words.txt)
[[ -z $questions ]] ||
  "$w2v" analogy data/demo/vectors.bin "$questions" --restrict 30000 | tail -4

step "WordSim-353 (Spearman's rho against human scores)"
pairs=$(find_data wordsim353.tsv)
[[ -z $pairs ]] || "$w2v" similarity data/demo/vectors.bin "$pairs"

step "loss curve"
if python3 -c 'import matplotlib' 2>/dev/null; then
  python3 tools/plot_loss.py data/demo/loss.csv data/demo/loss.png
else
  echo "matplotlib is not installed (pip install matplotlib); the curve is in data/demo/loss.csv"
fi
