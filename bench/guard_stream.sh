#!/usr/bin/env bash
# guard_stream.sh: what the guard costs the gateway on streamed answers, in CPU time.
#
# `sluice sim` streams BENCH_TOKENS tokens a request, unpaced (no time to first token, no pace);
# `sluice load` sends BENCH_RATE streamed requests a second (Poisson arrivals, at most
# BENCH_CONCURRENCY in flight) for BENCH_DURATION seconds through `sluice serve` without a guard,
# then through the same binary with the guard
# that bench/guard_gateway.sh uses (input scan; answer checks: canary, secrets, links, system
# prompt leak; action flag), alternated for BENCH_ROUNDS rounds. Prints, per round, the gateway's
# CPU time per request (user + system, from /proc) and the guard's ratio to no guard, then the
# mean ratio. The servers share CPU BENCH_SERVER_CPU (0), the load runs on BENCH_CLIENT_CPU (1).
# The offered load is fixed, below what the load generator can read: in a closed loop the faster
# gateway outruns its client, answers queue in its buffers, and CPU per request measures that
# (docs/BENCHMARKS.md, "The guard on streamed answers").
# BENCH_BASELINE=PATH adds a third path: another sluice binary with the guard (e.g. a build of an
# earlier commit), so a change is measured against what it replaced in the same rounds.
# Servers bind 127.0.0.1; about BENCH_ROUNDS x (2 or 3) x (BENCH_DURATION + 2) seconds.
#
# Usage: bench/guard_stream.sh
# Environment: SLUICE_BIN (default build/sluice), BENCH_BASELINE, BENCH_ROUNDS (3),
#   BENCH_DURATION (8), BENCH_TOKENS (100), BENCH_RATE (2000), BENCH_CONCURRENCY (256), BENCH_SERVER_CPU,
#   BENCH_CLIENT_CPU, PYTHON (default /usr/bin/python3).
# Exit status: 0 when every run served every request without an error, 1 otherwise.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SLUICE_BIN=${SLUICE_BIN:-$ROOT/build/sluice}
case $SLUICE_BIN in /*) ;; *) SLUICE_BIN=$ROOT/$SLUICE_BIN ;; esac
BASELINE=${BENCH_BASELINE:-}
ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-8}
TOKENS=${BENCH_TOKENS:-100}
RATE=${BENCH_RATE:-2000}
CONC=${BENCH_CONCURRENCY:-256}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
PYTHON=${PYTHON:-/usr/bin/python3}

die() { printf 'guard_stream: %s\n' "$*" >&2; exit 1; }
[ -x "$SLUICE_BIN" ] || die "sluice binary '$SLUICE_BIN' not found: run 'make build' or set SLUICE_BIN"
[ -z "$BASELINE" ] || [ -x "$BASELINE" ] || die "BENCH_BASELINE '$BASELINE' is not an executable"
[ -x "$PYTHON" ] || die "$PYTHON is missing (Debian package: python3)"
command -v taskset >/dev/null || die "taskset is missing (Debian package: util-linux)"
for v in "$ROUNDS" "$DURATION" "$TOKENS" "$RATE" "$CONC" "$SERVER_CPU" "$CLIENT_CPU"; do
	case $v in '' | *[!0-9]*) die "BENCH_* settings must be whole numbers" ;; esac
done
[ "$ROUNDS" -ge 1 ] && [ "$DURATION" -ge 1 ] && [ "$DURATION" -le 60 ] || die "BENCH_ROUNDS >= 1, BENCH_DURATION 1..60"

# shellcheck source=bench/gateway-lib.sh
. "$ROOT/bench/gateway-lib.sh"
bench_setup gstream

taskset -c "$SERVER_CPU" "$SLUICE_BIN" sim --listen "127.0.0.1:$P_SIM" --ttft-ms 0 --ttft-sigma 0 \
	--tokens-per-second 0 --max-tokens "$TOKENS" --quiet >"$TMP/sim.out" 2>"$TMP/sim.err" &
PIDS+=($!)

conf() { # GUARD(0|1)
	printf 'listen: 127.0.0.1:%s\nadmin_listen: 127.0.0.1:%s\naccess_log: %s\n' "$P_GW" "$P_ADMIN" "$TMP/access.log"
	[ "$1" = 1 ] && printf 'guard:\n  input: {action: flag}\n  output: {action: flag, canaries: [CANARY-7f3a9c2e]}\n'
	printf 'models:\n  - name: chat\n    versions:\n'
	printf '      - {name: v1, upstreams: ["http://127.0.0.1:%s"], weight: 100}\n' "$P_SIM"
}

# run BINARY GUARD: prints the gateway's CPU microseconds per request of one load run
run() {
	local pid c0 c1 n i
	conf "$2" >"$TMP/sluice.yaml"
	taskset -c "$SERVER_CPU" "$1" serve -c "$TMP/sluice.yaml" >"$TMP/serve.out" 2>"$TMP/serve.err" &
	pid=$!
	PIDS+=("$pid")
	for i in $(seq 300); do
		"$PYTHON" -c 'import sys, urllib.request; urllib.request.urlopen("http://127.0.0.1:%s/healthz" % sys.argv[1], timeout=1)' \
			"$P_ADMIN" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || die "sluice serve did not start: $(tail -3 "$TMP/serve.err")"
		sleep 0.2
	done
	c0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	taskset -c "$CLIENT_CPU" "$SLUICE_BIN" load --target "http://127.0.0.1:$P_GW" --rate "$RATE" --concurrency "$CONC" \
		--stream-share 1 --max-tokens "$TOKENS" --duration "$DURATION" >"$TMP/load.out" 2>&1 ||
		die "sluice load failed: $(tail -3 "$TMP/load.out")"
	c1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
	grep -q ', 0 errors' "$TMP/load.out" || die "requests failed: $(grep -m1 'req/s' "$TMP/load.out")"
	n=$(grep -o '[0-9]* done' "$TMP/load.out" | tail -1 | awk '{print $1}')
	[ "${n:-0}" -gt 0 ] || die "no request was served"
	awk -v t="$((c1 - c0))" -v n="$n" -v hz="$(getconf CLK_TCK)" -v d="$DURATION" \
		'BEGIN { printf "%.1f us (%.0f req/s)", t * 1e6 / hz / n, n / d }'
}

echo "# the guard on streamed answers ($TOKENS tokens, unpaced), gateway CPU per request, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "- sluice: $SLUICE_BIN${BASELINE:+; baseline with the guard: $BASELINE}; $RATE streams a second, $DURATION s a run"
sum=0
for r in $(seq "$ROUNDS"); do
	off=$(run "$SLUICE_BIN" 0)
	on=$(run "$SLUICE_BIN" 1)
	line="round $r: no guard $off, guard $on"
	[ -n "$BASELINE" ] && line="$line, baseline guard $(run "$BASELINE" 1)"
	ratio=$(awk -v a="${on%% *}" -v b="${off%% *}" 'BEGIN { printf "%.3f", a / b }')
	sum=$(awk -v s="$sum" -v x="$ratio" 'BEGIN { print s + x }')
	echo "$line; guard/no guard $ratio"
done
awk -v s="$sum" -v n="$ROUNDS" 'BEGIN { printf "guard/no guard, mean of %d rounds: %.3f\n", n, s / n }'
