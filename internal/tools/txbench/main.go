// Command txbench loads a Redis-protocol server with transactions and
// reports their rate and latency. scripts/bench-redis.sh runs it against
// schemaproxy over Redis backends, twemproxy and one redis-server.
//
// Modes:
//
//	set       single-key SETs, the reference rate of the other modes
//	multi4    MULTI; INCR on one key of each of 4 shards; EXEC (the keys
//	          are picked with the proxy's slot map, so on schemaproxy every
//	          transaction spans 4 shards)
//	transfer  WATCH a b; GET a; GET b; MULTI; DECRBY a; INCRBY b; EXEC,
//	          retried on a nil EXEC; the total of the accounts is checked
//	          at the end
//	evaltransfer  the same transfer as one EVALSHA that checks the funds
//	txntransfer   TXN BEGIN; GET a; GET b; SET a; SET b; TXN COMMIT,
//	          retried on CONFLICT
//	fill      SETs keys 0..keys-1 once (for memory per key)
//
// Keys are drawn uniformly or from a Zipf distribution. Every run prints
// one line of name=value fields. A server that refuses the mode's first
// transaction (twemproxy refuses MULTI) prints "unsupported" and exits 2.
// With -backends, the run also reports the commands the backends processed
// per transaction (INFO stats and commandstats before and after).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/schemaproxy/schemaproxy/cluster"
)

type config struct {
	addr     string
	name     string
	mode     string
	dist     string
	zipfS    float64
	clients  int
	duration time.Duration
	count    int64
	keys     int
	shards   int
	prefix   string
	backends []string
	noHello  bool
	proxyPid int
	bePids   []int
}

func main() {
	var c config
	var backends string
	flag.StringVar(&c.addr, "addr", "127.0.0.1:7000", "server address")
	flag.StringVar(&c.name, "name", "server", "label for the report")
	flag.StringVar(&c.mode, "mode", "multi4", "set, multi4, transfer, evaltransfer, txntransfer or fill")
	flag.StringVar(&c.dist, "dist", "uniform", "key distribution: uniform or zipfian")
	flag.Float64Var(&c.zipfS, "zipf-s", 1.01, "Zipf exponent s (> 1)")
	flag.IntVar(&c.clients, "clients", 50, "concurrent clients, one connection each")
	flag.DurationVar(&c.duration, "duration", 5*time.Second, "how long to run")
	flag.Int64Var(&c.count, "count", 0, "run this many transactions instead of -duration")
	flag.IntVar(&c.keys, "keys", 0, "keys (accounts for transfer); 0: 10000, 1000 for transfer, 100000 for fill")
	flag.IntVar(&c.shards, "shards", 4, "shards of the proxy's slot map (multi4 picks one key on each of 4)")
	flag.StringVar(&c.prefix, "prefix", "txb:", "key prefix")
	flag.StringVar(&backends, "backends", "", "comma-separated backend addresses: report their commands per transaction")
	flag.BoolVar(&c.noHello, "no-hello", false, "answer the client's HELLO locally (twemproxy closes the connection on it)")
	flag.IntVar(&c.proxyPid, "proxy-pid", 0, "the proxy's pid: report its CPU per transaction")
	bePids := flag.String("backend-pids", "", "comma-separated pids of the backends: report their CPU per transaction")
	flag.Parse()
	if backends != "" {
		c.backends = strings.Split(backends, ",")
	}
	if *bePids != "" {
		for _, f := range strings.Split(*bePids, ",") {
			p, err := strconv.Atoi(f)
			if err != nil {
				fmt.Fprintln(os.Stderr, "txbench: -backend-pids:", err)
				os.Exit(1)
			}
			c.bePids = append(c.bePids, p)
		}
	}
	if c.keys == 0 {
		c.keys = map[string]int{"fill": 100_000, "transfer": 1000, "evaltransfer": 1000, "txntransfer": 1000}[c.mode]
		if c.keys == 0 {
			c.keys = 10_000
		}
	}
	err := run(c)
	var unsup unsupportedError
	switch {
	case errors.As(err, &unsup):
		fmt.Printf("%s mode=%s unsupported: %v\n", c.name, c.mode, unsup.err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "txbench:", err)
		os.Exit(1)
	}
}

