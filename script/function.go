package script

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/rdb"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// Functions are Redis 7.0's libraries (FUNCTION LOAD, FCALL): Lua code
// whose first line names it ("#!lua name=mylib") and which registers
// functions with redis.register_function when loaded. Loading runs the
// code with only that part of the redis table to hand; calls run the
// registered functions with the whole sandbox of scripts.
//
// Redis keeps one Lua state for every library; here a library has a pool
// of states, each loaded from its code, so that calls of one library do
// not wait for each other (an optimistic run over Redis backends may be
// held up by a whole-database request that itself runs a function).
// Values a library keeps in upvalues between calls are therefore per
// state, which Redis's documentation already tells libraries not to
// rely on.

// funcFlags are a function's flags, as bits in the order of
// funcFlagNames (Redis's scripts_flags_def, the order FUNCTION LIST shows).
type funcFlags uint8

var funcFlagNames = []string{"no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"}

const flagNoWrites funcFlags = 1

// library is a loaded library.
type library struct {
	name string
	code string // whole, first line included: what FUNCTION DUMP saves
	body string // the code to run: the first line blanked
	// funcs are its functions in the order they were registered.
	funcs []*function
	// free are loaded states not running a function (under Engine.mu).
	free []*libState
}

// function is one function of a library.
type function struct {
	name    string
	desc    string
	hasDesc bool
	flags   funcFlags
	lib     *library
}

// libState is a Lua state in which a library's code ran: its functions
// by name.
type libState struct {
	st  *state
	fns map[string]*lua.LFunction
}

// loadTimeout bounds the run of a library's code at FUNCTION LOAD, as
// Redis's LOAD_TIMEOUT_MS.
const loadTimeout = 500 * time.Millisecond

// Errors of FUNCTION and FCALL, as Redis 7.0 words them.
const (
	errBadName = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"
	// Redis answers BUSY with the other kill command when SCRIPT KILL
	// meets a function or FUNCTION KILL a script.
	errBusyFunction = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
)

// errSubcommandSyntax is addReplySubcommandSyntaxError's reply: the
// subcommand as the client wrote it.
func errSubcommandSyntax(sub []byte) string {
	return "ERR unknown subcommand or wrong number of arguments for '" + string(sub) + "'. Try FUNCTION HELP."
}

// validName is functionsVerifyName: letters, digits and underscores.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// libraryMeta reads a library's first line: "#!<engine> name=<name>".
func libraryMeta(code string) (engine, name, body string, err error) {
	if !strings.HasPrefix(code, "#!") {
		return "", "", "", errors.New("ERR Missing library metadata")
	}
	end := strings.IndexByte(code, '\n')
	if end < 0 {
		return "", "", "", errors.New("ERR Invalid library metadata")
	}
	parts := strings.Fields(code[:end])
	if len(parts) == 0 {
		return "", "", "", errors.New("ERR Invalid library metadata")
	}
	engine = parts[0][2:]
	named := false
	for _, p := range parts[1:] {
		if len(p) >= 5 && strings.EqualFold(p[:5], "name=") {
			if named {
				return "", "", "", errors.New("ERR Invalid metadata value, name argument was given multiple times")
			}
			name, named = p[5:], true
			continue
		}
		return "", "", "", errors.New("ERR Invalid metadata value given: " + p)
	}
	if !named {
		return "", "", "", errors.New("ERR Library name was not given")
	}
	// The first line stays as an empty line, so line numbers hold.
	return engine, name, code[end:], nil
}

// functionLoad is FUNCTION LOAD: it loads code as a library, replacing
// the library of that name if replace, and returns its name.
func (e *Engine) functionLoad(ctx context.Context, code string, replace bool) (string, error) {
	engine, name, body, err := libraryMeta(code)
	if err != nil {
		return "", err
	}
	if !validName(name) {
		return "", errors.New("ERR " + errBadName)
	}
	if !strings.EqualFold(engine, "lua") {
		return "", fmt.Errorf("ERR Engine '%s' not found", engine)
	}
	err = e.change(ctx, func(next *librarySet) error {
		if next.libs[name] != nil && !replace {
			return fmt.Errorf("ERR Library '%s' already exists", name)
		}
		lib := &library{name: name, code: code, body: body}
		ls, err := e.loadLibrary(lib, loadTimeout)
		if err != nil {
			return err
		}
		if len(lib.funcs) == 0 {
			return errors.New("ERR No functions registered")
		}
		lib.free = append(lib.free, ls)
		return next.link([]*library{lib}, replace)
	})
	if err != nil {
		return "", err
	}
	return name, nil
}

