# shellcheck shell=bash
# gateway-lib.sh: what the gateway benchmarks (guard_gateway.sh, guard_stream.sh) share; sourced.
# bench_setup NAME: TMP, a new scratch directory, and PIDS, the processes to stop; both are
# cleaned up at exit. free_ports: three free loopback ports for P_SIM, P_GW and P_ADMIN, picked
# by the kernel and held by nothing once printed. Needs PYTHON.

bench_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$TMP"
}

bench_setup() {
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-$1.XXXXXX")
	PIDS=()
	trap bench_cleanup EXIT
	read -r P_SIM P_GW P_ADMIN < <("$PYTHON" -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
}