// unsupportedError is the server refusing the first transaction.
type unsupportedError struct{ err error }

func (e unsupportedError) Error() string { return e.err.Error() }

// stats is what one client counted.
type stats struct {
	done     int64           // committed transactions (ops in mode set)
	attempts int64           // EXECs sent
	aborts   int64           // nil EXECs
	lat      []time.Duration // per committed transaction, retries included
}

// worker runs one transaction (retries included) on its own connection.
type worker interface {
	txn(ctx context.Context) (attempts, aborts int64, err error)
}

func run(c config) error {
	if c.clients < 1 || c.keys < 2 || c.shards < 1 {
		return errors.New("-clients must be ≥ 1, -keys ≥ 2, -shards ≥ 1")
	}
	if c.dist != "uniform" && c.dist != "zipfian" {
		return fmt.Errorf("unknown -dist %q", c.dist)
	}
	if c.dist == "zipfian" && c.zipfS <= 1 {
		return errors.New("-zipf-s must be > 1")
	}
	ctx := context.Background()
	// RESP2 and no CLIENT SETINFO: twemproxy closes the connection on
	// commands it does not know.
	opt := &redis.Options{
		Addr: c.addr, PoolSize: c.clients + 1, Protocol: 2, DisableIdentity: true,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
	}
	if c.noHello {
		opt.Dialer = dialNoHello
	}
	client := redis.NewClient(opt)
	defer client.Close()

	var newWorker func(i int) worker
	var check func() error
	switch c.mode {
	case "fill":
		return fill(ctx, c, client)
	case "set":
		newWorker = func(i int) worker {
			r := newRand(i)
			return &setWorker{conn: client.Conn(), prefix: c.prefix + "s:", pick: picker(c, r, c.keys)}
		}
	case "multi4":
		m := newMulti4(c)
		newWorker = func(i int) worker { return m.worker(c, client.Conn(), newRand(i)) }
		check = func() error { return m.check(ctx, client) }
		if err := m.start(ctx, client); err != nil {
			return err
		}
	case "transfer", "evaltransfer", "txntransfer":
		t := &transfers{prefix: c.prefix + "t:", accounts: c.keys}
		if err := t.start(ctx, client); err != nil {
			return err
		}
		newWorker = func(i int) worker {
			r := newRand(i)
			w := &transferWorker{t: t, conn: client.Conn(), r: r, pick: picker(c, r, c.keys)}
			switch c.mode {
			case "evaltransfer":
				return (*evalTransferWorker)(w)
			case "txntransfer":
				return (*txnTransferWorker)(w)
			}
			return w
		}
		check = func() error { return t.check(ctx, client) }
	default:
		return fmt.Errorf("unknown -mode %q", c.mode)
	}

	workers := make([]worker, c.clients)
	for i := range workers {
		workers[i] = newWorker(i)
	}
	// The first transaction alone: a server that refuses it does not support
	// the mode (twemproxy closes the connection on MULTI).
	if _, _, err := workers[0].txn(ctx); err != nil {
		return unsupportedError{err}
	}

	before, err := backendCounts(ctx, c.backends)
	if err != nil {
		return err
	}
	proxyCPU, beCPU := cpuTicks(c.proxyPid), cpuTicks(c.bePids...)
	var stop atomic.Bool
	remaining := atomic.Int64{}
	remaining.Store(c.count)
	all := make([]stats, c.clients)
	errs := make([]error, c.clients)
	began := time.Now()
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Go(func() {
			s := &all[i]
			for !stop.Load() {
				if c.count > 0 && remaining.Add(-1) < 0 {
					return
				}
				t := time.Now()
				a, ab, err := w.txn(ctx)
				if err != nil {
					errs[i] = err
					stop.Store(true)
					return
				}
				s.lat = append(s.lat, time.Since(t))
				s.done++
				s.attempts += a
				s.aborts += ab
			}
		})
	}
	if c.count == 0 {
		time.Sleep(c.duration)
		stop.Store(true)
	}
	wg.Wait()
	elapsed := time.Since(began)
	proxyCPU, beCPU = cpuTicks(c.proxyPid)-proxyCPU, cpuTicks(c.bePids...)-beCPU
	after, err := backendCounts(ctx, c.backends)
	if err != nil {
		return err
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	var tot stats
	for _, s := range all {
		tot.done += s.done
		tot.attempts += s.attempts
		tot.aborts += s.aborts
		tot.lat = append(tot.lat, s.lat...)
	}
	if tot.done == 0 {
		return errors.New("no transaction completed")
	}
	slices.Sort(tot.lat)
	fmt.Printf("%s mode=%s dist=%s clients=%d keys=%d txns=%d txn/s=%.0f p50=%.2fms p99=%.2fms",
		c.name, c.mode, c.dist, c.clients, c.keys, tot.done, float64(tot.done)/elapsed.Seconds(),
		ms(tot.lat[len(tot.lat)/2]), ms(tot.lat[len(tot.lat)*99/100]))
	if c.mode == "transfer" || c.mode == "txntransfer" {
		fmt.Printf(" abort_rate=%.3f retries/txn=%.3f", float64(tot.aborts)/float64(tot.attempts),
			float64(tot.aborts)/float64(tot.done))
	}
	// CPU in microseconds per transaction (ticks of 10 ms: USER_HZ is 100)
	if c.proxyPid != 0 {
		fmt.Printf(" proxy_us/txn=%.1f", float64(proxyCPU)*1e4/float64(tot.done))
	}
	if c.bePids != nil {
		fmt.Printf(" backend_us/txn=%.1f", float64(beCPU)*1e4/float64(tot.done))
	}
	if c.backends != nil {
		fmt.Print(" ", perTxn(before, after, tot.done))
	}
	fmt.Println()
	if c.backends != nil {
		fmt.Println("  backend calls per txn, every command (those run by scripts too):", perCommand(before, after, tot.done))
	}
	if check != nil {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func newRand(i int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))
}

