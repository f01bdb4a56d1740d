package tests

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"
)

var linSeed = flag.Uint64("linearizable.seed", 0, "seed of the linearizability workloads (0: from the clock)")

// Registers are integers; a missing key is the zero reg.
type reg struct {
	v      int64
	exists bool
}

func (r reg) String() string {
	if !r.exists {
		return "nil"
	}
	return strconv.FormatInt(r.v, 10)
}

// regOp is one client request on registers. Single-key requests use
// key 0 of keys.
type regOp struct {
	kind string  // SET GET INCR MSET MGET
	keys []int   // indices of registers
	vals []int64 // SET, MSET: the values written
}

// regOut is a reply: the registers read (GET, MGET) or the new value
// (INCR).
type regOut struct {
	regs []reg
}

// regState is linRegs registers (an array, so that states compare with ==).
type regState [linRegs]reg

// linRegs is the number of registers: one key per shard.
const linRegs = laShards

// regModel is the sequential specification of Redis strings holding
// integers under SET, GET, INCR, MSET and MGET. The single-key test
// partitions it by key, and the multi-key one checks all registers
// together, as MSET and MGET tie them.
func regModel(partition bool) porcupine.Model {
	m := porcupine.Model{
		Init: func() any { return regState{} },
		Step: func(state, input, output any) (bool, any) {
			s := state.(regState)
			in := input.(regOp)
			out := output.(regOut)
			switch in.kind {
			case "SET", "MSET":
				for i, k := range in.keys {
					s[k] = reg{in.vals[i], true}
				}
				return true, s
			case "GET", "MGET":
				for i, k := range in.keys {
					if out.regs[i] != s[k] {
						return false, s
					}
				}
				return true, s
			case "INCR":
				k := in.keys[0]
				want := reg{s[k].v + 1, true}
				if out.regs[0] != want {
					return false, s
				}
				s[k] = want
				return true, s
			}
			panic("unknown op " + in.kind)
		},
		DescribeOperation: func(input, output any) string {
			in, out := input.(regOp), output.(regOut)
			return fmt.Sprintf("%s %v %v -> %v", in.kind, in.keys, in.vals, out.regs)
		},
		DescribeState: func(state any) string { return fmt.Sprint(state.(regState)) },
	}
	if partition {
		m.Partition = func(h []porcupine.Operation) [][]porcupine.Operation {
			byKey := map[int][]porcupine.Operation{}
			for _, op := range h {
				k := op.Input.(regOp).keys[0]
				byKey[k] = append(byKey[k], op)
			}
			var out [][]porcupine.Operation
			for _, ops := range byKey {
				out = append(out, ops)
			}
			return out
		}
	}
	return m
}

// regDo sends op to the server and returns its reply.
func regDo(ctx context.Context, c *redis.Client, keys []string, op regOp) (regOut, error) {
	parse := func(v any) (reg, error) {
		if v == nil {
			return reg{}, nil
		}
		n, err := strconv.ParseInt(v.(string), 10, 64)
		return reg{n, true}, err
	}
	switch op.kind {
	case "SET":
		return regOut{}, c.Set(ctx, keys[op.keys[0]], op.vals[0], 0).Err()
	case "MSET":
		var args []any
		for i, k := range op.keys {
			args = append(args, keys[k], op.vals[i])
		}
		return regOut{}, c.MSet(ctx, args...).Err()
	case "INCR":
		n, err := c.Incr(ctx, keys[op.keys[0]]).Result()
		return regOut{[]reg{{n, true}}}, err
	case "GET":
		v, err := c.Get(ctx, keys[op.keys[0]]).Result()
		if errors.Is(err, redis.Nil) {
			return regOut{[]reg{{}}}, nil
		}
		if err != nil {
			return regOut{}, err
		}
		r, err := parse(v)
		return regOut{[]reg{r}}, err
	case "MGET":
		var ks []string
		for _, k := range op.keys {
			ks = append(ks, keys[k])
		}
		vs, err := c.MGet(ctx, ks...).Result()
		if err != nil {
			return regOut{}, err
		}
		out := regOut{}
		for _, v := range vs {
			r, err := parse(v)
			if err != nil {
				return regOut{}, err
			}
			out.regs = append(out.regs, r)
		}
		return out, nil
	}
	panic("unknown op " + op.kind)
}

// runRegisters has workers clients send ops random requests each and
// returns the history.
func runRegisters(t *testing.T, addr string, keys []string, workers, ops int, multi bool) []porcupine.Operation {
	seed := *linSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -linearizable.seed=%d)", seed, seed)
	ctx := ctxT(t)
	start := time.Now()
	var mu sync.Mutex // guards hist
	var hist []porcupine.Operation
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		c := client(t, addr, func(o *redis.Options) { o.PoolSize = 1 })
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := 0; i < ops; i++ {
				op := randomRegOp(rnd, len(keys), multi, int64(w*ops+i))
				call := int64(time.Since(start))
				out, err := regDo(ctx, c, keys, op)
				ret := int64(time.Since(start))
				if err != nil {
					t.Errorf("worker %d: %s: %v", w, op.kind, err)
					return
				}
				mu.Lock()
				hist = append(hist, porcupine.Operation{ClientId: w, Input: op, Call: call, Output: out, Return: ret})
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	return hist
}

