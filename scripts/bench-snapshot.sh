#!/usr/bin/env bash
# make bench-snapshot: what a background snapshot costs clients, for
# schemaproxy (embedded store) and redis-server in one run: both loaded with
# the same keys (BENCH_KEYS, default 1000000 strings of 32 bytes), a GET loop
# running while BGSAVE runs; prints the longest GET, p99, how long the
# snapshot took and peak RSS (redis-server: parent plus its forked child,
# whose pages are shared until written, so its peak overstates the cost;
# rdb_last_cow_size is what the fork really copied).
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS=${BENCH_KEYS:-1000000}

. "$(dirname "$0")/lib.sh"

go build -o "$work/schemaproxy" ./cmd/schemaproxy
go build -o "$work/snapbench" ./internal/tools/snapbench

redis_port=$(freeport)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly yes --appendfsync everysec --auto-aof-rewrite-percentage 0 \
	--dir "$work" --dbfilename dump.rdb --daemonize no >"$work/redis.log" 2>&1 &
pids+=($!); redis_pid=$!
sp_port=$(freeport)
"$work/schemaproxy" --listen "127.0.0.1:$sp_port" --data-dir "$work/sp" --appendfsync everysec \
	--log-level warn >"$work/sp.log" 2>&1 &
pids+=($!); sp_pid=$!
waitping "$redis_port"; waitping "$sp_port"

"$work/snapbench" -addr "127.0.0.1:$redis_port" -pid "$redis_pid" -keys "$KEYS" -name redis-server
"$work/snapbench" -addr "127.0.0.1:$sp_port" -pid "$sp_pid" -keys "$KEYS" -name schemaproxy