// picker draws indexes in [0, n) by the configured distribution.
func picker(c config, r *rand.Rand, n int) func() int {
	if c.dist == "zipfian" {
		z := rand.NewZipf(r, c.zipfS, 1, uint64(n-1))
		return func() int { return int(z.Uint64()) }
	}
	return func() int { return r.IntN(n) }
}

type setWorker struct {
	conn   *redis.Conn
	prefix string
	pick   func() int
}

func (w *setWorker) txn(ctx context.Context) (int64, int64, error) {
	return 1, 0, w.conn.Set(ctx, w.prefix+strconv.Itoa(w.pick()), "0123456789abcdef", 0).Err()
}

// multi4 holds, per shard, the keys of that shard; a transaction increments
// one key of each of the first 4 shards (all of them when fewer).
type multi4 struct {
	byShard [][]string
	before  int64 // sum of the counters at the start
	done    atomic.Int64
}

func newMulti4(c config) *multi4 {
	m := cluster.NewSlotMap(c.shards)
	n := min(c.shards, 4)
	m4 := &multi4{byShard: make([][]string, n)}
	per := max(c.keys/n, 1)
	for i := 0; ; i++ {
		k := c.prefix + "c:" + strconv.Itoa(i)
		s := m.ShardOf([]byte(k))
		if s < n && len(m4.byShard[s]) < per {
			m4.byShard[s] = append(m4.byShard[s], k)
		}
		full := true
		for _, ks := range m4.byShard {
			full = full && len(ks) == per
		}
		if full {
			return m4
		}
	}
}

func (m *multi4) worker(c config, conn *redis.Conn, r *rand.Rand) worker {
	w := &multi4Worker{m: m, conn: conn}
	for _, ks := range m.byShard {
		w.pick = append(w.pick, picker(c, r, len(ks)))
	}
	return w
}

