#!/usr/bin/env python3
"""Draw a `w2v train --trace FILE.json` timeline as an SVG picture, with no plotting library.

usage: tools/plot_trace.py TRACE.json OUT.svg [--train-middle MS | --from MS --to MS]
                           [--width PX] [--title TEXT]

One row per track (main, prepare, each sampler, the driver, the copy and compute streams),
in the trace's order; one box per span, coloured by its name, with the legend below. Spans
inside another span of the same track are drawn in a thinner band beneath it. Times are
milliseconds from the first span. --train-middle MS shows MS milliseconds from the middle of
the `train` span (a few batches in the steady state); --from/--to any window; by default the
whole run. Each pixel column of a track shows what the track did most of that column's time
(blank: mostly idle); every box carries its name and time as a tooltip in a browser.
"""
import argparse
import html
import json
import os
import sys

PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#17becf", "#bcbd22", "#393b79", "#8c6d31", "#843c39"]
WAIT = "#cfcfcf"  # every "wait ..." span: what is not grey is work
ROW, GAP, LABEL, TOP, LEGEND_ROW = 26, 6, 130, 34, 18


def fail(message):
    print(f"plot_trace: {message}", file=sys.stderr)
    sys.exit(1)


def read_trace(path):
    try:
        with open(path) as f:
            events = json.load(f)["traceEvents"]
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror}")
    except (ValueError, KeyError, TypeError):
        fail(f"{path}: not a trace-event JSON file (expected a w2v --trace file)")
    names, order, spans = {}, {}, []
    for e in events:
        if e.get("ph") == "M" and e.get("name") == "thread_name":
            names[e["tid"]] = e["args"]["name"]
        elif e.get("ph") == "M" and e.get("name") == "thread_sort_index":
            order[e["tid"]] = e["args"]["sort_index"]
        elif e.get("ph") == "X":
            spans.append((e["tid"], float(e["ts"]) / 1000, float(e["dur"]) / 1000, e["name"]))
    if not spans:
        fail(f"{path}: holds no spans")
    return names, order, spans


