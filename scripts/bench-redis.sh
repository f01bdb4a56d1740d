#!/usr/bin/env bash
# make bench-redis: schemaproxy in front of 4 redis-servers against
# twemproxy (nutcracker) in front of 4 others and one redis-server alone,
# in one run, all with appendonly yes and appendfsync always (what
# schemaproxy requires of backends). Prints, in turn:
#  - metadata bytes per key: the 4 backends' used_memory grown by loading
#    BENCH_META_KEYS keys through schemaproxy, less what the same keys cost
#    the redis-server alone;
#  - redis-benchmark (50 clients, random keys) at -P 1 and -P 16:
#    requests/s, the ratios, the proxies' CPU per request and the backends'
#    CPU per request;
#  - transactions (internal/tools/txbench, BENCH_TX_CLIENTS clients,
#    BENCH_TX_SECONDS each): single-key SETs, a MULTI of 4 INCRs on 4
#    shards, WATCH transfers with uniform and Zipf keys: txn/s, p50/p99,
#    abort and retry rates, CPU per transaction (twemproxy refuses MULTI:
#    n/a);
#  - what one cross-shard MULTI costs the backends: BENCH_TX_MULTIS of them
#    one at a time, the backends' commands (INFO stats and commandstats)
#    per MULTI;
#  - the ratios against twemproxy and the redis-server alone, with the aims.
# Environment: BENCH_N (requests per redis-benchmark test, default 50000),
# BENCH_TESTS (default set,get,incr,mset), BENCH_TX_SECONDS (default 5),
# BENCH_TX_CLIENTS (default 50), BENCH_TX_MULTIS (default 500),
# BENCH_META_KEYS (default 100000).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_N:-50000}
TESTS=${BENCH_TESTS:-set,get,incr,mset}
TX_SECONDS=${BENCH_TX_SECONDS:-5}
TX_CLIENTS=${BENCH_TX_CLIENTS:-50}
TX_MULTIS=${BENCH_TX_MULTIS:-500}
META_KEYS=${BENCH_META_KEYS:-100000}
CLIENTS=50
SHARDS=4
NUTCRACKER=$(command -v nutcracker || echo /usr/sbin/nutcracker)

. "$(dirname "$0")/lib.sh"
cpu_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo "$t"; }

go build -o "$work/schemaproxy" ./cmd/schemaproxy
go build -o "$work/txbench" ./internal/tools/txbench

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
sp_backends=(); sp_backend_pids=(); sp_backend_ports=(); twem_servers=""; twem_backend_pids=()
for i in $(seq 1 $SHARDS); do
	backend "sp$i"; sp_backends+=(--backend "redis://127.0.0.1:$port"); sp_backend_pids+=("$pid"); sp_backend_ports+=("$port"); waitping "$port"
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

printf 'schemaproxy over %d redis-servers against twemproxy over %d and one redis-server, appendfsync always everywhere, %s\n' "$SHARDS" "$SHARDS" "$(date -u +%F)"

# Metadata per key, first, on empty servers: a few keys first, so that the
# proxy's connections and scripts are in place before the first reading;
# the readings after a pause, once the servers have shrunk the connections'
# buffers (they do so for clients idle 2 s).
used_memory() { local t=0 p; for p in "$@"; do t=$((t + $(redis-cli -p "$p" INFO memory | awk -F: '/^used_memory:/ {print $2+0}'))); done; echo "$t"; }
fill() { "$work/txbench" -addr "127.0.0.1:$1" -mode fill -keys "$2" -prefix "$3" >/dev/null; }
fill "$redis_port" 100 txb:warm:; fill "$sp_port" 100 txb:warm:; sleep 2.5
r0=$(used_memory "$redis_port"); s0=$(used_memory "${sp_backend_ports[@]}")
fill "$redis_port" "$META_KEYS" txb:; fill "$sp_port" "$META_KEYS" txb:; sleep 2.5
r1=$(used_memory "$redis_port"); s1=$(used_memory "${sp_backend_ports[@]}")
meta=$(awk -v r=$((r1 - r0)) -v s=$((s1 - s0)) -v n="$META_KEYS" 'BEGIN { printf "%.1f", (s - r) / n }')
awk -v r=$((r1 - r0)) -v s=$((s1 - s0)) -v n="$META_KEYS" -v m="$meta" 'BEGIN {
	printf "\nmetadata: %d keys of 16-byte values cost one redis-server %.1f bytes each, the %d backends of schemaproxy %.1f: %s bytes of metadata per key\n", n, r / n, '"$SHARDS"', s / n, m }'

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

