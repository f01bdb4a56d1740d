package check

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Kind names a class of anomaly.
type Kind string

// The anomaly classes. Cycle classes follow Adya: G0 (write cycle: ww
// only), G1c (ww and wr, at least one wr), G-single (exactly one rw) and G2
// (rw edges, none of the above); the "-realtime" variants are cycles that
// exist only with real-time edges, so they break strict serializability but
// not serializability.
const (
	G0              Kind = "G0"
	G1a             Kind = "G1a" // aborted read: a failed transaction's append was read
	G1b             Kind = "G1b" // intermediate read: a read ends inside another transaction's appends
	G1c             Kind = "G1c"
	GSingle         Kind = "G-single"
	G2              Kind = "G2"
	G0Realtime      Kind = "G0-realtime"
	G1cRealtime     Kind = "G1c-realtime"
	GSingleRealtime Kind = "G-single-realtime"
	G2Realtime      Kind = "G2-realtime"
	// IncompatibleOrder: two reads of a key neither of which is a prefix
	// of the other, so the key has no single order of appends.
	IncompatibleOrder Kind = "incompatible-order"
	// DuplicateElements: a read holds one value twice.
	DuplicateElements Kind = "duplicate-elements"
	// GarbageRead: a read holds a value never appended to that key.
	GarbageRead Kind = "garbage-read"
	// Internal: a transaction's read disagrees with its own earlier
	// reads and appends of the key.
	Internal Kind = "internal"
)

// EdgeKind is a bit set of dependency kinds between two transactions.
type EdgeKind uint8

// Dependency kinds. T1 -ww-> T2: T2 appended right after T1 to a key.
// T1 -wr-> T2: T2 read the version T1 appended. T1 -rw-> T2: T1 read a
// version that lacks T2's append. T1 -rt-> T2: T1 completed before T2 was
// invoked.
const (
	WW EdgeKind = 1 << iota
	WR
	RW
	RT
)

func (k EdgeKind) String() string {
	var s []string
	for _, x := range []struct {
		k    EdgeKind
		name string
	}{{WW, "ww"}, {WR, "wr"}, {RW, "rw"}, {RT, "rt"}} {
		if k&x.k != 0 {
			s = append(s, x.name)
		}
	}
	return strings.Join(s, "+")
}

// Step is one edge of a reported cycle, with its reason in words.
type Step struct {
	From, To int
	Kind     EdgeKind
	Why      string
}

// Anomaly is one problem found in a history. Txns are indices into it.
type Anomaly struct {
	Kind   Kind
	Txns   []int
	Keys   []string // the keys involved, to keep reports short
	Cycle  []Step   // cycle classes only
	Detail string
}

// maxPerKind bounds the anomalies kept per class: a broken server can
// produce thousands of them, and the first few tell the story.
const maxPerKind = 8

// Result is the verdict on a history.
type Result struct {
	Anomalies []Anomaly
	Counts    map[Kind]int // anomalies found per class, kept or not
	Txns      int
	Outcomes  map[Outcome]int
	Edges     map[EdgeKind]int // edges per kind (an edge may have several)
	SCCs      int              // strongly connected components with a cycle
	history   []Txn
}

// Valid reports whether the history is strictly serializable as far as the
// checker can tell.
func (r *Result) Valid() bool { return len(r.Counts) == 0 }

// Has reports whether an anomaly of class k was found.
func (r *Result) Has(k Kind) bool { return r.Counts[k] > 0 }

// Summary is a one-line account of what was checked.
func (r *Result) Summary() string {
	return fmt.Sprintf("%d txns (ok %d, unknown %d, fail %d), edges ww %d wr %d rw %d rt %d, %d cyclic SCCs, anomalies %v",
		r.Txns, r.Outcomes[OK], r.Outcomes[Unknown], r.Outcomes[Fail],
		r.Edges[WW], r.Edges[WR], r.Edges[RW], r.Edges[RT], r.SCCs, r.Counts)
}

// String reports every kept anomaly with the transactions involved.
func (r *Result) String() string {
	var b strings.Builder
	b.WriteString(r.Summary())
	b.WriteByte('\n')
	for _, a := range r.Anomalies {
		fmt.Fprintf(&b, "%s: %s\n", a.Kind, a.Detail)
		for _, s := range a.Cycle {
			fmt.Fprintf(&b, "    T%d -%s-> T%d: %s\n", s.From, s.Kind, s.To, s.Why)
		}
		for _, t := range a.Txns {
			fmt.Fprintf(&b, "    T%d = %s\n", t, describe(r.history[t], a.Keys))
		}
	}
	return b.String()
}

