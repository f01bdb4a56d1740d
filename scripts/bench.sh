#!/usr/bin/env bash
# make bench: redis-benchmark against schemaproxy (embedded shards), a
# redis-server and twemproxy (nutcracker) in front of another redis-server,
# in one run, on free loopback ports, at equal durability (appendonly yes,
# the same appendfsync). Prints requests/s, the ratios and server CPU per
# request. Environment: BENCH_N (requests per test, default 200000),
# BENCH_FSYNC (default everysec), BENCH_TESTS (default set,get,incr,lpush,hset,mset).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_N:-200000}
FSYNC=${BENCH_FSYNC:-everysec}
TESTS=${BENCH_TESTS:-set,get,incr,lpush,hset,mset}
CLIENTS=50
NUTCRACKER=$(command -v nutcracker || echo /usr/sbin/nutcracker)

. "$(dirname "$0")/lib.sh"
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

go build -o "$work/schemaproxy" ./cmd/schemaproxy

redis_port=$(freeport)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly yes --appendfsync "$FSYNC" \
	--dir "$work" --appendfilename direct.aof --daemonize no >"$work/redis.log" 2>&1 &
pids+=($!); redis_pid=$!

backend_port=$(freeport)
mkdir -p "$work/backend"
redis-server --port "$backend_port" --bind 127.0.0.1 --save "" --appendonly yes --appendfsync "$FSYNC" \
	--dir "$work/backend" --daemonize no >"$work/backend.log" 2>&1 &
pids+=($!); backend_pid=$!

twem_port=$(freeport)
cat >"$work/nutcracker.yml" <<YML
bench:
  listen: 127.0.0.1:$twem_port
  hash: fnv1a_64
  distribution: ketama
  redis: true
  server_connections: 1
  servers:
   - 127.0.0.1:$backend_port:1
YML
"$NUTCRACKER" -c "$work/nutcracker.yml" -s "$(freeport)" -o "$work/nutcracker.log" &
pids+=($!); twem_pid=$!

sp_port=$(freeport)
"$work/schemaproxy" --listen "127.0.0.1:$sp_port" --data-dir "$work/sp" --appendfsync "$FSYNC" \
	--log-level warn >"$work/sp.log" 2>&1 &
pids+=($!); sp_pid=$!

waitping "$redis_port"; waitping "$backend_port"; waitping "$twem_port"; waitping "$sp_port"

# run PORT PIPELINE TEST [CPU-PIDS...] -> "rps cpu_us_per_request"
run() {
	local port=$1 pipe=$2 test=$3; shift 3
	local before=0 after=0 p
	redis-cli -p "$port" FLUSHALL >/dev/null 2>&1 || true
	for p in "$@"; do before=$((before + $(cpu_ticks "$p"))); done
	local rps
	rps=$(redis-benchmark -p "$port" -c $CLIENTS -n "$N" -P "$pipe" -r 100000 -t "$test" --csv -q 2>/dev/null |
		awk -F'","' 'NR>1 {gsub(/"/,"",$2); print $2; exit}')
	for p in "$@"; do after=$((after + $(cpu_ticks "$p"))); done
	local hz; hz=$(getconf CLK_TCK)
	awk -v r="$rps" -v t=$((after - before)) -v hz="$hz" -v n="$N" \
		'BEGIN { printf "%s %.1f\n", r, (t / hz) * 1e6 / n }'
}

printf 'schemaproxy bench: %s requests per test, %d clients, appendfsync %s, %s\n' "$N" "$CLIENTS" "$FSYNC" "$(date -u +%F)"
printf '%-6s %3s %12s %12s %12s %9s %9s %10s %10s\n' test P redis twemproxy schemaproxy "sp/redis" "sp/twem" "redis-us" "sp-us"
IFS=, read -ra tests <<<"$TESTS"
for pipe in 1 16; do
	for test in "${tests[@]}"; do
		read -r r_rps r_cpu < <(run "$redis_port" "$pipe" "$test" "$redis_pid")
		read -r t_rps _ < <(run "$twem_port" "$pipe" "$test" "$twem_pid" "$backend_pid")
		read -r s_rps s_cpu < <(run "$sp_port" "$pipe" "$test" "$sp_pid")
		awk -v t="$test" -v p="$pipe" -v r="$r_rps" -v w="$t_rps" -v s="$s_rps" -v rc="$r_cpu" -v sc="$s_cpu" \
			'BEGIN { printf "%-6s %3d %12.0f %12.0f %12.0f %9.2f %9.2f %10.1f %10.1f\n", t, p, r, w, s, s/r, s/w, rc, sc }'
	done
done
echo "(redis-us / sp-us: server CPU microseconds per request, all cores)"
