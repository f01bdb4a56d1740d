package script

import (
	lua "github.com/yuin/gopher-lua"
)

// state is one Lua interpreter set up as Redis sets its own: the allowed
// libraries, the redis table, and globals that scripts can read but not
// change.
//
// Redis marks tables read-only inside its Lua; gopher-lua has no such
// flag, so scripts see proxies instead: an empty table whose metatable
// reads through to the real one and refuses every assignment (rawset and
// setmetatable on a proxy are refused too). Scripts therefore cannot leave
// anything behind for the next script.
type state struct {
	L *lua.LState
	// globals holds the real global values (library tables as proxies);
	// env is the proxy scripts run with.
	globals *lua.LTable
	env     *lua.LTable
	// proxies are every read-only proxy, for rawset and setmetatable.
	proxies map[*lua.LTable]bool
	// handler is Redis's __redis__err__handler: it turns what a script
	// raised into a table with err, source and line.
	handler *lua.LFunction
	run     *run
	engine  *Engine
	// loading is the library whose code runs (FUNCTION LOAD), if any.
	loading *loading
}

// The base library functions Redis 7.0 leaves to scripts.
var allowedBase = []string{
	"xpcall", "tostring", "setmetatable", "next", "assert", "tonumber", "rawequal",
	"collectgarbage", "getmetatable", "rawset", "pcall", "type", "select", "unpack",
	"gcinfo", "pairs", "rawget", "loadstring", "ipairs", "_VERSION", "load", "error",
}

const errReadonly = "Attempt to modify a readonly table"

func (e *Engine) newState() *state {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	st := &state{L: L, globals: L.NewTable(), proxies: map[*lua.LTable]bool{}, engine: e}
	g := L.G.Global
	for _, name := range allowedBase {
		st.globals.RawSetString(name, g.RawGetString(name))
	}
	// Lua 5.1 names gopher-lua lacks.
	st.globals.RawSetString("gcinfo", L.NewFunction(func(L *lua.LState) int { L.Push(lua.LNumber(0)); return 1 }))
	tbl := g.RawGetString("table").(*lua.LTable)
	tbl.RawSetString("getn", L.NewFunction(func(L *lua.LState) int { L.Push(lua.LNumber(L.CheckTable(1).Len())); return 1 }))
	str := g.RawGetString("string").(*lua.LTable)
	if str.RawGetString("gfind") == lua.LNil {
		str.RawSetString("gfind", str.RawGetString("gmatch"))
	}
	math := g.RawGetString("math").(*lua.LTable)
	math.RawSetString("random", L.NewFunction(st.mathRandom))
	math.RawSetString("randomseed", L.NewFunction(st.mathRandomseed))

	st.globals.RawSetString("pcall", L.NewFunction(st.pcall))
	st.globals.RawSetString("rawset", L.NewFunction(st.rawset))
	st.globals.RawSetString("setmetatable", L.NewFunction(st.setmetatable))
	st.globals.RawSetString("__redis__err__handler", L.NewFunction(st.errHandler))
	st.handler = L.NewFunction(st.errHandler)

	libs := map[string]*lua.LTable{
		"string": str, "table": tbl, "math": math,
		"coroutine": g.RawGetString("coroutine").(*lua.LTable),
		"redis":     st.redisLib(), "cjson": openCjson(L), "bit": openBit(L),
		"cmsgpack": openCmsgpack(L), "struct": openStruct(L),
	}
	for name, t := range libs {
		st.globals.RawSetString(name, st.protect(t, false))
	}
	st.env = st.protect(st.globals, true)
	st.globals.RawSetString("_G", st.env)
	// Strings keep their methods, read through a proxy too.
	if mt, ok := L.GetMetatable(lua.LString("")).(*lua.LTable); ok {
		mt.RawSetString("__index", st.globals.RawGetString("string"))
	}
	// Functions made by load/loadstring run with the script's globals.
	L.G.Global = st.env
	L.Env = st.env
	return st
}

// protect returns a read-only proxy of t. Reading a missing name of the
// globals is an error, as in Redis.
func (st *state) protect(t *lua.LTable, globals bool) *lua.LTable {
	if globals {
		return st.protectGlobals(func() *lua.LTable { return t })
	}
	return st.readOnly(t)
}

// protectGlobals is protect of the globals, read from the table source
// returns at each access (a library's code sees other globals while it
// loads than its functions do when called).
func (st *state) protectGlobals(source func() *lua.LTable) *lua.LTable {
	return st.readOnly(st.L.NewFunction(func(L *lua.LState) int {
		k := L.Get(2)
		v := source().RawGet(k)
		if v == lua.LNil {
			L.RaiseError("Script attempted to access nonexistent global variable '%s'", lua.LVAsString(k))
		}
		L.Push(v)
		return 1
	}))
}

