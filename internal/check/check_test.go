package check

import (
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("check.seed", 0, "seed of the randomized checker tests (0: from the clock)")

func ok(inv, comp int64, ops ...Op) Txn {
	return Txn{Ops: ops, Invoke: inv, Complete: comp, Outcome: OK}
}

func fail(inv, comp int64, ops ...Op) Txn {
	return Txn{Ops: ops, Invoke: inv, Complete: comp, Outcome: Fail}
}

func unknown(inv, bound int64, ops ...Op) Txn {
	return Txn{Ops: ops, Invoke: inv, Complete: bound, Outcome: Unknown}
}

// mustCheck runs the checker and requires exactly the anomaly classes want.
func mustCheck(t *testing.T, h []Txn, want ...Kind) *Result {
	t.Helper()
	res, err := Check(h)
	if err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(maps.Keys(res.Counts))
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("anomalies %v, want %v\n%s", got, want, res)
	}
	if res.Valid() != (len(want) == 0) {
		t.Fatalf("Valid() = %v with anomalies %v", res.Valid(), got)
	}
	return res
}

func TestListAppendHandMade(t *testing.T) {
	cases := []struct {
		name string
		h    []Txn
		want []Kind
	}{
		{"serial", []Txn{
			ok(0, 1, A("x", 1), A("y", 2)),
			ok(2, 3, R("x", 1), A("x", 3), R("x", 1, 3)),
			ok(4, 5, R("x", 1, 3), R("y", 2)),
		}, nil},
		{"concurrent with unknown and failed", []Txn{
			ok(0, 10, A("x", 1)),
			ok(0, 10, A("x", 2), A("y", 3)),
			unknown(5, 0, A("y", 4)),  // took effect: read below
			unknown(5, 15, A("x", 5)), // did not
			fail(5, 6, A("x", 6)),
			ok(20, 30, R("x", 2, 1), R("y", 3, 4)),
			ok(8, 12, R("x", 2)), // overlaps the append of 1
			ok(0, 100, R("z")),
		}, nil},
		{"G0 write cycle", []Txn{
			ok(0, 10, A("x", 1), A("y", 2)),
			ok(0, 10, A("x", 3), A("y", 4)),
			ok(20, 30, R("x", 1, 3), R("y", 4, 2)),
		}, []Kind{G0}},
		{"G1c circular information flow", []Txn{
			ok(0, 10, A("x", 1), R("y", 2)),
			ok(0, 10, A("y", 2), R("x", 1)),
		}, []Kind{G1c}},
		{"G-single read skew", []Txn{
			ok(0, 10, A("x", 1), A("y", 2)),
			ok(0, 10, R("x"), R("y", 2)),
			ok(0, 10, R("x", 1)),
		}, []Kind{GSingle}},
		{"G2 write skew", []Txn{
			ok(0, 10, R("x"), A("y", 1)),
			ok(0, 10, R("y"), A("x", 2)),
			ok(20, 30, R("x", 2), R("y", 1)),
		}, []Kind{G2}},
		{"G1a aborted read", []Txn{
			fail(0, 10, A("x", 1)),
			ok(20, 30, R("x", 1)),
		}, []Kind{G1a}},
		// Reading half of T0's appends is also a cycle: T1 saw T0 and
		// missed it.
		{"G1b intermediate read", []Txn{
			ok(0, 10, A("x", 1), A("x", 2)),
			ok(0, 10, R("x", 1)),
			ok(20, 30, R("x", 1, 2)),
		}, []Kind{G1b, GSingle}},
		{"incompatible order", []Txn{
			ok(0, 10, A("x", 1)),
			ok(0, 10, A("x", 2)),
			ok(20, 30, R("x", 1, 2)),
			ok(20, 30, R("x", 2, 1)),
		}, []Kind{IncompatibleOrder}},
		{"duplicate elements", []Txn{
			ok(0, 10, A("x", 1)),
			ok(20, 30, R("x", 1, 1)),
		}, []Kind{DuplicateElements}},
		{"garbage read", []Txn{
			ok(0, 10, A("x", 1)),
			ok(20, 30, R("x", 1, 9)),
			ok(20, 30, R("y", 1)), // 1 went to x, not y
		}, []Kind{GarbageRead}},
		{"internal: own append missing", []Txn{
			ok(0, 10, A("x", 1)),
			ok(20, 30, A("x", 2), R("x", 1)),
		}, []Kind{Internal}},
		{"G-single-realtime stale read", []Txn{
			ok(0, 10, A("x", 1)),
			ok(20, 30, R("x")),
			ok(40, 50, R("x", 1)),
		}, []Kind{GSingleRealtime}},
		{"lost acknowledged append", []Txn{
			ok(0, 10, A("x", 1)),
			ok(20, 30, A("x", 2)),
			ok(40, 50, R("x", 2)),
		}, []Kind{GSingleRealtime}},
		{"G0-realtime", []Txn{
			ok(0, 10, A("x", 1)),
			ok(20, 30, A("x", 2)),
			ok(40, 50, R("x", 2, 1)),
		}, []Kind{G0Realtime}},
		{"G1c-realtime future read", []Txn{
			ok(0, 10, R("x", 1)),
			ok(20, 30, A("x", 1)),
		}, []Kind{G1cRealtime}},
		// rw, rt, rw: intervals are 2+2-free, so a second rt edge would
		// always make a G-single-realtime shortcut.
		{"G2-realtime", []Txn{
			ok(0, 40, R("x"), A("y", 1)),
			ok(0, 10, A("x", 2)),
			ok(20, 30, R("y")),
			ok(100, 110, R("x", 2), R("y", 1)),
		}, []Kind{G2Realtime}},
		// An unknown transaction with one append read took effect, so its
		// other append must be there too.
		{"half a crashed transaction", []Txn{
			unknown(0, 15, A("x", 1), A("y", 2)),
			ok(20, 30, R("x", 1), R("y")),
		}, []Kind{GSingle}},
		{"unknown transaction without effect", []Txn{
			unknown(0, 15, A("x", 1), A("y", 2)),
			ok(20, 30, R("x"), R("y")),
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := mustCheck(t, tc.h, tc.want...)
			for _, a := range res.Anomalies {
				if a.Detail == "" || len(a.Txns) == 0 {
					t.Errorf("anomaly without detail or transactions: %+v", a)
				}
			}
			t.Logf("%s", res)
		})
	}
}