// randomRegOp draws a request; uniq makes written values distinct, which
// keeps the search for a linearization short. With multi, most requests
// are MSET and MGET, half the MSETs over every key: a torn one is then
// visible to any MGET that overlaps it.
func randomRegOp(rnd *rand.Rand, nkeys int, multi bool, uniq int64) regOp {
	k := rnd.IntN(nkeys)
	r := rnd.IntN(10)
	if multi && r < 8 {
		perm := rnd.Perm(nkeys)
		if r < 4 {
			n := nkeys
			if r < 2 {
				n = 2 + rnd.IntN(nkeys-1)
			}
			op := regOp{kind: "MSET", keys: perm[:n]}
			for i := range n {
				op.vals = append(op.vals, uniq*10+int64(i))
			}
			return op
		}
		return regOp{kind: "MGET", keys: perm}
	}
	switch {
	case r < 6 || multi && r < 9:
		return regOp{kind: "GET", keys: []int{k}}
	case r < 8:
		return regOp{kind: "SET", keys: []int{k}, vals: []int64{uniq * 10}}
	default:
		return regOp{kind: "INCR", keys: []int{k}}
	}
}

// checkLinearizable runs porcupine and, on a violation, saves its
// visualization.
func checkLinearizable(t *testing.T, m porcupine.Model, hist []porcupine.Operation) {
	t.Helper()
	begin := time.Now()
	res, info := porcupine.CheckOperationsVerbose(m, hist, 15*time.Second)
	t.Logf("%d operations: %s in %v", len(hist), res, time.Since(begin).Round(time.Millisecond))
	switch res {
	case porcupine.Ok:
	case porcupine.Illegal:
		path := fmt.Sprintf("%s/linearizability-%d.html", os.TempDir(), time.Now().UnixNano())
		if err := porcupine.VisualizePath(m, info, path); err == nil {
			t.Logf("visualization saved to %s", path)
		}
		t.Errorf("history is not linearizable")
	default:
		t.Errorf("porcupine could not decide within its timeout (%s): make the workload smaller", res)
	}
}

// TestLinearizableRegisters: SET, GET and INCR on keys on different
// shards, each key checked as a linearizable register.
func TestLinearizableRegisters(t *testing.T) {
	p := startProxy(t)
	keys := slices.Concat(shardKeys("reg", 1)...)
	hist := runRegisters(t, p.Addr, keys, 8, 1000, false)
	checkLinearizable(t, regModel(true), hist)
}

// TestLinearizableMultiRegister: MSET and MGET across shards together with
// single-key SET, GET and INCR, checked against one multi-register model:
// an MGET must never see half an MSET, and everything is in real-time
// order.
func TestLinearizableMultiRegister(t *testing.T) {
	p := startProxy(t)
	keys := slices.Concat(shardKeys("mreg", 1)...)
	hist := runRegisters(t, p.Addr, keys, 6, 500, true)
	checkLinearizable(t, regModel(false), hist)
}

// TestLinearizableModelRejects: the models are not vacuous; a stale GET, a
// torn MGET and a lost INCR are refused.
func TestLinearizableModelRejects(t *testing.T) {
	op := func(call, ret int64, in regOp, out ...reg) porcupine.Operation {
		return porcupine.Operation{Input: in, Call: call, Output: regOut{out}, Return: ret}
	}
	set := regOp{kind: "SET", keys: []int{0}, vals: []int64{5}}
	get := regOp{kind: "GET", keys: []int{0}}
	incr := regOp{kind: "INCR", keys: []int{0}}
	mset := regOp{kind: "MSET", keys: []int{0, 1}, vals: []int64{7, 8}}
	mget := regOp{kind: "MGET", keys: []int{0, 1}}
	for name, c := range map[string]struct {
		partition bool
		h         []porcupine.Operation
		ok        bool
	}{
		"stale get":       {true, []porcupine.Operation{op(0, 1, set), op(2, 3, get, reg{})}, false},
		"concurrent get":  {true, []porcupine.Operation{op(0, 3, set), op(1, 2, get, reg{})}, true},
		"lost incr":       {true, []porcupine.Operation{op(0, 1, incr, reg{1, true}), op(2, 3, incr, reg{1, true})}, false},
		"incr after set":  {true, []porcupine.Operation{op(0, 1, set), op(2, 3, incr, reg{6, true})}, true},
		"torn mget":       {false, []porcupine.Operation{op(0, 3, mset), op(1, 2, mget, reg{7, true}, reg{})}, false},
		"mget before set": {false, []porcupine.Operation{op(0, 3, mset), op(1, 2, mget, reg{}, reg{})}, true},
	} {
		got := porcupine.CheckOperations(regModel(c.partition), c.h)
		if got != c.ok {
			t.Errorf("%s: linearizable = %v, want %v", name, got, c.ok)
		}
	}
}
