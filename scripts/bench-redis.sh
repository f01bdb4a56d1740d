#!/usr/bin/env bash
# make bench-redis: schemaproxy in front of 4 redis-servers against
# twemproxy (nutcracker) in front of 4 others and one redis-server alone,
# in one run, all with appendonly yes and appendfsync always (what
# schemaproxy requires of backends). redis-benchmark (50 clients, random
# keys) at -P 1 and -P 16; prints requests/s, the ratios, the proxies' CPU
# per request and the backends' CPU per request. Environment: BENCH_N
# (requests per test, default 50000), BENCH_TESTS (default set,get,incr,mset).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_N:-50000}
TESTS=${BENCH_TESTS:-set,get,incr,mset}
CLIENTS=50
SHARDS=4
NUTCRACKER=$(command -v nutcracker || echo /usr/sbin/nutcracker)

. "$(dirname "$0")/lib.sh"
cpu_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo "$t"; }

go build -o "$work/schemaproxy" ./cmd/schemaproxy

# backend NAME -> starts a redis-server, sets port and pid
backend() {
	port=$(freeport)
	mkdir -p "$work/$1"
	redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly yes --appendfsync always \
		--dir "$work/$1" --daemonize no >"$work/$1.log" 2>&1 &
	pid=$!
	pids+=("$pid")
}

backend direct; redis_port=$port; redis_pid=$pid
sp_backends=(); sp_backend_pids=(); twem_servers=""; twem_backend_pids=()
for i in $(seq 1 $SHARDS); do
	backend "sp$i"; sp_backends+=(--backend "redis://127.0.0.1:$port"); sp_backend_pids+=("$pid"); waitping "$port"
	backend "tw$i"; twem_servers+="   - 127.0.0.1:$port:1"$'\n'; twem_backend_pids+=("$pid"); waitping "$port"
done

twem_port=$(freeport)
cat >"$work/nutcracker.yml" <<YML
bench:
  listen: 127.0.0.1:$twem_port
  hash: fnv1a_64
  distribution: ketama
  redis: true
  server_connections: 1
  servers:
$twem_servers
YML
"$NUTCRACKER" -c "$work/nutcracker.yml" -s "$(freeport)" -o "$work/nutcracker.log" &
pids+=($!); twem_pid=$!

sp_port=$(freeport)
"$work/schemaproxy" --listen "127.0.0.1:$sp_port" "${sp_backends[@]}" --log-level warn >"$work/sp.log" 2>&1 &
pids+=($!); sp_pid=$!

waitping "$redis_port"; waitping "$twem_port"; waitping "$sp_port"

# run PORT PIPELINE TEST PROXY-PID BACKEND-PIDS... -> "rps proxy_us backend_us"
run() {
	local port=$1 pipe=$2 test=$3 proxy=$4; shift 4
	local pb bb pa ba rps hz
	pb=$(cpu_ticks "$proxy"); bb=$(cpu_ticks "$@")
	rps=$(redis-benchmark -p "$port" -c $CLIENTS -n "$N" -P "$pipe" -r 100000 -t "$test" --csv -q 2>/dev/null |
		awk -F'","' 'NR>1 {gsub(/"/,"",$2); print $2; exit}')
	pa=$(cpu_ticks "$proxy"); ba=$(cpu_ticks "$@")
	hz=$(getconf CLK_TCK)
	awk -v r="$rps" -v p=$((pa - pb)) -v b=$((ba - bb)) -v hz="$hz" -v n="$N" \
		'BEGIN { printf "%s %.1f %.1f\n", r, (p / hz) * 1e6 / n, (b / hz) * 1e6 / n }'
}

printf 'schemaproxy over %d redis-servers: %s requests per test, %d clients, appendfsync always everywhere, %s\n' "$SHARDS" "$N" "$CLIENTS" "$(date -u +%F)"
printf '%-6s %3s %10s %10s %10s %8s %8s %9s %9s %9s %9s\n' test P redis twemproxy sp "sp/redis" "sp/twem" "tw-us" "sp-us" "tw-be-us" "sp-be-us"
IFS=, read -ra tests <<<"$TESTS"
for pipe in 1 16; do
	for test in "${tests[@]}"; do
		read -r r_rps _ _ < <(run "$redis_port" "$pipe" "$test" "$redis_pid" "$redis_pid")
		read -r t_rps t_cpu t_be < <(run "$twem_port" "$pipe" "$test" "$twem_pid" "${twem_backend_pids[@]}")
		read -r s_rps s_cpu s_be < <(run "$sp_port" "$pipe" "$test" "$sp_pid" "${sp_backend_pids[@]}")
		awk -v t="$test" -v p="$pipe" -v r="$r_rps" -v w="$t_rps" -v s="$s_rps" -v tc="$t_cpu" -v sc="$s_cpu" -v tb="$t_be" -v sb="$s_be" \
			'BEGIN { printf "%-6s %3d %10.0f %10.0f %10.0f %8.2f %8.2f %9.1f %9.1f %9.1f %9.1f\n", t, p, r, w, s, s/r, s/w, tc, sc, tb, sb }'
	done
done
echo "(tw-us / sp-us: proxy CPU microseconds per request; *-be-us: the backends' CPU per request; MSET is of 10 keys)"
