#!/usr/bin/env bash
# proxy.sh: sluice against nginx as a reverse proxy, on this machine, in one run.
#
# Part 1 (throughput and added latency): wrk POSTs a small chat request to the same fixed upstream
# (an nginx server block answering every POST with one chat.completion JSON) three ways: directly,
# through nginx (1 worker, keepalive upstream, proxy_buffering off) and through sluice (model
# `chat` split 90/10 over two versions, sticky on a per-request user, metrics on, JSON access
# log to a file). Same wrk settings for each; order direct, nginx, sluice, repeated BENCH_ROUNDS
# times. Prints req/s, p50 and p99 per run, their means, and the ratios sluice/nginx.
#
# Part 2 (SSE): `sluice sim` streams with a fixed time to first token; `sluice load` opens
# BENCH_STREAMS concurrent streams directly against it, then through sluice (and haproxy when
# installed); prints TTFT p50/p99 each way, what the proxy adds, and its resident memory after.
#
# Pinning: the servers (upstream, proxy under test, sim) run on CPU BENCH_SERVER_CPU (0), the
# clients (wrk, sluice load) on BENCH_CLIENT_CPU (1). nginx and sluice get the same treatment.
#
# Usage: bench/proxy.sh            (about 2 minutes; `make bench` runs it)
# Environment: SLUICE_BIN (default build/sluice), BENCH_DURATION (10 s), BENCH_CONNS (64),
#   BENCH_ROUNDS (2), BENCH_STREAMS (500), BENCH_STREAM_REQUESTS (2000), BENCH_SSE (1; 0 skips
#   part 2), BENCH_HAPROXY (auto|0), BENCH_NGINX_LOG (1: nginx writes a buffered access log too,
#   like sluice; 0: off), BENCH_PERF (0; 1 records `perf` on sluice during its last wrk run),
#   BENCH_RESULTS (bench/results; results go to proxy-DATE.txt there; "-" prints only).
# Exit status: 0 when every component started and every request succeeded, 1 otherwise.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SLUICE_BIN=${SLUICE_BIN:-$ROOT/build/sluice}
case $SLUICE_BIN in /*) ;; *) SLUICE_BIN=$ROOT/$SLUICE_BIN ;; esac
DURATION=${BENCH_DURATION:-10}
CONNS=${BENCH_CONNS:-64}
ROUNDS=${BENCH_ROUNDS:-2}
STREAMS=${BENCH_STREAMS:-500}
STREAM_REQUESTS=${BENCH_STREAM_REQUESTS:-2000}
DO_SSE=${BENCH_SSE:-1}
DO_HAPROXY=${BENCH_HAPROXY:-auto}
NGINX_LOG=${BENCH_NGINX_LOG:-1}
DO_PERF=${BENCH_PERF:-0}
RESULTS=${BENCH_RESULTS:-$ROOT/bench/results}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
SSE_TTFT_MS=50
SSE_TOKENS=20
SSE_ARGS=(--latency-ms 0 --ttft-ms "$SSE_TTFT_MS" --ttft-sigma 0 --tokens-per-second 50 --max-tokens "$SSE_TOKENS" --quiet)

say() { printf '%s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# ---- tools ----

need() {
	command -v "$1" >/dev/null 2>&1 ||
		die "'$1' is missing: install it with scripts/install-deps.sh --bench (Debian: $2)"
}
need wrk wrk
need nginx nginx-light
need curl curl
need taskset util-linux
need awk gawk
[ -x "$SLUICE_BIN" ] || die "sluice binary '$SLUICE_BIN' not found: run 'make build' or set SLUICE_BIN"
if [ "$DO_SSE" = 1 ]; then
	need jq jq
	"$SLUICE_BIN" sim --help >/dev/null 2>&1 && "$SLUICE_BIN" load --help >/dev/null 2>&1 ||
		die "'$SLUICE_BIN' has no working 'sim'/'load' commands (needed for the SSE part; BENCH_SSE=0 skips it)"
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
[ "$(ulimit -n)" -ge $((STREAMS * 2 + 256)) ] ||
	die "open-file limit $(ulimit -n) is too low for $STREAMS streams (ulimit -n)"

# ---- processes: every one started here is stopped on exit ----

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench.XXXXXX")
declare -A PID=()
ORDER=()
STATUS=0

cleanup() {
	local i name pid
	for ((i = ${#ORDER[@]} - 1; i >= 0; i--)); do
		name=${ORDER[i]}
		pid=${PID[$name]:-}
		[ -n "$pid" ] || continue
		kill -TERM "$pid" 2>/dev/null || continue
		for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
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

# wait_ready NAME URL [BODY]: until URL answers 200 (POST when BODY is given), at most 5 s
wait_ready() {
	local name=$1 url=$2 body=${3:-} code
	for _ in $(seq 50); do
		kill -0 "${PID[$name]}" 2>/dev/null || failed_to_start "$name" "exited"
		if [ -n "$body" ]; then
			code=$(curl -s -o /dev/null -w '%{http_code}' -m 2 -H 'content-type: application/json' -d "$body" "$url" || true)
		else
			code=$(curl -s -o /dev/null -w '%{http_code}' -m 2 "$url" || true)
		fi
		[ "$code" = 200 ] && return 0
		sleep 0.1
	done
	failed_to_start "$name" "no 200 from $url within 5 s (last status '$code')"
}

port_in_use() {
	if command -v ss >/dev/null 2>&1; then
		ss -Htln "( sport = :$1 )" 2>/dev/null | grep -q .
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

declare -A TAKEN=()
free_port() {
	local p
	for _ in $(seq 200); do
		p=$((20000 + RANDOM % 40000))
		[ -z "${TAKEN[$p]:-}" ] && ! port_in_use "$p" && { TAKEN[$p]=1; echo "$p"; return 0; }
	done
	die "no free port found"
}

# rss_kb PID: resident memory of a process, in KiB
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# cpu_ticks PID: user + system time so far, in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# cpu_user_sys N: user + nice + system ticks of CPU N so far (irq and softirq time left out)
cpu_user_sys() { awk -v c="cpu$1" '$1 == c {print $2 + $3 + $4}' /proc/stat; }
# cpu_all N: every tick of CPU N so far
cpu_all() { awk -v c="cpu$1" '$1 == c {t = 0; for (i = 2; i <= 9; i++) t += $i; print t}' /proc/stat; }
# noise_begin PID... / noise_end PID...: around one client run (wrk or sluice load, a child of this
# shell), measure how much of the server CPU and of the client CPU went to processes other than
# ours (the PIDs given and the client); sets OTHER_SERVER and OTHER_CLIENT in percent. Both are
# called in this shell, not in $(...), so that `times` sees the client as a reaped child.
TICK=$(getconf CLK_TCK)
children_ticks() { awk -v hz="$TICK" 'function sec(t, a) { split(t, a, /[ms]/); return a[1] * 60 + a[2] }
	NR == 2 { printf "%.0f", (sec($1) + sec($2)) * hz }' "$1"; }
pids_ticks() { local t=0 p; for p in "$@"; do [ -n "$p" ] && t=$((t + $(cpu_ticks "$p"))); done; echo "$t"; }
pct_other() { awk -v busy="$1" -v ours="$2" -v all="$3" 'BEGIN {x = all > 0 ? (busy - ours) * 100 / all : 0; printf "%.0f", x < 0 ? 0 : x}'; }
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
# the worker of a one-worker nginx (the process that does the work)
nginx_worker() { ps -o pid= --ppid "$1" | awk 'NR == 1 {print $1}'; }

P_UP=$(free_port)
P_NGINX=$(free_port)
P_SLUICE=$(free_port)
P_ADMIN=$(free_port)
P_SIM=$(free_port)
P_SSE_SLUICE=$(free_port)
P_SSE_ADMIN=$(free_port)
P_HAPROXY=$(free_port)

CHAT_BODY='{"model":"chat","messages":[{"role":"user","content":"Name one colour."}],"user":"u-1"}'
UPSTREAM_JSON='{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"chat-v1","choices":[{"index":0,"message":{"role":"assistant","content":"Teal."},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":21,"completion_tokens":2,"total_tokens":23}}'

# ---- configurations (generated, so a clone needs nothing outside the repository) ----

# nginx_conf NAME: the common head of a one-worker nginx in the foreground with its files in $TMP/NAME
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
        listen 127.0.0.1:$P_UP backlog=4096 reuseport;
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

cat >"$TMP/sluice.yaml" <<EOF
listen: 127.0.0.1:$P_SLUICE
admin_listen: 127.0.0.1:$P_ADMIN
access_log: $TMP/sluice-access.log
models:
  - name: chat
    versions:
      - name: v1
        upstreams: [http://127.0.0.1:$P_UP]
        upstream_model: chat-v1
        weight: 90
      - name: v2
        upstreams: [http://127.0.0.1:$P_UP]
        upstream_model: chat-v2
        weight: 10
EOF

cat >"$TMP/sluice-sse.yaml" <<EOF
listen: 127.0.0.1:$P_SSE_SLUICE
admin_listen: 127.0.0.1:$P_SSE_ADMIN
access_log: $TMP/sluice-sse-access.log
models:
  - name: chat
    versions:
      - name: v1
        upstreams: [http://127.0.0.1:$P_SIM]
        upstream_model: sim-v1
        weight: 90
      - name: v2
        upstreams: [http://127.0.0.1:$P_SIM]
        upstream_model: sim-v2
        weight: 10
EOF

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

cat >"$TMP/chat-urls.txt" <<EOF
direct http://127.0.0.1:$P_UP/v1/chat/completions
nginx  http://127.0.0.1:$P_NGINX/v1/chat/completions
sluice http://127.0.0.1:$P_SLUICE/v1/chat/completions
EOF

# ---- machine ----

CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
KERNEL=$(uname -r)
SLUICE_VERSION=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
say "sluice proxy benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "machine: $(nproc) CPU(s), $CPU_MODEL, Linux $KERNEL; sluice $SLUICE_VERSION ($SLUICE_BIN)"
say "pinning: servers on CPU $SERVER_CPU, clients on CPU $CLIENT_CPU; nginx and sluice: one worker / one event loop"
say ""

# ---- part 1: wrk, direct vs nginx vs sluice ----

start upstream "$SERVER_CPU" nginx -e "$TMP/upstream/error.log" -p "$TMP/upstream/" -c "$TMP/upstream.conf"
start nginx "$SERVER_CPU" nginx -e "$TMP/nginx/error.log" -p "$TMP/nginx/" -c "$TMP/nginx.conf"
start sluice "$SERVER_CPU" "$SLUICE_BIN" serve -c "$TMP/sluice.yaml"
wait_ready upstream "http://127.0.0.1:$P_UP/v1/chat/completions" "$CHAT_BODY"
wait_ready nginx "http://127.0.0.1:$P_NGINX/v1/chat/completions" "$CHAT_BODY"
wait_ready sluice "http://127.0.0.1:$P_SLUICE/v1/chat/completions" "$CHAT_BODY"
curl -s -D "$TMP/sluice-check.h" -o "$TMP/sluice-check.b" -H 'content-type: application/json' \
	-d "$CHAT_BODY" "http://127.0.0.1:$P_SLUICE/v1/chat/completions"
grep -qi '^x-sluice-version:' "$TMP/sluice-check.h" || failed_to_start sluice "no x-sluice-version header on a routed answer"
grep -q 'chat.completion' "$TMP/sluice-check.b" || failed_to_start sluice "the upstream's answer did not come back"
NGINX_WORKER=$(nginx_worker "${PID[nginx]}")
[ -n "$NGINX_WORKER" ] || failed_to_start nginx "no worker process"
SLUICE_RSS_IDLE=$(rss_kb "${PID[sluice]}")

url_of() { awk -v m="$1" '$1 == m {print $2}' "$TMP/chat-urls.txt"; }
# the process whose CPU time is charged to a mode (the proxy; the upstream when direct)
cpu_pid_of() {
	case $1 in
	direct) nginx_worker "${PID[upstream]}" ;;
	nginx) echo "$NGINX_WORKER" ;;
	sluice) echo "${PID[sluice]}" ;;
	esac
}

# run_wrk MODE SECONDS OUTFILE
run_wrk() {
	taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"$2"s --latency -s "$ROOT/bench/chat.lua" "$(url_of "$1")" >"$3" 2>&1 ||
		{ cat "$3" >&2; check_alive; die "wrk against $1 failed"; }
	check_alive
}

# check_alive: every server started so far is still running (a crash under load fails the run)
check_alive() {
	local name rc
	for name in "${ORDER[@]}"; do
		[ -n "${PID[$name]:-}" ] || continue
		kill -0 "${PID[$name]}" 2>/dev/null && continue
		rc=0
		wait "${PID[$name]}" 2>/dev/null || rc=$?
		PID[$name]=""
		printf 'bench: %s exited during the run (status %s%s)\n' "$name" "$rc" "$([ "$rc" -gt 128 ] && echo ", signal $((rc - 128))")" >&2
		tail -n 20 "$TMP/$name.err" | sed 's/^/    /' >&2
		exit 1
	done
}

say "part 1: wrk -t1 -c$CONNS -d${DURATION}s --latency -s bench/chat.lua, POST /v1/chat/completions"
for mode in direct nginx sluice; do run_wrk "$mode" 2 "$TMP/warmup-$mode.txt"; done

ROWS=()
UP_WORKER=$(nginx_worker "${PID[upstream]}")
for round in $(seq "$ROUNDS"); do
	for mode in direct nginx sluice; do
		cpid=$(cpu_pid_of "$mode")
		t0=$(cpu_ticks "$cpid")
		if [ "$DO_PERF" = 1 ] && [ "$mode" = sluice ] && [ "$round" = "$ROUNDS" ]; then
			perf record -g -o "$TMP/perf.data" -p "${PID[sluice]}" -- sleep $((DURATION - 2)) >/dev/null 2>&1 &
			perf_pid=$!
		fi
		out=$TMP/wrk-$mode-$round.txt
		noise_begin "$UP_WORKER" "$NGINX_WORKER" "${PID[sluice]}"
		run_wrk "$mode" "$DURATION" "$out"
		noise_end "$UP_WORKER" "$NGINX_WORKER" "${PID[sluice]}"
		t1=$(cpu_ticks "$cpid")
		line=$(grep '^WRK_RESULT' "$out") || { cat "$out" >&2; die "no WRK_RESULT line from wrk against $mode"; }
		ROWS+=("round=$round mode=$mode cpu_ticks=$((t1 - t0)) other_server=$OTHER_SERVER other_client=$OTHER_CLIENT ${line#WRK_RESULT }")
	done
done
[ "$DO_PERF" = 1 ] && wait "$perf_pid" 2>/dev/null || true
SLUICE_RSS_WRK=$(rss_kb "${PID[sluice]}")
NGINX_RSS_WRK=$(rss_kb "$NGINX_WORKER")
SLUICE_LOG_LINES=$(wc -l <"$TMP/sluice-access.log" || echo 0)

PART1=$(printf '%s\n' "${ROWS[@]}" | awk -v tick="$TICK" '
	function kv(s, k,   a, i, n) { n = split(s, a, " "); for (i = 1; i <= n; i++) if (index(a[i], k "=") == 1) return substr(a[i], length(k) + 2); return "" }
	function ratios(label, R, P50, P99, C) {
		printf "  sluice/nginx (%s): throughput %.3f, p99 %.3f, CPU per request %.3f\n", label, R["sluice"] / R["nginx"], P99["sluice"] / P99["nginx"], C["sluice"] / C["nginx"]
		printf "  added vs direct (%s): nginx p50 %+.3f ms, p99 %+.3f ms; sluice p50 %+.3f ms, p99 %+.3f ms\n", label, P50["nginx"] - P50["direct"], P99["nginx"] - P99["direct"], P50["sluice"] - P50["direct"], P99["sluice"] - P99["direct"]
	}
	function result(label, R, P50, P99, C) {
		printf "RESULT part1_%s direct_rps=%.0f nginx_rps=%.0f sluice_rps=%.0f direct_p50_ms=%.3f nginx_p50_ms=%.3f sluice_p50_ms=%.3f direct_p99_ms=%.3f nginx_p99_ms=%.3f sluice_p99_ms=%.3f ratio_rps=%.3f ratio_p99=%.3f sluice_added_p50_ms=%.3f sluice_added_p99_ms=%.3f nginx_added_p50_ms=%.3f nginx_added_p99_ms=%.3f nginx_cpu_us_per_req=%.1f sluice_cpu_us_per_req=%.1f\n", label, R["direct"], R["nginx"], R["sluice"], P50["direct"], P50["nginx"], P50["sluice"], P99["direct"], P99["nginx"], P99["sluice"], R["sluice"] / R["nginx"], P99["sluice"] / P99["nginx"], P50["sluice"] - P50["direct"], P99["sluice"] - P99["direct"], P50["nginx"] - P50["direct"], P99["nginx"] - P99["direct"], C["nginx"], C["sluice"]
	}
	{
		m = kv($0, "mode"); r = kv($0, "round")
		rps = kv($0, "rps"); p50 = kv($0, "p50_us") / 1000; p99 = kv($0, "p99_us") / 1000
		errs = kv($0, "err_connect") + kv($0, "err_read") + kv($0, "err_write") + kv($0, "err_status") + kv($0, "err_timeout")
		cpu = kv($0, "cpu_ticks") / tick * 1e6 / kv($0, "requests")
		os = kv($0, "other_server") + 0; oc = kv($0, "other_client") + 0
		printf "  %-7s round %-2s %8.0f req/s  p50 %7.3f ms  p99 %8.3f ms  %5.1f us CPU/req  errors %d  other load %d%%/%d%%\n", m, r, rps, p50, p99, cpu, errs, os, oc
		if (os > maxother) maxother = os
		if (oc > maxother) maxother = oc
		if (!(m in n)) { B_R[m] = rps; B_P50[m] = p50; B_P99[m] = p99; B_C[m] = cpu }
		n[m]++; M_R[m] += rps; M_P50[m] += p50; M_P99[m] += p99; M_C[m] += cpu; E += errs
		if (rps > B_R[m]) B_R[m] = rps
		if (p50 < B_P50[m]) B_P50[m] = p50
		if (p99 < B_P99[m]) B_P99[m] = p99
		if (cpu < B_C[m]) B_C[m] = cpu
	}
	END {
		split("direct nginx sluice", ms, " ")
		for (i = 1; i <= 3; i++) { m = ms[i]; M_R[m] /= n[m]; M_P50[m] /= n[m]; M_P99[m] /= n[m]; M_C[m] /= n[m] }
		print "  (other load: share of the server / client CPU taken by processes outside the benchmark)"
		print ""
		printf "  %-7s %10s %10s %10s %11s   %10s %10s %10s %11s\n", "", "mean req/s", "p50 ms", "p99 ms", "CPU us/req", "best req/s", "p50 ms", "p99 ms", "CPU us/req"
		for (i = 1; i <= 3; i++) {
			m = ms[i]
			printf "  %-7s %10.0f %10.3f %10.3f %11.1f   %10.0f %10.3f %10.3f %11.1f\n", m, M_R[m], M_P50[m], M_P99[m], M_C[m], B_R[m], B_P50[m], B_P99[m], B_C[m]
		}
		print ""
		ratios("mean", M_R, M_P50, M_P99, M_C)
		ratios("best", B_R, B_P50, B_P99, B_C)
		if (maxother > 5)
			printf "  warning: other processes took up to %d%% of a benchmark CPU during a run: the machine was not quiet\n", maxother
		result("mean", M_R, M_P50, M_P99, M_C)
		result("best", B_R, B_P50, B_P99, B_C)
		printf "RESULT part1 max_other_pct=%d errors=%d\n", maxother, E
	}')
printf '%s\n' "$PART1" | grep -v '^RESULT'
say "  resident memory after part 1: sluice $((SLUICE_RSS_WRK / 1024)) MiB (idle $((SLUICE_RSS_IDLE / 1024)) MiB), nginx worker $((NGINX_RSS_WRK / 1024)) MiB; sluice access log: $SLUICE_LOG_LINES lines"
P1_ERRORS=$(printf '%s\n' "$PART1" | awk '/^RESULT part1/ {for (i = 1; i <= NF; i++) if ($i ~ /^errors=/) print substr($i, 8)}')
if [ "${P1_ERRORS:-1}" != 0 ]; then
	say "bench: error: $P1_ERRORS failed request(s) in part 1 (see non-zero 'errors' above): the numbers are not valid"
	STATUS=1
fi
if [ "$DO_PERF" = 1 ]; then
	perf report -i "$TMP/perf.data" --no-children -g none --sort dso,sym --percent-limit 0.5 --stdio 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -40 >"$TMP/perf.txt" || true
	say ""
	say "perf (sluice, last wrk run, self time by function, >= 0.5%; the full data: BENCH_KEEP_TMP=1):"
	head -25 "$TMP/perf.txt" | sed 's/^/  /'
fi

# stop part 1's proxies so part 2 has the server CPU to itself (the cleanup trap skips dead ones)
for name in sluice nginx upstream; do
	kill -TERM "${PID[$name]}" 2>/dev/null || true
	wait "${PID[$name]}" 2>/dev/null || true
	PID[$name]=""
done

# ---- part 2: SSE streams, direct vs sluice (vs haproxy) ----

PART2=""
if [ "$DO_SSE" = 1 ]; then
	say ""
	say "part 2: $STREAMS concurrent SSE streams, $STREAM_REQUESTS requests; sim: ${SSE_ARGS[*]}"
	start sim "$SERVER_CPU" "$SLUICE_BIN" sim --listen "127.0.0.1:$P_SIM" "${SSE_ARGS[@]}"
	start sse-sluice "$SERVER_CPU" "$SLUICE_BIN" serve -c "$TMP/sluice-sse.yaml"
	wait_ready sim "http://127.0.0.1:$P_SIM/v1/chat/completions" "$CHAT_BODY"
	wait_ready sse-sluice "http://127.0.0.1:$P_SSE_SLUICE/v1/chat/completions" "$CHAT_BODY"
	if [ "$DO_HAPROXY" = 1 ]; then
		start haproxy "$SERVER_CPU" haproxy -db -f "$TMP/haproxy.cfg"
		wait_ready haproxy "http://127.0.0.1:$P_HAPROXY/v1/chat/completions" "$CHAT_BODY"
	fi
	SSE_RSS_IDLE=$(rss_kb "${PID[sse-sluice]}")

	# run_load MODE REQUESTS TAG: one `sluice load` run; prints "MODE ttft_p50 ttft_p99 ok failed".
	# The JSON summary has TTFT quantiles per version only; every version streams from the same
	# sim, so the count-weighted mean of the per-version quantiles estimates the overall ones
	# (direct and haproxy runs have the single version "-", for which this is exact).
	run_load() {
		local out=$TMP/load-$1-$3.json
		taskset -c "$CLIENT_CPU" "$SLUICE_BIN" load --target "$(sse_url_of "$1")" --rate 0 --concurrency "$STREAMS" \
			--stream-share 1 --requests "$2" --max-tokens "$SSE_TOKENS" --duration 60 \
			--json --quiet >"$out" 2>"$TMP/load-$1-$3.err" ||
			{ cat "$TMP/load-$1-$3.err" >&2; die "sluice load against $1 failed"; }
		jq -r --arg m "$1" '
			[.by_version[]] as $v | ($v | map(.count) | add) as $n
			| ($v | map(.status["200"] // 0) | add) as $ok
			| ($v | map(.incomplete_streams + .stream_errors) | add) as $bad
			| "\($m) \($v | map(.ttft_ms.p50 * .count) | add / $n) \($v | map(.ttft_ms.p99 * .count) | add / $n)"
			  + " \($ok) \(.errors + $bad + ($n - $ok) + (.total - $n))"
		' "$out"
	}
	sse_url_of() {
		case $1 in
		direct) echo "http://127.0.0.1:$P_SIM" ;;
		sluice) echo "http://127.0.0.1:$P_SSE_SLUICE" ;;
		haproxy) echo "http://127.0.0.1:$P_HAPROXY" ;;
		esac
	}
	SSE_MODES="direct sluice"
	[ "$DO_HAPROXY" = 1 ] && SSE_MODES="$SSE_MODES haproxy"
	# warm-up: each proxy opens its upstream connections once
	for mode in $SSE_MODES; do run_load "$mode" "$STREAMS" warmup >/dev/null; done
	SSE_ROWS=()
	for round in $(seq "$ROUNDS"); do
		for mode in $SSE_MODES; do
			noise_begin "${PID[sim]}" "${PID[sse-sluice]}" "${PID[haproxy]:-}"
			run_load "$mode" "$STREAM_REQUESTS" "$round" >"$TMP/row"
			noise_end "${PID[sim]}" "${PID[sse-sluice]}" "${PID[haproxy]:-}"
			SSE_ROWS+=("$(cat "$TMP/row") $round $OTHER_SERVER $OTHER_CLIENT")
		done
	done
	SSE_RSS_AFTER=$(rss_kb "${PID[sse-sluice]}")
	HAPROXY_RSS=0
	[ "$DO_HAPROXY" = 1 ] && HAPROXY_RSS=$(rss_kb "${PID[haproxy]}")
	PART2=$(printf '%s\n' "${SSE_ROWS[@]}" | awk -v rss="$SSE_RSS_AFTER" -v idle="$SSE_RSS_IDLE" -v hrss="$HAPROXY_RSS" '
		{
			m = $1; E += $5
			if ($7 + 0 > maxother) maxother = $7 + 0
			if ($8 + 0 > maxother) maxother = $8 + 0
			printf "  %-8s round %-2s TTFT p50 %8.2f ms  p99 %8.2f ms  ok %d  failed %d  other load %d%%/%d%%\n", m, $6, $2, $3, $4, $5, $7, $8
			if (!(m in n)) { B50[m] = $2; B99[m] = $3 }
			n[m]++; M50[m] += $2; M99[m] += $3
			if ($2 < B50[m]) B50[m] = $2
			if ($3 < B99[m]) B99[m] = $3
		}
		END {
			for (m in n) { M50[m] /= n[m]; M99[m] /= n[m] }
			print "  (other load: share of the server / client CPU taken by processes outside the benchmark)"
			print ""
			printf "  %-8s %10s %10s %10s %10s   %10s %10s %10s %10s\n", "TTFT ms", "mean p50", "p99", "added p50", "p99", "best p50", "p99", "added p50", "p99"
			split("direct sluice haproxy", ms, " ")
			for (i = 1; i <= 3; i++) {
				m = ms[i]
				if (m in n)
					printf "  %-8s %10.2f %10.2f %+10.2f %+10.2f   %10.2f %10.2f %+10.2f %+10.2f\n", m, M50[m], M99[m], M50[m] - M50["direct"], M99[m] - M99["direct"], B50[m], B99[m], B50[m] - B50["direct"], B99[m] - B99["direct"]
			}
			printf "  resident memory after: sluice %.1f MiB (idle before part 2: %.1f MiB)", rss / 1024, idle / 1024
			if ("haproxy" in n) printf ", haproxy %.1f MiB", hrss / 1024
			printf "\n"
			if (maxother > 5)
				printf "  warning: other processes took up to %d%% of a benchmark CPU during a run: the machine was not quiet\n", maxother
			for (k = 1; k <= 2; k++) {
				if (k == 1) { label = "mean"; for (m in n) { P50[m] = M50[m]; P99[m] = M99[m] } }
				else { label = "best"; for (m in n) { P50[m] = B50[m]; P99[m] = B99[m] } }
				printf "RESULT part2_%s direct_ttft_p50_ms=%.2f direct_ttft_p99_ms=%.2f sluice_ttft_p50_ms=%.2f sluice_ttft_p99_ms=%.2f sluice_added_p50_ms=%.2f sluice_added_p99_ms=%.2f", label, P50["direct"], P99["direct"], P50["sluice"], P99["sluice"], P50["sluice"] - P50["direct"], P99["sluice"] - P99["direct"]
				if ("haproxy" in n)
					printf " haproxy_ttft_p50_ms=%.2f haproxy_ttft_p99_ms=%.2f haproxy_added_p50_ms=%.2f haproxy_added_p99_ms=%.2f", P50["haproxy"], P99["haproxy"], P50["haproxy"] - P50["direct"], P99["haproxy"] - P99["direct"]
				printf "\n"
			}
			printf "RESULT part2 max_other_pct=%d sluice_rss_kb=%d sluice_rss_idle_kb=%d haproxy_rss_kb=%d failed=%d\n", maxother, rss, idle, hrss, E
		}')
	printf '%s\n' "$PART2" | grep -v '^RESULT'
	P2_FAILED=$(printf '%s\n' "$PART2" | awk '/^RESULT part2/ {for (i = 1; i <= NF; i++) if ($i ~ /^failed=/) print substr($i, 8)}')
	if [ "${P2_FAILED:-1}" != 0 ]; then
		say "bench: error: $P2_FAILED failed stream(s) in part 2: the numbers are not valid"
		STATUS=1
	fi
fi

# ---- results file ----

if [ "$RESULTS" != - ]; then
	mkdir -p "$RESULTS"
	file=$RESULTS/proxy-$(date -u +%Y%m%d-%H%M%S).txt
	{
		say "date=$(date -u +%Y-%m-%dT%H:%M:%SZ) sluice=$SLUICE_VERSION nproc=$(nproc) cpu=\"$CPU_MODEL\" kernel=$KERNEL"
		say "settings wrk_threads=1 wrk_connections=$CONNS duration_s=$DURATION rounds=$ROUNDS nginx_access_log=$NGINX_LOG server_cpu=$SERVER_CPU client_cpu=$CLIENT_CPU streams=$STREAMS stream_requests=$STREAM_REQUESTS sim=\"${SSE_ARGS[*]}\""
		printf '%s\n' "${ROWS[@]}" | sed 's/^/run /'
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