// librarySet is the loaded libraries by name and their functions by
// lower-case name (FCALL ignores case). A set is never changed once the
// engine holds it: a change makes a new one (change).
type librarySet struct {
	libs  map[string]*library
	funcs map[string]*function
}

func newLibrarySet() *librarySet {
	return &librarySet{libs: map[string]*library{}, funcs: map[string]*function{}}
}

func (ls *librarySet) clone() *librarySet {
	return &librarySet{libs: maps.Clone(ls.libs), funcs: maps.Clone(ls.funcs)}
}

// link adds libs, replacing libraries of the same names if replace,
// unless a name or a function collides: then nothing changes.
func (ls *librarySet) link(libs []*library, replace bool) error {
	replaced := map[string]bool{}
	for _, lib := range libs {
		if ls.libs[lib.name] != nil {
			if !replace {
				// Unquoted, unlike FUNCTION LOAD's: Redis's own words.
				return fmt.Errorf("ERR Library %s already exists", lib.name)
			}
			replaced[lib.name] = true
		}
	}
	for _, lib := range libs {
		for _, f := range lib.funcs {
			if g := ls.funcs[strings.ToLower(f.name)]; g != nil && !replaced[g.lib.name] {
				return fmt.Errorf("ERR Function %s already exists", f.name)
			}
		}
	}
	for name := range replaced {
		ls.unlink(ls.libs[name])
	}
	for _, lib := range libs {
		ls.libs[lib.name] = lib
		for _, f := range lib.funcs {
			ls.funcs[strings.ToLower(f.name)] = f
		}
	}
	return nil
}

func (ls *librarySet) unlink(lib *library) {
	for _, f := range lib.funcs {
		delete(ls.funcs, strings.ToLower(f.name))
	}
	delete(ls.libs, lib.name)
}

// sorted returns the libraries by name (Redis's order is its hash
// table's; a stable one is kinder to whoever reads it).
func (ls *librarySet) sorted() []*library {
	libs := make([]*library, 0, len(ls.libs))
	for _, lib := range ls.libs {
		libs = append(libs, lib)
	}
	slices.SortFunc(libs, func(a, b *library) int { return strings.Compare(a.name, b.name) })
	return libs
}

// dump is FUNCTION DUMP's payload: each library's code after its opcode,
// then the RDB version and checksum, as in an RDB file.
func (ls *librarySet) dump() []byte {
	var b []byte
	for _, lib := range ls.sorted() {
		b = append(b, rdbOpFunction2)
		b = rdb.AppendString(b, []byte(lib.code))
	}
	return rdb.AppendFooter(b, 0)
}

// libraries returns the set the engine holds.
func (e *Engine) libraries() *librarySet {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.fns
}

// change edits a copy of the libraries and, once the store (if any) has
// kept the result, makes it the engine's: a change the store refused
// never happened. Changes run one at a time.
func (e *Engine) change(ctx context.Context, edit func(next *librarySet) error) error {
	e.changeMu.Lock()
	defer e.changeMu.Unlock()
	next := e.libraries().clone()
	if err := edit(next); err != nil {
		return err
	}
	if e.store != nil {
		if err := e.store.Save(ctx, next.dump()); err != nil {
			e.log.Warn("function libraries not saved", "err", err)
			return errors.New("ERR the function libraries could not be saved: " + err.Error())
		}
	}
	e.mu.Lock()
	e.fns = next
	e.mu.Unlock()
	return nil
}

// LibraryStore keeps the function libraries where they outlive the
// process (a file beside the embedded store's, the Redis backends' own
// function store), as a FUNCTION DUMP payload.
type LibraryStore interface {
	Save(ctx context.Context, payload []byte) error
	// Load returns what was saved last, nil if nothing was.
	Load(ctx context.Context) ([]byte, error)
}

// LoadLibraries replaces the libraries with those of the store: at start,
// and when a function is not found (another proxy may have loaded it).
func (e *Engine) LoadLibraries(ctx context.Context) error {
	if e.store == nil {
		return nil
	}
	e.changeMu.Lock()
	defer e.changeMu.Unlock()
	payload, err := e.store.Load(ctx)
	if err != nil || payload == nil {
		return err
	}
	next := newLibrarySet()
	libs, err := e.readPayload(payload)
	if err == nil {
		err = next.link(libs, false)
	}
	if err != nil {
		return fmt.Errorf("function libraries: %w", err)
	}
	e.mu.Lock()
	e.fns = next
	e.mu.Unlock()
	return nil
}

