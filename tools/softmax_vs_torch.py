#!/usr/bin/env python3
"""Our softmax_nll kernel against PyTorch's cross_entropy, forward + backward, on the GPU.

For each shape (B, V) this times torch.nn.functional.cross_entropy(logits, target,
reduction='mean') followed by the gradient of the logits (fp32, logits [B, V] with
requires_grad, one target per row), with CUDA events: warm-up calls, then the median of
--repeats calls, L2 flushed before each. Ours comes from `w2v_bench --benchmark_filter=
^BM_SoftmaxNll/` (its median_ms counter: the same event timing, median and L2 flush, one
target per row, T = 1). The two compute the same gradient up to the 1/B of the mean.

GB/s counts the fewest bytes the op must move: logits read + gradient written (B*V*4 each)
+ targets and per-row losses (B*4 each). PyTorch materialises log_softmax [B, V] in the
forward pass and reads it again in the backward pass, so it moves about twice that.

Needs PyTorch with CUDA and a CUDA build of w2v_bench; otherwise exits with status 2 and one
line saying what is missing. Usage:
  python3 tools/softmax_vs_torch.py [--bench build/w2v_bench] [--repeats 50]
"""
import argparse
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

# The (B, V) shapes BM_SoftmaxNll registers (bench/bench_kernels.cc); keep the two in step.
SHAPES = [(256, 10_000), (256, 100_000), (64, 1_000_000), (8, 5_000_000)]
L2_FLUSH_BYTES = 256 << 20  # more than twice the L2 of any current GPU


def fail(message, status=2):
    print(f"softmax_vs_torch: {message}", file=sys.stderr)
    sys.exit(status)


def torch_ms(torch, B, V, warmup, repeats):
    """Median milliseconds of cross_entropy forward + backward over logits [B, V]."""
    gen = torch.Generator(device="cuda").manual_seed(1234)
    logits = torch.empty(B, V, device="cuda").uniform_(-4.0, 4.0, generator=gen)
    logits.requires_grad_(True)
    target = torch.randint(0, V, (B,), device="cuda", generator=gen)
    flush = torch.empty(L2_FLUSH_BYTES, dtype=torch.uint8, device="cuda")
    start = torch.cuda.Event(enable_timing=True)
    stop = torch.cuda.Event(enable_timing=True)

    def step():
        loss = torch.nn.functional.cross_entropy(logits, target, reduction="mean")
        # autograd.grad returns a fresh gradient: .backward() would add into logits.grad,
        # an extra read and write of [B, V] that the op itself does not need.
        (grad,) = torch.autograd.grad(loss, logits)
        return grad

    for _ in range(warmup):
        step()
    times = []
    for i in range(repeats):
        flush.fill_(i & 0x7F)
        start.record()
        step()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    del logits, target, flush
    torch.cuda.empty_cache()
    return statistics.median(times)


def ours(bench):
    """{(B, V): (median ms, MB moved)} from BM_SoftmaxNll with T = 1."""
    try:
        run = subprocess.run(
            [str(bench), "--benchmark_filter=^BM_SoftmaxNll/", "--benchmark_format=json"],
            capture_output=True, text=True, check=False)
    except OSError as e:
        fail(f"cannot run {bench}: {e.strerror}")
    if run.returncode != 0:
        tail = (run.stderr.strip().splitlines() or ["(no output)"])[-1]
        fail(f"{bench} exited with status {run.returncode}: {tail}", 1)
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        fail(f"{bench} did not print benchmark JSON", 1)
    results = {}
    for b in report.get("benchmarks", []):
        m = re.match(r"BM_SoftmaxNll/B:(\d+)/V:(\d+)/T:(\d+)/", b["name"])
        if not m or int(m.group(3)) != 1:
            continue
        if b.get("error_occurred"):
            fail(f"{b['name']}: {b.get('error_message', 'error')}", 1)
        results[(int(m.group(1)), int(m.group(2)))] = (b["median_ms"], b["MB"])
    if not results:
        fail(f"{bench} ran no BM_SoftmaxNll benchmark; was it built with CUDA?", 1)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", default="build/w2v_bench", help="path to w2v_bench")
    parser.add_argument("--warmup", type=int, default=5, help="untimed calls per shape")
    parser.add_argument("--repeats", type=int, default=50, help="timed calls per shape")
    args = parser.parse_args()

    try:
        import torch
    except ImportError:
        fail("PyTorch is not installed (pip install torch); nothing to compare with")
    if not torch.cuda.is_available():
        fail("PyTorch finds no CUDA device; run this on the GPU machine")
    bench = Path(args.bench)
    if not bench.is_file():
        fail(f"{bench} not found; build it (cmake --build build --target w2v_bench) "
             "or pass --bench")

    mine = ours(bench)
    device = torch.cuda.get_device_name(0)
    print(f"softmax_nll vs torch cross_entropy (fp32, forward + backward) on {device}, "
          f"torch {torch.__version__}, median of {args.repeats}\n")
    print("| shape (B x V) | ours ms | torch ms | speed-up | ours GB/s |")
    print("|---|---:|---:|---:|---:|")
    for B, V in SHAPES:
        theirs = torch_ms(torch, B, V, args.warmup, args.repeats)
        if (B, V) in mine:
            ms, mb = mine[(B, V)]
            print(f"| {B} x {V:,} | {ms:.4f} | {theirs:.4f} | {theirs / ms:.2f}x | "
                  f"{mb * 1e6 / (ms * 1e-3) * 1e-9:.0f} |")
        else:
            print(f"| {B} x {V:,} | n/a | {theirs:.4f} | n/a | n/a |")


if __name__ == "__main__":
    main()
