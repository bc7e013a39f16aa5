#!/usr/bin/env bash
# End-to-end tokens/s benchmark: trains on one corpus with each mode and prints words/s
# (word2vec.c's count: in-vocabulary corpus tokens before subsampling, per second of
# training), seconds, final loss, analogy accuracy (restrict 30000) and WordSim-353 Spearman,
# as a markdown table; with --torch, tools/torch_sgns.py (the d2l example's approach) runs on
# the same corpus and device in the same call, and the ratio of words/s is printed.
#
#   bench/e2e.sh [--w2v BINARY] [--corpus FILE | --synth TOKENS] [--device cuda|cpu|auto]
#                [--modes "sg-ns cbow-ns sg-softmax ..."] [--epochs N] [--torch]
#                [--torch-epochs N] [--extra "FLAGS"] [--neighbours "WORD ..."] [--out DIR]
#
# Corpus: a text file (.xz is decompressed into --out), or --synth N writes an N-token Zipf
# corpus with `w2v synth --encoded` (1M word types, encoded directly). Default:
# ../shared/data/text8_prefix.txt.
# Modes: MODEL-LOSS with MODEL sg|cbow and LOSS ns|softmax|bce; suffixes: "-tied" adds --tied,
# "-adam", "-momentum" and "-nesterov" pick the --optimizer, "-modular" and "-fused" the GPU
# trainer's path (--gpu-path), "-samplersN" sets --sampler-threads N, "-pairs" --sg-rows pair
# (skip-gram rows of one (center, context) pair on the modular path), "-graph" --step-graph
# (the modular step launched as a CUDA graph), "-warpsN" --fused-warps N (the fused path's
# warps at once), "-streamsN" --fused-streams N (its batches over N compute streams), "-dimN"
# --dim N in place of 128, "-seedN" --seed N, "-hold"
# --fused-window-rows hold (its window rows held, not refreshed), "-cpu" runs the CPU trainer
# whatever --device says (the quality baseline). Settings: dim 128, window 5, negative 5, sample
# 1e-4, min-count 5; --extra adds flags to every w2v run. --neighbours adds a second table: each mode's 5 nearest neighbours of
# each word (for corpora such as PTB, where the analogy set finds few questions).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
die() { echo "e2e: $*" >&2; exit 1; }

w2v=build/w2v
corpus=../shared/data/text8_prefix.txt
synth=0
device=auto
modes="sg-ns cbow-ns"
epochs=1
torch=0
torch_epochs=""
extra=""
neighbours=""
out=${OUT:-bench-e2e}
data=../shared/data
while (($#)); do
  case $1 in
    --w2v) w2v=$2; shift 2 ;;
    --corpus) corpus=$2; shift 2 ;;
    --synth) synth=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --torch) torch=1; shift ;;
    --torch-epochs) torch_epochs=$2; shift 2 ;;
    --extra) extra=$2; shift 2 ;;
    --neighbours) neighbours=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    *) die "unknown argument $1 (see the header of $0)" ;;
  esac
done
[[ -x $w2v ]] || die "$w2v is not built (cmake --build build --target w2v)"
mkdir -p "$out"
questions=$data/questions-words.txt
wordsim=$data/wordsim353.tsv

corpus_flags=()
if ((synth > 0)); then
  # Encoded directly, with its vocabulary: no text to write and prepare.
  corpus=$out/synth_${synth}.tokens
  [[ -f $corpus ]] || "$w2v" synth --output "$corpus" --tokens "$synth" --encoded >&2
  corpus_flags=(--vocab "$corpus.vocab")
  ((torch)) && echo "e2e: --torch needs a text corpus; not run on --synth" >&2 && torch=0
elif [[ $corpus == *.xz ]]; then
  plain=$out/$(basename "${corpus%.xz}")
  [[ -f $plain ]] || xz -dc "$corpus" >"$plain"
  corpus=$plain
fi
[[ -f $corpus ]] || die "$corpus: no such corpus"

settings=(--dim 128 --window 5 --negative 5 --sample 1e-4 --min-count 5 --epochs "$epochs")

# evaluate VECTORS -> "analogy% spearman" ("-" where the file is missing)
evaluate() {
  local analogy=- spearman=-
  if [[ -f $questions ]]; then
    analogy=$("$w2v" analogy "$1" "$questions" --restrict 30000 2>&1 |
      awk '/total accuracy/ {print $3}')
  fi
  if [[ -f $wordsim ]]; then
    spearman=$("$w2v" similarity "$1" "$wordsim" 2>&1 | awk '/spearman/ {print $2}')
  fi
  echo "${analogy:--} ${spearman:--}"
}

echo "corpus: $corpus ($(wc -c <"$corpus") bytes), device $device, epochs $epochs, dim 128" \
  "window 5 negative 5 sample 1e-4"
echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%F)"
echo
echo "| mode | trainer | words/s | seconds | final loss | analogy % | WS-353 |"
echo "|---|---|---|---|---|---|---|"
best_ns=0
trained=()
for mode in $modes; do
  flags=()
  model=${mode%%-*}
  rest=${mode#*-}
  loss=${rest%%-*}
  [[ $model == sg ]] && flags+=(--model skipgram) || flags+=(--model cbow)
  flags+=(--loss "$loss")
  [[ $mode == *-tied* ]] && flags+=(--tied)
  [[ $mode == *-adam* ]] && flags+=(--optimizer adam)
  [[ $mode == *-momentum* ]] && flags+=(--optimizer momentum)
  [[ $mode == *-nesterov* ]] && flags+=(--optimizer nesterov)
  [[ $mode == *-modular* ]] && flags+=(--gpu-path modular)
  [[ $mode == *-fused* ]] && flags+=(--gpu-path fused)
  [[ $mode =~ -samplers([0-9]+) ]] && flags+=(--sampler-threads "${BASH_REMATCH[1]}")
  [[ $mode =~ -warps([0-9]+) ]] && flags+=(--fused-warps "${BASH_REMATCH[1]}")
  [[ $mode =~ -streams([0-9]+) ]] && flags+=(--fused-streams "${BASH_REMATCH[1]}")
  [[ $mode =~ -dim([0-9]+) ]] && flags+=(--dim "${BASH_REMATCH[1]}")  # after settings': the last wins
  [[ $mode =~ -seed([0-9]+) ]] && flags+=(--seed "${BASH_REMATCH[1]}")
  [[ $mode == *-pairs* ]] && flags+=(--sg-rows pair)
  [[ $mode == *-hold* ]] && flags+=(--fused-window-rows hold)
  [[ $mode == *-graph* ]] && flags+=(--step-graph)
  mode_device=$device
  [[ $mode == *-cpu* ]] && mode_device=cpu
  vectors=$out/$mode.bin
  log=$out/$mode.log
  # shellcheck disable=SC2086
  if ! "$w2v" train --corpus "$corpus" "${corpus_flags[@]}" --output "$vectors" --cache-dir "$out" \
    --device "$mode_device" "${settings[@]}" "${flags[@]}" --progress-interval 10 $extra >"$log" 2>&1; then
    echo "| $mode | w2v | failed: $(tail -1 "$log") | | | | |"
    continue
  fi
  summary=$(grep '^trained ' "$log" | tail -1)
  # trained W words in S s: R words/s, final loss L
  read -r words seconds rate loss <<<"$(awk '{print $2, $5, $7, $11}' <<<"$summary")"
  # grep finds no "gpu:" line for a CPU run: under pipefail that must not end the script.
  trainer=$({ grep -o 'device: [a-z]*' "$log" || true; } | head -1 | cut -d' ' -f2)
  path=$({ grep -o 'gpu: [a-z]* path' "$log" || true; } | head -1 | cut -d' ' -f2)
  [[ -n $path ]] && trainer="$trainer, $path"
  read -r analogy spearman <<<"$(evaluate "$vectors")"
  echo "| $mode | w2v ($trainer) | ${rate} | ${seconds} | ${loss} | ${analogy} | ${spearman} |"
  [[ $mode == sg-ns ]] && best_ns=$rate
  trained+=("$mode")
done

if [[ -n $neighbours ]]; then
  echo
  echo "Nearest neighbours (cosine, top 5):"
  echo
  header="| mode |" rule="|---|"
  for word in $neighbours; do header+=" $word |" rule+="---|"; done
  echo "$header"
  echo "$rule"
  for mode in "${trained[@]}"; do
    row="| $mode |"
    for word in $neighbours; do
      # A word outside the vocabulary gets "-" (w2v similar fails: not the end of the table).
      near=$({ "$w2v" similar "$out/$mode.bin" "$word" -k 5 2>/dev/null || true; } |
        awk '{printf "%s%s", sep, $1; sep=", "}')
      row+=" ${near:--} |"
    done
    echo "$row"
  done
fi

if ((torch)); then
  vectors=$out/torch.txt
  log=$out/torch.log
  torch_device=cuda
  [[ $device == cpu ]] && torch_device=cpu
  if python3 tools/torch_sgns.py "$corpus" "$vectors" --dim 128 --window 5 --negative 5 \
    --sample 1e-4 --min-count 5 --epochs "${torch_epochs:-$epochs}" --device "$torch_device" \
    >"$log" 2>&1; then
    summary=$(grep '^torch trained ' "$log" | tail -1)
    read -r seconds rate loss <<<"$(awk '{print $6, $8, $12}' <<<"$summary")"
    read -r analogy spearman <<<"$(evaluate "$vectors")"
    echo "| sg-ns | PyTorch d2l-style ($torch_device) | ${rate} | ${seconds} | ${loss} | ${analogy} | ${spearman} |"
    if [[ $best_ns != 0 ]]; then
      awk -v a="$best_ns" -v b="$rate" 'BEGIN {printf "\nw2v sg-ns / PyTorch: %.1fx the words/s\n", a / b}'
    fi
  else
    echo "| sg-ns | PyTorch | failed: $(tail -1 "$log") | | | | |"
  fi
fi
