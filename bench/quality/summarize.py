#!/usr/bin/env python3
"""Markdown tables from the issue-16 results CSV (bench/quality/run.sh rows).

usage: bench/quality/summarize.py [RESULTS.csv]   (default /tmp/wq-results.csv)
Prints every run, then per variant: seeds, mean and range of analogy and WS-353, and the mean
paired difference against `base` over the seeds both have (base's repeats averaged)."""
import collections
import csv
import statistics as st
import sys

rows = list(csv.DictReader(open(sys.argv[1] if len(sys.argv) > 1 else "/tmp/wq-results.csv")))
print("| variant | seed | analogy % | WS-353 | words/s | seconds | load before |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for r in rows:
    wps = f"{int(r['words_per_sec']):,}" if r["words_per_sec"] else "-"
    print(f"| {r['name']} | {r['seed']} | {r['analogy']} | {r['ws353']} | "
          f"{wps} | {r['seconds']} | {r.get('load_before') or '-'} |")

by = collections.defaultdict(lambda: collections.defaultdict(list))
order = []
for r in rows:
    if r["name"] not in order:
        order.append(r["name"])
    by[r["name"]][int(r["seed"])].append((float(r["analogy"]), float(r["ws353"])))


def per_seed(name, k):
    return {s: st.mean(v[k] for v in runs) for s, runs in by[name].items()}


def base_of(name):
    """The unmodified w2v run a variant is compared with: same model and epochs. Rows of the
    written vectors (section 8: input + output, `-sum`; normalised, `-nsum`; input + b output,
    `vec-w-cbow-bB`) are compared with the input vectors of the same runs."""
    for suffix in ("-nsum", "-sum"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    if name.startswith("vec-w-cbow-b"):
        return "vec-w-cbow-input"
    if name.startswith("vec-"):
        return name
    for prefix in ("sg5-", "cbow5-", "sg-"):
        if name.startswith(prefix):
            return prefix + "base"
    if name.startswith("gensim-skipgram1") or name.startswith("fasttext-sg"):
        return "sg-base"
    return "base"


# Variants whose random draws (subsampling, windows, noise words) differ from base's for the same
# seed: a paired difference there is just another seed's luck, so they are compared with the
# mean over base's seeds instead.
OTHER_STREAM = {"redraw", "ns05", "gensim-4.4", "gensim-skipgram1", "fasttext-cbow", "fasttext-sg"}


def other_stream(name):
    # The GPU trainer's twin (--device twin) draws from Philox streams of its own.
    return name in OTHER_STREAM or name.startswith(("twin-", "sg-twin-"))
print()
print("| variant | runs (seeds) | analogy mean [min, max] | paired Δ analogy vs its base (each seed) | "
      "WS-353 mean [min, max] | paired Δ WS-353 |")
print("| --- | --- | --- | --- | --- | --- |")
for name in order:
    base_a, base_w = per_seed(base_of(name), 0), per_seed(base_of(name), 1)
    a, w = per_seed(name, 0), per_seed(name, 1)
    runs = sum(len(v) for v in by[name].values())
    seeds = sorted(a)
    if other_stream(name):
        da = [a[s] - st.mean(base_a.values()) for s in seeds]
        dw = [w[s] - st.mean(base_w.values()) for s in seeds]
    else:
        da = [a[s] - base_a[s] for s in seeds if s in base_a]
        dw = [w[s] - base_w[s] for s in seeds if s in base_w]
    av, wv = [a[s] for s in seeds], [w[s] for s in seeds]
    mark = " vs base mean" if other_stream(name) else ""
    fmt_d = lambda d, p: ("—" if name == base_of(name) or not d else
                          f"{st.mean(d):+.{p}f} ({', '.join(f'{x:+.{p}f}' for x in d)}){mark}")
    print(f"| {name} | {runs} ({','.join(map(str, seeds))}) | {st.mean(av):.2f} [{min(av):.2f}, "
          f"{max(av):.2f}] | {fmt_d(da, 2)} | {st.mean(wv):.4f} [{min(wv):.4f}, {max(wv):.4f}] | "
          f"{fmt_d(dw, 4)} |")