func (m *multi4) start(ctx context.Context, c *redis.Client) error {
	sum, err := m.sum(ctx, c)
	m.before = sum
	return err
}

// check compares the counters' sum with the increments acknowledged.
func (m *multi4) check(ctx context.Context, c *redis.Client) error {
	sum, err := m.sum(ctx, c)
	if err != nil {
		return err
	}
	if want := m.before + int64(len(m.byShard))*m.done.Load(); sum != want {
		return fmt.Errorf("CHECK FAILED: counters sum to %d, want %d (%d EXECs acknowledged)", sum, want, m.done.Load())
	}
	return nil
}

func (m *multi4) sum(ctx context.Context, c *redis.Client) (int64, error) {
	var keys []string
	for _, ks := range m.byShard {
		keys = append(keys, ks...)
	}
	return sumKeys(ctx, c, keys)
}

// sumKeys reads keys with pipelined GETs (twemproxy and direct servers
// alike) and adds them up, a missing key counting 0.
func sumKeys(ctx context.Context, c *redis.Client, keys []string) (int64, error) {
	var sum int64
	for i := 0; i < len(keys); i += 1000 {
		p := c.Pipeline()
		var cmds []*redis.StringCmd
		for _, k := range keys[i:min(i+1000, len(keys))] {
			cmds = append(cmds, p.Get(ctx, k))
		}
		if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return 0, fmt.Errorf("reading the keys: %w", err)
		}
		for _, cmd := range cmds {
			v, err := cmd.Int64()
			if errors.Is(err, redis.Nil) {
				continue
			}
			if err != nil {
				return 0, fmt.Errorf("reading %s: %w", cmd.Args()[1], err)
			}
			sum += v
		}
	}
	return sum, nil
}

type multi4Worker struct {
	m    *multi4
	conn *redis.Conn
	pick []func() int
}

func (w *multi4Worker) txn(ctx context.Context) (int64, int64, error) {
	_, err := w.conn.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for s, ks := range w.m.byShard {
			p.Incr(ctx, ks[w.pick[s]()])
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	w.m.done.Add(1)
	return 1, 0, nil
}

// transfers are between accounts that each start at initial.
type transfers struct {
	prefix   string
	accounts int
}

const initial = 1000

func (t *transfers) key(i int) string { return t.prefix + strconv.Itoa(i) }

func (t *transfers) start(ctx context.Context, c *redis.Client) error {
	for i := 0; i < t.accounts; i += 1000 {
		p := c.Pipeline()
		for j := i; j < min(i+1000, t.accounts); j++ {
			p.Set(ctx, t.key(j), initial, 0)
		}
		if _, err := p.Exec(ctx); err != nil {
			return fmt.Errorf("setting up the accounts: %w", err)
		}
	}
	return nil
}

func (t *transfers) check(ctx context.Context, c *redis.Client) error {
	keys := make([]string, t.accounts)
	for i := range keys {
		keys[i] = t.key(i)
	}
	sum, err := sumKeys(ctx, c, keys)
	if err != nil {
		return err
	}
	if want := int64(t.accounts) * initial; sum != want {
		return fmt.Errorf("CHECK FAILED: the accounts total %d, want %d", sum, want)
	}
	return nil
}

type transferWorker struct {
	t    *transfers
	conn *redis.Conn
	r    *rand.Rand
	pick func() int
}

// txn moves an amount from one account to another, retrying until an EXEC
// is not nil. WATCH and the GETs go in one write, MULTI to EXEC in another.
func (w *transferWorker) txn(ctx context.Context) (attempts, aborts int64, err error) {
	a := w.pick()
	b := w.pick()
	for b == a {
		b = w.r.IntN(w.t.accounts)
	}
	ka, kb := w.t.key(a), w.t.key(b)
	for {
		var ga, gb *redis.StringCmd
		if _, err := w.conn.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Do(ctx, "watch", ka, kb)
			ga, gb = p.Get(ctx, ka), p.Get(ctx, kb)
			return nil
		}); err != nil {
			return attempts, aborts, err
		}
		va, err1 := ga.Int64()
		_, err2 := gb.Int64()
		if err := errors.Join(err1, err2); err != nil {
			return attempts, aborts, err
		}
		amount := 1 + w.r.Int64N(10)
		if va < amount { // keep balances from going negative
			amount = max(va, 0)
		}
		attempts++
		_, err := w.conn.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.DecrBy(ctx, ka, amount)
			p.IncrBy(ctx, kb, amount)
			return nil
		})
		if errors.Is(err, redis.TxFailedErr) {
			aborts++
			continue
		}
		return attempts, aborts, err
	}
}

