package tests

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/schemaproxy/schemaproxy/cluster"
	"github.com/schemaproxy/schemaproxy/internal/check"
)

var listAppendSeed = flag.Uint64("listappend.seed", 0, "seed of the list-append workloads (0: from the clock)")

// Workload size: about ten seconds under -race on two cores. Keys are
// retired after laMaxAppends appends, as Elle's workloads do, so lists stay
// short and the history's size grows the checker's work only linearly.
const (
	laWorkers    = 12
	laPerWorker  = 1500
	laShards     = 4
	laSlots      = 8 // keys in use at any time, two per shard
	laMaxAppends = 64
	laKills      = 5 // SIGKILLs during TestListAppendKill9
)

// shardKeys returns n keys owned by each of the proxy's shards.
func shardKeys(prefix string, n int) [][]string {
	m := cluster.NewSlotMap(laShards)
	keys := make([][]string, laShards)
	for i, full := 0, 0; full < laShards; i++ {
		k := fmt.Sprintf("%s:%d", prefix, i)
		if s := m.ShardOf([]byte(k)); len(keys[s]) < n {
			keys[s] = append(keys[s], k)
			if len(keys[s]) == n {
				full++
			}
		}
	}
	return keys
}

// laKeySpace hands out keys: laSlots slots, each a succession of keys on
// one shard, moving to its next key after laMaxAppends appends, so that
// most transactions span shards and some stay on one.
type laKeySpace struct {
	slots   [][]string
	appends [laSlots]atomic.Int64
}

func newLAKeySpace(prefix string, txns int) *laKeySpace {
	// Enough keys per slot for every append (at most 4 per transaction).
	perSlot := 4*txns/laSlots/laMaxAppends + 2
	byShard := shardKeys(prefix, perSlot*laSlots/laShards)
	ks := &laKeySpace{}
	for i := 0; i < laSlots; i++ {
		shard := i % laShards
		j := i / laShards
		ks.slots = append(ks.slots, byShard[shard][j*perSlot:(j+1)*perSlot])
	}
	return ks
}

func (ks *laKeySpace) pick(rnd *rand.Rand, forAppend bool) string {
	i := rnd.IntN(laSlots)
	n := ks.appends[i].Load()
	if forAppend {
		n = ks.appends[i].Add(1) - 1
	}
	keys := ks.slots[i]
	return keys[min(int(n/laMaxAppends), len(keys)-1)]
}

// used returns every key handed out so far.
func (ks *laKeySpace) used() []string {
	var out []string
	for i, keys := range ks.slots {
		n := ks.appends[i].Load()
		out = append(out, keys[:min(int(n/laMaxAppends), len(keys)-1)+1]...)
	}
	return out
}

// laHistory records transactions concurrently, with times on one
// monotonic clock.
type laHistory struct {
	start time.Time
	next  atomic.Int64 // the last value appended: values are unique
	mu    sync.Mutex   // guards txns
	txns  []check.Txn
}

func newLAHistory() *laHistory { return &laHistory{start: time.Now()} }

// now reads the monotonic clock (time.Since uses it).
func (h *laHistory) now() int64 { return int64(time.Since(h.start)) }

func (h *laHistory) add(t check.Txn) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.txns = append(h.txns, t)
	return len(h.txns) - 1
}

// randomOps draws a transaction of 2 to 4 micro-ops, or now and then a
// single one, which runs as a plain command rather than in MULTI/EXEC.
func (h *laHistory) randomOps(rnd *rand.Rand, ks *laKeySpace) []check.Op {
	n := 2 + rnd.IntN(3)
	if rnd.IntN(10) == 0 {
		n = 1
	}
	ops := make([]check.Op, n)
	for i := range ops {
		if rnd.IntN(2) == 0 {
			ops[i] = check.A(ks.pick(rnd, true), int(h.next.Add(1)))
		} else {
			ops[i] = check.R(ks.pick(rnd, false))
		}
	}
	return ops
}

