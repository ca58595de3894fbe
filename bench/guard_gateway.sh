#!/usr/bin/env bash
# guard_gateway.sh: what the guard costs the gateway per request, counted in instructions.
#
# On a shared two-CPU machine the proxy benchmark's rounds differ by more than the guard costs
# (bench/proxy.sh with BENCH_GUARD=1 measures it in time, in the same rounds); instruction
# counts do not move with the neighbours. `sluice serve` runs under valgrind's callgrind in
# front of `sluice sim` (non-stream answers of 8 tokens), once without a guard and once with
# the one bench/proxy.sh uses (input scan with rules and classifier, answer checks: canary,
# secrets, links, system-prompt leak; action flag), then with the same guard without its memo of
# segments seen before (memo_bytes: 0), and serves N1 then, in another run, N2 requests on one
# keep-alive connection. Per request is (count(N2) - count(N1)) / (N2 - N1): start-up (the
# rules' compilation) and shutdown cancel. Prints each and the guard's cost against no guard.
# Valgrind has no AVX-512: the guard runs its portable code here (as with
# SLUICE_GUARD_PORTABLE=1). Servers bind 127.0.0.1; about 3 minutes per shape.
#
# Request shapes (BENCH_SHAPES, default "unique conversation"):
#   same          bench/chat.lua's: one system and one 16-byte user message, the same every time
#   unique        the same with a user message never sent before ("Name colour number 17.")
#   conversation  conversations of 10 requests: each sends the system message and the whole
#                 history again (user turns of about 200 bytes, assistant turns) plus a new turn
#   stream        unique's request with "stream": true and max_tokens 100: a streamed answer of
#                 100 tokens (SSE, unpaced), which the guard checks event by event
#
# Usage: bench/guard_gateway.sh
# Environment: SLUICE_BIN (default build/sluice), BENCH_N1 (500), BENCH_N2 (2500),
#   BENCH_SHAPES, PYTHON (default /usr/bin/python3).
# Exit status: 0 when every run served every request, 1 otherwise.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SLUICE_BIN=${SLUICE_BIN:-$ROOT/build/sluice}
case $SLUICE_BIN in /*) ;; *) SLUICE_BIN=$ROOT/$SLUICE_BIN ;; esac
N1=${BENCH_N1:-500}
N2=${BENCH_N2:-2500}
SHAPES=${BENCH_SHAPES:-unique conversation}
PYTHON=${PYTHON:-/usr/bin/python3}

die() { printf 'guard_gateway: %s\n' "$*" >&2; exit 1; }
command -v valgrind >/dev/null || die "valgrind is missing (Debian package: valgrind)"
[ -x "$PYTHON" ] || die "$PYTHON is missing (Debian package: python3)"
[ -x "$SLUICE_BIN" ] || die "sluice binary '$SLUICE_BIN' not found: run 'make build' or set SLUICE_BIN"
case $N1$N2 in *[!0-9]*) die "BENCH_N1 and BENCH_N2 must be whole numbers" ;; esac
[ "$N2" -gt "$N1" ] || die "BENCH_N2 must be larger than BENCH_N1"
for shape in $SHAPES; do
	case $shape in same | unique | conversation | stream) ;; *) die "unknown shape '$shape' (same, unique, conversation, stream)" ;; esac
done

# shellcheck source=bench/gateway-lib.sh
. "$ROOT/bench/gateway-lib.sh"
bench_setup gguard

"$SLUICE_BIN" sim --listen "127.0.0.1:$P_SIM" --latency-ms 0 --latency-sigma 0 --ttft-ms 0 --ttft-sigma 0 \
	--tokens-per-second 0 --max-tokens 8 --quiet \
	>"$TMP/sim.out" 2>"$TMP/sim.err" &
PIDS+=($!)

conf() {
	printf 'listen: 127.0.0.1:%s\nadmin_listen: 127.0.0.1:%s\naccess_log: %s\n' "$P_GW" "$P_ADMIN" "$TMP/access.log"
	case $1 in
	memo) printf 'guard:\n  input: {action: flag}\n' ;;
	nomemo) printf 'guard:\n  input: {action: flag, memo_bytes: 0}\n' ;;
	esac
	[ "$1" != off ] && printf '  output: {action: flag, canaries: [CANARY-7f3a9c2e]}\n'
	printf 'models:\n  - name: chat\n    versions:\n'
	printf '      - {name: v1, upstreams: ["http://127.0.0.1:%s"], weight: 90}\n' "$P_SIM"
	printf '      - {name: v2, upstreams: ["http://127.0.0.1:%s"], weight: 10}\n' "$P_SIM"
}

# count GUARD SHAPE N: instructions of one `sluice serve` that served N requests
count() {
	local out=$TMP/cg.$1.$2.$3 pid
	conf "$1" >"$TMP/sluice.yaml"
	valgrind --tool=callgrind --callgrind-out-file="$out" "$SLUICE_BIN" serve -c "$TMP/sluice.yaml" \
		>"$TMP/sluice.out" 2>"$TMP/sluice.err" &
	pid=$!
	PIDS+=("$pid")
	"$PYTHON" - "$P_GW" "$P_ADMIN" "$3" "$2" <<'PY' || { kill -TERM "$pid" 2>/dev/null; tail -5 "$TMP/sluice.err" >&2; die "a request failed (guard $1)"; }
import http.client, json, sys, time
gw, admin, n, shape = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
deadline = time.time() + 120  # valgrind compiles the guard's rules slowly
while True:
    try:
        c = http.client.HTTPConnection("127.0.0.1", admin, timeout=5)
        c.request("GET", "/healthz")
        if c.getresponse().status == 200:
            break
    except OSError:
        pass
    if time.time() > deadline:
        sys.exit("sluice did not start within 120 s")
    time.sleep(0.5)
c = http.client.HTTPConnection("127.0.0.1", gw, timeout=60)
TOPICS = ["the harbour", "a train timetable", "our refund policy", "the garden", "a recipe for bread",
          "the quarterly numbers", "a trip to Lisbon", "my running plan"]
def body_of(i):
    if shape == "conversation":
        conv, turn = divmod(i, 10)
        msgs = [{"role": "system", "content": "You are terse."}]
        for t in range(turn + 1):
            msgs.append({"role": "user", "content": (
                "Conversation %d, question %d, about %s: please look at what I told you before and "
                "answer in two short sentences, with one example that fits %s, and say if anything "
                "I wrote earlier does not add up." % (conv, t, TOPICS[(conv + t) % 8], TOPICS[t % 8]))})
            if t < turn:
                msgs.append({"role": "assistant", "content": "Noted: answer %d." % t})
    else:
        text = "Name one colour." if shape == "same" else "Name colour number %d." % i
        msgs = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": text}]
    if shape == "stream":
        return json.dumps({"model": "chat", "messages": msgs, "max_tokens": 100, "stream": True,
                           "user": "u-%d" % (i % 10000)})
    return json.dumps({"model": "chat", "messages": msgs, "max_tokens": 8, "user": "u-%d" % (i % 10000)})
for i in range(n):
    body = body_of(i)
    c.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    answer = r.read()
    if r.status != 200:
        sys.exit("status %d" % r.status)
    if shape == "stream" and b"data: [DONE]" not in answer:
        sys.exit("a stream ended without data: [DONE]")
PY
	kill -TERM "$pid"
	wait "$pid" || die "sluice serve (guard $1) exited with an error: $(tail -3 "$TMP/sluice.err")"
	awk '/^(summary|totals):/ {print $2; exit}' "$out"
}

echo "# what the guard costs the gateway per request, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "- sluice: $SLUICE_BIN; requests: $N1 and $N2 per configuration, one connection; upstream: sluice sim"
for shape in $SHAPES; do
	declare -A PER=()
	for g in off memo nomemo; do
		a=$(count "$g" "$shape" "$N1")
		b=$(count "$g" "$shape" "$N2")
		PER[$g]=$(((b - a) / (N2 - N1)))
		echo "- $shape, guard $g: $a instructions for $N1 requests, $b for $N2: ${PER[$g]} per request"
	done
	for g in memo nomemo; do
		awk -v s="$shape" -v g="$g" -v off="${PER[off]}" -v on="${PER[$g]}" 'BEGIN {
			printf "%s: guard (%s) - no guard: %d instructions per request (%+.1f%%); ratio %.3f\n",
				s, g == "memo" ? "with its memo" : "without a memo", on - off, (on - off) * 100 / off, on / off }'
	done
done
