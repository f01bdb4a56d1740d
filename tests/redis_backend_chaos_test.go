package tests

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"

	"github.com/schemaproxy/schemaproxy/internal/testutil"
)

// TestRedisBackendsChaos runs the checkers of the embedded store over four
// redis-servers and two proxies while processes fail: proxy A is killed
// (SIGKILL) and started again every few seconds, proxy B is frozen
// (SIGSTOP) for longer than the transactions' deadline, and one backend
// is frozen for a while. Every workload sends through both proxies and
// takes an error as an unknown outcome (the proxies never retry one).
// Afterwards, with everything running again: the bank's total never
// changed (every audit saw it); each pair of counters incremented
// together by cross-shard MULTIs is equal, and each single counter holds
// at least its acknowledged INCRs and at most those plus the ones that
// failed (an INCR through a frozen primary is applied once or not at
// all); the list-append history is strictly serializable; single-key
// registers are linearizable; and no lock is left on any backend.
func TestRedisBackendsChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and freezes processes for about 15 s")
	}
	backends, urls := startBackends(t, 4)
	args := append(backendArgs(urls), "--tx-timeout-ms", "1000")
	a := startProxy(t, args...)
	b := startProxy(t, args...)
	addrs := []string{a.Addr, b.Addr}
	ctx := ctxT(t)
	ch := &chaos{t: t, ctx: ctx, addrs: addrs, stop: make(chan struct{})}
	ch.bankSetup()
	ch.counterSetup()
	ch.start()

	// The faults, paced by the clock (what they wait for is time
	// passing, not a condition).
	ch.waitProgress()
	restarts := 0
	restartA := func() {
		a.Kill()
		a = &proxy{Process: testutil.Start(t, a.Addr, proxyBinary(t), append([]string{"--listen", a.Addr, "--data-dir", a.dataDir}, a.args...)...),
			dataDir: a.dataDir, args: a.args}
		restarts++
	}
	freeze := func(p *testutil.Process, d time.Duration) {
		if err := p.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		time.Sleep(d) // the fault lasts this long
		if err := p.Cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
	}
	restartA()
	time.Sleep(time.Second) // load between faults
	freeze(b.Process, 2500*time.Millisecond)
	restartA()
	time.Sleep(time.Second)
	freeze(backends[2], 1500*time.Millisecond)
	restartA()
	ch.waitProgress()
	restartA()
	ch.waitProgress()
	close(ch.stop)
	ch.wg.Wait()

	c := client(t, b.Addr)
	noLocksLeft(t, c, backends)
	ch.bankCheck(c)
	ch.counterCheck(c)
	ch.listAppendCheck(c)
	ch.registerCheck()
	t.Logf("proxy A restarted %d times; %s", restarts, ch.summary())
}

// chaos is the workloads of TestRedisBackendsChaos.
type chaos struct {
	t     *testing.T
	ctx   context.Context
	addrs []string // the proxies: workers alternate between them
	stop  chan struct{}
	wg    sync.WaitGroup

	bankAccounts         []string
	transfers, audits    atomic.Int64
	badAudit             atomic.Value // string: an audit that saw another total
	pairs, singles       []string
	incrOK, incrFail     []atomic.Int64 // by single counter
	pairOK               atomic.Int64
	la                   *laHistory
	laKeys               *laKeySpace
	regKeys              []string
	regMu                sync.Mutex // guards regHist
	regHist              []porcupine.Operation
	regStart             time.Time
	progress             atomic.Int64 // operations acknowledged, every workload
	errorsSeen, laFailed atomic.Int64
}

const chaosTotal = 8 * 100

func (ch *chaos) client(i int) *redis.Client {
	return client(ch.t, ch.addrs[i%len(ch.addrs)], func(o *redis.Options) {
		o.PoolSize = 1
		o.ReadTimeout = 10 * time.Second
	})
}

// loop runs body until the workloads stop.
func (ch *chaos) loop(body func(i int)) {
	ch.wg.Add(1)
	go func() {
		defer ch.wg.Done()
		for i := 0; ; i++ {
			select {
			case <-ch.stop:
				return
			default:
			}
			body(i)
		}
	}()
}

