package redis_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/backends/redis"
	"github.com/schemaproxy/schemaproxy/cluster"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/internal/testutil"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
	"github.com/schemaproxy/schemaproxy/txn"
)

// failTxTimeout is the transactions' deadline: short, since every case
// that leaves a transaction uncommitted waits it out.
const failTxTimeout = 300 * time.Millisecond

// waitFor bounds every wait of the test (a stop, a reply, a state).
const waitFor = 10 * time.Second

// failpoint is a step of the Lock/Commit/Apply protocol where the first
// proxy stops, in a transaction of one INCR on each of three shards whose
// primary is shard 0.
type failpoint struct {
	name string
	// committed: the primary committed before the stop, so the
	// transaction must be rolled forward; otherwise rolled back.
	committed bool
	// locked and applied say, by shard, whether the transaction's key
	// there is locked, and written, while the proxy is stopped.
	locked, applied [3]bool
	// forgetsAtOnce: the record keeps applied stages until all are.
	forgetsAtOnce bool
	knobs         func(stop func(backends.TxID) error) *txn.TestingKnobs
}

var failpoints = []failpoint{
	{name: "some locks", locked: [3]bool{true, true, false},
		knobs: func(stop func(backends.TxID) error) *txn.TestingKnobs {
			return &txn.TestingKnobs{BeforeLock: onShard(2, stop)}
		}},
	{name: "all locks", locked: [3]bool{true, true, true},
		knobs: func(stop func(backends.TxID) error) *txn.TestingKnobs {
			return &txn.TestingKnobs{AfterLock: stop}
		}},
	{name: "commit", committed: true, locked: [3]bool{false, true, true}, applied: [3]bool{true, false, false},
		knobs: func(stop func(backends.TxID) error) *txn.TestingKnobs {
			return &txn.TestingKnobs{AfterCommit: stop}
		}},
	{name: "some applies", committed: true, locked: [3]bool{false, false, true}, applied: [3]bool{true, true, false},
		knobs: func(stop func(backends.TxID) error) *txn.TestingKnobs {
			return &txn.TestingKnobs{BeforeApply: onShard(2, stop)}
		}},
}

// onShard is a knob of participant shard that stops there, and lets the
// others go on.
func onShard(shard int, stop func(backends.TxID) error) func(backends.TxID, int) error {
	return func(tx backends.TxID, s int) error {
		if s != shard {
			return nil
		}
		return stop(tx)
	}
}

// resolver is what the second proxy does first, on the stopped
// transaction's keys on shards (all, one participant's or none), with base
// the value each must show (1 if the transaction committed, else 0): it
// meets the locks there and must resolve them. Each key it touches gains
// 10. Whatever is left is resolved by the reads of checkSettled.
type resolver struct {
	name   string
	shards []int
	run    func(p *proxy, keys []string, base int64) error
}

var resolvers = []resolver{
	{"get then incrby", []int{0, 1, 2}, func(p *proxy, keys []string, base int64) error {
		for _, k := range keys {
			want := "(nil)"
			if base != 0 {
				want = strconv.Quote(strconv.FormatInt(base, 10))
			}
			if err := p.expect(want, false, []string{"GET", k}); err != nil {
				return err
			}
		}
		return incrbys(p, keys, base)
	}},
	{"incrby", []int{0, 1, 2}, incrbys},
	{"multi", []int{0, 1, 2}, func(p *proxy, keys []string, base int64) error {
		return p.expect(repeat(intReply(base+10), len(keys)), true, incrs(keys, "10")...)
	}},
	// Only the last participant is resolved before a frozen proxy
	// resumes: the primary still holds its locks then.
	{"incrby one participant", []int{2}, incrbys},
	// Nothing is resolved before a frozen proxy resumes: it finds its
	// locks as it left them, past the deadline.
	{"nothing", nil, func(*proxy, []string, int64) error { return nil }},
}

func incrbys(p *proxy, keys []string, base int64) error {
	for _, k := range keys {
		if err := p.expect(intReply(base+10), false, []string{"INCRBY", k, "10"}); err != nil {
			return err
		}
	}
	return nil
}