func laCmd(ctx context.Context, c redis.Cmdable, o check.Op) redis.Cmder {
	if o.Kind == check.Append {
		return c.RPush(ctx, o.Key, o.Value)
	}
	return c.LRange(ctx, o.Key, 0, -1)
}

// laExec runs ops as one transaction (MULTI/EXEC, or a plain command for a
// single op) and returns them with the values read.
func laExec(ctx context.Context, c *redis.Client, ops []check.Op) ([]check.Op, error) {
	var cmds []redis.Cmder
	var err error
	if len(ops) == 1 {
		cmds = []redis.Cmder{laCmd(ctx, c, ops[0])}
		err = cmds[0].Err()
	} else {
		cmds, err = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, o := range ops {
				laCmd(ctx, p, o)
			}
			return nil
		})
	}
	if err != nil {
		return nil, err
	}
	if len(cmds) != len(ops) {
		return nil, fmt.Errorf("%d replies for %d commands", len(cmds), len(ops))
	}
	out := slices.Clone(ops)
	for i, cmd := range cmds {
		if out[i].Kind != check.Read {
			continue
		}
		strs, err := cmd.(*redis.StringSliceCmd).Result()
		if err != nil {
			return nil, err
		}
		vals := make([]int, len(strs))
		for j, s := range strs {
			if vals[j], err = strconv.Atoi(s); err != nil {
				return nil, fmt.Errorf("LRANGE %s returned %q: %w", out[i].Key, s, err)
			}
		}
		out[i].Values = vals
	}
	return out, nil
}

// outcome classifies a failed request: EXECABORT means the server ran
// nothing; anything else (a dropped connection, a server error) may have
// happened after the commit point.
func outcome(err error) check.Outcome {
	var rerr redis.Error
	if errors.As(err, &rerr) && strings.HasPrefix(rerr.Error(), "EXECABORT") {
		return check.Fail
	}
	return check.Unknown
}

// run executes ops, records the transaction and returns its index.
func (h *laHistory) run(ctx context.Context, c *redis.Client, process int, ops []check.Op) (int, error) {
	inv := h.now()
	got, err := laExec(ctx, c, ops)
	comp := h.now()
	t := check.Txn{Process: process, Ops: ops, Invoke: inv, Complete: comp, Outcome: check.OK}
	if err == nil {
		t.Ops = got
	} else {
		t.Outcome = outcome(err)
	}
	return h.add(t), err
}

// finalRead reads every key in one MULTI after the workload: it is invoked
// after every acknowledged transaction, so a missing append is a cycle.
func (h *laHistory) finalRead(t *testing.T, ctx context.Context, c *redis.Client, keys []string) []check.Op {
	t.Helper()
	ops := make([]check.Op, len(keys))
	for i, k := range keys {
		ops[i] = check.R(k)
	}
	i, err := h.run(ctx, c, -1, ops)
	if err != nil {
		t.Fatalf("final read: %v", err)
	}
	return h.txns[i].Ops
}

// verify checks the history and, when it is not strictly serializable,
// saves it as JSON for inspection.
func (h *laHistory) verify(t *testing.T) *check.Result {
	t.Helper()
	begin := time.Now()
	res, err := check.Check(h.txns)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("checked in %v: %s", time.Since(begin).Round(time.Millisecond), res.Summary())
	if !res.Valid() {
		if f, err := os.CreateTemp("", "listappend-history-*.json"); err == nil {
			_ = json.NewEncoder(f).Encode(h.txns)
			f.Close()
			t.Logf("history saved to %s (check it again with go test ./internal/check -run ListAppendSavedHistory -check.history=%s)", f.Name(), f.Name())
		}
		t.Errorf("history is not strictly serializable:\n%s", res)
	}
	return res
}

func laSeed(t *testing.T) uint64 {
	s := *listAppendSeed
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -listappend.seed=%d)", s, s)
	return s
}

