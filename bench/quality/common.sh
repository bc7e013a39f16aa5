# Sourced by run.sh, gensim_run.sh and fasttext_run.sh: the settings every quality run shares
# (W2V, CORPUS, RESULTS, MODEL, EPOCHS, ALPHA as run.sh documents them) and the scoring.
w2v=${W2V:-/tmp/w2v-quality/build/w2v}
corpus=${CORPUS:-/tmp/wiki.txt}
results=${RESULTS:-/tmp/wq-results.csv}
data=/work/shared/data
model=${MODEL:-cbow}
epochs=${EPOCHS:-3}
# The anchors' rate (word2vec.c's); w2v runs take theirs from the flags.
[[ $model == cbow ]] && alpha=${ALPHA:-0.05} || alpha=${ALPHA:-0.025}
mkdir -p /tmp/wq-out
[[ -f $results ]] || echo "name,seed,analogy,ws353,words_per_sec,seconds,env,flags,load_before" > "$results"
load=$(cut -d' ' -f1 /proc/loadavg)

# score VECTORS LOGS: analogy (top 30,000 words) into $an and WS-353 into $ws, logs at LOGS.*.log
score() {
  nice -n 10 "$w2v" analogy "$1" $data/questions-words.txt --restrict 30000 > "$2.analogy.log" 2>&1
  nice -n 10 "$w2v" similarity "$1" $data/wordsim353.tsv > "$2.ws.log" 2>&1
  an=$(awk '/^total accuracy/ {print $3}' "$2.analogy.log")
  ws=$(awk '/^spearman/ {print $2}' "$2.ws.log")
  [[ -z ${WORD_SETS:-} ]] || score_word_sets "$1" "$2"
}

# With WORD_SETS=DIR, every similarity set DIR/*.txt (word, word, score; e.g. the data/word-sim
# folder of github.com/mfaruqui/eval-word-vectors) is scored too, one row per set in
# $WORD_SETS_RESULTS: name, seed, set, Spearman, pairs scored, pairs out of vocabulary.
# The caller sets $row_name and $row_seed.
word_sets_results=${WORD_SETS_RESULTS:-$(dirname "${BASH_SOURCE[0]}")/word_sets.csv}
score_word_sets() {
  [[ -f $word_sets_results ]] || echo "name,seed,set,spearman,pairs,oov" > "$word_sets_results"
  local set log
  for set in "$WORD_SETS"/*.txt; do
    log="$2.$(basename "$set" .txt).log"
    nice -n 10 "$w2v" similarity "$1" "$set" > "$log" 2>&1
    awk -v name="$row_name" -v seed="$row_seed" -v set="$(basename "$set" .txt)" \
      '/^spearman/ {print name "," seed "," set "," $2 "," $4 "," $6}' "$log" >> "$word_sets_results"
  done
}