func (r *Result) add(a Anomaly) {
	r.Counts[a.Kind]++
	if r.Counts[a.Kind] <= maxPerKind {
		r.Anomalies = append(r.Anomalies, a)
	}
}

// opRef locates a micro-operation: transaction t, op index op.
type opRef struct{ t, op int }

type txnKey struct {
	t   int
	key string
}

type checker struct {
	h   []Txn
	res *Result

	writer    map[int]opRef      // appended value -> its append
	lastApp   map[txnKey]int     // a transaction's last append to a key
	reads     map[string][]opRef // OK reads per key
	keys      []string           // every key, sorted, for deterministic reports
	longest   map[string]opRef   // per key, the read that gives its order
	order     map[string][]int   // per key, the appends in order (the longest read)
	pos       map[string]map[int]int
	badRead   map[opRef]bool // reads that are no prefix of the order
	committed []bool         // OK, or Unknown with an append that was read

	g *graph
}

// Check verifies a history. It returns an error only for histories that no
// server could have produced (a value appended twice, an invalid outcome).
func Check(h []Txn) (*Result, error) {
	if err := validate(h); err != nil {
		return nil, err
	}
	c := &checker{h: h, res: &Result{Counts: map[Kind]int{}, Outcomes: map[Outcome]int{},
		Edges: map[EdgeKind]int{}, Txns: len(h), history: h}}
	c.index()
	c.checkReads()
	c.inferOrders()
	c.buildGraph()
	c.findCycles()
	return c.res, nil
}

func (c *checker) index() {
	c.writer = make(map[int]opRef)
	c.lastApp = make(map[txnKey]int)
	c.reads = make(map[string][]opRef)
	keys := make(map[string]bool)
	for ti, t := range c.h {
		c.res.Outcomes[t.Outcome]++
		for oi, o := range t.Ops {
			keys[o.Key] = true
			switch o.Kind {
			case Append:
				c.writer[o.Value] = opRef{ti, oi}
				c.lastApp[txnKey{ti, o.Key}] = o.Value
			case Read:
				if t.Outcome == OK {
					c.reads[o.Key] = append(c.reads[o.Key], opRef{ti, oi})
				}
			}
		}
	}
	for k := range keys {
		c.keys = append(c.keys, k)
	}
	sort.Strings(c.keys)
}

func (c *checker) op(r opRef) Op { return c.h[r.t].Ops[r.op] }

// writerOf returns the append of v to key, if there is one.
func (c *checker) writerOf(key string, v int) (opRef, bool) {
	w, ok := c.writer[v]
	if !ok || c.op(w).Key != key {
		return opRef{}, false
	}
	return w, true
}

// checkReads looks at each read on its own: duplicates, garbage, aborted
// and intermediate reads, and agreement with the transaction's own earlier
// operations on the key.
func (c *checker) checkReads() {
	for ti, t := range c.h {
		if t.Outcome != OK {
			continue
		}
		// Per key: what the transaction knows the list holds (after a
		// read), or only its own appends so far (before any read).
		type state struct {
			known bool
			vals  []int
		}
		st := map[string]*state{}
		for _, o := range t.Ops {
			s := st[o.Key]
			if s == nil {
				s = &state{}
				st[o.Key] = s
			}
			if o.Kind == Append {
				s.vals = append(s.vals, o.Value)
				continue
			}
			c.checkRead(ti, o)
			if s.known && !slices.Equal(o.Values, s.vals) {
				c.res.add(Anomaly{Kind: Internal, Txns: []int{ti}, Keys: []string{o.Key},
					Detail: fmt.Sprintf("T%d read %s = %s, but its own earlier operations imply %s", ti, o.Key, list(o.Values), list(s.vals))})
			} else if !s.known && !hasSuffix(o.Values, s.vals) {
				c.res.add(Anomaly{Kind: Internal, Txns: []int{ti}, Keys: []string{o.Key},
					Detail: fmt.Sprintf("T%d read %s = %s, which does not end with its own appends %v", ti, o.Key, list(o.Values), s.vals)})
			}
			s.known = true
			s.vals = slices.Clone(o.Values)
		}
	}
}