// loadLibrary runs lib's code in a new state, within timeout (0: none),
// and returns the state with the functions it registered. The first load
// of a library records its functions in lib; later ones (new states of
// the pool) must register the same.
func (e *Engine) loadLibrary(lib *library, timeout time.Duration) (*libState, error) {
	st := e.newState()
	L := st.L
	chunk, err := parse.Parse(strings.NewReader(lib.body), "@user_function")
	if err != nil {
		return nil, errors.New("ERR Error compiling function: " + compileMessage(err, "user_function"))
	}
	proto, err := lua.Compile(chunk, "user_function")
	if err != nil {
		return nil, errors.New("ERR Error compiling function: user_function: " + err.Error())
	}
	ls := &libState{st: st, fns: map[string]*lua.LFunction{}}
	ld := &loading{lib: lib, first: len(lib.funcs) == 0, state: ls}
	// The code sees only the load-time API while it runs; the functions
	// it defines see the globals of scripts once it has run.
	loadGlobals := L.NewTable()
	loadGlobals.RawSetString("redis", st.protect(st.loadRedisLib(), true))
	env := st.protectGlobals(func() *lua.LTable {
		if st.loading != nil {
			return loadGlobals
		}
		return st.globals
	})

	fn := L.NewFunctionFromProto(proto)
	fn.Env = env
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	st.loading = ld
	L.SetContext(ctx)
	L.Push(fn)
	err = L.PCall(0, 0, nil)
	L.RemoveContext()
	st.loading = nil
	L.SetTop(0)
	if err != nil {
		msg := "ERR FUNCTION LOAD timeout"
		if ctx.Err() == nil {
			msg = loadErrorMessage(err)
		}
		return nil, errors.New("ERR Error registering functions: " + msg)
	}
	if !ld.first && len(ls.fns) != len(lib.funcs) {
		return nil, errors.New("ERR the library registered other functions when loaded again")
	}
	return ls, nil
}

// loadErrorMessage is what luaExtractErrorInformation makes of what the
// library's code raised: an error table's err, or "ERR " and the string.
func loadErrorMessage(err error) string {
	var obj lua.LValue = lua.LString(err.Error())
	if ae, ok := err.(*lua.ApiError); ok {
		obj = ae.Object
	}
	if t, ok := obj.(*lua.LTable); ok {
		if s, ok := t.RawGetString("err").(lua.LString); ok {
			return string(s)
		}
	}
	return "ERR " + lua.LVAsString(obj)
}

// loading is a library's code running in a state.
type loading struct {
	lib   *library
	first bool // the library's first load: functions are recorded in lib
	state *libState
}

// loadRedisLib is the redis table library code sees while it loads.
func (st *state) loadRedisLib() *lua.LTable {
	L := st.L
	t := L.NewTable()
	t.RawSetString("register_function", L.NewFunction(st.registerFunction))
	t.RawSetString("log", L.NewFunction(st.redisLog))
	for name, v := range map[string]int{
		"LOG_DEBUG": logDebug, "LOG_VERBOSE": logVerbose, "LOG_NOTICE": logNotice, "LOG_WARNING": logWarning,
		"REDIS_VERSION_NUM": 0x07000f,
	} {
		t.RawSetString(name, lua.LNumber(v))
	}
	t.RawSetString("REDIS_VERSION", lua.LString("7.0.15"))
	return t
}