printf '\nredis-benchmark: %s requests per test, %d clients\n' "$N" "$CLIENTS"
declare -A rps_r rps_t rps_s cpu_t cpu_s
printf '%-6s %3s %10s %10s %10s %8s %8s %9s %9s %9s %9s\n' test P redis twemproxy sp "sp/redis" "sp/twem" "tw-us" "sp-us" "tw-be-us" "sp-be-us"
IFS=, read -ra tests <<<"$TESTS"
for pipe in 1 16; do
	for test in "${tests[@]}"; do
		read -r r_rps _ _ < <(run "$redis_port" "$pipe" "$test" "$redis_pid" "$redis_pid")
		read -r t_rps t_cpu t_be < <(run "$twem_port" "$pipe" "$test" "$twem_pid" "${twem_backend_pids[@]}")
		read -r s_rps s_cpu s_be < <(run "$sp_port" "$pipe" "$test" "$sp_pid" "${sp_backend_pids[@]}")
		rps_r[$test$pipe]=$r_rps; rps_t[$test$pipe]=$t_rps; rps_s[$test$pipe]=$s_rps; cpu_t[$test$pipe]=$t_cpu; cpu_s[$test$pipe]=$s_cpu
		awk -v t="$test" -v p="$pipe" -v r="$r_rps" -v w="$t_rps" -v s="$s_rps" -v tc="$t_cpu" -v sc="$s_cpu" -v tb="$t_be" -v sb="$s_be" \
			'BEGIN { printf "%-6s %3d %10.0f %10.0f %10.0f %8.2f %8.2f %9.1f %9.1f %9.1f %9.1f\n", t, p, r, w, s, s/r, s/w, tc, sc, tb, sb }'
	done
done
echo "(tw-us / sp-us: proxy CPU microseconds per request; *-be-us: the backends' CPU per request; MSET is of 10 keys)"

# Transactions. field LINE NAME -> the value of NAME=... in a txbench line.
field() { grep -o " $2=[^ ]*" <<<"$1" | cut -d= -f2 | sed 's/ms$//'; }
sp_addrs=$(printf '127.0.0.1:%s,' "${sp_backend_ports[@]}"); sp_addrs=${sp_addrs%,}
sp_bpids=$(IFS=,; echo "${sp_backend_pids[*]}"); twem_bpids=$(IFS=,; echo "${twem_backend_pids[*]}")
declare -A txn
# tx TARGET MODE DIST: one txbench run; prints a row and keeps txn/s in txn[TARGET/MODE/DIST]
tx() {
	local target=$1 mode=$2 dist=$3 out rc args=()
	case $target in
	redis) args=(-addr "127.0.0.1:$redis_port" -proxy-pid 0 -backend-pids "$redis_pid") ;;
	twemproxy) args=(-addr "127.0.0.1:$twem_port" -no-hello -proxy-pid "$twem_pid" -backend-pids "$twem_bpids") ;;
	schemaproxy) args=(-addr "127.0.0.1:$sp_port" -proxy-pid "$sp_pid" -backend-pids "$sp_bpids") ;;
	esac
	rc=0
	out=$("$work/txbench" "${args[@]}" -name "$target" -mode "$mode" -dist "$dist" -shards "$SHARDS" \
		-clients "$TX_CLIENTS" -duration "${TX_SECONDS}s" -prefix "txb:$dist:") || rc=$?
	if [ "$rc" = 2 ]; then
		txn[$target/$mode/$dist]=n/a
		printf '%-12s %-8s %-8s %9s   (%s)\n' "$target" "$mode" "$dist" n/a "refused: ${out#*unsupported: }"
		return
	elif [ "$rc" != 0 ]; then
		echo "$out"; echo "txbench failed against $target ($mode $dist)" >&2; exit 1
	fi
	txn[$target/$mode/$dist]=$(field "$out" txn/s)
	printf '%-12s %-8s %-8s %9s %8s %8s %7s %8s %9s %9s\n' "$target" "$mode" "$dist" "$(field "$out" txn/s)" \
		"$(field "$out" p50)" "$(field "$out" p99)" "$(field "$out" abort_rate)" "$(field "$out" retries/txn)" \
		"$(field "$out" proxy_us/txn)" "$(field "$out" backend_us/txn)"
}
printf '\ntransactions (txbench): %d clients, %ss each; multi4 is MULTI, 4 INCRs on 4 shards, EXEC;\n' "$TX_CLIENTS" "$TX_SECONDS"
printf 'transfer is WATCH a b, GET a, GET b, MULTI, DECRBY a, INCRBY b, EXEC, retried on a nil EXEC (total checked);\n'
printf 'evaltransfer one EVALSHA that checks the funds (accounts on different backends); txntransfer TXN BEGIN, GET,\n'
printf 'GET, SET, SET, TXN COMMIT, retried on CONFLICT\n'
printf '%-12s %-8s %-8s %9s %8s %8s %7s %8s %9s %9s\n' target mode dist txn/s p50-ms p99-ms aborts retr/txn proxy-us backend-us
for spec in set/uniform multi4/uniform transfer/uniform transfer/zipfian \
	evaltransfer/uniform evaltransfer/zipfian txntransfer/uniform txntransfer/zipfian; do
	for target in redis twemproxy schemaproxy; do
		case "$target/${spec%/*}" in
		twemproxy/evaltransfer | twemproxy/txntransfer)
			# twemproxy sends an EVAL to its first key's server, where the
			# other account is not: nothing to compare.
			continue ;;
		esac
		tx "$target" "${spec%/*}" "${spec#*/}"
	done
