#!/usr/bin/env bash
# Registers, spills, stack and shared memory of every variant of the fused kernels, as ptxas
# reports them when it compiles kernels/fused_ns.cu for sm_90 (no GPU needed): the figures
# occupancy follows from (65,536 registers per SM, 4 warps per block). Prints a markdown table.
#   tools/ptxas_report.sh [ARCH]   (default 90)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
arch=${1:-90}
nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$nvcc" -O3 -std=c++17 -DW2V_HAVE_CUDA=1 -Iinclude -arch=sm_$arch -Xptxas -v -c \
  kernels/fused_ns.cu -o /dev/null >"$log" 2>&1
echo "ptxas, sm_$arch, $("$nvcc" --version | grep -o 'release [0-9.]*'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo
echo "| row width / 32 | targets | model | version | registers | spill stores / loads (bytes) | stack (bytes) | warps / SM |"
echo "|---:|---:|---|---:|---:|---|---:|---:|"
# ptxas prints "Compiling entry function 'MANGLED'", then "... bytes stack frame, N bytes
# spill stores, M bytes spill loads", then "Used R registers, ...".
awk '
  /Compiling entry function/ { match($0, /_Z[^'"'"']*/); name = substr($0, RSTART, RLENGTH); next }
  /bytes stack frame/ { n = split($0, f, /[ ,]+/); for (i = 1; i <= n; i++) {
      if (f[i+1] == "bytes" && f[i+2] == "stack") stack = f[i];
      if (f[i+1] == "bytes" && f[i+2] == "spill" && f[i+3] == "stores") stores = f[i];
      if (f[i+1] == "bytes" && f[i+2] == "spill" && f[i+3] == "loads") loads = f[i] } next }
  /Used [0-9]+ registers/ && name != "" {
    match($0, /Used [0-9]+ registers/); regs = substr($0, RSTART + 5, RLENGTH - 15) + 0
    print name, regs, stores, loads, stack; name = "" }
' "$log" | c++filt | grep 'fused_ns_kernel' | sed -E 's/.*fused_ns_kernel<([0-9]+), ([0-9]+), (true|false), ([0-9]+)>.* ([0-9]+) ([0-9]+) ([0-9]+) ([0-9]+)$/\1 \2 \3 \4 \5 \6 \7 \8/' |
  sort -n -k1 -k2 -k4 | while read -r width targets cbow version regs stores loads stack; do
    # Registers are allocated per warp in units of 256; a block is 4 warps.
    per_warp=$(( (regs * 32 + 255) / 256 * 256 ))
    blocks=$(( 65536 / (per_warp * 4) ))
    model=skip-gram
    [[ $cbow == true ]] && model=CBOW
    echo "| $width | $targets | $model | $version | $regs | $stores / $loads | $stack | $((blocks * 4)) |"
  done
