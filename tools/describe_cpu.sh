#!/usr/bin/env bash
# One line on this machine's CPU: cores, model, AVX-512 or not. The host code is built with
# -march=native, so a failure seen on one machine only may come from its vector extensions
# (CMakeLists.txt); .ci/run and tools/gpu_check.sh print it first.
echo "$(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
  "$(grep -o -w -m1 avx512f /proc/cpuinfo || echo 'no avx512f')"