// TestListAppendCycleReport checks the reported cycle itself: its edges
// close, have the kinds of the class and say why in words.
func TestListAppendCycleReport(t *testing.T) {
	res := mustCheck(t, []Txn{
		ok(0, 10, A("x", 1), A("y", 2)),
		ok(0, 10, R("x"), R("y", 2)),
		ok(0, 10, R("x", 1)),
	}, GSingle)
	a := res.Anomalies[0]
	if len(a.Cycle) != 2 {
		t.Fatalf("cycle %+v, want 2 steps", a.Cycle)
	}
	kinds := map[EdgeKind]int{}
	for i, s := range a.Cycle {
		next := a.Cycle[(i+1)%len(a.Cycle)]
		if s.To != next.From {
			t.Errorf("step %d ends at T%d, next starts at T%d", i, s.To, next.From)
		}
		if s.Why == "" {
			t.Errorf("step %d has no reason", i)
		}
		kinds[s.Kind]++
	}
	if kinds[RW] != 1 || kinds[WR] != 1 {
		t.Errorf("cycle kinds %v, want one rw and one wr", kinds)
	}
}

func TestListAppendInvalidHistories(t *testing.T) {
	for name, h := range map[string][]Txn{
		"value appended twice":     {ok(0, 1, A("x", 1)), ok(0, 1, A("y", 1))},
		"no outcome":               {{Ops: []Op{A("x", 1)}}},
		"completed before invoked": {ok(5, 1, A("x", 1))},
		"bad op":                   {ok(0, 1, Op{Key: "x"})},
	} {
		if _, err := Check(h); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestListAppendRealtimeEdgesStayFew: a serial chain needs one real-time
// edge per step, not one per pair, and a stale read at its end is still
// caught.
func TestListAppendRealtimeEdgesStayFew(t *testing.T) {
	const n = 2000
	var h []Txn
	for i := 0; i < n; i++ {
		h = append(h, ok(int64(2*i), int64(2*i+1), A(fmt.Sprintf("k%d", i%7), i)))
	}
	res := mustCheck(t, h)
	if res.Edges[RT] != n-1 {
		t.Fatalf("%d real-time edges for a chain of %d", res.Edges[RT], n)
	}
	// The first append is read by nobody afterwards: a read of k0 that
	// misses it, long after, closes a cycle through the whole chain.
	h = append(h, ok(3*n, 3*n+1, R("k0", 7)))
	mustCheck(t, h, GSingleRealtime)
}

// simulate runs random transactions of procs processes against an
// in-memory list store, one at a time at random commit points inside their
// intervals, so the history it returns is strictly serializable by
// construction. It ends with a read of every key after everything else.
func simulate(rnd *rand.Rand, procs, txns, keys int) []Txn {
	store := map[string][]int{}
	var h []Txn
	type pending struct {
		t         Txn
		committed bool
	}
	running := make([]*pending, procs)
	clock, next := int64(0), 0
	tick := func() int64 { clock++; return clock }
	key := func() string { return fmt.Sprintf("k%d", rnd.IntN(keys)) }
	for started := 0; started < txns || slices.ContainsFunc(running, func(p *pending) bool { return p != nil }); {
		p := rnd.IntN(procs)
		cur := running[p]
		switch {
		case cur == nil && started < txns:
			var ops []Op
			for range 1 + rnd.IntN(4) {
				if rnd.IntN(2) == 0 {
					next++
					ops = append(ops, A(key(), next))
				} else {
					ops = append(ops, R(key()))
				}
			}
			running[p] = &pending{t: Txn{Process: p, Ops: ops, Invoke: tick()}}
			started++
		case cur != nil && !cur.committed:
			cur.committed = true
			o := rnd.IntN(20)
			if o == 0 { // fails: nothing happens
				cur.t.Outcome = Fail
				continue
			}
			if o == 1 { // lost reply: happens or not
				cur.t.Outcome = Unknown
				if rnd.IntN(2) == 0 {
					continue
				}
			}
			tick()
			for i, op := range cur.t.Ops {
				if op.Kind == Append {
					store[op.Key] = append(store[op.Key], op.Value)
				} else {
					cur.t.Ops[i].Values = slices.Clone(store[op.Key])
				}
			}
			if cur.t.Outcome == 0 {
				cur.t.Outcome = OK
			}
		case cur != nil:
			cur.t.Complete = tick()
			if cur.t.Outcome == Unknown {
				for i := range cur.t.Ops {
					cur.t.Ops[i].Values = nil
				}
				if rnd.IntN(2) == 0 {
					cur.t.Complete = 0 // no bound known
				}
			}
			h = append(h, cur.t)
			running[p] = nil
		}
	}
	final := Txn{Process: procs, Invoke: tick(), Outcome: OK}
	for k := range keys {
		key := fmt.Sprintf("k%d", k)
		final.Ops = append(final.Ops, R(key, store[key]...))
	}
	final.Complete = tick()
	return append(h, final)
}

func seed(t *testing.T) uint64 {
	s := *seedFlag
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -check.seed=%d)", s, s)
	return s
}

// TestListAppendSimulated: serializable-by-construction histories pass,
// and each mutation that breaks them in a way that must be detectable is.
func TestListAppendSimulated(t *testing.T) {
	rnd := rand.New(rand.NewPCG(seed(t), 11))
	for i := 0; i < 40; i++ {
		h := simulate(rnd, 2+rnd.IntN(6), 50+rnd.IntN(200), 1+rnd.IntN(6))
		res, err := Check(h)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Valid() {
			t.Fatalf("history %d: valid by construction, yet:\n%s", i, res)
		}

		// Lose an acknowledged append: remove it from every read.
		if lost, ok := pickAppend(rnd, h); ok {
			m := mutate(h, func(o *Op) {
				o.Values = slices.DeleteFunc(slices.Clone(o.Values), func(v int) bool { return v == lost })
			})
			expectInvalid(t, i, "lost append", m)
		}
		// A stale read: a read that misses an append acknowledged before
		// the read was invoked.
		if m, ok := staleRead(rnd, h); ok {
			expectInvalid(t, i, "stale read", m, GSingleRealtime, G2Realtime, GSingle, G2, Internal)
		}
		// An observed append of a transaction that is declared failed.
		if m, ok := failObserved(rnd, h); ok {
			expectInvalid(t, i, "aborted read", m, G1a)
		}
	}
}

func expectInvalid(t *testing.T, i int, what string, h []Txn, anyOf ...Kind) {
	t.Helper()
	res, err := Check(h)
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid() {
		t.Fatalf("history %d with a %s: not detected", i, what)
	}
	if len(anyOf) > 0 && !slices.ContainsFunc(anyOf, res.Has) {
		t.Fatalf("history %d with a %s: found %v, want one of %v", i, what, res.Counts, anyOf)
	}
}

// mutate copies h, applying f to every OK read.
func mutate(h []Txn, f func(*Op)) []Txn {
	m := slices.Clone(h)
	for i := range m {
		m[i].Ops = slices.Clone(m[i].Ops)
		if m[i].Outcome != OK {
			continue
		}
		for j := range m[i].Ops {
			if m[i].Ops[j].Kind == Read {
				f(&m[i].Ops[j])
			}
		}
	}
	return m
}

func pickAppend(rnd *rand.Rand, h []Txn) (int, bool) {
	var vs []int
	for _, t := range h {
		if t.Outcome != OK {
			continue
		}
		for _, o := range t.Ops {
			if o.Kind == Append {
				vs = append(vs, o.Value)
			}
		}
	}
	if len(vs) == 0 {
		return 0, false
	}
	return vs[rnd.IntN(len(vs))], true
}

// staleRead truncates one read just before an element whose writer
// completed before the reader was invoked.
func staleRead(rnd *rand.Rand, h []Txn) ([]Txn, bool) {
	done := map[int]int64{} // value -> completion of its OK writer
	for _, t := range h {
		for _, o := range t.Ops {
			if o.Kind == Append && t.Outcome == OK {
				done[o.Value] = t.Complete
			}
		}
	}
	type cand struct{ t, op, at int }
	var cs []cand
	for ti, t := range h {
		if t.Outcome != OK {
			continue
		}
		for oi, o := range t.Ops {
			for i, v := range o.Values {
				if c, ok := done[v]; ok && c < t.Invoke {
					cs = append(cs, cand{ti, oi, i})
				}
			}
		}
	}
	if len(cs) == 0 {
		return nil, false
	}
	c := cs[rnd.IntN(len(cs))]
	m := slices.Clone(h)
	m[c.t].Ops = slices.Clone(m[c.t].Ops)
	m[c.t].Ops[c.op].Values = m[c.t].Ops[c.op].Values[:c.at]
	return m, true
}

// failObserved marks as failed a transaction one of whose appends a read
// returned.
func failObserved(rnd *rand.Rand, h []Txn) ([]Txn, bool) {
	writer := map[int]int{}
	for ti, t := range h {
		for _, o := range t.Ops {
			if o.Kind == Append {
				writer[o.Value] = ti
			}
		}
	}
	final := h[len(h)-1]
	var ws []int
	for _, o := range final.Ops {
		for _, v := range o.Values {
			ws = append(ws, writer[v])
		}
	}
	if len(ws) == 0 {
		return nil, false
	}
	w := ws[rnd.IntN(len(ws))]
	m := slices.Clone(h)
	m[w].Outcome = Fail
	return m, true
}