// readOnly returns an empty table that reads through index (a table or
// an __index function) and refuses every assignment.
func (st *state) readOnly(index lua.LValue) *lua.LTable {
	L := st.L
	p := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", index)
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError(errReadonly)
		return 0
	}))
	L.SetMetatable(p, mt)
	st.proxies[p] = true
	return p
}

func (st *state) rawset(L *lua.LState) int {
	t := L.CheckTable(1)
	if st.proxies[t] {
		L.Error(lua.LString(errReadonly), 0)
	}
	L.RawSet(t, L.CheckAny(2), L.CheckAny(3))
	L.SetTop(1)
	return 1
}

func (st *state) setmetatable(L *lua.LState) int {
	t := L.CheckTable(1)
	if st.proxies[t] {
		L.Error(lua.LString(errReadonly), 0)
	}
	mt := L.Get(2)
	if _, ok := mt.(*lua.LTable); !ok && mt != lua.LNil {
		L.ArgError(2, "nil or table expected")
	}
	if old, ok := L.GetMetatable(t).(*lua.LTable); ok && old.RawGetString("__metatable") != lua.LNil {
		L.RaiseError("cannot change a protected metatable")
	}
	L.SetMetatable(t, mt)
	L.SetTop(1)
	return 1
}

// pcall is Redis's: an error raised as a table with an err field (what
// redis.call raises) comes back as that string, as before Redis 7.
func (st *state) pcall(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		L.ArgError(1, "value expected")
	}
	if err := L.PCall(n-1, lua.MultRet, nil); err != nil {
		obj := lua.LValue(lua.LString(err.Error()))
		if ae, ok := err.(*lua.ApiError); ok {
			obj = ae.Object
		}
		if t, ok := obj.(*lua.LTable); ok {
			if s, ok := t.RawGetString("err").(lua.LString); ok {
				obj = s
			}
		}
		L.Push(lua.LFalse)
		L.Push(obj)
		return 2
	}
	L.Insert(lua.LTrue, 1)
	return L.GetTop()
}

// errHandler is __redis__err__handler: a non-table error becomes
// {err="ERR " .. tostring(err)}, and the innermost Lua frame gives source
// and line. A killed script reports that instead, whatever pcall did.
func (st *state) errHandler(L *lua.LState) int {
	obj := L.Get(1)
	t, ok := obj.(*lua.LTable)
	if r := st.run; r != nil && r.killed.Load() {
		t, ok = L.NewTable(), true
		t.RawSetString("err", lua.LString("ERR Script killed by user with SCRIPT KILL..."))
	}
	if !ok {
		t = L.NewTable()
		t.RawSetString("err", lua.LString("ERR "+lua.LVAsString(L.ToStringMeta(obj))))
	}
	for level := 0; ; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
			break
		}
		if dbg.What != "G" && dbg.CurrentLine > 0 {
			source := "@user_script"
			if st.run != nil {
				source = st.run.source
			}
			t.RawSetString("source", lua.LString(source))
			t.RawSetString("line", lua.LNumber(dbg.CurrentLine))
			break
		}
	}
	L.Push(t)
	return 1
}

func (st *state) mathRandom(L *lua.LState) int {
	if st.run == nil {
		L.RaiseError("math.random can only be called inside a script invocation")
	}
	e := st.engine
	e.rndMu.Lock()
	f := float64(e.rnd.next()%lrandMax) / float64(lrandMax)
	e.rndMu.Unlock()
	switch L.GetTop() {
	case 0:
		L.Push(lua.LNumber(f))
	case 1:
		u := L.CheckInt(1)
		if u < 1 {
			L.ArgError(1, "interval is empty")
		}
		L.Push(lua.LNumber(float64(int64(f*float64(u))) + 1))
	case 2:
		l, u := L.CheckInt(1), L.CheckInt(2)
		if l > u {
			L.ArgError(2, "interval is empty")
		}
		L.Push(lua.LNumber(float64(int64(f*float64(u-l+1))) + float64(l)))
	default:
		L.RaiseError("wrong number of arguments")
	}
	return 1
}

func (st *state) mathRandomseed(L *lua.LState) int {
	if st.run == nil {
		L.RaiseError("math.randomseed can only be called inside a script invocation")
	}
	seed := int32(L.CheckInt(1))
	st.engine.rndMu.Lock()
	st.engine.rnd.seed(seed)
	st.engine.rndMu.Unlock()
	return 0
}
