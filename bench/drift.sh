#!/usr/bin/env bash
# drift.sh: the drift benchmark (issue 5, "Speed and memory"; docs/BENCHMARKS.md, "Drift").
# Builds bench_drift_detectors, bench_drift_memory, bench_drift_offline and sluice, then:
#   1. detectors: updates per second per core of ADWIN, Page-Hinkley, DDM and CUSUM on error
#      and latency streams with and without changes, pinned to one core (taskset -c 1), best
#      of 3, against the aim of 10 M/s; River cannot be installed here, so the only peer is a
#      rough pure-Python Page-Hinkley (bench/drift/page_hinkley.py, labelled as such);
#   2. memory: bytes per detector, per numeric and categorical feature summary and per
#      monitored model version, measured, next to the headers' figures;
#   3. offline: a seeded reference and current CSV of 1,000,000 rows x 20 columns
#      (bench/drift/gen_data.py), `sluice drift REF CUR --json` against the same tests in SciPy
#      (bench/drift/scipy_drift.py) in the same run: verdicts and statistics compared column by
#      column (any disagreement fails the run), whole-run and tests-alone times and ratios.
# Prints Markdown; bounded (about 3-5 minutes on two cores); temp files are removed on exit;
# exits non-zero when a build, a run or the agreement check fails.
#
# Usage: bench/drift.sh                      (`make bench-drift` runs it)
# Environment: BUILD (build directory, default build), PYTHON (default /usr/bin/python3, needs
#   numpy and scipy), BENCH_DRIFT_UPDATES (50000000 per detector run), BENCH_DRIFT_RUNS (3),
#   BENCH_DRIFT_ROWS (1000000), BENCH_DRIFT_SCIPY_RUNS (1), BENCH_DRIFT_CPU (1: the core to pin
#   to), BENCH_KEEP_TMP (1: keep the generated files), BENCH_RESULTS (a directory: the output
#   also goes to drift-DATE.txt there).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
py=${PYTHON:-/usr/bin/python3}
updates=${BENCH_DRIFT_UPDATES:-50000000}
runs=${BENCH_DRIFT_RUNS:-3}
rows=${BENCH_DRIFT_ROWS:-1000000}
scipy_runs=${BENCH_DRIFT_SCIPY_RUNS:-1}
cpu=${BENCH_DRIFT_CPU:-1}
results=${BENCH_RESULTS:--}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bdrift.XXXXXX")
cleanup() {
	if [ "${BENCH_KEEP_TMP:-0}" = 1 ]; then echo "kept: $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

if [ "$results" != "-" ]; then
	mkdir -p "$results"
	out=$results/drift-$(date +%Y%m%d-%H%M%S).txt
	exec > >(tee "$out")
fi

if ! { cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
	cmake --build "$build" --target bench_drift_detectors bench_drift_memory bench_drift_offline sluice; } \
	>"$tmp/build.log" 2>&1; then
	cat "$tmp/build.log" >&2
	echo "drift.sh: cannot build the drift benchmarks" >&2
	exit 1
fi
if ! "$py" -c 'import numpy, scipy' 2>/dev/null; then
	echo "drift.sh: $py cannot import numpy and scipy (Debian: apt-get install python3-numpy python3-scipy)" >&2
	exit 1
fi

pin=()
if command -v taskset >/dev/null && taskset -c "$cpu" true 2>/dev/null; then
	pin=(taskset -c "$cpu")
else
	echo "drift.sh: taskset -c $cpu unavailable: running unpinned" >&2
fi

echo "# sluice drift benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs," \
	"$(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo), $(uname -sr)"
echo "- compiler: $(cc --version | head -1); build: $build (RelWithDebInfo, -O2 -g)"
echo "- peers: $("$py" -c 'import sys, numpy, scipy; print("Python %d.%d.%d, numpy %s, scipy %s" % (sys.version_info[:3] + (numpy.__version__, scipy.__version__)))')"
echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- pinned to: ${pin[*]:-(not pinned)}"
echo

echo "## 1. Streaming detectors"
echo
"${pin[@]}" "$build/bench/bench_drift_detectors" --updates "$updates" --runs "$runs" --markdown
echo
ph=$("${pin[@]}" "$py" "$root/bench/drift/page_hinkley.py" 1000000 "$runs")
echo "Rough peer (not River: River is not installable here, no PyPI): a pure-Python Page-Hinkley in"
echo "River's shape (bench/drift/page_hinkley.py), errors 1%, 1,000,000 updates, best of $runs:"
echo "$ph" | awk '{printf "**%.2f M updates/s** (%.0f ns/update).\n", $2 / 1e6, 1e9 / $2}'
echo

echo "## 2. Memory"
echo
"$build/bench/bench_drift_memory"
echo

echo "## 3. Offline: sluice drift against SciPy, $rows rows x 20 columns"
echo
"$py" "$root/bench/drift/gen_data.py" "$tmp/data" "$rows"
ref=$tmp/data/ref.csv
cur=$tmp/data/cur.csv
mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.0f", b / 1e6 }'; }

TIMEFORMAT='%R %U %S'
times=$tmp/times.txt
: >"$times"
for _ in $(seq "$runs"); do
	{ time "$build/sluice" drift "$ref" "$cur" --json >"$tmp/sluice.json"; } 2>"$tmp/t" || {
		cat "$tmp/t" >&2
		echo "drift.sh: sluice drift failed" >&2
		exit 1
	}
	echo "sluice $(tail -1 "$tmp/t")" >>"$times"
	{ time "${pin[@]}" "$build/sluice" drift "$ref" "$cur" --json >"$tmp/sluice1.json"; } 2>"$tmp/t" || {
		cat "$tmp/t" >&2
		exit 1
	}
	echo "sluice_1core $(tail -1 "$tmp/t")" >>"$times"
done
for _ in $(seq "$scipy_runs"); do
	{ time "${pin[@]}" "$py" "$root/bench/drift/scipy_drift.py" "$ref" "$cur" >"$tmp/scipy.json"; } 2>"$tmp/t" || {
		cat "$tmp/t" >&2
		echo "drift.sh: scipy_drift.py failed" >&2
		exit 1
	}
	echo "scipy $(tail -1 "$tmp/t")" >>"$times"
done
# one process per run: a second run in the same process reuses the freed heap and skips the
# page faults a real one-shot `sluice drift` pays (the sorts' scratch, most visibly)
: >"$tmp/offline.txt"
for _ in $(seq "$runs"); do
	"${pin[@]}" "$build/bench/bench_drift_offline" "$ref" "$cur" --runs 1 >>"$tmp/offline.txt"
done
if ! cmp -s "$tmp/sluice.json" "$tmp/sluice1.json"; then
	echo "drift.sh: sluice's report differs between runs" >&2
	exit 1
fi
"$py" "$root/bench/drift/compare.py" "$tmp/sluice.json" "$tmp/scipy.json" "$tmp/offline.txt" "$times" \
	"$(mb "$ref")" "$(mb "$cur")"
echo
echo "Whole runs (wall user sys, seconds): $(awk '{printf "%s%s %s %s %s", (NR > 1 ? "; " : ""), $1, $2, $3, $4}' "$times")."
echo
echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