// registerFunction is redis.register_function, positional (name,
// callback) or named ({function_name=, callback=, flags=, description=}).
func (st *state) registerFunction(L *lua.LState) int {
	ld := st.loading
	raise := func(msg string) int {
		L.Error(errorTable(L, msg), 0)
		return 0
	}
	if ld == nil {
		return raise("redis.register_function can only be called on FUNCTION LOAD command")
	}
	f := &function{lib: ld.lib}
	var cb *lua.LFunction
	switch L.GetTop() {
	case 1:
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			return raise("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).")
		}
		var msg string
		named := false
		t.ForEach(func(k, v lua.LValue) {
			if msg != "" {
				return
			}
			key, ok := luaString(k)
			if !ok {
				msg = "named argument key given to redis.register_function is not a string"
				return
			}
			switch strings.ToLower(key) {
			case "function_name":
				if f.name, ok = luaString(v); !ok {
					msg = "function_name argument given to redis.register_function must be a string"
				}
				named = ok
			case "description":
				if f.desc, ok = luaString(v); !ok {
					msg = "description argument given to redis.register_function must be a string"
				}
				f.hasDesc = ok
			case "callback":
				if cb, ok = v.(*lua.LFunction); !ok {
					msg = "callback argument given to redis.register_function must be a function"
				}
			case "flags":
				ft, ok := v.(*lua.LTable)
				if !ok {
					msg = "flags argument to redis.register_function must be a table representing function flags"
					return
				}
				if f.flags, ok = readFlags(ft); !ok {
					msg = "unknown flag given"
				}
			default:
				msg = "unknown argument given to redis.register_function"
			}
		})
		switch {
		case msg != "":
			return raise(msg)
		case !named:
			return raise("redis.register_function must get a function name argument")
		case cb == nil:
			return raise("redis.register_function must get a callback argument")
		}
	case 2:
		var ok bool
		if f.name, ok = luaString(L.Get(1)); !ok {
			return raise("first argument to redis.register_function must be a string")
		}
		if cb, ok = L.Get(2).(*lua.LFunction); !ok {
			return raise("second argument to redis.register_function must be a function")
		}
	default:
		return raise("wrong number of arguments to redis.register_function")
	}
	if !validName(f.name) {
		return raise(errBadName)
	}
	if ld.state.fns[f.name] != nil {
		return raise("Function already exists in the library")
	}
	ld.state.fns[f.name] = cb
	if ld.first {
		ld.lib.funcs = append(ld.lib.funcs, f)
	}
	return 0
}

// luaString is lua_isstring's view of v: strings, and numbers as Lua
// prints them.
func luaString(v lua.LValue) (string, bool) {
	switch v := v.(type) {
	case lua.LString:
		return string(v), true
	case lua.LNumber:
		return v.String(), true
	}
	return "", false
}

// readFlags reads a flags table, {'no-writes', ...}, as Redis does: from
// index 1 to the first nil, names compared without case.
func readFlags(t *lua.LTable) (funcFlags, bool) {
	var flags funcFlags
	for i := 1; ; i++ {
		v := t.RawGetInt(i)
		if v == lua.LNil {
			return flags, true
		}
		s, ok := luaString(v)
		if !ok {
			return 0, false
		}
		found := false
		for bit, name := range funcFlagNames {
			if strings.EqualFold(name, s) {
				flags |= 1 << bit
				found = true
				break
			}
		}
		if !found {
			return 0, false
		}
	}
}

// fcall is FCALL and FCALL_RO.
func (e *Engine) fcall(ctx context.Context, cmdName string, args [][]byte, db int, w *resp.Writer, call Call) error {
	name := strings.ToLower(string(args[1]))
	f := e.libraries().funcs[name]
	if f == nil && e.store != nil {
		// Another proxy may have loaded it.
		if err := e.LoadLibraries(ctx); err != nil {
			e.log.Warn("function libraries not loaded", "err", err)
		}
		f = e.libraries().funcs[name]
	}
	if f == nil {
		w.Error("ERR Function not found")
		return nil
	}
	numkeys, ok := numKeys(args, "ERR Bad number of keys provided", w)
	if !ok {
		return nil
	}
	readOnly := cmdName == "fcall_ro"
	if readOnly && f.flags&flagNoWrites == 0 {
		w.Error(errROWithWriteFlag)
		return nil
	}
	ls, err := e.libState(f.lib)
	if err != nil {
		w.Error(err.Error())
		return nil
	}
	defer e.releaseLibState(f.lib, ls)
	L := ls.st.L
	r := &run{name: f.name, source: "@user_function", function: true, argv: args, call: call, db: db,
		readOnly: readOnly || f.flags&flagNoWrites != 0}
	keys, argv := args[3:3+numkeys], args[3+numkeys:]
	return e.execute(ctx, ls.st, r, ls.fns[f.name], []lua.LValue{luaArray(L, keys), luaArray(L, argv)}, w)
}

// libState takes a state of lib's pool, loading a new one when none is
// free.
func (e *Engine) libState(lib *library) (*libState, error) {
	e.mu.Lock()
	if n := len(lib.free); n > 0 {
		ls := lib.free[n-1]
		lib.free = lib.free[:n-1]
		e.mu.Unlock()
		return ls, nil
	}
	e.mu.Unlock()
	return e.loadLibrary(lib, 0)
}

