#!/usr/bin/env bash
# make bench: redis-benchmark against schemaproxy (embedded shards), a
# redis-server and twemproxy (nutcracker) in front of another redis-server,
# in one run, on free loopback ports, at equal durability (appendonly yes,
# the same appendfsync). Prints requests/s, the ratios and server CPU per
# request. Then transfers between accounts (internal/tools/txbench, total
# checked) written as WATCH/MULTI, as one EVAL and as TXN, uniform and Zipf
# keys, against schemaproxy and the redis-server running the same EVAL on
# one node. Then messaging (internal/tools/msgbench): PUBLISH fan-out to 50
# subscribers, a BLPOP/LPUSH queue and XADD/XREADGROUP/XACK, each checked
# for loss. Environment: BENCH_N (requests per test, default 200000),
# BENCH_FSYNC (default everysec), BENCH_TESTS (default set,get,incr,lpush,hset,mset),
# BENCH_TX_SECONDS (default 5), BENCH_TX_CLIENTS (default 50).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_N:-200000}
FSYNC=${BENCH_FSYNC:-everysec}
TESTS=${BENCH_TESTS:-set,get,incr,lpush,hset,mset}
TX_SECONDS=${BENCH_TX_SECONDS:-5}
TX_CLIENTS=${BENCH_TX_CLIENTS:-50}
CLIENTS=50
NUTCRACKER=$(command -v nutcracker || echo /usr/sbin/nutcracker)

. "$(dirname "$0")/lib.sh"
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

go build -o "$work/schemaproxy" ./cmd/schemaproxy
go build -o "$work/txbench" ./internal/tools/txbench
go build -o "$work/msgbench" ./internal/tools/msgbench

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

# Transfers. field LINE NAME -> the value of NAME=... in a txbench line.
field() { grep -o " $2=[^ ]*" <<<"$1" | cut -d= -f2 | sed 's/ms$//'; }
declare -A txn
# tx TARGET MODE DIST: one txbench run; prints a row, keeps txn/s in txn[TARGET/MODE/DIST]
tx() {
	local target=$1 mode=$2 dist=$3 out rc args=()
	case $target in
	redis) args=(-addr "127.0.0.1:$redis_port" -backend-pids "$redis_pid") ;;
	schemaproxy) args=(-addr "127.0.0.1:$sp_port" -backend-pids "$sp_pid") ;;
	esac
	rc=0
	out=$("$work/txbench" "${args[@]}" -name "$target" -mode "$mode" -dist "$dist" \
		-clients "$TX_CLIENTS" -duration "${TX_SECONDS}s" -prefix "txb:$mode:$dist:") || rc=$?
	if [ "$rc" = 2 ]; then
		txn[$target/$mode/$dist]=n/a
		printf '%-12s %-13s %-8s %9s   (%s)\n' "$target" "$mode" "$dist" n/a "refused: ${out#*unsupported: }"
		return
	elif [ "$rc" != 0 ]; then
		echo "$out"; echo "txbench failed against $target ($mode $dist)" >&2; exit 1
	fi
	txn[$target/$mode/$dist]=$(field "$out" txn/s)
	printf '%-12s %-13s %-8s %9s %8s %8s %7s %8s %9s\n' "$target" "$mode" "$dist" "$(field "$out" txn/s)" \
		"$(field "$out" p50)" "$(field "$out" p99)" "$(field "$out" abort_rate)" "$(field "$out" retries/txn)" \
		"$(field "$out" backend_us/txn)"
}
printf '\ntransfers (txbench, %d clients, %ss each, 1000 accounts, total checked): transfer is WATCH a b, GET a, GET b,\n' "$TX_CLIENTS" "$TX_SECONDS"
printf 'MULTI, DECRBY a, INCRBY b, EXEC, retried on a nil EXEC; evaltransfer one EVALSHA that checks the funds\n'
printf '(accounts on different shards of schemaproxy, one node of redis); txntransfer TXN BEGIN, GET, GET, SET, SET,\n'
printf 'TXN COMMIT, retried on CONFLICT\n'
printf '%-12s %-13s %-8s %9s %8s %8s %7s %8s %9s\n' target mode dist txn/s p50-ms p99-ms aborts retr/txn server-us
for dist in uniform zipfian; do
	for mode in transfer evaltransfer txntransfer; do
		for target in redis schemaproxy; do
			tx "$target" "$mode" "$dist"
		done
	done
done
echo "(aborts: failed commits per attempt; retr/txn: retries per committed transfer; server-us: server CPU microseconds per transfer)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }
printf '\n%-44s %8s  %s\n' ratio value aim
for dist in uniform zipfian; do
	printf '%-44s %8s  %s\n' "sp evaltransfer / redis evaltransfer, $dist" \
		"$(ratio "${txn[schemaproxy/evaltransfer/$dist]}" "${txn[redis/evaltransfer/$dist]}")" ">= 0.5"
	printf '%-44s %8s  %s\n' "sp evaltransfer / sp WATCH transfer, $dist" \
		"$(ratio "${txn[schemaproxy/evaltransfer/$dist]}" "${txn[schemaproxy/transfer/$dist]}")" "> 1 under zipf"
done

# Messaging, each mode against both servers.
printf '\nmessaging (msgbench, %ss each): fanout is 1 publisher (pipelines of 100) and 50 subscribers of one\n' "$TX_SECONDS"
printf 'channel; queue 10 LPUSH producers and 10 BLPOP consumers (latency from LPUSH to BLPOP, queueing\n'
printf 'included); stream 10 XADD producers and a group of 10 consumers (XREADGROUP BLOCK, XACK)\n'
printf '%-8s %-12s %s\n' mode target result
for mode in fanout queue stream; do
	for target in redis schemaproxy; do
		port=$redis_port; [ "$target" = schemaproxy ] && port=$sp_port
		out=$("$work/msgbench" -addr "127.0.0.1:$port" -name "$target" -mode "$mode" -duration "${TX_SECONDS}s" -prefix "msgb:$mode:") ||
			{ echo "msgbench failed against $target ($mode)" >&2; exit 1; }
		printf '%-8s %-12s %s\n' "$mode" "$target" "$(cut -d' ' -f3- <<<"$out")"
	done
done
