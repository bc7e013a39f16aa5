#!/usr/bin/env python3
"""Instructions of the fused kernel, from its SASS (no GPU needed).

Compiles kernels/fused_ns.cu for sm_90, disassembles it with cuobjdump, and prints one row per
dim-128 variant with 6 or 8 target slots (skip-gram and CBOW, every version): its static
instructions, the shuffles, special-function (MUFU) instructions and calls among them, and for
skip-gram its (center, context) pair loop (the innermost loop with shuffles and at least 16
FFMAs per target slot): the instructions every lane executes per trained pair. Executed counts per center come from ncu
(tools/gpu_check.sh, stage ncu).

    tools/sass_report.py [--cuobjdump PATH] [--nvcc PATH]

cuobjdump comes with the CUDA toolkit; where a toolkit lacks it, PyPI's nvidia-cuda-cuobjdump
wheel holds one (unzip it; the binary is nvidia/cu13/bin/cuobjdump).
"""
import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
VARIANT = re.compile(r"fused_ns_kernel<4, ([68]), (true|false), (\d+)>")
INSTRUCTION = re.compile(r"^\s*/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;")
BRANCH = re.compile(r"\bBRA\b(?:\.\w+)*\s+(?:\w+,\s*)?0x([0-9a-f]+)")


def demangle(names):
    out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True,
                         check=True).stdout
    return out.split("\n")


def opcode(text):
    text = re.sub(r"^@!?U?P\w+\s+", "", text)  # predicate
    return text.split()[0].split(".")[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cuobjdump", default=shutil.which("cuobjdump") or "cuobjdump")
    parser.add_argument("--nvcc", default=shutil.which("nvcc") or "/usr/local/cuda/bin/nvcc")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cubin = os.path.join(tmp, "fused_ns.cubin")
        subprocess.run([args.nvcc, "-O3", "-std=c++17", "-DW2V_HAVE_CUDA=1", "-Iinclude",
                        "-arch=sm_90", "-cubin", "kernels/fused_ns.cu", "-o", cubin],
                       cwd=ROOT, check=True)
        sass = subprocess.run([args.cuobjdump, "-sass", cubin], capture_output=True, text=True,
                              check=True).stdout
    functions = re.split(r"\n\s*Function : ", sass)[1:]
    names = demangle([f.split("\n")[0].strip() for f in functions])
    rows = []
    for name, body in zip(names, functions):
        match = VARIANT.search(name)
        if not match:
            continue
        targets = int(match.group(1))
        model = "CBOW" if match.group(2) == "true" else "skip-gram"
        version = int(match.group(3))
        code = []
        for line in body.split("\n"):
            m = INSTRUCTION.match(line)
            if m:
                code.append((int(m.group(1), 16), m.group(2)))
        ops = collections.Counter(opcode(t) for _, t in code)
        pair_loop = None
        for address, text in code:
            b = BRANCH.search(text)
            if not b or int(b.group(1), 16) >= address:
                continue
            start = int(b.group(1), 16)
            body = collections.Counter(opcode(t) for a, t in code if start <= a <= address)
            if body["SHFL"] and body["FFMA"] >= 16 * targets and (
                    pair_loop is None or sum(body.values()) < sum(pair_loop.values())):
                pair_loop = body
        if model == "CBOW":
            pair_loop = None  # its loops over the window hold no scoring
        rows.append((model, targets, version, len(code), ops, pair_loop))
    release = subprocess.run([args.nvcc, "--version"], capture_output=True,
                             text=True).stdout.split("release ")[-1].split(",")[0]
    print(f"SASS, sm_90, CUDA {release}; dim 128 (4 elements a lane)")
    print()
    print("| model | target slots | version | instructions | SHFL | MUFU | CALL "
          "| pair loop: instructions | SHFL | FFMA | MUFU |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for model, targets, version, size, ops, loop in sorted(rows):
        pair = (f"{sum(loop.values())} | {loop['SHFL']} | {loop['FFMA']} | {loop['MUFU']}"
                if loop else "- | - | - | -")
        print(f"| {model} | {targets} | {version} | {size} | {ops['SHFL']} | {ops['MUFU']} | {ops['CALL']} "
              f"| {pair} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
