#!/usr/bin/env bash
# make bench-memory: what keys cost in memory, schemaproxy (embedded store)
# against redis-server in one run. For each data set (1,000,000 strings of
# 32 bytes; 100,000 hashes of 10 small fields; 100,000 sets of 10 members;
# 100,000 sorted sets of 10 members; 1,000 lists of 1,000 elements) both
# servers start empty, membench loads the same keys into each with
# pipelining and prints RSS and used_memory per key (growth over the empty
# server), RSS per key after a SAVE, and schemaproxy's ratios to Redis's.
# Aims (issue 15): RSS per key at most 1.0x Redis's for strings, 1.2x for
# the collections; RSS after SAVE at most 10 % above before it.
set -euo pipefail
cd "$(dirname "$0")/.."
SETS=${BENCH_SETS:-"strings hashes sets zsets lists"}

. "$(dirname "$0")/lib.sh"

go build -o "$work/schemaproxy" ./cmd/schemaproxy
go build -o "$work/membench" ./internal/tools/membench

header=-header
for set in $SETS; do
	redis_port=$(freeport)
	redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
		--dir "$work" --dbfilename "dump-$set.rdb" --daemonize no >"$work/redis-$set.log" 2>&1 &
	pids+=($!); redis_pid=$!
	sp_port=$(freeport)
	"$work/schemaproxy" --listen "127.0.0.1:$sp_port" --data-dir "$work/sp-$set" --appendfsync everysec \
		--log-level warn >"$work/sp-$set.log" 2>&1 &
	pids+=($!); sp_pid=$!
	waitping "$redis_port"; waitping "$sp_port"
	"$work/membench" $header -dataset "$set" \
		-redis-addr "127.0.0.1:$redis_port" -redis-pid "$redis_pid" \
		-schemaproxy-addr "127.0.0.1:$sp_port" -schemaproxy-pid "$sp_pid"
	header=
	kill "$redis_pid" "$sp_pid"; wait "$redis_pid" "$sp_pid" 2>/dev/null || true
	rm -rf "$work/sp-$set" "$work/dump-$set.rdb"
done
echo "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'); schemaproxy with $(go env GOVERSION)"