// waitProgress waits, bounded, for 200 more acknowledged operations.
func (ch *chaos) waitProgress() {
	want := ch.progress.Load() + 200
	for end := time.Now().Add(30 * time.Second); ch.progress.Load() < want; {
		if time.Now().After(end) {
			ch.t.Fatalf("the workloads made no progress: %s", ch.summary())
		}
		time.Sleep(5 * time.Millisecond) // polling the workloads' progress
	}
}

func (ch *chaos) ok() { ch.progress.Add(1) }

func (ch *chaos) summary() string {
	ch.la.mu.Lock()
	txns := len(ch.la.txns)
	ch.la.mu.Unlock()
	ch.regMu.Lock()
	regs := len(ch.regHist)
	ch.regMu.Unlock()
	return fmt.Sprintf("%d transfers, %d audits, %d paired MULTIs, %d list-append transactions (%d failed), %d register operations, %d errors",
		ch.transfers.Load(), ch.audits.Load(), ch.pairOK.Load(), txns, ch.laFailed.Load(), regs, ch.errorsSeen.Load())
}

func (ch *chaos) bankSetup() {
	ch.bankAccounts = accountsOnShards("chaos:acct", 8, 4)
	c := ch.client(1)
	for _, acc := range ch.bankAccounts {
		if err := c.Set(ch.ctx, acc, 100, 0).Err(); err != nil {
			ch.t.Fatal(err)
		}
	}
	ch.la = newLAHistory()
	ch.laKeys = newLAKeySpace("chaos:la", 100000)
	ch.regKeys = slices.Concat(shardKeys("chaos:reg", 1)...)
	ch.regStart = time.Now()
}

func (ch *chaos) counterSetup() {
	ch.pairs = oneKeyPerShard("chaos:pair", 4)
	ch.singles = oneKeyPerShard("chaos:single", 4)
	ch.incrOK = make([]atomic.Int64, len(ch.singles))
	ch.incrFail = make([]atomic.Int64, len(ch.singles))
}

func (ch *chaos) start() {
	for w := range 4 {
		c := ch.client(w)
		rnd := rand.New(rand.NewPCG(uint64(w), 1))
		ch.loop(func(int) { // bank transfers: WATCH, read, MULTI across shards
			from := ch.bankAccounts[rnd.IntN(len(ch.bankAccounts))]
			to := ch.bankAccounts[rnd.IntN(len(ch.bankAccounts))]
			if from == to {
				return
			}
			err := c.Watch(ch.ctx, func(tx *redis.Tx) error {
				n, err := tx.Get(ch.ctx, from).Int64()
				if err != nil || n < 5 {
					return err
				}
				_, err = tx.TxPipelined(ch.ctx, func(p redis.Pipeliner) error {
					p.DecrBy(ch.ctx, from, 5)
					p.IncrBy(ch.ctx, to, 5)
					return nil
				})
				return err
			}, from, to)
			if err == nil {
				ch.transfers.Add(1)
				ch.ok()
			} else if err != redis.TxFailedErr {
				ch.errorsSeen.Add(1)
			}
		})
	}
	for w := range 2 {
		c := ch.client(w)
		ch.loop(func(int) { // the auditor
			sum, err := auditMulti(ch.ctx, c, ch.bankAccounts)
			if err != nil {
				ch.errorsSeen.Add(1)
				return
			}
			if sum != chaosTotal {
				ch.badAudit.CompareAndSwap(nil, fmt.Sprintf("an audit saw a total of %d, want %d", sum, chaosTotal))
			}
			ch.audits.Add(1)
			ch.ok()
		})
	}
	for w := range 2 {
		c := ch.client(w)
		ch.loop(func(i int) { // counters: a cross-shard pair, and singles
			_, err := c.TxPipelined(ch.ctx, func(p redis.Pipeliner) error {
				for _, k := range ch.pairs {
					p.Incr(ch.ctx, k)
				}
				return nil
			})
			if err == nil {
				ch.pairOK.Add(1)
				ch.ok()
			} else {
				ch.errorsSeen.Add(1)
			}
			s := (i + w) % len(ch.singles)
			if err := c.Incr(ch.ctx, ch.singles[s]).Err(); err == nil {
				ch.incrOK[s].Add(1)
				ch.ok()
			} else {
				ch.incrFail[s].Add(1)
				ch.errorsSeen.Add(1)
			}
		})
	}
	for w := range 4 {
		c := ch.client(w)
		rnd := rand.New(rand.NewPCG(uint64(w), 2))
		ch.loop(func(int) { // list-append transactions
			if _, err := ch.la.run(ch.ctx, c, w, ch.la.randomOps(rnd, ch.laKeys)); err != nil {
				ch.laFailed.Add(1)
				ch.errorsSeen.Add(1)
				return
			}
			ch.ok()
		})
	}
	for w := range 4 {
		c := ch.client(w)
		rnd := rand.New(rand.NewPCG(uint64(w), 3))
		ch.loop(func(i int) { // single-key registers, SET and GET
			op := regOp{kind: "GET", keys: []int{rnd.IntN(len(ch.regKeys))}}
			if rnd.IntN(2) == 0 {
				op = regOp{kind: "SET", keys: op.keys, vals: []int64{int64(w*1_000_000 + i)}}
			}
			call := int64(time.Since(ch.regStart))
			out, err := regDo(ch.ctx, c, ch.regKeys, op)
			ret := int64(time.Since(ch.regStart))
			if err != nil {
				ch.errorsSeen.Add(1)
				if op.kind == "GET" {
					return // a read that failed constrains nothing
				}
				// A write that failed may have happened, at any time
				// from its call on.
				ret = math.MaxInt64
			} else {
				ch.ok()
			}
			ch.regMu.Lock()
			ch.regHist = append(ch.regHist, porcupine.Operation{ClientId: w*1_000_000 + i, Input: op, Call: call, Output: out, Return: ret})
			ch.regMu.Unlock()
		})
	}
}

