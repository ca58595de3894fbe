#!/usr/bin/env bash
# judge.sh: the canary-judge benchmark. Builds bench_judge and runs it: 1,000 simulated A/A
# rollouts (identical versions) and BENCH_JUDGE_REG rollouts for each known regression (latency
# +10/+20/+40%, errors +1/+2/+5 points, thumbs-down x1.5/x2/x3), each rollout judged by sluice
# (library defaults), a Flagger-style fixed-threshold check and a Kayenta-style per-interval
# Mann-Whitney check on the same request streams. Prints Markdown tables (the ones recorded in
# docs/BENCHMARKS.md, "Canary judge"). Everything is simulated and seeded: no network, no
# clock, the same numbers on every machine; about 6 CPU minutes (one core) with the defaults.
#
# Usage: bench/judge.sh [extra bench_judge options]      (`make bench-judge` runs it)
#   e.g. bench/judge.sh --judges sluice --sluice 'tight={"alpha":0.05}' --scenarios aa,lat20
# Environment: BUILD (build directory, default build), BENCH_JUDGE_AA (1000),
#   BENCH_JUDGE_REG (150), BENCH_JUDGE_SEED (20261201), BENCH_JUDGE_JUDGES
#   (sluice,flagger,flagger2,kayenta,kayenta1), BENCH_RESULTS (unset: print only; a directory:
#   the output also goes to judge-DATE.txt there). `build/bench/bench_judge --help` lists the
#   options, among them the judges (flagger2: Flagger without the thumbs-down bound; kayenta1:
#   Kayenta rolled back at its first failing interval, as Spinnaker's canary stage does).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
results=${BENCH_RESULTS:--}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build "$build" --target bench_judge; } >"$log" 2>&1; then
	cat "$log" >&2
	echo "judge.sh: cannot build bench_judge" >&2
	exit 1
fi

args=(--aa "${BENCH_JUDGE_AA:-1000}" --reg "${BENCH_JUDGE_REG:-150}" --seed "${BENCH_JUDGE_SEED:-20261201}"
	--judges "${BENCH_JUDGE_JUDGES:-sluice,flagger,flagger2,kayenta,kayenta1}" "$@")
if [ "$results" = "-" ]; then
	"$build/bench/bench_judge" "${args[@]}"
	exit
fi
mkdir -p "$results"
out=$results/judge-$(date +%Y%m%d-%H%M%S).txt
"$build/bench/bench_judge" "${args[@]}" | tee "$out"
echo "results: $out" >&2