// TestListAppend runs concurrent random list-append transactions over keys
// on every shard and checks the history for strict serializability.
func TestListAppend(t *testing.T) {
	seed := laSeed(t)
	p := startProxy(t)
	ctx := ctxT(t)
	ks := newLAKeySpace("la", laWorkers*laPerWorker)
	h := newLAHistory()
	var wg sync.WaitGroup
	for w := 0; w < laWorkers; w++ {
		c := client(t, p.Addr, func(o *redis.Options) { o.PoolSize = 1 })
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := 0; i < laPerWorker; i++ {
				if _, err := h.run(ctx, c, w, h.randomOps(rnd, ks)); err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	h.finalRead(t, ctx, client(t, p.Addr), ks.used())
	h.verify(t)
}

// laServer is the proxy that the workers of TestListAppendKill9 talk to,
// replaced after each kill.
type laServer struct {
	mu      sync.Mutex    // guards the fields below
	gen     int           // restarts so far
	addr    string        // of generation gen; "" once the test gives up
	killing bool          // generation gen is being killed
	up      chan struct{} // closed when generation gen+1 serves (or the test gives up)
}

var (
	errNotKilled = errors.New("the server was not being killed")
	errGaveUp    = errors.New("the test gave up")
)

// next waits, after a failed request on generation gen, for the server of
// a later generation and returns it.
func (s *laServer) next(ctx context.Context, gen int) (int, string, error) {
	s.mu.Lock()
	if s.gen == gen && !s.killing {
		s.mu.Unlock()
		return 0, "", errNotKilled
	}
	up := s.up
	s.mu.Unlock()
	select {
	case <-up:
	case <-ctx.Done():
		return 0, "", ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.addr == "" {
		return 0, "", errGaveUp
	}
	return s.gen, s.addr, nil
}

// TestListAppendKill9 runs the workload on a proxy with appendfsync
// always, kills it with SIGKILL mid-flight laKills times, each time
// restarting it on the same data directory and carrying on. Transactions
// in flight at a kill have an unknown outcome, bounded by the kill: each
// took effect before it or never. The whole history, ending with a read of
// every key, must be strictly serializable: every acknowledged append
// survived, and every transaction is all there or not at all.
func TestListAppendKill9(t *testing.T) {
	seed := laSeed(t)
	args := []string{"--appendfsync", "always"}
	p := startProxy(t, args...)
	ctx := ctxT(t)
	ks := newLAKeySpace("lak", laWorkers*laPerWorker)
	h := newLAHistory()
	srv := &laServer{addr: p.Addr, up: make(chan struct{})}
	// Kill k happens once this many transactions are acknowledged.
	var killAt [laKills]int64
	var reached [laKills]chan struct{}
	for k := range killAt {
		killAt[k] = int64((k + 1) * laWorkers * laPerWorker / (laKills + 2))
		reached[k] = make(chan struct{})
	}
	var (
		acked    atomic.Int64
		wg       sync.WaitGroup
		genMu    sync.Mutex      // guards txnGen
		txnGen   = map[int]int{} // unknown transaction -> generation it ran on
		killedAt [laKills]int64
	)
	giveUp := func() {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		if srv.addr != "" {
			srv.addr = ""
			close(srv.up)
		}
	}
	// However the test ends, no worker stays blocked.
	defer func() { giveUp(); wg.Wait() }()
	// Snapshots run back to back meanwhile, so kills land in them too.
	saves, stopSaving := bgsaveLoop(ctx, func() string {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return srv.addr
	})
	defer stopSaving()
	for w := 0; w < laWorkers; w++ {
		c := client(t, p.Addr, func(o *redis.Options) { o.PoolSize = 1 })
		wg.Add(1)
		go func(w int, c *redis.Client) {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(seed, uint64(w)))
			gen := 0
			for i := 0; i < laPerWorker; i++ {
				idx, err := h.run(ctx, c, w, h.randomOps(rnd, ks))
				if err == nil {
					n := acked.Add(1)
					for k := range killAt {
						if n == killAt[k] {
							close(reached[k])
						}
					}
					continue
				}
				genMu.Lock()
				txnGen[idx] = gen
				genMu.Unlock()
				ngen, addr, nerr := srv.next(ctx, gen)
				if errors.Is(nerr, errNotKilled) {
					t.Errorf("worker %d: %v, and %v", w, err, nerr)
				}
				if nerr != nil {
					return
				}
				// The old process is gone: carry on with the new one.
				gen = ngen
				c = client(t, addr, func(o *redis.Options) { o.PoolSize = 1 })
			}
		}(w, c)
	}
	for k := range killAt {
		select {
		case <-reached[k]:
		case <-time.After(20 * time.Second): // a deadline, not synchronisation
			t.Fatalf("only %d transactions acknowledged before the deadline", acked.Load())
		}
		srv.mu.Lock()
		srv.killing = true
		srv.mu.Unlock()
		p.Kill()
		killedAt[k] = h.now()
		p = startProxyIn(t, p.dataDir, args...)
		srv.mu.Lock()
		srv.gen, srv.addr, srv.killing = k+1, p.Addr, false
		close(srv.up)
		srv.up = make(chan struct{})
		srv.mu.Unlock()
	}
	wg.Wait()
	stopSaving()
	if n := saves.Load(); n == 0 {
		t.Errorf("no BGSAVE started during the run")
	} else {
		t.Logf("%d background snapshots started during the run", n)
	}

	// Whatever was in flight took effect before its process died or never.
	unknown := 0
	for i := range h.txns {
		if tx := &h.txns[i]; tx.Outcome == check.Unknown {
			unknown++
			if g := txnGen[i]; g < laKills && tx.Invoke < killedAt[g] {
				tx.Complete = killedAt[g]
			}
		}
	}
	final := h.finalRead(t, ctx, client(t, p.Addr), ks.used())

	// The checker finds lost appends as cycles; say it plainly as well.
	present := map[int]bool{}
	for _, o := range final {
		for _, v := range o.Values {
			present[v] = true
		}
	}
	took := map[int]bool{} // unknown transactions whose appends survived
	for i, tx := range h.txns {
		for _, o := range tx.Ops {
			if o.Kind != check.Append {
				continue
			}
			if tx.Outcome == check.OK && !present[o.Value] {
				t.Errorf("acknowledged append of %d to %s (T%d) lost", o.Value, o.Key, i)
			}
			if tx.Outcome == check.Unknown && present[o.Value] {
				took[i] = true
			}
		}
	}
	t.Logf("%d kills, at %v acknowledged transactions; %d in flight, %d of them took effect",
		laKills, killAt, unknown, len(took))
	h.verify(t)
}

// bgsaveLoop sends BGSAVE to whatever addr returns (empty: stop), back to
// back, until stop is called; saves counts those that started.
func bgsaveLoop(ctx context.Context, addr func() string) (saves *atomic.Int64, stop func()) {
	saves = new(atomic.Int64)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var c *redis.Client
		cur := ""
		defer func() {
			if c != nil {
				c.Close()
			}
		}()
		for ctx.Err() == nil {
			a := addr()
			if a == "" {
				return
			}
			if a != cur {
				if c != nil {
					c.Close()
				}
				c, cur = redis.NewClient(&redis.Options{Addr: a, MaxRetries: -1}), a
			}
			if c.BgSave(ctx).Err() == nil {
				saves.Add(1)
			}
			// Wait for it to finish (or the server to die) before the next.
			for ctx.Err() == nil {
				info, err := c.Info(ctx, "persistence").Result()
				if err != nil || strings.Contains(info, "rdb_bgsave_in_progress:0") {
					break
				}
				// A polling rate, not a synchronisation.
				select {
				case <-ctx.Done():
				case <-time.After(5 * time.Millisecond):
				}
			}
		}
	}()
	var once sync.Once
	return saves, func() { once.Do(func() { cancel(); <-done }) }
}
