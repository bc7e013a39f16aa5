#!/usr/bin/env python3
"""Markdown table of the similarity sets scored with WORD_SETS=DIR (bench/quality/common.sh).

usage: bench/quality/word_sets.py [word_sets.csv] [NAME ...]
One row per set, one column per run name (all names, or those given): the mean Spearman over
the name's seeds, with how many seeds and the pairs scored (pairs with a word outside a
vocabulary are left out, as WS-353's are)."""
import collections
import csv
import os
import statistics as st
import sys

path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "word_sets.csv")
rows = list(csv.DictReader(open(path)))
names = sys.argv[2:] or list(dict.fromkeys(r["name"] for r in rows))
scores = collections.defaultdict(list)
pairs = collections.defaultdict(set)
seeds = collections.defaultdict(set)
for r in rows:
    scores[r["set"], r["name"]].append(float(r["spearman"]))
    pairs[r["set"], r["name"]].add(r["pairs"])
    seeds[r["name"]].add(r["seed"])
sets = sorted({r["set"] for r in rows})
print("| set | " + " | ".join(f"{n} ({len(seeds[n])} seeds)" for n in names) + " |")
print("| --- |" + " --- |" * len(names))
for s in sets:
    cells = []
    for n in names:
        v = scores.get((s, n))
        cells.append(f"{st.mean(v):.3f} ({'/'.join(sorted(pairs[s, n]))} pairs)" if v else "-")
    print(f"| {s} | " + " | ".join(cells) + " |")