// TestFailpoints stops a proxy's coordinator at each step of a cross-shard
// transaction over three redis-servers (after some locks, all locks, the
// commit, some applies), either for good (its process died) or frozen past
// the transaction's deadline and then resumed, while a second proxy with
// shards of its own reads and writes the same keys. The second proxy must
// find the transaction wholly applied or wholly absent (applied exactly
// when the primary committed), resolve its locks (rolled forward if
// committed, rolled back only past the deadline if not), and leave no
// lock, record or fence once it settles; the resumed proxy must apply
// nothing twice and answer what happened. The backends are inspected
// directly throughout.
func TestFailpoints(t *testing.T) {
	ctx := context.Background()
	urls, inspect := startShards(t, 3)
	var facts []redis.Facts
	for _, c := range inspect {
		f, err := redis.Gather(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		facts = append(facts, f)
	}
	// The backends are set up as the proxy requires at start.
	if errs := redis.Check(facts); len(errs) > 0 {
		t.Fatal(errors.Join(errs...))
	}
	for _, copies := range []bool{false, true} {
		for _, fp := range failpoints {
			if !copies {
				fp = fp.native()
			}
			for _, die := range []bool{true, false} {
				for _, res := range resolvers {
					how := "freeze"
					if die {
						how = "die"
					}
					path := "native"
					if copies {
						path = "copies"
					}
					t.Run(fmt.Sprintf("%s/%s/%s/%s", path, fp.name, how, res.name), func(t *testing.T) {
						for _, c := range inspect {
							if err := c.FlushAll(ctx).Err(); err != nil {
								t.Fatal(err)
							}
						}
						f := &failCase{t: t, ctx: ctx, fp: fp, die: die, copies: copies, urls: urls, inspect: inspect,
							keys: keysOnShards(strings.ReplaceAll(t.Name(), "/", ":"), 3)}
						f.run(res)
					})
				}
			}
		}
	}
}

// native is fp as the native path (backends.Native) reaches it: the
// primary is never locked, as its commit needs no lock, and the record
// keeps every stage until all are applied (the coordinator forgets them
// at once).
func (fp failpoint) native() failpoint {
	fp.locked[0] = false
	fp.forgetsAtOnce = true
	return fp
}

// errDied is what a knob returns to stop the first proxy for good.
var errDied = errors.New("the proxy's process died")

// failCase is one failpoint, one way of stopping and one resolver.
type failCase struct {
	t       *testing.T
	ctx     context.Context
	fp      failpoint
	die     bool
	copies  bool // the copies path (txn.Config.ForceCopies), not the native one
	urls    []string
	inspect []*goredis.Client // by shard
	keys    []string          // by shard

	armed   atomic.Bool
	stopped chan backends.TxID // the transaction stopped, once
	resume  chan struct{}      // closed to resume a frozen proxy
}

// stop is the knob at the failpoint: it fires for the first transaction
// only (a retried one runs through), and dies or freezes.
func (f *failCase) stop(tx backends.TxID) error {
	if !f.armed.CompareAndSwap(true, false) {
		return nil
	}
	f.stopped <- tx
	if f.die {
		return errDied
	}
	<-f.resume
	return nil
}

type outcome struct {
	v   resp.Value
	err error
}

func (f *failCase) run(res resolver) {
	t := f.t
	f.armed.Store(true)
	f.stopped, f.resume = make(chan backends.TxID, 1), make(chan struct{})
	first := newProxy(t, f.urls, f.fp.knobs(f.stop), f.copies)
	second := newProxy(t, f.urls, nil, f.copies)

	done, exited := make(chan outcome, 1), make(chan struct{})
	go func() {
		defer close(exited)
		v, err := first.do(true, incrs(f.keys, "1")...)
		done <- outcome{v, err}
	}()
	var resumeOnce sync.Once
	resume := func() { resumeOnce.Do(func() { close(f.resume) }) }
	// Registered after the proxies' own cleanups, so it runs before them:
	// a proxy stopped by a failing test is let go before its shards close.
	t.Cleanup(func() {
		resume()
		select {
		case <-exited:
		case <-time.After(waitFor):
			t.Error("the first proxy never returned")
		}
	})
	var tx backends.TxID
	select {
	case tx = <-f.stopped:
	case o := <-done:
		t.Fatalf("the transaction ran through the failpoint: %v, %v", o.v, o.err)
	case <-time.After(waitFor):
		t.Fatal("the transaction never reached the failpoint")
	}
	if f.die {
		o := f.reply(done)
		if !errors.Is(o.err, errDied) || !errors.Is(o.err, txn.ErrUnknownOutcome) {
			t.Fatalf("the proxy that died at the failpoint answered %v, %v; want its unknown outcome", o.v, o.err)
		}
	}
	deadline := f.checkStopped(tx)

	// The second proxy meets the locks and resolves them.
	base := int64(0)
	if f.fp.committed {
		base = 1
	}
	want := []int64{base, base, base} // each key's value
	var touched []string
	for _, i := range res.shards {
		touched = append(touched, f.keys[i])
		want[i] += 10
	}
	start := time.Now()
	if err := res.run(second, touched, base); err != nil {
		t.Fatalf("the second proxy: %v", err)
	}
	// An uncommitted owner may still commit until its deadline, so a lock
	// met can only have been resolved (rolled back) past it. (As built, a
	// waiter never wounds the owner: it waits for the deadline.)
	if end := time.Now(); !f.fp.committed && len(res.shards) > 0 && f.fp.locked[res.shards[0]] && end.UnixMilli() < deadline {
		t.Fatalf("the uncommitted transaction was rolled back %v before its deadline", time.UnixMilli(deadline).Sub(end))
	}
	t.Logf("resolved in %v", time.Since(start).Round(time.Millisecond))
	if f.die || len(res.shards) == 3 {
		// Nothing is left to the first proxy: it is dead, or the second
		// resolved every key (checkSettled's reads resolve the rest).
		f.checkSettled(second, want, true)
		// A dead owner releases nothing: its locks went through the
		// primary's tombstone, and only if it did not commit.
		f.checkTombstone(tx, !f.fp.committed)
	}
	if f.die {
		return
	}

	// The frozen proxy resumes, past its deadline.
	f.waitPast(deadline)
	resume()
	o := f.reply(done)
	switch {
	case f.fp.committed:
		// Its commit stands: it finishes (its applies find the work
		// done) and answers its own replies, from before the second
		// proxy's writes.
		if want := repeat(intReply(1), 3); o.err != nil || o.v.String() != want {
			t.Fatalf("the resumed proxy answered %v, %v; want %s", o.v, o.err, want)
		}
	case o.err == nil:
		// Its commit was refused, as its transaction was rolled back: it
		// ran again, after the second proxy's writes.
		var replies []string
		for i := range want {
			want[i]++
			replies = append(replies, intReply(want[i]))
		}
		if want := "[" + strings.Join(replies, " ") + "]"; o.v.String() != want {
			t.Fatalf("the resumed proxy answered %v; want %s, from running again", o.v, want)
		}
	case errors.Is(o.err, backends.ErrNotExecuted):
		// It ran out of retries: it says nothing ran.
		t.Logf("the resumed proxy gave up: %v", o.err)
	default:
		t.Fatalf("the resumed proxy answered %v, %v; want a reply, or that nothing ran", o.v, o.err)
	}
	f.checkSettled(second, want, false)
	if f.fp.committed {
		f.checkTombstone(tx, false)
	}
}

// reply waits for the first proxy's answer.
func (f *failCase) reply(done chan outcome) outcome {
	select {
	case o := <-done:
		return o
	case <-time.After(waitFor):
		f.t.Fatal("the first proxy did not answer")
		return outcome{}
	}
}

// checkStopped checks the backends hold what the failpoint says, and
// returns the transaction's deadline (unix ms) from its locks. The
// participants lock and apply at once, so those beside the stopped one
// may still be at it: it waits, bounded, for them to get there.
func (f *failCase) checkStopped(tx backends.TxID) (deadline int64) {
	t := f.t
	var problem error
	for end := time.Now().Add(waitFor); ; {
		deadline, problem = f.stoppedState(tx)
		if problem == nil {
			return deadline
		}
		if time.Now().After(end) {
			t.Fatalf("at the failpoint: %v", problem)
		}
		time.Sleep(5 * time.Millisecond) // polling the backends
	}
}

func (f *failCase) stoppedState(tx backends.TxID) (deadline int64, _ error) {
	ctx := f.ctx
	owner := fmt.Sprintf("%d|0|", tx) // a lock's value; shard 0 is the primary
	for i, c := range f.inspect {
		lock, err := c.Get(ctx, "__sp:l:"+f.keys[i]).Result()
		switch {
		case err != nil && !errors.Is(err, goredis.Nil):
			return 0, err
		case f.fp.locked[i] != (err == nil):
			return 0, fmt.Errorf("shard %d: lock %q, %v; want locked %v", i, lock, err, f.fp.locked[i])
		case err == nil && !strings.HasPrefix(lock, owner):
			return 0, fmt.Errorf("shard %d: lock %q, want one of %q...", i, lock, owner)
		case err == nil:
			deadline, _ = strconv.ParseInt(strings.TrimPrefix(lock, owner), 10, 64)
		}
		v, err := c.Get(ctx, f.keys[i]).Result()
		if f.fp.applied[i] != (err == nil && v == "1") || (err != nil && !errors.Is(err, goredis.Nil)) {
			return 0, fmt.Errorf("shard %d: %s = %q, %v; want written %v", i, f.keys[i], v, err, f.fp.applied[i])
		}
	}
	// The primary's record is written by the commit and kept until every
	// other participant applied it: "<tx>:s" C, "<tx>:n" how many have
	// not, and "<tx>:p<shard>" the staged part of each of those.
	rec, err := f.inspect[0].HGetAll(ctx, "__sp:txs").Result()
	if err != nil {
		return 0, err
	}
	var got, want []string
	for k, v := range rec {
		if strings.HasSuffix(k, ":s") || strings.HasSuffix(k, ":n") {
			k += "=" + v
		}
		got = append(got, k)
	}
	if f.fp.committed {
		id := strconv.FormatUint(uint64(tx), 10)
		n := 0
		for i := 1; i < 3; i++ {
			if !f.fp.applied[i] || f.fp.forgetsAtOnce {
				want = append(want, fmt.Sprintf("%s:p%d", id, i))
				n++
			}
		}
		want = append(want, id+":s=C", fmt.Sprintf("%s:n=%d", id, n))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		return 0, fmt.Errorf("the primary's records: %v; want %v", got, want)
	}
	return deadline, nil
}

// checkSettled reads the keys through p, which resolves whatever is
// left, wanting want (by shard), and then checks every backend holds that
// key with that value and, of metadata, only what stays for good: no lock,
// no record, no fence; nothing but version hashes, counters and abort
// tombstones.
//
// Before the first proxy answers (dead or still frozen), the replies of
// stages the second applied may be stashed for it.
func (f *failCase) checkSettled(p *proxy, want []int64, unanswered bool) {
	t := f.t
	ctx := f.ctx
	// 0 is a key the transaction never reached: missing.
	var values []string
	for _, v := range want {
		if v == 0 {
			values = append(values, "(nil)")
		} else {
			values = append(values, strconv.Quote(strconv.FormatInt(v, 10)))
		}
	}
	if err := p.expect("["+strings.Join(values, " ")+"]", false, append([]string{"MGET"}, f.keys...)); err != nil {
		t.Fatal(err)
	}
	for i, c := range f.inspect {
		keys, err := c.Keys(ctx, "*").Result()
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(keys)
		var user, left []string
		for _, k := range keys {
			switch {
			case !strings.HasPrefix(k, "__sp:"):
				user = append(user, k)
			case strings.HasPrefix(k, "__sp:v:"), // versions and their tombstones
				k == "__sp:nv", k == "__sp:clock", // counters
				k == "__sp:abort",   // what failed checks INCR, watched by EXECs
				k == "__sp:aborted": // tombstones of transactions rolled back
			case unanswered && (k == "__sp:replies" || k == "__sp:replies:t"):
				// Replies of stages a resolver applied, stashed for their
				// coordinator (dropped after 10 minutes if it died).
			default:
				left = append(left, k)
			}
		}
		if len(left) > 0 {
			t.Errorf("shard %d holds metadata that should be gone: %v", i, left)
		}
		var wantUser []string
		if want[i] != 0 {
			wantUser = []string{f.keys[i]}
			if v, err := c.Get(ctx, f.keys[i]).Result(); err != nil || v != strconv.FormatInt(want[i], 10) {
				t.Errorf("shard %d: %s = %q, %v; want %d", i, f.keys[i], v, err, want[i])
			}
		}
		if !slices.Equal(user, wantUser) {
			t.Errorf("shard %d holds the keys %v; want %v", i, user, wantUser)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// checkTombstone checks whether the primary holds tx's abort tombstone.
func (f *failCase) checkTombstone(tx backends.TxID, want bool) {
	_, err := f.inspect[0].ZScore(f.ctx, "__sp:aborted", strconv.FormatUint(uint64(tx), 10)).Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		f.t.Fatal(err)
	}
	if got := err == nil; got != want {
		f.t.Fatalf("the primary holds transaction %d's abort tombstone: %v; want %v", tx, got, want)
	}
}

// waitPast returns once the primary's clock, which decides the deadline,
// has passed it: the frozen proxy resumes too late to commit.
func (f *failCase) waitPast(deadline int64) {
	for end := time.Now().Add(waitFor); ; {
		now, err := f.inspect[0].Time(f.ctx).Result()
		if err != nil {
			f.t.Fatal(err)
		}
		if now.UnixMilli() > deadline {
			return
		}
		if time.Now().After(end) {
			f.t.Fatalf("the backend's clock stays before %d", deadline)
		}
		time.Sleep(time.Duration(deadline-now.UnixMilli()+1) * time.Millisecond) // time has to pass
	}
}

// proxy is a coordinator over shards of its own, as a proxy process has.
type proxy struct {
	coord *txn.Coordinator
}

func newProxy(t *testing.T, urls []string, knobs *txn.TestingKnobs, copies bool) *proxy {
	t.Helper()
	shards, err := redis.Open(urls, 16)
	if err != nil {
		t.Fatal(err)
	}
	var bs []backends.Shard
	for _, s := range shards {
		t.Cleanup(s.Close)
		bs = append(bs, s)
	}
	return &proxy{coord: txn.New(txn.Config{Shards: bs, Exec: keyspace.NewExecutor(command.Default), Databases: 16,
		Now: func() int64 { return time.Now().UnixMilli() }, Knobs: knobs, TxTimeout: failTxTimeout, ForceCopies: copies})}
}

// do runs one command, or a MULTI/EXEC block of several, and decodes the
// reply. It gives up after waitFor: a lock that outlived its deadline
// would hold it up for good.
func (p *proxy) do(multi bool, cmds ...[]string) (resp.Value, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	r := &txn.Request{Batch: backends.Batch{W: resp.NewWriter(2)}, Multi: multi}
	for _, c := range cmds {
		var args [][]byte
		for _, a := range c {
			args = append(args, []byte(a))
		}
		r.Ops = append(r.Ops, backends.Op{Cmd: command.Default.Lookup(args[0]), Args: args})
	}
	if err := p.coord.Run(ctx, r); err != nil {
		return resp.Value{}, err
	}
	v, _, err := resp.Parse(r.W.B)
	return v, err
}

// expect runs cmds as do does and wants the reply rendered as want.
func (p *proxy) expect(want string, multi bool, cmds ...[]string) error {
	v, err := p.do(multi, cmds...)
	if err != nil || v.String() != want {
		return fmt.Errorf("%v = %v, %v; want %s", cmds, v, err, want)
	}
	return nil
}

// incrs are INCRBY by n of each key.
func incrs(keys []string, n string) [][]string {
	var cmds [][]string
	for _, k := range keys {
		cmds = append(cmds, []string{"INCRBY", k, n})
	}
	return cmds
}

func intReply(n int64) string { return "(integer) " + strconv.FormatInt(n, 10) }

// repeat is the rendering of an array of n replies each rendered as one.
func repeat(one string, n int) string {
	return "[" + strings.TrimSuffix(strings.Repeat(one+" ", n), " ") + "]"
}

// keysOnShards returns a key on each of n shards, in shard order.
func keysOnShards(prefix string, n int) []string {
	m := cluster.NewSlotMap(n)
	keys := make([]string, n)
	for i, found := 0, 0; found < n; i++ {
		k := fmt.Sprintf("%s:%d", prefix, i)
		if s := m.ShardOf([]byte(k)); keys[s] == "" {
			keys[s] = k
			found++
		}
	}
	return keys
}

// TestReadOnlyRepliesLost freezes a proxy after the commit of a native
// read-only MULTI and lets a second proxy meet its locks: the commit of a
// transaction that writes nothing records nothing, so they are dropped
// past the deadline, and the stages' replies with them. The resumed
// transaction only read, so it runs again and answers what it reads then
// (one that wrote would answer that its outcome is unknown).
func TestReadOnlyRepliesLost(t *testing.T) {
	ctx := context.Background()
	urls, inspect := startShards(t, 3)
	stopped, resume := make(chan struct{}), make(chan struct{})
	var armed atomic.Bool
	armed.Store(true)
	first := newProxy(t, urls, &txn.TestingKnobs{AfterCommit: func(backends.TxID) error {
		if armed.CompareAndSwap(true, false) {
			close(stopped)
			<-resume
		}
		return nil
	}}, false)
	second := newProxy(t, urls, nil, false)
	keys := keysOnShards("lost", 3)
	var gets [][]string
	for _, k := range keys {
		if err := second.expect(`"OK"`, false, []string{"SET", k, "1"}); err != nil {
			t.Fatal(err)
		}
		gets = append(gets, []string{"GET", k})
	}
	done := make(chan outcome, 1)
	go func() {
		v, err := first.do(true, gets...)
		done <- outcome{v, err}
	}()
	var resumeOnce sync.Once
	t.Cleanup(func() { resumeOnce.Do(func() { close(resume) }) })
	select {
	case <-stopped:
	case <-time.After(waitFor):
		t.Fatal("the transaction never committed")
	}
	// Writes meet the frozen transaction's locks on the other
	// participants; its commit wrote no record, as it wrote nothing, so
	// they drop them past its deadline.
	if err := incrbys(second, keys[1:], 1); err != nil {
		t.Fatal(err)
	}
	for i, c := range inspect {
		if n, err := c.Exists(ctx, "__sp:nlocks").Result(); err != nil || n != 0 {
			t.Fatalf("shard %d still counts locks (%d, %v)", i, n, err)
		}
	}
	resumeOnce.Do(func() { close(resume) })
	var o outcome
	select {
	case o = <-done:
	case <-time.After(waitFor):
		t.Fatal("the resumed proxy did not answer")
	}
	if want := `["1" "11" "11"]`; o.err != nil || o.v.String() != want {
		t.Fatalf("the resumed read-only MULTI answered %v, %v; want %s, read again", o.v, o.err, want)
	}
}

// startShards starts n redis-servers set up as the proxy requires and
// returns their URLs and a client of each, to look at them directly.
func startShards(t *testing.T, n int) (urls []string, inspect []*goredis.Client) {
	t.Helper()
	for range n {
		p := testutil.StartRedis(t, "--appendonly", "yes", "--appendfsync", "always")
		urls = append(urls, "redis://"+p.Addr)
		c := goredis.NewClient(&goredis.Options{Addr: p.Addr})
		t.Cleanup(func() { c.Close() })
		inspect = append(inspect, c)
	}
	return urls, inspect
}