func (c *checker) checkRead(ti int, o Op) {
	seen := make(map[int]bool, len(o.Values))
	for _, v := range o.Values {
		if seen[v] {
			c.res.add(Anomaly{Kind: DuplicateElements, Txns: []int{ti}, Keys: []string{o.Key},
				Detail: fmt.Sprintf("T%d read %s holding %d twice", ti, o.Key, v)})
		}
		seen[v] = true
		w, ok := c.writerOf(o.Key, v)
		switch {
		case !ok:
			c.res.add(Anomaly{Kind: GarbageRead, Txns: []int{ti}, Keys: []string{o.Key},
				Detail: fmt.Sprintf("T%d read %d in %s, but no transaction appended %d to %s", ti, v, o.Key, v, o.Key)})
		case c.h[w.t].Outcome == Fail:
			c.res.add(Anomaly{Kind: G1a, Txns: []int{w.t, ti}, Keys: []string{o.Key},
				Detail: fmt.Sprintf("T%d read %d in %s, appended by T%d, which failed", ti, v, o.Key, w.t)})
		}
	}
	if len(o.Values) == 0 {
		return
	}
	last := o.Values[len(o.Values)-1]
	w, ok := c.writerOf(o.Key, last)
	if !ok || w.t == ti || c.h[w.t].Outcome == Fail {
		return
	}
	if final := c.lastApp[txnKey{w.t, o.Key}]; final != last {
		c.res.add(Anomaly{Kind: G1b, Txns: []int{w.t, ti}, Keys: []string{o.Key},
			Detail: fmt.Sprintf("T%d read %s ending with %d, but T%d appended %d to %s after %d", ti, o.Key, last, w.t, final, o.Key, last)})
	}
}

func hasSuffix(s, suffix []int) bool {
	return len(s) >= len(suffix) && slices.Equal(s[len(s)-len(suffix):], suffix)
}

func isPrefix(p, s []int) bool { return len(p) <= len(s) && slices.Equal(p, s[:len(p)]) }

// inferOrders takes each key's longest read as the order of its appends and
// reports the reads that are not a prefix of it.
func (c *checker) inferOrders() {
	c.longest = make(map[string]opRef)
	c.order = make(map[string][]int)
	c.pos = make(map[string]map[int]int)
	c.badRead = make(map[opRef]bool)
	for _, k := range c.keys {
		rs := c.reads[k]
		if len(rs) == 0 {
			continue
		}
		best := rs[0]
		for _, r := range rs[1:] {
			if len(c.op(r).Values) > len(c.op(best).Values) {
				best = r
			}
		}
		c.longest[k] = best
		order := c.op(best).Values
		c.order[k] = order
		pos := make(map[int]int, len(order))
		for i, v := range order {
			if _, dup := pos[v]; !dup {
				pos[v] = i
			}
		}
		c.pos[k] = pos
		for _, r := range rs {
			if vs := c.op(r).Values; !isPrefix(vs, order) {
				c.badRead[r] = true
				c.res.add(Anomaly{Kind: IncompatibleOrder, Txns: []int{r.t, best.t}, Keys: []string{k},
					Detail: divergence(k, r.t, vs, best.t, order)})
			}
		}
	}
	// A transaction took effect if it is acknowledged, or if anyone read
	// one of its appends (then all of them must be there).
	c.committed = make([]bool, len(c.h))
	for ti, t := range c.h {
		c.committed[ti] = t.Outcome == OK
	}
	for _, k := range c.keys {
		for _, v := range c.order[k] {
			if w, ok := c.writerOf(k, v); ok && c.h[w.t].Outcome == Unknown {
				c.committed[w.t] = true
			}
		}
	}
}

// inGraph: failed transactions did not happen; their appends, if read, are
// G1a already.
func (c *checker) inGraph(t int) bool { return c.h[t].Outcome != Fail }

// validWriter returns the transaction that appended v to key when it
// belongs in the graph.
func (c *checker) validWriter(key string, v int) (int, bool) {
	w, ok := c.writerOf(key, v)
	if !ok || !c.inGraph(w.t) {
		return 0, false
	}
	return w.t, true
}

func (c *checker) buildGraph() {
	c.g = newGraph(len(c.h))
	for _, k := range c.keys {
		order := c.order[k]
		// ww: consecutive appends in the key's order.
		prev, prevV, havePrev := 0, 0, false
		for _, v := range order {
			w, ok := c.validWriter(k, v)
			if !ok {
				continue
			}
			if havePrev {
				c.g.add(prev, w, WW, reason{key: k, a: prevV, b: v})
			}
			prev, prevV, havePrev = w, v, true
		}
		for _, r := range c.reads[k] {
			if c.badRead[r] {
				continue
			}
			vs := c.op(r).Values
			// wr: the version read is the one its last append made.
			for i := len(vs) - 1; i >= 0; i-- {
				if w, ok := c.validWriter(k, vs[i]); ok {
					c.g.add(w, r.t, WR, reason{key: k, a: vs[i], b: len(vs)})
					break
				}
			}
			// rw: the next append after the version read.
			for _, v := range order[len(vs):] {
				if w, ok := c.validWriter(k, v); ok {
					c.g.add(r.t, w, RW, reason{key: k, a: v, b: len(vs)})
					break
				}
			}
		}
	}
	// rw to appends nobody read, of transactions that took effect: every
	// read of the key must precede them. Reads of the whole order suffice,
	// as shorter reads reach those through ww and wr edges.
	for ti, t := range c.h {
		if !c.committed[ti] {
			continue
		}
		for _, o := range t.Ops {
			if o.Kind != Append {
				continue
			}
			if _, seen := c.pos[o.Key][o.Value]; seen {
				continue
			}
			n := len(c.order[o.Key])
			for _, r := range c.reads[o.Key] {
				if !c.badRead[r] && len(c.op(r).Values) == n {
					c.g.add(r.t, ti, RW, reason{key: o.Key, a: o.Value, b: n, lost: true})
				}
			}
		}
	}
	c.realtime()
	for _, e := range c.g.edges {
		for _, k := range []EdgeKind{WW, WR, RW, RT} {
			if e.kinds&k != 0 {
				c.res.Edges[k]++
			}
		}
	}
}