func (ch *chaos) bankCheck(c *redis.Client) {
	t := ch.t
	if msg := ch.badAudit.Load(); msg != nil {
		t.Error(msg)
	}
	if sum := sumAccounts(t, ch.ctx, c, ch.bankAccounts); sum != chaosTotal {
		t.Errorf("bank total %d after the faults, want %d", sum, chaosTotal)
	}
	if ch.transfers.Load() == 0 || ch.audits.Load() == 0 {
		t.Errorf("the bank made no progress: %s", ch.summary())
	}
}

func (ch *chaos) counterCheck(c *redis.Client) {
	t := ch.t
	var first int64
	for i, k := range ch.pairs {
		n, err := c.Get(ch.ctx, k).Int64()
		if err != nil {
			t.Fatalf("GET %s: %v", k, err)
		}
		if i == 0 {
			first = n
		} else if n != first {
			t.Errorf("counters incremented together by every MULTI differ: %s = %d, %s = %d", ch.pairs[0], first, k, n)
		}
	}
	if first < ch.pairOK.Load() {
		t.Errorf("the paired counters hold %d, below the %d MULTIs acknowledged", first, ch.pairOK.Load())
	}
	for i, k := range ch.singles {
		n, err := c.Get(ch.ctx, k).Int64()
		if err != nil && err != redis.Nil {
			t.Fatalf("GET %s: %v", k, err)
		}
		ok, failed := ch.incrOK[i].Load(), ch.incrFail[i].Load()
		if n < ok || n > ok+failed {
			t.Errorf("%s = %d after %d acknowledged INCRs and %d failed ones", k, n, ok, failed)
		}
	}
}

func (ch *chaos) listAppendCheck(c *redis.Client) {
	ch.la.finalRead(ch.t, ch.ctx, c, ch.laKeys.used())
	ch.la.verify(ch.t)
}

func (ch *chaos) registerCheck() {
	// The registers start missing: GETs before the first SET read nil.
	checkLinearizable(ch.t, regModel(true), ch.regHist)
	var sets int
	for _, op := range ch.regHist {
		if op.Input.(regOp).kind == "SET" && op.Return != math.MaxInt64 {
			sets++
		}
	}
	if sets == 0 {
		ch.t.Errorf("no register write succeeded: %s", ch.summary())
	}
}
