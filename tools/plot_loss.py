#!/usr/bin/env python3
"""Draw the training curve written by `w2v train --loss-log FILE.csv`.

usage: tools/plot_loss.py FILE.csv OUT.png

The CSV has the header words,seconds,alpha,loss,words_per_sec and one row per
progress line. The plot shows loss against words trained, with the learning rate
(alpha) on a second y axis.
"""
import csv
import sys
from pathlib import Path

COLUMNS = ["words", "seconds", "alpha", "loss", "words_per_sec"]


def fail(message):
    print(f"plot_loss: {message}", file=sys.stderr)
    sys.exit(1)


def read_log(path):
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror}")
    except (UnicodeDecodeError, csv.Error):
        fail(f"{path}: not a CSV text file (expected a w2v --loss-log file)")
    if not rows or [c.strip() for c in rows[0]] != COLUMNS:
        fail(f"{path}: expected the header '{','.join(COLUMNS)}' (a w2v --loss-log file)")
    data = {c: [] for c in COLUMNS}
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        try:
            if len(row) != len(COLUMNS):
                raise ValueError(f"{len(row)} fields")
            for c, v in zip(COLUMNS, row):
                data[c].append(float(v))
        except ValueError as e:
            fail(f"{path}:{line}: malformed row {','.join(row)!r} ({e})")
    if not data["words"]:
        fail(f"{path}: no progress rows after the header")
    return data


def main(argv):
    if len(argv) == 2 and argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if len(argv) != 3:
        fail("usage: tools/plot_loss.py FILE.csv OUT.png")
    src, out = Path(argv[1]), Path(argv[2])
    data = read_log(src)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(data["words"], data["loss"], color="tab:blue", marker="." if len(data["words"]) < 30 else None)
    ax.set_xlabel("words trained")
    ax.set_ylabel("loss", color="tab:blue")
    ax.grid(alpha=0.3)
    lr_ax = ax.twinx()
    lr_ax.plot(data["words"], data["alpha"], color="tab:orange", linestyle="--")
    lr_ax.set_ylabel("learning rate (alpha)", color="tab:orange")
    lr_ax.set_ylim(bottom=0)
    rate = data["words"][-1] / data["seconds"][-1] if data["seconds"][-1] > 0 else 0
    ax.set_title(f"{src.name}: final loss {data['loss'][-1]:.4f}, {rate:,.0f} words/s")
    fig.tight_layout()
    try:
        fig.savefig(out, dpi=120)
    except OSError as e:
        fail(f"cannot write {out}: {e.strerror}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