// releaseLibState gives ls back to lib's pool; a few states suffice.
func (e *Engine) releaseLibState(lib *library, ls *libState) {
	e.mu.Lock()
	if len(lib.free) < 4 {
		lib.free = append(lib.free, ls)
	}
	e.mu.Unlock()
}

// functionCommand answers FUNCTION's subcommands.
func (e *Engine) functionCommand(ctx context.Context, args [][]byte, w *resp.Writer) {
	switch strings.ToLower(string(args[1])) {
	case "load":
		replace := false
		i := 2
		for ; i < len(args)-1; i++ {
			if !strings.EqualFold(string(args[i]), "replace") {
				w.Error("ERR Unknown option given: " + string(args[i]))
				return
			}
			replace = true
		}
		name, err := e.functionLoad(ctx, string(args[i]), replace)
		if err != nil {
			w.Error(err.Error())
			return
		}
		w.BulkString(name)
	case "delete":
		err := e.change(ctx, func(next *librarySet) error {
			lib := next.libs[string(args[2])]
			if lib == nil {
				return errors.New("ERR Library not found")
			}
			next.unlink(lib)
			return nil
		})
		if err != nil {
			w.Error(err.Error())
			return
		}
		w.OK()
	case "flush":
		if len(args) > 3 {
			w.Error(errSubcommandSyntax(args[1]))
			return
		}
		if len(args) == 3 && !strings.EqualFold(string(args[2]), "sync") && !strings.EqualFold(string(args[2]), "async") {
			w.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
			return
		}
		if err := e.change(ctx, func(next *librarySet) error { *next = *newLibrarySet(); return nil }); err != nil {
			w.Error(err.Error())
			return
		}
		w.OK()
	case "list":
		e.functionList(args, w)
	case "dump":
		w.Bulk(e.libraries().dump())
	case "restore":
		e.functionRestore(ctx, args, w)
	case "stats":
		e.functionStats(w)
	case "kill":
		e.kill(w, true)
	case "help":
		w.Array(len(functionHelp))
		for _, l := range functionHelp {
			w.Status(l)
		}
	}
}

// functionList is FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE].
func (e *Engine) functionList(args [][]byte, w *resp.Writer) {
	withCode := false
	var pattern []byte
	for i := 2; i < len(args); i++ {
		switch {
		case !withCode && strings.EqualFold(string(args[i]), "withcode"):
			withCode = true
		case pattern == nil && strings.EqualFold(string(args[i]), "libraryname"):
			if i >= len(args)-1 {
				w.Error("ERR library name argument was not given")
				return
			}
			i++
			pattern = args[i]
		default:
			w.Error("ERR Unknown argument " + string(args[i]))
			return
		}
	}
	var libs []*library
	for _, lib := range e.libraries().sorted() {
		if pattern == nil || keyspace.MatchFold(pattern, []byte(lib.name)) {
			libs = append(libs, lib)
		}
	}
	w.Array(len(libs))
	for _, lib := range libs {
		if withCode {
			w.Map(4)
		} else {
			w.Map(3)
		}
		w.BulkString("library_name")
		w.BulkString(lib.name)
		w.BulkString("engine")
		w.BulkString("LUA")
		w.BulkString("functions")
		w.Array(len(lib.funcs))
		for _, f := range lib.funcs {
			w.Map(3)
			w.BulkString("name")
			w.BulkString(f.name)
			w.BulkString("description")
			if f.hasDesc {
				w.BulkString(f.desc)
			} else {
				w.Null()
			}
			w.BulkString("flags")
			var names []string
			for bit, name := range funcFlagNames {
				if f.flags&(1<<bit) != 0 {
					names = append(names, name)
				}
			}
			w.Set(len(names))
			for _, n := range names {
				w.Status(n)
			}
		}
		if withCode {
			w.BulkString("library_code")
			w.BulkString(lib.code)
		}
	}
}

// rdbOpFunction2 is the RDB opcode before each library's code.
const rdbOpFunction2 = 245

