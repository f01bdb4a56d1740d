# Shared by the benchmark scripts (sourced): a work directory removed at
# exit with every process started (their pids in pids), a free loopback
# port, and a wait until a Redis-protocol server answers PING.
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
waitping() {
	for _ in $(seq 1 200); do
		[ "$(redis-cli -p "$1" PING 2>/dev/null)" = PONG ] && return 0
		sleep 0.05
	done
	echo "$(basename "$0"): nothing answers on port $1" >&2; exit 1
}
