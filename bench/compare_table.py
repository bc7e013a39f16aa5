#!/usr/bin/env python3
"""Helpers for bench/compare_fasttext.sh.

  compare_table.py run LOG -- CMD [ARGS...]
      Runs CMD with stdout and stderr merged into LOG and writes LOG.time (JSON):
      wall_s, plus for fastText the moments its dictionary was done ("Number of
      labels" printed) and its last "Progress:" line (printed after the training
      threads join), which bound its training time. Exits with CMD's status.

  compare_table.py table DIR CORPUS THREADS EPOCHS
      Reads DIR/<model>.<tool>.<seed>.{log,log.time,analogy,ws} and prints a
      markdown table (the mean over seeds when there is more than one).
"""
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path


def run(log, cmd):
    t0 = time.monotonic()
    marks = {}
    tail = b""
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        fd = proc.stdout.fileno()
        while chunk := os.read(fd, 1 << 16):
            now = time.monotonic() - t0
            out.write(chunk)
            seen = tail + chunk  # a marker may straddle two reads
            # fastText's dictionary is done at "Number of labels", word2vec.c's at "Words in
            # train file"; word2vec.c's training ends with the process.
            if "train_start_s" not in marks and (b"Number of labels" in seen
                                                 or b"Words in train file" in seen):
                marks["train_start_s"] = now
            if b"Progress:" in seen:
                marks["train_end_s"] = now
            tail = chunk[-32:]
        rc = proc.wait()
    Path(log + ".time").write_text(json.dumps({"wall_s": time.monotonic() - t0, **marks}))
    return rc


def find(pattern, text, what, path):
    matches = re.findall(pattern, text)
    if not matches:
        sys.exit(f"compare_table: no {what} in {path}:\n{text[-2000:]}")
    return matches[-1]


def read_run(stem, threads):
    log = Path(stem + ".log").read_text(errors="replace").replace("\r", "\n")
    timing = json.loads(Path(stem + ".log.time").read_text())
    analogy = Path(stem + ".analogy").read_text()
    ws = Path(stem + ".ws").read_text()
    r = {
        "analogy": float(find(r"total accuracy\s+([\d.]+) %", analogy, "total accuracy", stem)),
        "seen": find(r"questions seen: (\d+ / \d+)", analogy, "coverage", stem),
        "rho": float(find(r"spearman (-?[\d.]+)", ws, "spearman", stem)),
        "ws_pairs": find(r"pairs (\d+)", ws, "pairs", stem),
        "wall_s": timing["wall_s"],
    }
    tool = Path(stem).name.split(".")[1]
    if tool == "gensim":
        r.update(train_s=float(find(r"gensim trained in ([\d.]+) s", log, "training time", stem)),
                 own_wps=None)
        r["vocab"] = int(find(r"gensim vocabulary (\d+) words", log, "vocabulary size", stem))
    elif tool == "word2vec_c":
        if "train_start_s" not in timing:
            sys.exit(f"compare_table: word2vec.c's vocabulary line not found in {stem}.log")
        r.update(train_s=timing["wall_s"] - timing["train_start_s"], own_wps=None)
        r["vocab"] = int(find(r"Vocab size: (\d+)", log, "vocabulary size", stem)) - 1  # </s>
    elif tool in ("w2v", "w2v_defaults"):
        words, secs, wps = find(r"trained (\d+) words in ([\d.]+) s: (\d+) words/s", log, "summary", stem)
        r.update(words=int(words), train_s=float(secs), wps=float(wps), own_wps=None)
        r["vocab"] = int(find(r"vocabulary (\d+) words", log, "vocabulary line", stem))
    else:
        if "train_start_s" not in timing or "train_end_s" not in timing:
            sys.exit(f"compare_table: fastText progress not found in {stem}.log")
        r["train_s"] = timing["train_end_s"] - timing["train_start_s"]
        r["own_wps"] = float(find(r"words/sec/thread:\s*(\d+)", log, "words/sec/thread", stem)) * threads
        r["vocab"] = int(find(r"Number of words:\s*(\d+)", log, "vocabulary size", stem))
    return r


def mean_sd(values, fmt):
    if len(values) == 1:
        return fmt.format(values[0])
    return (fmt + " ± " + fmt).format(statistics.mean(values), statistics.stdev(values))