// accounts picks two different accounts.
func (w *transferWorker) accounts() (ka, kb string) {
	a := w.pick()
	b := w.pick()
	for b == a {
		b = w.r.IntN(w.t.accounts)
	}
	return w.t.key(a), w.t.key(b)
}

// transferScript moves up to ARGV[1] from KEYS[1] to KEYS[2], never below
// zero: it branches on what it reads, which MULTI cannot.
var transferScript = redis.NewScript(`
local have = tonumber(redis.call('get', KEYS[1]))
local amount = math.min(tonumber(ARGV[1]), have)
redis.call('decrby', KEYS[1], amount)
redis.call('incrby', KEYS[2], amount)
return amount`)

// evalTransferWorker transfers with one EVALSHA (EVAL the first time): a
// conflict is run again inside the server, unseen.
type evalTransferWorker transferWorker

func (w *evalTransferWorker) txn(ctx context.Context) (attempts, aborts int64, err error) {
	ka, kb := (*transferWorker)(w).accounts()
	return 1, 0, transferScript.Run(ctx, w.conn, []string{ka, kb}, 1+w.r.Int64N(10)).Err()
}

// txnTransferWorker transfers in an interactive transaction (TXN BEGIN,
// GET, GET, SET, SET, TXN COMMIT), from scratch again on CONFLICT.
type txnTransferWorker transferWorker

func (w *txnTransferWorker) txn(ctx context.Context) (attempts, aborts int64, err error) {
	ka, kb := (*transferWorker)(w).accounts()
	for {
		attempts++
		if err := w.conn.Do(ctx, "txn", "begin").Err(); err != nil {
			return attempts, aborts, err
		}
		va, err1 := w.conn.Get(ctx, ka).Int64()
		vb, err2 := w.conn.Get(ctx, kb).Int64()
		if err := errors.Join(err1, err2); err != nil {
			return attempts, aborts, err
		}
		amount := min(1+w.r.Int64N(10), va)
		if _, err := w.conn.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, ka, va-amount, 0)
			p.Set(ctx, kb, vb+amount, 0)
			return nil
		}); err != nil {
			return attempts, aborts, err
		}
		err := w.conn.Do(ctx, "txn", "commit").Err()
		if err != nil && strings.HasPrefix(err.Error(), "CONFLICT") {
			aborts++
			continue
		}
		return attempts, aborts, err
	}
}

// fill sets keys 0..keys-1 to a 16-byte value, 1000 per pipeline.
func fill(ctx context.Context, c config, client *redis.Client) error {
	began := time.Now()
	for i := 0; i < c.keys; i += 1000 {
		p := client.Pipeline()
		for j := i; j < min(i+1000, c.keys); j++ {
			p.Set(ctx, c.prefix+"f:"+strconv.Itoa(j), "0123456789abcdef", 0)
		}
		if _, err := p.Exec(ctx); err != nil {
			return fmt.Errorf("fill: %w", err)
		}
	}
	fmt.Printf("%s mode=fill keys=%d took=%v\n", c.name, c.keys, time.Since(began).Round(time.Millisecond))
	return nil
}

// counts are a backend's INFO counters: total_commands_processed under
// "total" and the calls of every command under its name.
type counts map[string]int64

