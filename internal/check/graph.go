package check

import (
	"fmt"
	"slices"
)

// reason records why an edge exists, formatted only when reported.
type reason struct {
	key  string
	a, b int  // ww: both values; wr: value read, read length; rw: next value, read length
	lost bool // rw to an append that no read holds
}

type edge struct {
	kinds EdgeKind
	why   [4]reason // by bit(kind): the first reason found
}

// arc is an out-edge in an adjacency list.
type arc struct {
	to int
	e  *edge
}

func bit(k EdgeKind) int {
	for i := 0; i < 4; i++ {
		if k == 1<<i {
			return i
		}
	}
	panic(fmt.Sprintf("check: not a single edge kind: %d", k))
}

func edgeID(from, to int) uint64 { return uint64(from)<<32 | uint64(uint32(to)) }

// graph is the dependency graph over transaction indices.
type graph struct {
	adj   [][]arc
	edges map[uint64]*edge
	// Scratch space of the searches, indexed by node; mark[v] == stamp
	// means visited in the current search.
	mark  []uint32
	stamp uint32
	prev  []int
	// budget is what is left of the arcs a cycle search may follow.
	budget int
}

func newGraph(n int) *graph {
	return &graph{adj: make([][]arc, n), edges: make(map[uint64]*edge),
		mark: make([]uint32, n), prev: make([]int, n)}
}

func (g *graph) add(from, to int, k EdgeKind, r reason) {
	if from == to {
		return
	}
	id := edgeID(from, to)
	e := g.edges[id]
	if e == nil {
		e = &edge{}
		g.edges[id] = e
		g.adj[from] = append(g.adj[from], arc{to, e})
	}
	if e.kinds&k == 0 {
		e.kinds |= k
		e.why[bit(k)] = r
	}
}

func (g *graph) kinds(from, to int) EdgeKind { return g.edges[edgeID(from, to)].kinds }

