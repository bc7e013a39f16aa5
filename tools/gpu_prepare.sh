#!/usr/bin/env bash
# Prepares, on the development machine, everything tools/gpu_check.sh needs on the device
# machine (which reaches no network and has no ../shared): GoogleTest, Google Benchmark and
# xxHash (the build requires it; the device's image has only the Python package) as Debian
# packages, the commit prepared for, and the data as xz files under .deps/ (git-ignored): the
# text8 prefix, the analogy set, WordSim-353, PTB's training text and the first 170 MB of the
# Wikipedia corpus (28M words). About 45 MiB, inside the device call's 64 MiB limit. Then:
#   run(command="tools/gpu_check.sh", carry=[".deps"], kind="nvidia-h200", timeout_s=600)
# (the issues' goals are an H200's: a call that names no kind may get an H100)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
shared=${SHARED:-../shared/data}
mkdir -p .deps/data
(cd .deps && apt-get download libgtest-dev libbenchmark-dev libbenchmark1debian libxxhash-dev \
  libxxhash0 >/dev/null)
# The device's copy of the tree has no .git: the summary names the commit from here.
git describe --always --dirty >.deps/commit
for f in text8_prefix.txt questions-words.txt wordsim353.tsv; do
  [[ -f .deps/data/$f.xz ]] || xz -6 -T0 -c "$shared/$f" >".deps/data/$f.xz"
done
[[ -f .deps/data/ptb.train.txt.xz ]] || xz -6 -T0 -c "$shared/ptb/ptb.train.txt" >.deps/data/ptb.train.txt.xz
if [[ ! -f .deps/data/enwiki_cut.txt.xz ]]; then
  # xz dies of SIGPIPE (141) when head has its bytes: not a failure; any other exit is.
  { xz -dc "$shared/extra/enwiki2015_60m.txt.xz" || (($? == 141)); } | head -c 170000000 |
    xz -6 -T0 >.deps/data/enwiki_cut.txt.xz.part
  mv .deps/data/enwiki_cut.txt.xz.part .deps/data/enwiki_cut.txt.xz
fi
du -sh .deps