// backendCounts reads each backend's counters, one INFO call each.
func backendCounts(ctx context.Context, addrs []string) ([]counts, error) {
	var all []counts
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a, Protocol: 2, DisableIdentity: true})
		info, err := c.Info(ctx, "stats", "commandstats").Result()
		c.Close()
		if err != nil {
			return nil, fmt.Errorf("backend %s: %w", a, err)
		}
		n := counts{}
		for _, line := range strings.Split(info, "\n") {
			line = strings.TrimSpace(line)
			if v, ok := strings.CutPrefix(line, "total_commands_processed:"); ok {
				n["total"], _ = strconv.ParseInt(v, 10, 64)
			}
			if rest, ok := strings.CutPrefix(line, "cmdstat_"); ok {
				name, fields, _ := strings.Cut(rest, ":")
				calls, _, _ := strings.Cut(strings.TrimPrefix(fields, "calls="), ",")
				n[name], _ = strconv.ParseInt(calls, 10, 64)
			}
		}
		all = append(all, n)
	}
	return all, nil
}

// perTxn reports the backends' commands per transaction: in all, the
// scripts (EVALSHA, EVAL, FCALL), MULTI, EXEC and WATCH calls. The INFO call that took the first reading is counted, and left out.
func perTxn(before, after []counts, txns int64) string {
	var total, scripts, multi, exec, watch int64
	for i := range before {
		d := func(k string) int64 { return after[i][k] - before[i][k] }
		total += d("total") - 1
		scripts += d("evalsha") + d("eval") + d("evalsha_ro") + d("eval_ro") + d("fcall")
		multi += d("multi")
		exec += d("exec")
		watch += d("watch")
	}
	per := func(n int64) float64 { return float64(n) / float64(txns) }
	return fmt.Sprintf("backend_cmds/txn=%.2f scripts/txn=%.2f multi/txn=%.2f exec/txn=%.2f watch/txn=%.2f",
		per(total), per(scripts), per(multi), per(exec), per(watch))
}

// dialNoHello dials a connection that answers the HELLO go-redis sends
// first with an error, as a server without HELLO would, instead of sending
// it: twemproxy closes the connection on HELLO, and go-redis has no option
// to leave it out (go-redis issue 2616).
func dialNoHello(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &noHelloConn{Conn: c}, nil
}

type noHelloConn struct {
	net.Conn
	first   bool   // the first write has been seen
	pending []byte // the reply to the HELLO, still to be read
}

func (c *noHelloConn) Write(b []byte) (int, error) {
	if !c.first {
		c.first = true
		if _, rest, ok := bytes.Cut(b, []byte("\r\n")); ok && bytes.HasPrefix(bytes.ToLower(rest), []byte("$5\r\nhello\r\n")) {
			c.pending = []byte("-ERR unknown command 'hello'\r\n")
			return len(b), nil
		}
	}
	return c.Conn.Write(b)
}

func (c *noHelloConn) Read(b []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(b, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// perCommand lists the calls per transaction of every command the backends
// ran, most called first (the INFO of the first reading left out).
func perCommand(before, after []counts, txns int64) string {
	sum := counts{}
	for i := range before {
		for k, v := range after[i] {
			if k != "total" {
				sum[k] += v - before[i][k]
			}
		}
	}
	sum["info"] -= int64(len(before))
	var names []string
	for k, v := range sum {
		if v > 0 {
			names = append(names, k)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		if sum[a] != sum[b] {
			return int(sum[b] - sum[a])
		}
		return strings.Compare(a, b)
	})
	var b strings.Builder
	for i, k := range names {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%.2f", k, float64(sum[k])/float64(txns))
	}
	return b.String()
}

// cpuTicks sums the user and system CPU of processes (fields 14 and 15 of
// /proc/<pid>/stat, in clock ticks); pid 0 counts nothing.
func cpuTicks(pids ...int) int64 {
	var t int64
	for _, pid := range pids {
		if pid == 0 {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			fmt.Fprintln(os.Stderr, "txbench:", err)
			os.Exit(1)
		}
		// the fields after the command name, which is in parentheses
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 13 {
			fmt.Fprintf(os.Stderr, "txbench: /proc/%d/stat: too few fields\n", pid)
			os.Exit(1)
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		t += u + st
	}
	return t
}
