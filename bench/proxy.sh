#!/usr/bin/env bash
# proxy.sh: sluice against nginx (and haproxy) as reverse proxies, on this machine, in one run.
#
# Part 1, throughput and latency: wrk POSTs a small chat request to one fixed upstream (an nginx
# server block that answers every POST with the same chat.completion JSON) three ways: directly,
# through nginx (1 worker, keepalive upstream, proxy_buffering off) and through sluice (model
# `chat` split 90/10 over two versions, sticky on a per-request user, metrics on, JSON access log
# to a file). Same wrk settings for each, order direct, nginx, sluice, repeated BENCH_ROUNDS
# times; then one connection at a time (BENCH_PROBE s each) for the latency of an idle proxy.
#
# Part 2, SSE: `sluice sim` streams 20 tokens at 20 tokens/s after a fixed 50 ms time to first
# token; `sluice load` keeps BENCH_STREAMS streams open directly against it, through sluice and
# through haproxy (when installed): "burst" is a closed loop (every stream starts again as soon as
# it ends, so BENCH_STREAMS requests arrive together), "steady" Poisson arrivals at the rate that
# keeps BENCH_STREAMS streams open. Prints TTFT p50/p99 each way, what each proxy adds, and the
# proxies' resident memory after.
#
# Pinning: the servers (upstream, proxy under test, sim) run on CPU BENCH_SERVER_CPU (0), the
# clients (wrk, sluice load) on BENCH_CLIENT_CPU (1); nginx and sluice get the same treatment.
# Each run also reports "other load": the share of those two CPUs that processes outside the
# benchmark took meanwhile (a shared machine shows up there, not silently in the numbers).
#
# Usage: bench/proxy.sh            (about 2.5 minutes; `make bench` runs it)
# Environment: SLUICE_BIN (default build/sluice), BENCH_DURATION (10 s), BENCH_CONNS (64),
#   BENCH_ROUNDS (2), BENCH_PROBE (5 s; 0 skips the one-connection probe), BENCH_STREAMS (500),
#   BENCH_STREAM_REQUESTS (2000), BENCH_SSE (1; 0 skips part 2), BENCH_HAPROXY (auto|0),
#   BENCH_NGINX_LOG (1: nginx writes a buffered access log like sluice's; 0: off), BENCH_PERF
#   (0; 1 records `perf` on sluice during its last wrk run), BENCH_RESULTS (bench/results; the
#   results go to proxy-DATE.txt there; "-" prints only), BENCH_KEEP_TMP (0; 1 keeps configs,
#   logs and perf data), BENCH_SERVER_CPU, BENCH_CLIENT_CPU, BENCH_GUARD (0; 1 adds a fourth path
#   to part 1, "guard": a second sluice, the same but with the guard on (input scan and answer
#   checks, action flag), measured in the same rounds, and prints guard/sluice per round),
#   BENCH_GUARD_MEMO (the guard's memo_bytes; default: its default, 4 MiB; 0: no memo),
#   BENCH_GUARD_PARTS ("input output", the default, or one of them: which checks the guard path
#   runs),
#   BENCH_SHAPE (chat: one new 16-25 byte user message per request; same: one user message sent
#   again and again; conversation: 10-request conversations that send their history again; see
#   bench/chat.lua).
# Exit status: 0 when every component started and every request succeeded, 1 otherwise.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SLUICE_BIN=${SLUICE_BIN:-$ROOT/build/sluice}
case $SLUICE_BIN in /*) ;; *) SLUICE_BIN=$ROOT/$SLUICE_BIN ;; esac
DURATION=${BENCH_DURATION:-10}
CONNS=${BENCH_CONNS:-64}
ROUNDS=${BENCH_ROUNDS:-2}
PROBE=${BENCH_PROBE:-5}
STREAMS=${BENCH_STREAMS:-500}
STREAM_REQUESTS=${BENCH_STREAM_REQUESTS:-2000}
DO_SSE=${BENCH_SSE:-1}
DO_HAPROXY=${BENCH_HAPROXY:-auto}
NGINX_LOG=${BENCH_NGINX_LOG:-1}
DO_PERF=${BENCH_PERF:-0}
GUARD=${BENCH_GUARD:-0}
GUARD_MEMO=${BENCH_GUARD_MEMO:-}
GUARD_PARTS=${BENCH_GUARD_PARTS:-input output}
export BENCH_SHAPE=${BENCH_SHAPE:-chat}
RESULTS=${BENCH_RESULTS:-$ROOT/bench/results}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
SSE_TTFT_MS=50
SSE_TPS=20
SSE_TOKENS=20
SSE_ARGS=(--latency-ms 0 --ttft-ms "$SSE_TTFT_MS" --ttft-sigma 0 --tokens-per-second "$SSE_TPS"
	--max-tokens "$SSE_TOKENS" --quiet)
# a stream lasts TTFT + tokens / pace; this arrival rate keeps STREAMS of them open (Little's law)
STEADY_RATE=$((STREAMS * 1000 / (SSE_TTFT_MS + SSE_TOKENS * 1000 / SSE_TPS)))

say() { printf '%s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

case $BENCH_SHAPE in chat | same | conversation) ;; *) die "BENCH_SHAPE must be chat, same or conversation" ;; esac
case $GUARD_MEMO in *[!0-9]*) die "BENCH_GUARD_MEMO must be a whole number of bytes" ;; esac
case $GUARD_PARTS in "input output" | input | output) ;; *) die "BENCH_GUARD_PARTS must be 'input output', input or output" ;; esac

# ---- tools ----

need() {
	command -v "$1" >/dev/null 2>&1 ||
		die "'$1' is missing: install it with scripts/install-deps.sh --bench (Debian package: $2)"
}
need wrk wrk
need nginx nginx-light
need curl curl
need taskset util-linux
need awk gawk
[ -x "$SLUICE_BIN" ] || die "sluice binary '$SLUICE_BIN' not found: run 'make build' or set SLUICE_BIN"
if [ "$DO_SSE" = 1 ]; then
	# Debian's python3 reads sluice load's JSON summary (one earlier in PATH may be another build)
	PYTHON=/usr/bin/python3
	[ -x "$PYTHON" ] || PYTHON=$(command -v python3) || die "'python3' is missing: install it with scripts/install-deps.sh (Debian package: python3)"
	if ! "$SLUICE_BIN" sim --help >/dev/null 2>&1 || ! "$SLUICE_BIN" load --help >/dev/null 2>&1; then
		die "'$SLUICE_BIN' has no working 'sim'/'load' commands (needed for the SSE part; BENCH_SSE=0 skips it)"
	fi
fi
if [ "$DO_HAPROXY" = auto ]; then
	if command -v haproxy >/dev/null 2>&1 && [ "$DO_SSE" = 1 ]; then DO_HAPROXY=1; else DO_HAPROXY=0; fi
fi
if [ "$DO_PERF" = 1 ]; then need perf linux-perf; fi
if [ "$(nproc)" -lt 2 ]; then
	SERVER_CPU=0 CLIENT_CPU=0
	say "bench: warning: one CPU only; clients and servers share it"
fi
# each SSE stream holds two descriptors in the gateway and one in the load generator
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -ge $((STREAMS * 4 + 256)) ] ||
	die "open-file limit $(ulimit -n) is too low for $STREAMS streams (raise ulimit -n)"

# ---- processes: every one started here is stopped on exit ----

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench.XXXXXX")
declare -A PID=()
ORDER=()
STATUS=0

stop() {
	local pid=${PID[$1]:-}
	PID[$1]=""
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local i
	for ((i = ${#ORDER[@]} - 1; i >= 0; i--)); do stop "${ORDER[i]}"; done
	if [ "${BENCH_KEEP_TMP:-0}" = 1 ]; then say "bench: kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME CPU CMD...: runs CMD pinned to CPU in the background, output in $TMP/NAME.{out,err}
start() {
	local name=$1 cpu=$2
	shift 2
	taskset -c "$cpu" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	PID[$name]=$!
	ORDER+=("$name")
}

failed_to_start() {
	printf 'bench: %s failed to start: %s\n' "$1" "$2" >&2
	sed 's/^/    /' "$TMP/$1.err" >&2 2>/dev/null || true
	exit 1
}

# wait_ready NAME URL BODY: until a POST of BODY to URL answers 200, at most 5 s
wait_ready() {
	local name=$1 url=$2 body=$3 code=
	for _ in $(seq 50); do
		kill -0 "${PID[$name]}" 2>/dev/null || failed_to_start "$name" "exited"
		code=$(curl -s -o /dev/null -w '%{http_code}' -m 2 -H 'content-type: application/json' -d "$body" "$url" || true)
		[ "$code" = 200 ] && return 0
		sleep 0.1
	done
	failed_to_start "$name" "no 200 from $url within 5 s (last status '$code')"
}

# check_alive: every server started is still running (a crash under load fails the run)
check_alive() {
	local name rc
	for name in "${ORDER[@]}"; do
		[ -n "${PID[$name]:-}" ] || continue
		kill -0 "${PID[$name]}" 2>/dev/null && continue
		rc=0
		wait "${PID[$name]}" 2>/dev/null || rc=$?
		PID[$name]=""
		printf 'bench: %s exited during the run (status %s)\n' "$name" "$rc" >&2
		tail -n 20 "$TMP/$name.err" | sed 's/^/    /' >&2
		exit 1
	done
}

# a port is taken when any socket uses it, listening or not (bind fails on either)
port_in_use() {
	if command -v ss >/dev/null 2>&1; then
		ss -Htan "( sport = :$1 )" 2>/dev/null | grep -q .
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

# free_port: sets PORT to a free port below the kernel's ephemeral range, so that no outgoing
# connection (wrk's, a proxy's upstream ones) takes it between this check and the bind
read -r EPH_LO _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || EPH_LO=32768
PORT_LO=10000 PORT_HI=$((EPH_LO > 12000 ? EPH_LO - 1 : 65000))
declare -A TAKEN=()
free_port() {
	local p
	for _ in $(seq 200); do
		p=$((PORT_LO + RANDOM % (PORT_HI - PORT_LO)))
		[ -z "${TAKEN[$p]:-}" ] && ! port_in_use "$p" && { TAKEN[$p]=1; PORT=$p; return 0; }
	done
	die "no free port found"
}

# rss_kb PID [FIELD]: resident memory (VmRSS, or VmHWM for the peak) of a process, in KiB
rss_kb() { awk -v f="${2:-VmRSS}:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# cpu_ticks PID: user + system time so far, in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# cpu_user_sys N: user + nice + system ticks of CPU N so far (irq and softirq time left out)
cpu_user_sys() { awk -v c="cpu$1" '$1 == c {print $2 + $3 + $4}' /proc/stat; }
# cpu_all N: every tick of CPU N so far
cpu_all() { awk -v c="cpu$1" '$1 == c {t = 0; for (i = 2; i <= 9; i++) t += $i; print t}' /proc/stat; }
# the worker of a one-worker nginx (the process that does the work)
nginx_worker() { ps -o pid= --ppid "$1" | awk 'NR == 1 {print $1}'; }

# noise_begin PID... / noise_end PID...: around one client run (wrk or sluice load, a child of this
# shell), how much of the server CPU and of the client CPU went to processes other than ours (the
# PIDs given, and the client); sets OTHER_SERVER and OTHER_CLIENT in percent. Call both in this
# shell, not in $(...), so that `times` counts the client once it is reaped.
TICK=$(getconf CLK_TCK)
children_ticks() {
	awk -v hz="$TICK" 'function sec(t, a) { split(t, a, /[ms]/); return a[1] * 60 + a[2] }
		NR == 2 { printf "%.0f", (sec($1) + sec($2)) * hz }' "$1"
}
pids_ticks() {
	local t=0 p
	for p in "$@"; do [ -n "$p" ] && t=$((t + $(cpu_ticks "$p"))); done
	echo "$t"
}
pct_other() {
	awk -v busy="$1" -v ours="$2" -v all="$3" 'BEGIN {x = all > 0 ? (busy - ours) * 100 / all : 0; printf "%.0f", x < 0 ? 0 : x}'
}
noise_begin() {
	times >"$TMP/times0"
	N_S0=$(cpu_user_sys "$SERVER_CPU") N_A0=$(cpu_all "$SERVER_CPU") N_O0=$(pids_ticks "$@")
	N_C0=$(cpu_user_sys "$CLIENT_CPU") N_CA0=$(cpu_all "$CLIENT_CPU")
}
noise_end() {
	times >"$TMP/times1"
	local s1 a1 o1 c1 ca1 k
	s1=$(cpu_user_sys "$SERVER_CPU") a1=$(cpu_all "$SERVER_CPU") o1=$(pids_ticks "$@")
	c1=$(cpu_user_sys "$CLIENT_CPU") ca1=$(cpu_all "$CLIENT_CPU")
	k=$(($(children_ticks "$TMP/times1") - $(children_ticks "$TMP/times0")))
	if [ "$SERVER_CPU" = "$CLIENT_CPU" ]; then
		OTHER_SERVER=$(pct_other $((s1 - N_S0)) $((o1 - N_O0 + k)) $((a1 - N_A0)))
		OTHER_CLIENT=$OTHER_SERVER
	else
		OTHER_SERVER=$(pct_other $((s1 - N_S0)) $((o1 - N_O0)) $((a1 - N_A0)))
		OTHER_CLIENT=$(pct_other $((c1 - N_C0)) "$k" $((ca1 - N_CA0)))
	fi
}

free_port; P_UP=$PORT
free_port; P_NGINX=$PORT
free_port; P_SLUICE=$PORT
free_port; P_ADMIN=$PORT
free_port; P_GUARD=$PORT
free_port; P_GUARD_ADMIN=$PORT
free_port; P_SIM=$PORT
free_port; P_SSE_SLUICE=$PORT
free_port; P_SSE_ADMIN=$PORT
free_port; P_HAPROXY=$PORT

CHAT_BODY='{"model":"chat","messages":[{"role":"user","content":"Name one colour."}],"user":"u-1"}'
UPSTREAM_JSON='{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"chat-v1","choices":[{"index":0,"message":{"role":"assistant","content":"Teal."},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":21,"completion_tokens":2,"total_tokens":23}}'

# ---- configurations (generated, so that a clone needs nothing outside the repository) ----

# nginx_conf NAME: the head of a one-worker nginx in the foreground, its files in $TMP/NAME
nginx_conf() {
	local d=$TMP/$1 m
	mkdir -p "$d"
	printf 'worker_processes 1;\ndaemon off;\npid %s/nginx.pid;\nerror_log %s/error.log warn;\n' "$d" "$d"
	printf 'events { worker_connections 8192; }\nhttp {\n'
	printf '    client_body_temp_path %s/body;\n    proxy_temp_path %s/proxy;\n' "$d" "$d"
	for m in fastcgi scgi uwsgi; do
		nginx -V 2>&1 | grep -q "without-http_${m}_module" || printf '    %s_temp_path %s/%s;\n' "$m" "$d" "$m"
	done
}

{
	nginx_conf upstream
	cat <<EOF
    access_log off;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$P_UP backlog=4096;
        location / { default_type application/json; return 200 '$UPSTREAM_JSON\n'; }
    }
}
EOF
} >"$TMP/upstream.conf"

{
	nginx_conf nginx
	if [ "$NGINX_LOG" = 1 ]; then
		printf '    access_log %s/nginx/access.log combined buffer=64k flush=1s;\n' "$TMP"
	else
		printf '    access_log off;\n'
	fi
	cat <<EOF
    keepalive_requests 1000000;
    upstream up { server 127.0.0.1:$P_UP; keepalive 256; keepalive_requests 1000000; }
    server {
        listen 127.0.0.1:$P_NGINX backlog=4096;
        location / {
            proxy_pass http://up;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }
    }
}
EOF
} >"$TMP/nginx.conf"

# The "guard" path (BENCH_GUARD=1) scans every request for injection and checks every answer
# (flag only, so the traffic is the same): the guard's cost in the gateway, against "sluice".
guard_conf() {
	[ "$1" = 1 ] || return 0
	printf 'guard:\n'
	case $GUARD_PARTS in *input*) printf '  input: {action: flag%s}\n' "${GUARD_MEMO:+, memo_bytes: $GUARD_MEMO}" ;; esac
	case $GUARD_PARTS in *output*) printf '  output: {action: flag, canaries: [CANARY-7f3a9c2e]}\n' ;; esac
}

# sluice_conf LISTEN ADMIN UPSTREAM LOG [GUARD]
sluice_conf() {
	cat <<EOF
listen: 127.0.0.1:$1
admin_listen: 127.0.0.1:$2
access_log: $4
$(guard_conf "${5:-0}")
models:
  - name: chat
    versions:
      - name: v1
        upstreams: [http://127.0.0.1:$3]
        upstream_model: chat-v1
        weight: 90
      - name: v2
        upstreams: [http://127.0.0.1:$3]
        upstream_model: chat-v2
        weight: 10
EOF
}
sluice_conf "$P_SLUICE" "$P_ADMIN" "$P_UP" "$TMP/sluice-access.log" >"$TMP/sluice.yaml"
sluice_conf "$P_GUARD" "$P_GUARD_ADMIN" "$P_UP" "$TMP/guard-access.log" 1 >"$TMP/guard.yaml"
MODES="direct nginx sluice"
[ "$GUARD" = 1 ] && MODES="$MODES guard"
sluice_conf "$P_SSE_SLUICE" "$P_SSE_ADMIN" "$P_SIM" "$TMP/sluice-sse-access.log" >"$TMP/sluice-sse.yaml"

cat >"$TMP/haproxy.cfg" <<EOF
global
    maxconn 8192
    nbthread 1
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    http-reuse always
    option http-no-delay
frontend fe
    bind 127.0.0.1:$P_HAPROXY
    default_backend be
backend be
    server s1 127.0.0.1:$P_SIM
EOF

# ---- machine ----

CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
KERNEL=$(uname -r)
SLUICE_VERSION=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
SLUICE_BUILT=$(date -u -r "$SLUICE_BIN" +%Y-%m-%dT%H:%M:%SZ)
say "sluice proxy benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "machine: $(nproc) CPU(s), $CPU_MODEL, Linux $KERNEL"
say "sluice: $SLUICE_BIN, built $SLUICE_BUILT, work tree at $SLUICE_VERSION"
say "pinning: servers on CPU $SERVER_CPU, clients on CPU $CLIENT_CPU; nginx and sluice: one worker / one event loop"
say ""

# ---- part 1: wrk, direct vs nginx vs sluice ----

start upstream "$SERVER_CPU" nginx -e "$TMP/upstream/error.log" -p "$TMP/upstream/" -c "$TMP/upstream.conf"
start nginx "$SERVER_CPU" nginx -e "$TMP/nginx/error.log" -p "$TMP/nginx/" -c "$TMP/nginx.conf"
start sluice "$SERVER_CPU" "$SLUICE_BIN" serve -c "$TMP/sluice.yaml"
[ "$GUARD" = 1 ] && start guard "$SERVER_CPU" "$SLUICE_BIN" serve -c "$TMP/guard.yaml"
wait_ready upstream "http://127.0.0.1:$P_UP/v1/chat/completions" "$CHAT_BODY"
wait_ready nginx "http://127.0.0.1:$P_NGINX/v1/chat/completions" "$CHAT_BODY"
wait_ready sluice "http://127.0.0.1:$P_SLUICE/v1/chat/completions" "$CHAT_BODY"
[ "$GUARD" = 1 ] && wait_ready guard "http://127.0.0.1:$P_GUARD/v1/chat/completions" "$CHAT_BODY"
curl -s -D "$TMP/sluice-check.h" -o "$TMP/sluice-check.b" -H 'content-type: application/json' \
	-d "$CHAT_BODY" "http://127.0.0.1:$P_SLUICE/v1/chat/completions"
grep -qi '^x-sluice-version:' "$TMP/sluice-check.h" || failed_to_start sluice "no x-sluice-version header on a routed answer"
grep -q 'chat.completion' "$TMP/sluice-check.b" || failed_to_start sluice "the upstream's answer did not come back"
UP_WORKER=$(nginx_worker "${PID[upstream]}")
NGINX_WORKER=$(nginx_worker "${PID[nginx]}")
[ -n "$UP_WORKER" ] || failed_to_start upstream "no worker process"
[ -n "$NGINX_WORKER" ] || failed_to_start nginx "no worker process"
SLUICE_RSS_IDLE=$(rss_kb "${PID[sluice]}")

url_of() {
	case $1 in
	direct) echo "http://127.0.0.1:$P_UP/v1/chat/completions" ;;
	nginx) echo "http://127.0.0.1:$P_NGINX/v1/chat/completions" ;;
	sluice) echo "http://127.0.0.1:$P_SLUICE/v1/chat/completions" ;;
	guard) echo "http://127.0.0.1:$P_GUARD/v1/chat/completions" ;;
	esac
}
# the process whose CPU time is charged to a mode: the proxy (the upstream when direct)
cpu_pid_of() {
	case $1 in
	direct) echo "$UP_WORKER" ;;
	nginx) echo "$NGINX_WORKER" ;;
	sluice) echo "${PID[sluice]}" ;;
	guard) echo "${PID[guard]}" ;;
	esac
}

# run_wrk MODE CONNECTIONS SECONDS OUTFILE
run_wrk() {
	taskset -c "$CLIENT_CPU" wrk -t1 -c"$2" -d"$3"s --latency -s "$ROOT/bench/chat.lua" "$(url_of "$1")" >"$4" 2>&1 ||
		{ cat "$4" >&2; check_alive; die "wrk against $1 failed"; }
	check_alive
	grep -q '^WRK_RESULT' "$4" || { cat "$4" >&2; die "no WRK_RESULT line from wrk against $1"; }
}

# measure KIND ROUND MODE CONNECTIONS SECONDS: one wrk run, appended to ROWS
ROWS=()
measure() {
	local out=$TMP/wrk-$1-$3-$2.txt cpid t0 t1
	cpid=$(cpu_pid_of "$3")
	t0=$(cpu_ticks "$cpid")
	noise_begin "$UP_WORKER" "$NGINX_WORKER" "${PID[sluice]}" "${PID[guard]:-}"
	run_wrk "$3" "$4" "$5" "$out"
	noise_end "$UP_WORKER" "$NGINX_WORKER" "${PID[sluice]}" "${PID[guard]:-}"
	t1=$(cpu_ticks "$cpid")
	ROWS+=("kind=$1 round=$2 mode=$3 cpu_ticks=$((t1 - t0)) other_server=$OTHER_SERVER other_client=$OTHER_CLIENT $(sed -n 's/^WRK_RESULT //p' "$out")")
}

say "part 1: wrk -t1 -c$CONNS -d${DURATION}s --latency -s bench/chat.lua, POST /v1/chat/completions; rounds: $ROUNDS; paths: $MODES"
for mode in $MODES; do run_wrk "$mode" "$CONNS" 2 "$TMP/warmup-$mode.txt"; done
for round in $(seq "$ROUNDS"); do
	for mode in $MODES; do
		if [ "$DO_PERF" = 1 ] && [ "$mode" = sluice ] && [ "$round" = "$ROUNDS" ]; then
			perf record -g -o "$TMP/perf.data" -p "${PID[sluice]}" -- sleep $((DURATION - 2)) >/dev/null 2>&1 &
			PERF_PID=$!
		fi
		measure load "$round" "$mode" "$CONNS" "$DURATION"
	done
done
if [ "$DO_PERF" = 1 ]; then wait "$PERF_PID" 2>/dev/null || true; fi
if [ "$PROBE" -gt 0 ]; then
	for mode in $MODES; do measure probe 1 "$mode" 1 "$PROBE"; done
fi
SLUICE_RSS_WRK=$(rss_kb "${PID[sluice]}")
NGINX_RSS_WRK=$(rss_kb "$NGINX_WORKER")
SLUICE_LOG_LINES=$(wc -l <"$TMP/sluice-access.log" || echo 0)

PART1=$(printf '%s\n' "${ROWS[@]}" | awk -v tick="$TICK" -v conns="$CONNS" -v modes="$MODES" '
	function kv(s, k,   a, i, n) { n = split(s, a, " "); for (i = 1; i <= n; i++) if (index(a[i], k "=") == 1) return substr(a[i], length(k) + 2); return "" }
	function ratios(label, R, P50, P99, C) {
		printf "  sluice/nginx (%s): throughput %.3f, p99 %.3f, CPU per request %.3f\n", label, R["sluice"] / R["nginx"], P99["sluice"] / P99["nginx"], C["sluice"] / C["nginx"]
		printf "  added vs direct (%s): nginx p50 %+.3f ms, p99 %+.3f ms; sluice p50 %+.3f ms, p99 %+.3f ms\n", label, P50["nginx"] - P50["direct"], P99["nginx"] - P99["direct"], P50["sluice"] - P50["direct"], P99["sluice"] - P99["direct"]
	}
	function result(label, R, P50, P99, C) {
		printf "RESULT part1_%s direct_rps=%.0f nginx_rps=%.0f sluice_rps=%.0f direct_p50_ms=%.3f nginx_p50_ms=%.3f sluice_p50_ms=%.3f direct_p99_ms=%.3f nginx_p99_ms=%.3f sluice_p99_ms=%.3f ratio_rps=%.3f ratio_p99=%.3f sluice_added_p50_ms=%.3f sluice_added_p99_ms=%.3f nginx_added_p50_ms=%.3f nginx_added_p99_ms=%.3f direct_cpu_us_per_req=%.1f nginx_cpu_us_per_req=%.1f sluice_cpu_us_per_req=%.1f\n", label, R["direct"], R["nginx"], R["sluice"], P50["direct"], P50["nginx"], P50["sluice"], P99["direct"], P99["nginx"], P99["sluice"], R["sluice"] / R["nginx"], P99["sluice"] / P99["nginx"], P50["sluice"] - P50["direct"], P99["sluice"] - P99["direct"], P50["nginx"] - P50["direct"], P99["nginx"] - P99["direct"], C["direct"], C["nginx"], C["sluice"]
	}
	function row(label, r, rps, p50, p99, cpu, errs, os, oc) {
		printf "  %-7s %-8s %8.0f req/s  p50 %7.3f ms  p99 %8.3f ms  %5.1f us CPU/req  errors %d  other load %d%%/%d%%\n", label, r, rps, p50, p99, cpu, errs, os, oc
	}
	{
		k = kv($0, "kind"); m = kv($0, "mode"); r = kv($0, "round")
		rps = kv($0, "rps") + 0; p50 = kv($0, "p50_us") / 1000; p99 = kv($0, "p99_us") / 1000
		errs = kv($0, "err_connect") + kv($0, "err_read") + kv($0, "err_write") + kv($0, "err_status") + kv($0, "err_timeout")
		cpu = kv($0, "cpu_ticks") / tick * 1e6 / kv($0, "requests")
		os = kv($0, "other_server") + 0; oc = kv($0, "other_client") + 0
		if (os > maxother) maxother = os
		if (oc > maxother) maxother = oc
		E += errs
		if (k == "probe") {
			probe[m] = 1; Q_R[m] = rps; Q_P50[m] = p50; Q_P99[m] = p99; Q_C[m] = cpu; Q_line[m] = sprintf("%d %d %d", errs, os, oc)
			next
		}
		row(m, "round " r, rps, p50, p99, cpu, errs, os, oc)
		RR[m, r] = rps; RC[m, r] = cpu
		if (r > nr) nr = r
		if (!(m in n)) { B_R[m] = rps; B_P50[m] = p50; B_P99[m] = p99; B_C[m] = cpu }
		n[m]++; M_R[m] += rps; M_P50[m] += p50; M_P99[m] += p99; M_C[m] += cpu
		if (rps > B_R[m]) B_R[m] = rps
		if (p50 < B_P50[m]) B_P50[m] = p50
		if (p99 < B_P99[m]) B_P99[m] = p99
		if (cpu < B_C[m]) B_C[m] = cpu
	}
	END {
		nm = split(modes, ms, " ")
		for (i = 1; i <= nm; i++) { m = ms[i]; M_R[m] /= n[m]; M_P50[m] /= n[m]; M_P99[m] /= n[m]; M_C[m] /= n[m] }
		print "  (other load: the share of the server / client CPU that processes outside the benchmark took)"
		print ""
		printf "  c%-6s %10s %10s %10s %11s   %10s %10s %10s %11s\n", conns, "mean req/s", "p50 ms", "p99 ms", "CPU us/req", "best req/s", "p50 ms", "p99 ms", "CPU us/req"
		for (i = 1; i <= nm; i++) {
			m = ms[i]
			printf "  %-7s %10.0f %10.3f %10.3f %11.1f   %10.0f %10.3f %10.3f %11.1f\n", m, M_R[m], M_P50[m], M_P99[m], M_C[m], B_R[m], B_P50[m], B_P99[m], B_C[m]
		}
		print ""
		ratios("mean", M_R, M_P50, M_P99, M_C)
		ratios("best", B_R, B_P50, B_P99, B_C)
		if ("guard" in n) {
			# guard against sluice in the same round (each pair ran back to back): the spread
			# of these ratios is what "no measurable change" has to be read against
			lo = 1e9; hi = 0; s = 0; cs = 0
			for (r = 1; r <= nr; r++) {
				x = RR["guard", r] / RR["sluice", r]; s += x; cs += RC["guard", r] / RC["sluice", r]
				if (x < lo) lo = x
				if (x > hi) hi = x
				list = list sprintf("%s%.3f", r > 1 ? " " : "", x)
			}
			printf "  guard/sluice, same round: throughput %s (mean %.3f, range %.3f-%.3f), CPU per request mean %.3f\n", list, s / nr, lo, hi, cs / nr
			printf "RESULT part1_guard ratio_rps_mean=%.3f ratio_rps_min=%.3f ratio_rps_max=%.3f ratio_cpu_mean=%.3f guard_cpu_us_per_req=%.1f sluice_cpu_us_per_req=%.1f\n", s / nr, lo, hi, cs / nr, M_C["guard"], M_C["sluice"]
		}
		if ("sluice" in probe) {
			print ""
			print "  one connection (wrk -c1), the latency of a proxy that is not busy:"
			for (i = 1; i <= nm; i++) { m = ms[i]; split(Q_line[m], q, " "); row(m, "c1", Q_R[m], Q_P50[m], Q_P99[m], Q_C[m], q[1], q[2], q[3]) }
			printf "  added vs direct (c1): nginx p50 %+.3f ms, p99 %+.3f ms; sluice p50 %+.3f ms, p99 %+.3f ms\n", Q_P50["nginx"] - Q_P50["direct"], Q_P99["nginx"] - Q_P99["direct"], Q_P50["sluice"] - Q_P50["direct"], Q_P99["sluice"] - Q_P99["direct"]
			printf "RESULT part1_c1 direct_p50_ms=%.3f direct_p99_ms=%.3f nginx_p50_ms=%.3f nginx_p99_ms=%.3f sluice_p50_ms=%.3f sluice_p99_ms=%.3f nginx_added_p50_ms=%.3f nginx_added_p99_ms=%.3f sluice_added_p50_ms=%.3f sluice_added_p99_ms=%.3f\n", Q_P50["direct"], Q_P99["direct"], Q_P50["nginx"], Q_P99["nginx"], Q_P50["sluice"], Q_P99["sluice"], Q_P50["nginx"] - Q_P50["direct"], Q_P99["nginx"] - Q_P99["direct"], Q_P50["sluice"] - Q_P50["direct"], Q_P99["sluice"] - Q_P99["direct"]
		}
		if (maxother > 5)
			printf "  warning: other processes took up to %d%% of a benchmark CPU during a run: the machine was not quiet\n", maxother
		result("mean", M_R, M_P50, M_P99, M_C)
		result("best", B_R, B_P50, B_P99, B_C)
		printf "RESULT part1 max_other_pct=%d errors=%d\n", maxother, E
	}')
printf '%s\n' "$PART1" | grep -v '^RESULT'
say "  resident memory after part 1: sluice $((SLUICE_RSS_WRK / 1024)) MiB (idle $((SLUICE_RSS_IDLE / 1024)) MiB), nginx worker $((NGINX_RSS_WRK / 1024)) MiB; sluice access log: $SLUICE_LOG_LINES lines"
P1_ERRORS=$(printf '%s\n' "$PART1" | sed -n 's/^RESULT part1 .*errors=\([0-9]*\).*/\1/p')
if [ "${P1_ERRORS:-1}" != 0 ]; then
	say "bench: error: ${P1_ERRORS:-?} failed request(s) in part 1 (see non-zero 'errors' above): the numbers are not valid"
	STATUS=1
