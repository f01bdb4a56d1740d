package script

import (
	"context"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// run is one script execution.
type run struct {
	// name is what errors call the script: its SHA1, or the function's
	// name; source is its chunk ("@user_script", "@user_function").
	name, source string
	// function is set for FCALL (FUNCTION KILL stops it, not SCRIPT
	// KILL); argv is its command, for FUNCTION STATS.
	function bool
	argv     [][]byte
	call     Call
	db       int
	readOnly bool
	// resp is the protocol redis.call replies come in (redis.setresp).
	resp int
	// err is a failure of call itself (a shard), which ends the script.
	err error

	start  time.Time
	wrote  atomic.Bool // a write command ran: SCRIPT KILL refuses
	killed atomic.Bool
	cancel context.CancelFunc
}

// eval runs sc with KEYS and ARGV and writes its reply to w.
func (e *Engine) eval(ctx context.Context, sc *compiled, keys, argv [][]byte, db int, readOnly bool, w *resp.Writer, call Call) error {
	st := e.state()
	defer e.release(st)
	L := st.L
	st.globals.RawSetString("KEYS", luaArray(L, keys))
	st.globals.RawSetString("ARGV", luaArray(L, argv))
	// The next script gets its own; a pooled state must not pin these.
	defer st.globals.RawSetString("KEYS", lua.LNil)
	defer st.globals.RawSetString("ARGV", lua.LNil)
	fn := L.NewFunctionFromProto(sc.proto)
	fn.Env = st.env
	r := &run{name: sc.sha, source: "@user_script", call: call, db: db, readOnly: readOnly}
	return e.execute(ctx, st, r, fn, nil, w)
}

// execute calls fn with args in st as run r, and writes its reply (or the
// error it raised) to w. An error returned is a failure of r.call.
func (e *Engine) execute(ctx context.Context, st *state, r *run, fn *lua.LFunction, args []lua.LValue, w *resp.Writer) error {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.resp, r.start, r.cancel = 2, time.Now(), cancel
	e.running.Store(r)
	defer e.running.Store(nil)
	st.run = r
	defer func() { st.run = nil }()

	L := st.L
	L.SetContext(runCtx)
	L.Push(fn)
	for _, a := range args {
		L.Push(a)
	}
	err := L.PCall(len(args), 1, st.handler)
	L.RemoveContext()
	if r.err != nil {
		L.SetTop(0)
		return r.err
	}
	if err != nil {
		var obj lua.LValue = lua.LString(err.Error())
		if ae, ok := err.(*lua.ApiError); ok {
			obj = ae.Object
		}
		L.SetTop(0)
		writeRaisedError(w, obj, r.name)
		return nil
	}
	ret := L.Get(-1)
	L.SetTop(0)
	writeReply(w, ret, r.resp)
	return nil
}

func luaArray(L *lua.LState, items [][]byte) *lua.LTable {
	t := L.CreateTable(len(items), 0)
	for _, it := range items {
		t.Append(lua.LString(it))
	}
	return t
}

// writeRaisedError writes the reply of a script that raised obj: the error
// handler made it a table with err, source and line.
func writeRaisedError(w *resp.Writer, obj lua.LValue, name string) {
	t, ok := obj.(*lua.LTable)
	if !ok {
		w.Error("ERR Error running script " + name + ", " + truncate(lua.LVAsString(obj), 100))
		return
	}
	msg := lua.LVAsString(t.RawGetString("err"))
	source, line := t.RawGetString("source"), t.RawGetString("line")
	if source != lua.LNil && line != lua.LNil {
		msg += " script: " + name + ", on " + lua.LVAsString(source) + ":" + lua.LVAsString(line) + "."
	}
	w.Error(msg)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// state returns a Lua state of the pool, or a new one.
func (e *Engine) state() *state {
	e.mu.Lock()
	if n := len(e.free); n > 0 {
		st := e.free[n-1]
		e.free = e.free[:n-1]
		e.mu.Unlock()
		return st
	}
	e.mu.Unlock()
	return e.newState()
}

// release returns st to the pool. A few states suffice: scripts that hold
// every shard run one at a time.
func (e *Engine) release(st *state) {
	e.mu.Lock()
	if len(e.free) < 4 {
		e.free = append(e.free, st)
	}
	e.mu.Unlock()
}

// lrand48 is Redis's redisLrand48: the 48-bit generator of lrand48, so
// math.random gives Redis's sequence.
type lrand48 struct{ x uint64 }

const lrandMax = 1<<31 - 1

func (g *lrand48) seed(s int32) { g.x = (uint64(uint32(s))<<16 | 0x330e) & (1<<48 - 1) }

func (g *lrand48) next() int32 {
	g.x = (0x5deece66d*g.x + 0xb) & (1<<48 - 1)
	return int32(g.x >> 17)
}
