#!/usr/bin/env bash
# bench/e2e.sh prints a row for every mode it is given, the CPU trainer's and hierarchical
# softmax's among them, on a small synthetic corpus, and with --neighbours each mode's 5 nearest neighbours of a word ("-" for a
# word outside the vocabulary). Usage: tests/e2e_script_test.sh W2V_BINARY WORK_DIR
set -euo pipefail
w2v=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
table=$("$(dirname "$0")/../bench/e2e.sh" --w2v "$w2v" --synth 300000 --device cpu --epochs 1 \
  --modes "sg-ns-cpu cbow-ns sg-hs" --extra "--threads 2 --dim 16" --neighbours "a notaword" \
  --out "$work")
echo "$table"
rows=$(grep -c '^| [a-z-]* | w2v (cpu)' <<<"$table" || true)
if [[ $rows != 3 ]]; then
  echo "expected 3 rows of the CPU trainer, found $rows" >&2
  exit 1
fi
# "a" is the synthetic corpus's most frequent word.
near=$(grep -cE '^\| (sg-ns-cpu|cbow-ns|sg-hs) \| [a-z]+(, [a-z]+){4} \| - \|$' <<<"$table" || true)
if [[ $near != 3 ]]; then
  echo "expected 3 rows of 5 neighbours of 'a' and none of 'notaword', found $near" >&2
  exit 1
fi