// functionRestore is FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE].
func (e *Engine) functionRestore(ctx context.Context, args [][]byte, w *resp.Writer) {
	if len(args) > 4 {
		w.Error(errSubcommandSyntax(args[1]))
		return
	}
	policy := "append"
	if len(args) == 4 {
		policy = strings.ToLower(string(args[3]))
		if policy != "append" && policy != "replace" && policy != "flush" {
			w.Error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
			return
		}
	}
	libs, err := e.readPayload(args[2])
	if err == nil {
		err = e.change(ctx, func(next *librarySet) error {
			if policy == "flush" {
				*next = *newLibrarySet()
			}
			return next.link(libs, policy == "replace")
		})
	}
	if err != nil {
		w.Error(err.Error())
		return
	}
	w.OK()
}

// readPayload loads the libraries of a FUNCTION DUMP payload.
func (e *Engine) readPayload(payload []byte) ([]*library, error) {
	if rdb.CheckFooter(payload) != nil {
		return nil, errors.New("ERR DUMP payload version or checksum are wrong")
	}
	var libs []*library
	names := map[string]bool{}
	funcs := map[string]bool{}
	for p := payload[:len(payload)-10]; len(p) > 0; {
		if p[0] != rdbOpFunction2 {
			return nil, errors.New("ERR given type is not a function")
		}
		code, rest, err := rdb.ReadString(p[1:])
		if err != nil {
			return nil, errors.New("ERR Failed loading library payload")
		}
		p = rest
		_, name, body, err := libraryMeta(string(code))
		if err == nil && names[name] {
			err = fmt.Errorf("ERR Library '%s' already exists", name)
		}
		if err != nil {
			return nil, err
		}
		lib := &library{name: name, code: string(code), body: body}
		ls, err := e.loadLibrary(lib, 0)
		if err != nil {
			return nil, err
		}
		for _, f := range lib.funcs {
			if funcs[strings.ToLower(f.name)] {
				return nil, errors.New("ERR Function " + f.name + " already exists")
			}
			funcs[strings.ToLower(f.name)] = true
		}
		if len(lib.funcs) == 0 {
			return nil, errors.New("ERR No functions registered")
		}
		lib.free = append(lib.free, ls)
		names[name] = true
		libs = append(libs, lib)
	}
	return libs, nil
}

// functionStats is FUNCTION STATS: the running function, and how many
// libraries and functions there are.
func (e *Engine) functionStats(w *resp.Writer) {
	r := e.running.Load()
	if r != nil && !r.function {
		w.Error(ErrBusy)
		return
	}
	w.Map(2)
	w.BulkString("running_script")
	if r == nil {
		w.Null()
	} else {
		w.Map(3)
		w.BulkString("name")
		w.BulkString(r.name)
		w.BulkString("command")
		w.Array(len(r.argv))
		for _, a := range r.argv {
			w.Bulk(a)
		}
		w.BulkString("duration_ms")
		w.Int(time.Since(r.start).Milliseconds())
	}
	fns := e.libraries()
	nlibs, nfuncs := len(fns.libs), len(fns.funcs)
	w.BulkString("engines")
	w.Map(1)
	w.BulkString("LUA")
	w.Map(2)
	w.BulkString("libraries_count")
	w.Int(int64(nlibs))
	w.BulkString("functions_count")
	w.Int(int64(nfuncs))
}

var functionHelp = []string{
	"FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"LOAD [REPLACE] <FUNCTION CODE>",
	"    Create a new library with the given library name and code.",
	"DELETE <LIBRARY NAME>",
	"    Delete the given library.",
	"LIST [LIBRARYNAME PATTERN] [WITHCODE]",
	"    Return general information on all the libraries:",
	"    * Library name",
	"    * The engine used to run the Library",
	"    * Library description",
	"    * Functions list",
	"    * Library code (if WITHCODE is given)",
	"    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
	"STATS",
	"    Return information about the current function running:",
	"    * Function name",
	"    * Command used to run the function",
	"    * Duration in MS that the function is running",
	"    If no function is running, return nil",
	"    In addition, returns a list of available engines.",
	"KILL",
	"    Kill the current running function.",
	"FLUSH [ASYNC|SYNC]",
	"    Delete all the libraries.",
	"    When called without the optional mode argument, the behavior is determined by the",
	"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
	"    * ASYNC: Asynchronously flush the libraries.",
	"    * SYNC: Synchronously flush the libraries.",
	"DUMP",
	"    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
	"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
	"    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
	"    control how to handle existing libraries (default APPEND):",
	"    * FLUSH: delete all existing libraries.",
	"    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
	"    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
	"      libraries with the new libraries (notice that even on this option there is a chance of failure",
	"      in case of functions name collision with another library).",
	"HELP",
	"    Prints this help.",
}
