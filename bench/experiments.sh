#!/usr/bin/env bash
# experiments.sh: the experiments benchmark (issue 6; docs/BENCHMARKS.md, "Experiments").
# Builds bench_experiments, then in the same run:
#   1. bench_experiments (bench/experiments/main.c) draws a seeded stream of 10,000,000 events
#      (requests, clicks, purchases, views, page loads, messages; pre-period events for CUPED)
#      over 1,000,000 units of one experiment with 4 variants and 10 metrics, writes it to a
#      temporary directory, and times on one thread the ingestion through the experiment
#      aggregator (batched with sl_experiment_agg_batch, and one call per event; best of 3 each,
#      both must give the same report) and the analysis (sl_experiment_report, fixed-horizon and
#      sequential: Welch with relative lift by the delta method, CUPED, ratio, quantile, Holm over
#      the 30 comparisons, SRM; best and median of 200);
#   2. bench/experiments.py (NumPy/SciPy) reads the same events, aggregates them with np.bincount
#      and computes the same statistics with scipy.stats, timed the same way, and compares every
#      figure with sluice's: a relative difference above 1e-6 prints DISAGREE and fails the run.
# Both are pinned to the same core (taskset -c 1). Prints Markdown; about 1-2 minutes on two
# cores; the event files (about 160 MB) are removed on exit; exits non-zero when the build, a run
# or the agreement check fails.
#
# Usage: bench/experiments.sh              (`make bench-experiments` runs it)
# Environment: BUILD (build directory, default build), PYTHON (default /usr/bin/python3, needs
#   numpy and scipy), BENCH_EXP_EVENTS (10000000), BENCH_EXP_UNITS (1000000), BENCH_EXP_SEED
#   (20250101), BENCH_EXP_RUNS (3), BENCH_EXP_REPORTS (200), BENCH_EXP_CPU (1: the core to pin
#   to), BENCH_KEEP_TMP (1: keep the event files), BENCH_RESULTS (a directory: the output also
#   goes to experiments-DATE.txt there).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
py=${PYTHON:-/usr/bin/python3}
events=${BENCH_EXP_EVENTS:-10000000}
units=${BENCH_EXP_UNITS:-1000000}
seed=${BENCH_EXP_SEED:-20250101}
runs=${BENCH_EXP_RUNS:-3}
reports=${BENCH_EXP_REPORTS:-200}
cpu=${BENCH_EXP_CPU:-1}
results=${BENCH_RESULTS:--}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bexp.XXXXXX")
cleanup() {
	if [ "${BENCH_KEEP_TMP:-0}" = 1 ]; then echo "kept: $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

if [ "$results" != "-" ]; then
	mkdir -p "$results"
	out=$results/experiments-$(date +%Y%m%d-%H%M%S).txt
	exec > >(tee "$out")
fi

if ! { cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
	cmake --build "$build" --target bench_experiments; } >"$tmp/build.log" 2>&1; then
	cat "$tmp/build.log" >&2
	echo "experiments.sh: cannot build bench_experiments" >&2
	exit 1
fi
if ! "$py" -c 'import numpy, scipy' 2>/dev/null; then
	echo "experiments.sh: $py cannot import numpy and scipy (Debian: apt-get install python3-numpy python3-scipy)" >&2
	exit 1
fi

pin=()
if command -v taskset >/dev/null && taskset -c "$cpu" true 2>/dev/null; then
	pin=(taskset -c "$cpu")
else
	echo "experiments.sh: taskset -c $cpu unavailable: running unpinned" >&2
fi

echo "# sluice experiments benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs," \
	"$(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo), $(uname -sr)"
echo "- compiler: $(cc --version | head -1); build: $build (RelWithDebInfo, -O2 -g)"
echo "- peer: $("$py" -c 'import sys, numpy, scipy; print("Python %d.%d.%d, numpy %s, scipy %s" % (sys.version_info[:3] + (numpy.__version__, scipy.__version__)))')"
echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- pinned to: ${pin[*]:-(not pinned)}"
echo

"${pin[@]}" "$build/bench/bench_experiments" --dir "$tmp" --events "$events" --units "$units" --seed "$seed" \
	--runs "$runs" --reports "$reports" 2>"$tmp/sluice.log" || {
	cat "$tmp/sluice.log" >&2
	echo "experiments.sh: bench_experiments failed" >&2
	exit 1
}
cat "$tmp/sluice.log"
echo
"${pin[@]}" "$py" "$root/bench/experiments.py" "$tmp" --runs "$runs"
echo
echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
