#!/bin/sh
# run.sh: the official `openai` npm client (v6) against a real sluice, run by CTest.
# Environment: SLUICE_BIN (the sluice binary), SLUICE_SOURCE (the repository root).
# Starts two simulated model servers (`sluice sim`) and `sluice serve` on free loopback ports,
# waits until all three answer, then runs `node --test tests/node/` with SLUICE_URL (and the sims'
# SLUICE_SIM_V1_URL, SLUICE_SIM_V2_URL) set.
# Every process it starts is killed on exit, whatever happens. The whole run stays under a minute.
set -u

: "${SLUICE_BIN:?SLUICE_BIN must name the sluice binary}"
: "${SLUICE_SOURCE:?SLUICE_SOURCE must name the repository root}"
HERE="$SLUICE_SOURCE/tests/node"
READY_TIMEOUT_S=10 # sims and gateway start in milliseconds; this bounds a broken start
TEST_TIMEOUT_S=45  # the node test run as a whole

if ! command -v node >/dev/null 2>&1; then
	echo "node-test: node is not installed (need Node 20 and npm); this test is required" >&2
	exit 1
fi
if [ ! -x "$SLUICE_BIN" ]; then
	echo "node-test: SLUICE_BIN '$SLUICE_BIN' is not an executable" >&2
	exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-node.XXXXXX") || exit 1
PIDS=""
cleanup() {
	for pid in $PIDS; do
		kill "$pid" 2>/dev/null
	done
	for pid in $PIDS; do
		wait "$pid" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

show_logs() {
	for f in "$TMP"/*.log; do
		[ -s "$f" ] || continue
		echo "---- $(basename "$f") (last 20 lines) ----" >&2
		tail -n 20 "$f" >&2
	done
}

# 1. dependencies: npm ci when node_modules is missing or older than the lock file
# (one node start-up: this machine may be loaded, and each costs a few hundred ms)
deps=$(cd "$HERE" && node -e '
let have = "";
try { have = require("./node_modules/openai/package.json").version; } catch {}
const want = require("./package-lock.json").packages["node_modules/openai"].version;
process.stdout.write(have === want ? "current" : "stale");' 2>/dev/null)
if [ "$deps" != current ] || [ ! -f "$HERE/node_modules/.package-lock.json" ] ||
	[ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]; then
	if ! (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >"$TMP/npm.log" 2>&1); then
		echo "node-test: 'npm ci' failed in $HERE:" >&2
		cat "$TMP/npm.log" >&2
		exit 1
	fi
fi

# 2. four free loopback ports: two sims, the data plane and the admin listener. The sockets are
# held together while the kernel picks, so the four differ.
PORTS=$(node -e '
const net = require("net");
const socks = [];
const take = (n) => n === 0
	? (console.log(socks.map((s) => s.address().port).join(" ")), socks.forEach((s) => s.close()))
	: (() => { const s = net.createServer(); socks.push(s); s.listen(0, "127.0.0.1", () => take(n - 1)); })();
take(4);') || exit 1
set -- $PORTS
SIM1=$1 SIM2=$2 DATA=$3 ADMIN=$4

cat >"$TMP/sluice.yaml" <<EOF
# written by tests/node/run.sh
listen: 127.0.0.1:$DATA
admin_listen: 127.0.0.1:$ADMIN
access_log: off
store: off
drain_timeout_ms: 1000
models:
  - name: chat
    versions:
      - name: v1
        upstreams: [http://127.0.0.1:$SIM1]
        upstream_model: sim-v1
        weight: 50
      - name: v2
        upstreams: [http://127.0.0.1:$SIM2/v1]
        upstream_model: sim-v2
        weight: 50
EOF

# wait_ready LABEL PID URL...: polls each URL (GET) until it answers 200; fails when its
# process dies first or time runs out
wait_ready() {
	node -e '
const secs = Number(process.argv[1]);
const deadline = Date.now() + secs * 1000;
const alive = (pid) => { try { process.kill(Number(pid), 0); return true; } catch { return false; } };
async function ready(label, pid, url) {
	for (;;) {
		if (!alive(pid)) throw new Error(`${label} exited before answering on ${url}`);
		try {
			const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
			if (r.status === 200) return;
		} catch {}
		if (Date.now() > deadline) throw new Error(`${label} did not answer on ${url} within ${secs} s`);
		await new Promise((res) => setTimeout(res, 25));
	}
}
const a = process.argv.slice(2), jobs = [];
for (let i = 0; i < a.length; i += 3) jobs.push(ready(a[i], a[i + 1], a[i + 2]));
Promise.all(jobs).catch((e) => { console.error(`node-test: ${e.message}`); process.exit(1); });' "$READY_TIMEOUT_S" "$@"
}

# 3. processes: the gateway connects to upstreams lazily, so all three start at once
"$SLUICE_BIN" sim --listen "127.0.0.1:$SIM1" --model-id sim-v1 >"$TMP/sim-v1.log" 2>&1 &
SIM1_PID=$!
PIDS="$PIDS $SIM1_PID"
"$SLUICE_BIN" sim --listen "127.0.0.1:$SIM2" --model-id sim-v2 >"$TMP/sim-v2.log" 2>&1 &
SIM2_PID=$!
PIDS="$PIDS $SIM2_PID"
"$SLUICE_BIN" serve -c "$TMP/sluice.yaml" >"$TMP/serve.log" 2>&1 &
SERVE_PID=$!
PIDS="$PIDS $SERVE_PID"
if ! wait_ready "sluice sim (v1)" "$SIM1_PID" "http://127.0.0.1:$SIM1/v1/models" \
	"sluice sim (v2)" "$SIM2_PID" "http://127.0.0.1:$SIM2/v1/models" \
	"sluice serve" "$SERVE_PID" "http://127.0.0.1:$DATA/v1/models"; then
	show_logs
	exit 1
fi

# 4. the tests; the TAP reporter ends with its summary (# pass N, # fail 0)
cd "$SLUICE_SOURCE" || exit 1
SLUICE_URL="http://127.0.0.1:$DATA" \
	SLUICE_SIM_V1_URL="http://127.0.0.1:$SIM1" SLUICE_SIM_V2_URL="http://127.0.0.1:$SIM2" \
	timeout -k 5 "$TEST_TIMEOUT_S" node --test --test-reporter=tap tests/node/
rc=$?
if [ "$rc" -ne 0 ]; then
	[ "$rc" -eq 124 ] && echo "node-test: the node tests took longer than $TEST_TIMEOUT_S s" >&2
	show_logs
fi
exit "$rc"