def table(folder, corpus, threads, epochs):
    runs = defaultdict(list)  # (model, tool) -> [run]

    def order(path):  # skip-gram before CBOW; w2v, fastText, gensim; seeds in order
        model, tool, seed = path.name.split(".")[:3]
        tools = ["w2v", "w2v_defaults", "word2vec_c", "fasttext", "gensim"]
        return (model != "skipgram", model, tools.index(tool), int(seed))

    for time_file in sorted(Path(folder).glob("*.log.time"), key=order):
        stem = str(time_file)[: -len(".log.time")]
        model, tool, _seed = Path(stem).name.split(".")
        runs[(model, tool)].append(read_run(stem, threads))
    if not runs:
        sys.exit(f"compare_table: no runs in {folder}")

    warnings = []
    for model in dict.fromkeys(m for m, _ in runs):
        w2v = runs.get((model, "w2v"))
        if not w2v:
            continue
        for other in ("fasttext", "gensim", "word2vec_c"):
            rs = runs.get((model, other))
            if not rs:
                continue
            # Same definition for every tool: in-vocabulary tokens x epochs / training seconds.
            for r in rs:
                r["words"] = w2v[0]["words"]
                r["wps"] = r["words"] / r["train_s"]
            if (w2v[0]["vocab"], w2v[0]["seen"]) != (rs[0]["vocab"], rs[0]["seen"]):
                warnings.append(f"{model}: vocabularies differ (w2v {w2v[0]['vocab']} words, "
                                f"analogy {w2v[0]['seen']}; {other} {rs[0]['vocab']}, {rs[0]['seen']})")

    print("| model | tool | analogy % (restrict 30k) | WS-353 ρ | words/s | train s | total wall s |")
    print("|---|---|---|---|---|---|---|")
    for (model, tool), rs in runs.items():
        wps = mean_sd([r["wps"] for r in rs], "{:,.0f}")
        if tool == "fasttext":
            wps += " (own: {:,.0f})".format(statistics.mean(r["own_wps"] for r in rs))
        print(f"| {model} | {tool} | {mean_sd([r['analogy'] for r in rs], '{:.2f}')} "
              f"| {mean_sd([r['rho'] for r in rs], '{:.3f}')} | {wps} "
              f"| {mean_sd([r['train_s'] for r in rs], '{:.2f}')} "
              f"| {mean_sd([r['wall_s'] for r in rs], '{:.2f}')} |")

    first = next(iter(runs.values()))
    print()
    if len(first) > 1:
        print(f"Mean ± sd over {len(first)} seeds.")
    print(f"Analogy questions seen {first[0]['seen']}; WS-353 pairs {first[0]['ws_pairs']}.")
    print("words/s: in-vocabulary corpus tokens x epochs / train s, for every tool. fastText's train s "
          "runs from its dictionary being built to its last progress line; (own: ...) is its last "
          "words/sec/thread x threads. gensim's is the time of its train() call (corpus_file mode). "
          "word2vec.c's runs from its vocabulary line to the process end (writing the vectors "
          "included).")
    w2v_words = next((rs[0]["words"] for (_, tool), rs in runs.items() if tool == "w2v"), 0)
    if w2v_words:
        all_tokens = len(Path(corpus).read_bytes().split())
        # fastText's stop test compares in-vocabulary tokens read with epochs x ALL tokens.
        extra = all_tokens * epochs / w2v_words - 1
        print(f"fastText stops when the in-vocabulary tokens it has read reach epochs x ALL "
              f"{all_tokens:,} corpus tokens (words under min-count included): {extra:.1%} more "
              "updates than w2v; its own words/s counts them.")
    print("total wall s: the whole process. w2v's includes building the vocabulary and encoding the "
          "corpus into a fresh (cold) cache dir; fastText's includes its dictionary pass and writing "
          ".bin + .vec.")
    for warning in warnings:
        print("WARNING:", warning)


def main(argv):
    if len(argv) >= 4 and argv[1] == "run" and argv[3] == "--":
        return run(argv[2], argv[4:])
    if len(argv) == 6 and argv[1] == "table":
        table(argv[2], argv[3], int(argv[4]), int(argv[5]))
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