// realtime adds T1 -rt-> T2 whenever T1 completed before T2 was invoked,
// leaving out the edges implied by others: each invocation gets edges from
// the frontier, the completed transactions not known to precede another
// completed one, so the edge count stays near n times the concurrency.
func (c *checker) realtime() {
	type event struct {
		at       int64
		complete bool
		t        int
	}
	var evs []event
	for ti, t := range c.h {
		if !c.inGraph(ti) {
			continue
		}
		evs = append(evs, event{t.Invoke, false, ti})
		if t.Outcome == OK || t.Complete > 0 {
			evs = append(evs, event{t.Complete, true, ti})
		}
	}
	// Equal times are concurrent: invocations go first so that they do
	// not see a completion at the same instant.
	sort.SliceStable(evs, func(i, j int) bool {
		if evs[i].at != evs[j].at {
			return evs[i].at < evs[j].at
		}
		return !evs[i].complete && evs[j].complete
	})
	frontier := map[int]bool{}
	preds := map[int][]int{}
	for _, e := range evs {
		if !e.complete {
			ps := make([]int, 0, len(frontier))
			for p := range frontier {
				ps = append(ps, p)
			}
			sort.Ints(ps)
			preds[e.t] = ps
			for _, p := range ps {
				c.g.add(p, e.t, RT, reason{})
			}
			continue
		}
		for _, p := range preds[e.t] {
			delete(frontier, p)
		}
		delete(preds, e.t)
		frontier[e.t] = true
	}
}

func (c *checker) explain(from, to int, k EdgeKind) string {
	r := c.g.edges[edgeID(from, to)].why[bit(k)]
	switch k {
	case WW:
		return fmt.Sprintf("T%d appended %d to %s, right after %d appended by T%d", to, r.b, r.key, r.a, from)
	case WR:
		return fmt.Sprintf("T%d read %s (%d elements) ending with %d, appended by T%d", to, r.key, r.b, r.a, from)
	case RW:
		if r.lost {
			return fmt.Sprintf("T%d read %s (%d elements, its longest read) without %d, which T%d appended and which took effect", from, r.key, r.b, r.a, to)
		}
		return fmt.Sprintf("T%d read %s with %d elements, before %d which T%d appended next", from, r.key, r.b, r.a, to)
	case RT:
		return fmt.Sprintf("T%d completed at %d, before T%d was invoked at %d", from, c.h[from].Complete, to, c.h[to].Invoke)
	}
	return ""
}

// divergence describes two reads of key that are not prefixes of each
// other by where they part.
func divergence(key string, t1 int, r1 []int, t2 int, r2 []int) string {
	n := 0
	for n < len(r1) && n < len(r2) && r1[n] == r2[n] {
		n++
	}
	tail := func(r []int) string {
		if len(r) > n+6 {
			return fmt.Sprint(r[n:n+6]) + "..."
		}
		return fmt.Sprint(r[n:])
	}
	return fmt.Sprintf("T%d and T%d read %s in orders that agree on %d elements, then go on with %s and %s",
		t1, t2, key, n, tail(r1), tail(r2))
}

// describe prints t, keeping only the ops on keys when t has many.
func describe(t Txn, keys []string) string {
	if len(t.Ops) <= 4 || len(keys) == 0 {
		return t.String()
	}
	u := t
	u.Ops = nil
	for _, o := range t.Ops {
		if slices.Contains(keys, o.Key) {
			u.Ops = append(u.Ops, o)
		}
	}
	return fmt.Sprintf("%s (and %d ops on other keys)", u, len(t.Ops)-len(u.Ops))
}