// sccs returns the strongly connected components (Tarjan) of the subgraph
// of nodes with comp[node] == in, using only edges with a kind in mask,
// that have more than one node: those are the ones holding cycles.
func (g *graph) sccs(nodes []int, comp []int, in int, mask EdgeKind) [][]int {
	n := len(g.adj)
	index := make([]int, n) // 0: not visited; else order + 1
	low := make([]int, n)
	onStack := make([]bool, n)
	var stack []int
	var out [][]int
	next := 0
	// Iterative, so that long dependency chains cannot exhaust the stack.
	type frame struct{ v, i int }
	var calls []frame
	visit := func(v int) {
		next++
		index[v], low[v] = next, next
		stack = append(stack, v)
		onStack[v] = true
		calls = append(calls, frame{v, 0})
	}
	for _, root := range nodes {
		if index[root] != 0 {
			continue
		}
		visit(root)
		for len(calls) > 0 {
			f := &calls[len(calls)-1]
			v := f.v
			if f.i < len(g.adj[v]) {
				a := g.adj[v][f.i]
				f.i++
				if comp[a.to] != in || a.e.kinds&mask == 0 {
					continue
				}
				if index[a.to] == 0 {
					visit(a.to)
				} else if onStack[a.to] {
					low[v] = min(low[v], index[a.to])
				}
				continue
			}
			calls = calls[:len(calls)-1]
			if len(calls) > 0 {
				u := calls[len(calls)-1].v
				low[u] = min(low[u], low[v])
			}
			if low[v] == index[v] {
				var c []int
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					c = append(c, w)
					if w == v {
						break
					}
				}
				if len(c) > 1 {
					slices.Sort(c)
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// class is a cycle shape searched for: a cycle through one edge of kind
// req whose other edges have kinds in rest (plus req again unless once).
type class struct {
	kind Kind
	req  EdgeKind
	rest EdgeKind
	once bool
}

// classes in the order they are tried on each component: the first that
// matches names the component's anomaly, so weaker isolation violations
// win, and real-time edges are used only when no data cycle exists.
var classes = []class{
	{G0, WW, WW, false},
	{G1c, WR, WW | WR, false},
	{GSingle, RW, WW | WR, true},
	{G2, RW, WW | WR | RW, false},
	{G0Realtime, RT, WW | RT, false},
	{G1cRealtime, RT, WW | WR | RT, false},
	{GSingleRealtime, RW, WW | WR | RT, true},
	{G2Realtime, RW, WW | WR | RW | RT, false},
}

// Bounds on the search within one component, which can hold most of a
// history when a server is badly broken: the first cycles found are
// enough to tell the story.
const (
	maxCycles   = 8        // cycles found per class before keeping the shortest
	classBudget = 2 << 20  // arcs followed per component and class
	tryBudget   = 64 << 10 // arcs followed per search from one edge: short cycles come first
	maxReported = 64       // components searched for a cycle; the rest are counted
)

func (c *checker) findCycles() {
	n := len(c.h)
	all := make([]int, 0, n)
	top := make([]int, n) // 1 for nodes in the graph
	for t := range c.h {
		if c.inGraph(t) {
			all = append(all, t)
			top[t] = 1
		}
	}
	comps := c.g.sccs(all, top, 1, WW|WR|RW|RT)
	c.res.SCCs = len(comps)
	member := make([]int, n) // i+1 for the nodes of component i
	for i, comp := range comps {
		if i >= maxReported {
			c.res.add(Anomaly{Kind: G2Realtime, Txns: comp[:min(len(comp), 10)],
				Detail: fmt.Sprintf("a cycle among %d transactions (not searched: too many components)", len(comp))})
			continue
		}
		for _, t := range comp {
			member[t] = i + 1
		}
		reported := false
		for _, cl := range classes {
			c.g.budget = classBudget
			if cyc := c.g.cycle(comp, member, i+1, cl); cyc != nil {
				c.report(cl.kind, cyc)
				reported = true
				break
			}
		}
		if !reported {
			// Only when the search budgets ran out: still a cycle.
			c.res.add(Anomaly{Kind: G2Realtime, Txns: comp[:min(len(comp), 10)],
				Detail: fmt.Sprintf("a cycle among %d transactions (search budget exhausted)", len(comp))})
		}
	}
}

// cycle finds a short cycle of class cl within component in (the nodes
// with member[v] == in), or nil.
func (g *graph) cycle(comp []int, member []int, in int, cl class) []Step {
	allowed := cl.rest
	if !cl.once {
		allowed |= cl.req
	}
	// Any such cycle lies within one component of the subgraph of its
	// edge kinds, which prunes the req edges worth a search.
	sub := make([]int, len(g.adj))
	for i, s := range g.sccs(comp, member, in, cl.rest|cl.req) {
		for _, t := range s {
			sub[t] = i + 1
		}
	}
	var best []Step
	found := 0
	for _, a := range comp {
		if sub[a] == 0 {
			continue
		}
		for _, arc := range g.adj[a] {
			b := arc.to
			if member[b] != in || sub[b] != sub[a] || arc.e.kinds&cl.req == 0 {
				continue
			}
			if found >= maxCycles || g.budget <= 0 {
				return best
			}
			path := g.path(b, a, allowed, sub, sub[a])
			if path == nil {
				continue
			}
			found++
			cyc := append([]Step{{From: a, To: b, Kind: cl.req}}, path...)
			if best == nil || len(cyc) < len(best) {
				best = cyc
			}
		}
	}
	return best
}

// path is a shortest path (BFS) from src to dst over edges with a kind in
// allowed, between nodes with sub[node] == in, within the budget.
func (g *graph) path(src, dst int, allowed EdgeKind, sub []int, in int) []Step {
	g.stamp++
	g.mark[src] = g.stamp
	queue := []int{src}
	found := false
	for try := tryBudget; len(queue) > 0 && !found && g.budget > 0 && try > 0; {
		v := queue[0]
		queue = queue[1:]
		for _, a := range g.adj[v] {
			g.budget--
			try--
			w := a.to
			if g.mark[w] == g.stamp || sub[w] != in || a.e.kinds&allowed == 0 {
				continue
			}
			g.mark[w] = g.stamp
			g.prev[w] = v
			if w == dst {
				found = true
				break
			}
			queue = append(queue, w)
		}
	}
	if !found {
		return nil
	}
	var steps []Step
	for v := dst; v != src; v = g.prev[v] {
		u := g.prev[v]
		steps = append(steps, Step{From: u, To: v, Kind: pick(g.kinds(u, v) & allowed)})
	}
	slices.Reverse(steps)
	return steps
}

// pick names one kind of a multi-kind edge, data dependencies first.
func pick(k EdgeKind) EdgeKind {
	for _, x := range []EdgeKind{WW, WR, RW, RT} {
		if k&x != 0 {
			return x
		}
	}
	return 0
}

func (c *checker) report(k Kind, cyc []Step) {
	var txns []int
	keys := map[string]bool{}
	desc := ""
	for i := range cyc {
		s := &cyc[i]
		s.Why = c.explain(s.From, s.To, s.Kind)
		if s.Kind != RT {
			keys[c.g.edges[edgeID(s.From, s.To)].why[bit(s.Kind)].key] = true
		}
		txns = append(txns, s.From)
		desc += fmt.Sprintf("T%d -%s-> ", s.From, s.Kind)
	}
	desc += fmt.Sprintf("T%d", cyc[0].From)
	c.res.add(Anomaly{Kind: k, Txns: txns, Keys: sortedKeys(keys), Cycle: cyc, Detail: "cycle " + desc})
}

func sortedKeys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
