#!/bin/sh
# bench/guard.sh: builds and runs the guard input-pipeline benchmark (bench/guard/main.c).
#   bench/guard.sh [CORPUS.jsonl] [EXTRA_RULES]
# Prints the share of each corpus source the rules flag, MB/s per core of each stage (normalize,
# rules, classifier) and of the whole pipeline with and without the classifier (CPU time of one
# thread, median of 5 passes), the same expressions with PCRE2 JIT on the raw text and the ratio,
# whether Vectorscan and PCRE2 agree rule by rule, and p50/p99 for a 2 KB prompt. Pin it to a
# core on a shared machine: taskset -c 1 bench/guard.sh. SLUICE_GUARD_PORTABLE=1 measures the
# portable code rather than the AVX-512 paths chosen at run time.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$build" -j1 bench_guard >/dev/null
SLUICE_SHARE=${SLUICE_SHARE:-$root/share} "$build/bench/bench_guard" "${1:-/work/shared/data/injection/corpus.jsonl}" ${2:+"$2"}