done
echo "(aborts: nil EXECs per EXEC; retr/txn: retries per committed transfer; latencies of a transfer include its retries; *-us: CPU microseconds per transaction)"

# What one cross-shard MULTI costs the backends, one MULTI at a time.
printf '\nbackend commands per MULTI of 4 INCRs (%d MULTIs, one client):\n' "$TX_MULTIS"
rt_sp=$("$work/txbench" -addr "127.0.0.1:$sp_port" -name schemaproxy -mode multi4 -shards "$SHARDS" -clients 1 -count "$TX_MULTIS" -prefix txb:rt: -backends "$sp_addrs")
rt_r=$("$work/txbench" -addr "127.0.0.1:$redis_port" -name redis -mode multi4 -shards "$SHARDS" -clients 1 -count "$TX_MULTIS" -prefix txb:rt: -backends "127.0.0.1:$redis_port")
for out in "$rt_r" "$rt_sp"; do
	line=${out%%$'\n'*}
	printf '%-12s %6s commands (scripts %s, MULTI %s, EXEC %s, WATCH %s), %s MULTIs/s one at a time, p50 %s ms\n' "${line%% *}" \
		"$(field "$line" backend_cmds/txn)" "$(field "$line" scripts/txn)" "$(field "$line" multi/txn)" "$(field "$line" exec/txn)" \
		"$(field "$line" watch/txn)" "$(field "$line" txn/s)" "$(field "$line" p50)"
done
echo "${rt_sp#*$'\n'}"
echo "(commands run by the backends' scripts are counted too; each script call is one request from the proxy)"

# The ratios, with the aims.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
printf '\nratios                        sp/twemproxy  sp/redis  aim\n'
IFS=, read -ra tests <<<"$TESTS"
for test in "${tests[@]}"; do
	for pipe in 1 16; do
		aim=""
		case $test$pipe in set1 | get1) aim=">= 0.8x twemproxy" ;; set16 | get16) aim=">= 1.0x twemproxy" ;; esac
		printf '%-29s %12s %9s  %s\n' "$test -P $pipe requests/s" "$(ratio "${rps_s[$test$pipe]}" "${rps_t[$test$pipe]}")" \
			"$(ratio "${rps_s[$test$pipe]}" "${rps_r[$test$pipe]}")" "$aim"
	done
done
for test in "${tests[@]}"; do
	for pipe in 1 16; do
		aim=""
		case $test in set | get) aim="<= 1.5x twemproxy" ;; esac
		printf '%-29s %12s %9s  %s\n' "$test -P $pipe proxy CPU/request" "$(ratio "${cpu_s[$test$pipe]}" "${cpu_t[$test$pipe]}")" "" "$aim"
	done
done
for spec in set/uniform multi4/uniform transfer/uniform transfer/zipfian evaltransfer/uniform evaltransfer/zipfian; do
	printf '%-29s %12s %9s\n' "${spec/\//, } txn/s" "$(ratio "${txn[schemaproxy/$spec]:-n/a}" "${txn[twemproxy/$spec]:-n/a}")" \
		"$(ratio "${txn[schemaproxy/$spec]}" "${txn[redis/$spec]}")"
done
printf '%-29s %12s %9s  %s\n' "sp multi4 txn/s / sp set op/s" "$(ratio "${txn[schemaproxy/multi4/uniform]}" "${txn[schemaproxy/set/uniform]}")" "" \
	">= 0.25 (redis alone: $(ratio "${txn[redis/multi4/uniform]}" "${txn[redis/set/uniform]}"))"
printf '%-29s %12s %9s  %s\n' "metadata bytes per key" "$meta" "" "<= 32"
