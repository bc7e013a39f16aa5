#!/usr/bin/env bash
# run.sh, also scoring the input + output vectors that the experimental copy with
# patches/write-sum.patch writes beside the input vectors (W2V_Q_WC=1): rows NAME (input),
# NAME-sum and NAME-nsum (each table normalised first). usage: as run.sh.
set -euo pipefail
name=$1 seed=$2; shift 2
source "$(dirname "$0")/common.sh"
out=/tmp/wq-out/$name.$seed
mkdir -p /tmp/wq-cache
W2V_Q_WC=1 nice -n 10 "$w2v" train --corpus "$corpus" --output "$out.bin" --model "$model" --dim 100 --window 5 \
  --negative 5 --sample 1e-4 --min-count 5 --epochs "$epochs" --threads 2 --device cpu --seed "$seed" \
  --cache-dir /tmp/wq-cache --quiet "$@" > "$out.train.log" 2>&1
line=$(grep -E '^(trained|stopped)' "$out.train.log" | tail -1)
wps=$(sed -E 's/.*: ([0-9]+) words\/s.*/\1/' <<<"$line")
secs=$(sed -E 's/.* in ([0-9.]+) s.*/\1/' <<<"$line")
envs=$(env | grep '^W2V_Q_' | sort | tr '\n' ' ' || true)
[[ $model != cbow || $epochs != 3 ]] && envs="$envs model=$model epochs=$epochs"
score "$out.bin" "$out"
echo "$name,$seed,$an,$ws,$wps,$secs,$envs,$*,$load" >> "$results"
echo "$name seed $seed: analogy $an ws353 $ws"
score "$out.bin.wc.bin" "$out.wc"
echo "$name-sum,$seed,$an,$ws,$wps,$secs,$envs W2V_Q_WC=1,$*,$load" >> "$results"
echo "$name-sum seed $seed: analogy $an ws353 $ws"
score "$out.bin.wcn.bin" "$out.wcn"
echo "$name-nsum,$seed,$an,$ws,$wps,$secs,$envs W2V_Q_WC=1,$*,$load" >> "$results"
echo "$name-nsum seed $seed: analogy $an ws353 $ws"
rm -f "$out.bin" "$out.bin.wc.bin" "$out.bin.wcn.bin"