def with_depth(spans):
    """Each span with how many spans of its track enclose it (0: a top-level span)."""
    out, open_ends = [], {}
    for tid, start, dur, name in sorted(spans, key=lambda s: (s[0], s[1], -s[2])):
        ends = [end for end in open_ends.get(tid, []) if end > start]
        out.append((tid, start, dur, name, len(ends)))
        open_ends[tid] = ends + [start + dur]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trace")
    parser.add_argument("out")
    parser.add_argument("--train-middle", type=float, metavar="MS")
    parser.add_argument("--from", dest="start", type=float, metavar="MS")
    parser.add_argument("--to", dest="end", type=float, metavar="MS")
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--title", default="")
    args = parser.parse_args()

    names, order, spans = read_trace(args.trace)
    origin = min(s[1] for s in spans)
    spans = [(tid, start - origin, dur, name) for tid, start, dur, name in spans]
    start, end = 0.0, max(s[1] + s[2] for s in spans)
    if args.train_middle is not None:
        train = [s for s in spans if s[3] == "train"]
        if not train:
            fail(f"{args.trace}: no 'train' span for --train-middle")
        start = train[0][1] + train[0][2] / 2
        end = start + args.train_middle
    if args.start is not None:
        start = args.start
    if args.end is not None:
        end = args.end
    if not end > start:
        fail(f"an empty window: {start} to {end} ms")

    shown = [s for s in with_depth(spans) if s[1] < end and s[1] + s[2] > start]
    tracks = sorted({s[0] for s in spans}, key=lambda t: (order.get(t, t), t))
    row_of = {tid: i for i, tid in enumerate(tracks)}
    # Colours by first appearance in the whole run, so that every window of it agrees.
    colour_of, used = {}, 0
    for s in sorted(spans, key=lambda s: s[1]):
        if s[3] not in colour_of:
            waits = s[3].startswith("wait")
            colour_of[s[3]] = WAIT if waits else PALETTE[used % len(PALETTE)]
            used += not waits
    colours = {name: colour for name, colour in colour_of.items()
               if any(s[3] == name for s in shown)}

    plot = args.width - LABEL - 45
    scale = plot / (end - start)
    height = TOP + len(tracks) * (ROW + GAP) + 30 + LEGEND_ROW * ((len(colours) + 2) // 3)
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{args.width}" height="{height}" '
           'font-family="sans-serif" font-size="12">',
           f'<rect width="{args.width}" height="{height}" fill="white"/>']
    title = args.title or f"{args.trace}: {start:.3f} to {end:.3f} ms"
    svg.append(f'<text x="{LABEL}" y="18" font-size="14">{html.escape(title)}</text>')
    for tid, row in row_of.items():
        y = TOP + row * (ROW + GAP)
        svg.append(f'<rect x="{LABEL}" y="{y}" width="{plot}" height="{ROW}" fill="#f4f4f4"/>')
        svg.append(f'<text x="{LABEL - 6}" y="{y + ROW / 2 + 4}" text-anchor="end">'
                   f'{html.escape(names.get(tid, str(tid)))}</text>')
    # Each pixel column of a band shows what its track did most of that column's time, idle
    # included (then it stays blank); runs of columns alike become one box. A whole run of
    # thousands of batches stays a small, honest picture; a window of a few batches shows
    # every span at its width.
    columns = int(plot)
    per_column = (end - start) / columns
    time_in = {}  # (band, column) -> {name: ms}
    for tid, s0, dur, name, depth in shown:
        band = (tid, min(depth, 3))
        a, b = max(s0, start), min(s0 + dur, end)
        first, last = int((a - start) / per_column), min(int((b - start) / per_column), columns - 1)
        for c in range(first, last + 1):
            lo, hi = start + c * per_column, start + (c + 1) * per_column
            overlap = min(b, hi) - max(a, lo)
            if overlap > 0:
                cell = time_in.setdefault((band, c), {})
                cell[name] = cell.get(name, 0.0) + overlap
    runs = {}  # band -> [[first column, last column, name, ms of name]]
    for (band, c), cell in sorted(time_in.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        name, ms = max(cell.items(), key=lambda kv: kv[1])
        if per_column - sum(cell.values()) > ms:
            continue  # mostly idle
        band_runs = runs.setdefault(band, [])
        if band_runs and band_runs[-1][1] == c - 1 and band_runs[-1][2] == name:
            band_runs[-1][1] = c
            band_runs[-1][3] += ms
        else:
            band_runs.append([c, c, name, ms])
    boxes = 0
    for (tid, depth), band_runs in runs.items():
        height = ROW / (1 + depth)
        y = TOP + row_of[tid] * (ROW + GAP) + (ROW - height)
        for first, last, name, ms in band_runs:
            boxes += 1
            width_ms = (last - first + 1) * per_column
            tip = f"{name}: {ms:.3f} ms of these {width_ms:.3f} ms"
            svg.append(f'<rect x="{LABEL + first * plot / columns:.2f}" y="{y:.1f}" '
                       f'width="{(last - first + 1) * plot / columns:.2f}" height="{height:.1f}" '
                       f'fill="{colours[name]}"><title>{html.escape(tip)}</title></rect>')
    axis = TOP + len(tracks) * (ROW + GAP)
    for i in range(6):
        t = start + (end - start) * i / 5
        x = LABEL + plot * i / 5
        svg.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{axis}" stroke="#ccc"/>')
        svg.append(f'<text x="{x:.1f}" y="{axis + 14}" text-anchor="middle">{t:.3f} ms</text>')
    for i, (name, colour) in enumerate(colours.items()):
        x = LABEL + (i % 3) * (plot / 3)
        y = axis + 30 + (i // 3) * LEGEND_ROW
        svg.append(f'<rect x="{x:.1f}" y="{y}" width="12" height="12" fill="{colour}"/>')
        svg.append(f'<text x="{x + 17:.1f}" y="{y + 10}">{html.escape(name)}</text>')
    svg.append("</svg>")
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(svg) + "\n")
    os.replace(tmp, args.out)
    print(f"wrote {len(shown)} spans ({boxes} boxes) on {len(tracks)} tracks to {args.out}")


if __name__ == "__main__":
    main()