fi
if [ "$DO_PERF" = 1 ]; then
	perf report -i "$TMP/perf.data" --no-children -g none --sort dso,sym --percent-limit 0.5 --stdio 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -40 >"$TMP/perf.txt" || true
	say ""
	say "perf (sluice, last wrk run, self time by function, >= 0.5%; the data: BENCH_KEEP_TMP=1):"
	head -25 "$TMP/perf.txt" | sed 's/^/  /'
fi

# part 1's servers stop here, so that part 2 has the server CPU to itself
for name in guard sluice nginx upstream; do stop "$name"; done

# ---- part 2: SSE streams, direct vs sluice (vs haproxy) ----

PART2=""
if [ "$DO_SSE" = 1 ]; then
	say ""
	say "part 2: $STREAMS concurrent SSE streams; sim: ${SSE_ARGS[*]}"
	say "  burst: sluice load --rate 0 --concurrency $STREAMS --stream-share 1 --requests $STREAM_REQUESTS"
	say "  steady: sluice load --rate $STEADY_RATE --concurrency $((STREAMS * 4)) --stream-share 1 --requests $STREAM_REQUESTS"
	start sim "$SERVER_CPU" "$SLUICE_BIN" sim --listen "127.0.0.1:$P_SIM" "${SSE_ARGS[@]}"
	start sse-sluice "$SERVER_CPU" "$SLUICE_BIN" serve -c "$TMP/sluice-sse.yaml"
	wait_ready sim "http://127.0.0.1:$P_SIM/v1/chat/completions" "$CHAT_BODY"
	wait_ready sse-sluice "http://127.0.0.1:$P_SSE_SLUICE/v1/chat/completions" "$CHAT_BODY"
	SSE_MODES="direct sluice"
	if [ "$DO_HAPROXY" = 1 ]; then
		start haproxy "$SERVER_CPU" haproxy -db -f "$TMP/haproxy.cfg"
		wait_ready haproxy "http://127.0.0.1:$P_HAPROXY/v1/chat/completions" "$CHAT_BODY"
		SSE_MODES="$SSE_MODES haproxy"
	fi
	SSE_RSS_IDLE=$(rss_kb "${PID[sse-sluice]}")

	sse_url_of() {
		case $1 in
		direct) echo "http://127.0.0.1:$P_SIM" ;;
		sluice) echo "http://127.0.0.1:$P_SSE_SLUICE" ;;
		haproxy) echo "http://127.0.0.1:$P_HAPROXY" ;;
		esac
	}
	# run_load KIND MODE REQUESTS TAG: one `sluice load` run; writes "ttft_p50 ttft_p99 ok failed"
	# to $TMP/row. The JSON summary has TTFT quantiles per version only; every version streams
	# from the same sim, so the count-weighted mean of the per-version quantiles estimates the
	# overall ones (direct and haproxy runs have the single version "-": there it is exact).
	run_load() {
		local out=$TMP/load-$1-$2-$4.json rate=0 conc=$STREAMS
		if [ "$1" = steady ]; then rate=$STEADY_RATE conc=$((STREAMS * 4)); fi
		taskset -c "$CLIENT_CPU" "$SLUICE_BIN" load --target "$(sse_url_of "$2")" --rate "$rate" --concurrency "$conc" \
			--stream-share 1 --requests "$3" --max-tokens "$SSE_TOKENS" --duration 60 \
			--json --quiet >"$out" 2>"$TMP/load-$1-$2-$4.err" ||
			{ cat "$TMP/load-$1-$2-$4.err" >&2; check_alive; die "sluice load against $2 failed"; }
		check_alive
		"$PYTHON" - "$out" >"$TMP/row" <<'PY' || die "cannot read the summary of sluice load against $2 ($out)"
import json, sys
s = json.load(open(sys.argv[1]))
v = list(s["by_version"].values())
n = sum(g["count"] for g in v)
ok = sum(g["status"].get("200", 0) for g in v)
bad = sum(g["incomplete_streams"] + g["stream_errors"] for g in v)
p50 = sum(g["ttft_ms"]["p50"] * g["count"] for g in v) / n
p99 = sum(g["ttft_ms"]["p99"] * g["count"] for g in v) / n
print(p50, p99, ok, s["errors"] + bad + (n - ok) + (s["total"] - n))
PY
	}
	# warm-up: each proxy opens its upstream connections once
	for mode in $SSE_MODES; do run_load burst "$mode" "$STREAMS" warmup; done
	SSE_ROWS=()
	for round in $(seq "$ROUNDS"); do
		for kind in burst steady; do
			for mode in $SSE_MODES; do
				case $mode in direct) cpid=${PID[sim]} ;; sluice) cpid=${PID[sse-sluice]} ;; haproxy) cpid=${PID[haproxy]} ;; esac
				t0=$(cpu_ticks "$cpid")
				noise_begin "${PID[sim]}" "${PID[sse-sluice]}" "${PID[haproxy]:-}"
				run_load "$kind" "$mode" "$STREAM_REQUESTS" "$round"
				noise_end "${PID[sim]}" "${PID[sse-sluice]}" "${PID[haproxy]:-}"
				t1=$(cpu_ticks "$cpid")
				SSE_ROWS+=("$kind $mode $round $(cat "$TMP/row") $OTHER_SERVER $OTHER_CLIENT $((t1 - t0))")
			done
		done
	done
	SSE_RSS_AFTER=$(rss_kb "${PID[sse-sluice]}")
	SSE_HWM=$(rss_kb "${PID[sse-sluice]}" VmHWM)
	HAPROXY_RSS=0 HAPROXY_HWM=0
	if [ "$DO_HAPROXY" = 1 ]; then
		HAPROXY_RSS=$(rss_kb "${PID[haproxy]}") HAPROXY_HWM=$(rss_kb "${PID[haproxy]}" VmHWM)
	fi
	PART2=$(printf '%s\n' "${SSE_ROWS[@]}" | awk -v tick="$TICK" -v nreq="$STREAM_REQUESTS" -v rss="$SSE_RSS_AFTER" -v hwm="$SSE_HWM" -v idle="$SSE_RSS_IDLE" \
		-v hrss="$HAPROXY_RSS" -v hhwm="$HAPROXY_HWM" '
		# fields: kind mode round ttft_p50 ttft_p99 ok failed other_server other_client cpu_ticks
		{
			k = $1; m = $2; km = k SUBSEP m; E += $7
			if ($8 + 0 > maxother) maxother = $8 + 0
			if ($9 + 0 > maxother) maxother = $9 + 0
			cpu = $10 / tick * 1e6 / nreq
			printf "  %-6s %-8s round %-2s TTFT p50 %7.2f ms  p99 %7.2f ms  %5.0f us CPU/stream  ok %d  failed %d  other load %d%%/%d%%\n", k, m, $3, $4, $5, cpu, $6, $7, $8, $9
			if (!(km in n)) { B50[km] = $4; B99[km] = $5 }
			n[km]++; M50[km] += $4; M99[km] += $5
			if ($4 < B50[km]) B50[km] = $4
			if ($5 < B99[km]) B99[km] = $5
		}
		END {
			for (km in n) { M50[km] /= n[km]; M99[km] /= n[km] }
			print "  (CPU/stream: of the proxy, or of the sim when direct; other load: the share of the server / client CPU"
			print "  that processes outside the benchmark took)"
			split("direct sluice haproxy", ms, " ")
			split("burst steady", ks, " ")
			for (j = 1; j <= 2; j++) {
				k = ks[j]; d = k SUBSEP "direct"
				print ""
				printf "  %-15s %9s %9s %10s %10s   %9s %9s %10s %10s\n", k " TTFT ms", "mean p50", "p99", "added p50", "p99", "best p50", "p99", "added p50", "p99"
				for (i = 1; i <= 3; i++) {
					km = k SUBSEP ms[i]
					if (km in n)
						printf "  %-15s %9.2f %9.2f %+10.2f %+10.2f   %9.2f %9.2f %+10.2f %+10.2f\n", ms[i], M50[km], M99[km], M50[km] - M50[d], M99[km] - M99[d], B50[km], B99[km], B50[km] - B50[d], B99[km] - B99[d]
				}
			}
			print ""
			printf "  resident memory after: sluice %.1f MiB (peak %.1f MiB, idle before part 2 %.1f MiB)", rss / 1024, hwm / 1024, idle / 1024
			if (hrss > 0) printf ", haproxy %.1f MiB (peak %.1f MiB)", hrss / 1024, hhwm / 1024
			printf "\n"
			if (maxother > 5)
				printf "  warning: other processes took up to %d%% of a benchmark CPU during a run: the machine was not quiet\n", maxother
			for (j = 1; j <= 2; j++) {
				k = ks[j]
				for (s = 1; s <= 2; s++) {
					printf "RESULT part2_%s_%s", k, s == 1 ? "mean" : "best"
					for (i = 1; i <= 3; i++) {
						km = k SUBSEP ms[i]; d = k SUBSEP "direct"
						if (!(km in n)) continue
						p50 = s == 1 ? M50[km] : B50[km]; p99 = s == 1 ? M99[km] : B99[km]
						b50 = s == 1 ? M50[d] : B50[d]; b99 = s == 1 ? M99[d] : B99[d]
						printf " %s_ttft_p50_ms=%.2f %s_ttft_p99_ms=%.2f", ms[i], p50, ms[i], p99
						if (i > 1) printf " %s_added_p50_ms=%.2f %s_added_p99_ms=%.2f", ms[i], p50 - b50, ms[i], p99 - b99
					}
					printf "\n"
				}
			}
			printf "RESULT part2 max_other_pct=%d sluice_rss_kb=%d sluice_hwm_kb=%d sluice_rss_idle_kb=%d haproxy_rss_kb=%d haproxy_hwm_kb=%d failed=%d\n", maxother, rss, hwm, idle, hrss, hhwm, E
		}')
	printf '%s\n' "$PART2" | grep -v '^RESULT'
	P2_FAILED=$(printf '%s\n' "$PART2" | sed -n 's/^RESULT part2 .*failed=\([0-9]*\).*/\1/p')
	if [ "${P2_FAILED:-1}" != 0 ]; then
		say "bench: error: ${P2_FAILED:-?} failed stream(s) in part 2: the numbers are not valid"
		STATUS=1
	fi
fi

# ---- results file ----

if [ "$RESULTS" != - ]; then
	mkdir -p "$RESULTS"
	file=$RESULTS/proxy-$(date -u +%Y%m%d-%H%M%S).txt
	{
		say "date=$(date -u +%Y-%m-%dT%H:%M:%SZ) sluice=$SLUICE_VERSION sluice_built=$SLUICE_BUILT nproc=$(nproc) cpu=\"$CPU_MODEL\" kernel=$KERNEL"
		say "settings wrk_threads=1 wrk_connections=$CONNS duration_s=$DURATION rounds=$ROUNDS probe_s=$PROBE nginx_access_log=$NGINX_LOG server_cpu=$SERVER_CPU client_cpu=$CLIENT_CPU streams=$STREAMS stream_requests=$STREAM_REQUESTS steady_rate=$STEADY_RATE sim=\"${SSE_ARGS[*]}\""
		printf 'run %s\n' "${ROWS[@]}"
		[ "$DO_SSE" = 1 ] && printf 'sse %s\n' "${SSE_ROWS[@]}"
		printf '%s\n' "$PART1" | grep '^RESULT'
		say "RESULT memory sluice_rss_idle_kb=$SLUICE_RSS_IDLE sluice_rss_after_wrk_kb=$SLUICE_RSS_WRK nginx_worker_rss_after_wrk_kb=$NGINX_RSS_WRK"
		[ -n "$PART2" ] && printf '%s\n' "$PART2" | grep '^RESULT'
		[ "$DO_PERF" = 1 ] && sed 's/^/perf /' "$TMP/perf.txt"
		true
	} >"$file"
	say ""
	say "results: ${file#"$ROOT"/}"
fi
exit "$STATUS"
