#!/usr/bin/env bash
# Runs the experiments listed in a queue file one at a time (one training process at a time),
# popping the first line each time, so lines can be appended while it runs. A line is
#   NAME SEED [VAR=VALUE ...] [-- extra w2v train flags]
# NAME fasttext... runs fasttext_run.sh, gensim... gensim_run.sh, anything else run.sh.
# Stops when the queue is empty or at the UTC time STOP (HH:MM, default 00:50).
# usage: bench/quality/queue.sh QUEUE_FILE
set -uo pipefail
queue=$1
here=$(cd "$(dirname "$0")" && pwd)
stop=${STOP:-00:50}
while :; do
  now=$(date -u +%H:%M)
  # Past the stop time (the session starts before midnight; 23:xx is before 00:50).
  if [[ $now < 23:00 && ! $now < $stop ]]; then echo "queue: stop time $stop reached"; break; fi
  line=$(head -1 "$queue" 2>/dev/null)
  [[ -z $line ]] && { echo "queue: empty"; break; }
  sed -i 1d "$queue"
  read -r -a parts <<<"$line"
  name=${parts[0]} seed=${parts[1]}
  envs=() flags=() seen=0
  for p in "${parts[@]:2}"; do
    if [[ $p == -- ]]; then seen=1; elif ((seen)); then flags+=("$p"); else envs+=("$p"); fi
  done
  echo "queue: $(date -u +%T) start $line"
  case $name in
    fasttext*) runner=("$here/fasttext_run.sh" "$name") ;;  # the anchors, by name
    gensim*) runner=("$here/gensim_run.sh") ;;
    *) runner=("$here/run.sh" "$name") ;;
  esac
  env "${envs[@]}" "${runner[@]}" "$seed" "${flags[@]}" || echo "queue: FAILED $line"
done
