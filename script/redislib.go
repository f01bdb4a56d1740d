package script

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// Errors of redis.call, as Redis 7.0 words them (the ERR code is added
// when they become error tables).
const (
	errNoArgs        = "Please specify at least one argument for this redis lib call"
	errArgType       = "Lua redis lib command arguments must be strings or integers"
	errUnknownCmd    = "Unknown Redis command called from script"
	errWrongArgs     = "Wrong number of args calling Redis command from script"
	errNotAllowed    = "This Redis command is not allowed from script"
	errWriteReadOnly = "Write commands are not allowed from read-only scripts."
)

// Redis's log levels and propagation flags, as scripts see them.
const (
	logDebug, logVerbose, logNotice, logWarning = 0, 1, 2, 3
	replNone, replAOF, replReplica, replAll     = 0, 1, 2, 3
)

func (st *state) redisLib() *lua.LTable {
	L := st.L
	t := L.NewTable()
	fns := map[string]lua.LGFunction{
		"call":          func(L *lua.LState) int { return st.redisCall(L, true) },
		"pcall":         func(L *lua.LState) int { return st.redisCall(L, false) },
		"log":           st.redisLog,
		"setresp":       st.redisSetresp,
		"sha1hex":       redisSha1hex,
		"error_reply":   redisErrorReply,
		"status_reply":  redisStatusReply,
		"set_repl":      redisSetRepl,
		"acl_check_cmd": st.redisACLCheck,
		// No debugger: these do what they do outside SCRIPT DEBUG.
		"breakpoint": func(L *lua.LState) int { L.Push(lua.LFalse); return 1 },
		"debug":      func(L *lua.LState) int { return 0 },
		"replicate_commands": func(L *lua.LState) int {
			L.Push(lua.LTrue)
			return 1
		},
	}
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	for name, v := range map[string]int{
		"LOG_DEBUG": logDebug, "LOG_VERBOSE": logVerbose, "LOG_NOTICE": logNotice, "LOG_WARNING": logWarning,
		"REPL_NONE": replNone, "REPL_AOF": replAOF, "REPL_SLAVE": replReplica, "REPL_REPLICA": replReplica,
		"REPL_ALL": replAll, "REDIS_VERSION_NUM": 0x07000f,
	} {
		t.RawSetString(name, lua.LNumber(v))
	}
	t.RawSetString("REDIS_VERSION", lua.LString("7.0.15"))
	return t
}

// errorTable builds the table Redis raises or returns for an error: msg
// "-CODE text" keeps its code, a plain text gets ERR.
func errorTable(L *lua.LState, msg string) *lua.LTable {
	var code, text string
	if strings.HasPrefix(msg, "-") {
		if i := strings.IndexByte(msg, ' '); i >= 0 {
			code, text = msg[1:i], msg[i+1:]
		} else {
			code, text = "ERR", msg[1:]
		}
	} else {
		code, text = "ERR", msg
	}
	text = strings.Trim(text, "\r\n")
	t := L.NewTable()
	t.RawSetString("err", lua.LString(code+" "+text))
	return t
}

// fail raises the error of redis.call, or returns it from redis.pcall.
func fail(L *lua.LState, raise bool, msg string) int {
	t := errorTable(L, msg)
	if raise {
		L.Error(t, 0)
	}
	L.Push(t)
	return 1
}

func (st *state) redisCall(L *lua.LState, raise bool) int {
	r := st.run
	if r == nil {
		return fail(L, true, "redis.call/pcall can only be called inside a script invocation")
	}
	argc := L.GetTop()
	if argc == 0 {
		return fail(L, raise, errNoArgs)
	}
	args := make([][]byte, argc)
	for i := 1; i <= argc; i++ {
		switch v := L.Get(i).(type) {
		case lua.LNumber:
			args[i-1] = strconv.AppendFloat(nil, float64(v), 'g', 17, 64)
		case lua.LString:
			args[i-1] = []byte(v)
		default:
			L.SetTop(0)
			return fail(L, raise, errArgType)
		}
	}
	L.SetTop(0)
	cmd := st.engine.table.Lookup(args[0])
	if cmd != nil && cmd.Subcommands != nil && len(args) > 1 {
		if sub := cmd.Subcommand(args[1]); sub != nil {
			cmd = sub
		} else {
			cmd = nil
		}
	}
	switch {
	case cmd == nil:
		return fail(L, raise, errUnknownCmd)
	case !cmd.CheckArity(len(args)):
		return fail(L, raise, errWrongArgs)
	case cmd.Is(command.NoScript):
		return fail(L, raise, errNotAllowed)
	case (cmd.Is(command.Write) || cmd.Name == "publish" || cmd.Name == "spublish") && r.readOnly:
		// PUBLISH is may-replicate: refused with the writes, as Redis does.
		return fail(L, raise, errWriteReadOnly)
	}
	if cmd.Is(command.Write) {
		r.wrote.Store(true)
	}
	w := resp.Writer{Proto: r.resp}
	if msg, ok := xreadBlockError(cmd, args); ok {
		w.Error(msg)
	} else if !st.connCommand(cmd, args, &w) {
		// PUBLISH goes to call like data commands: the caller delivers
		// the script's messages when it commits.
		publish := cmd.Name == "publish" || cmd.Name == "spublish"
		if (cmd.Is(command.Conn) && !publish) || cmd.Is(command.Server) || cmd.Is(command.Unsupported) {
			return fail(L, raise, errNotAllowed)
		}
		if err := r.call(cmd, args, r.db, &w); err != nil {
			// The shards failed: nothing the script can handle. The
			// reply is the failure, and the script stops here.
			r.err = err
			r.cancel()
			L.RaiseError("%s", err.Error())
		}
	}
	v, _, err := resp.Parse(w.B)
	if err != nil {
		return fail(L, raise, "ERR reply of "+cmd.Name+" unreadable: "+err.Error())
	}
	if v.Kind == resp.KindError {
		return fail(L, raise, "-"+string(v.Str))
	}
	L.Push(toLua(L, v))
	return 1
}

// connCommand answers the connection commands a script may call (SELECT
// changes only the script's database, as in Redis 7.0).
func (st *state) connCommand(cmd *command.Command, args [][]byte, w *resp.Writer) bool {
	switch cmd.Name {
	case "select":
		n, err := strconv.Atoi(string(args[1]))
		if err != nil {
			w.Error(errNotInteger)
		} else if n < 0 || n >= 16 {
			w.Error("ERR DB index is out of range")
		} else {
			st.run.db = n
			w.OK()
		}
	case "ping":
		if len(args) > 1 {
			w.Bulk(args[1])
		} else {
			w.Status("PONG")
		}
	case "echo":
		w.Bulk(args[1])
	default:
		return false
	}
	return true
}

func (st *state) redisLog(L *lua.LState) int {
	argc := L.GetTop()
	if argc < 2 {
		L.Error(errorTable(L, "redis.log() requires two arguments or more."), 0)
	}
	lv, ok := L.Get(1).(lua.LNumber)
	if !ok {
		if s, isStr := L.Get(1).(lua.LString); isStr {
			if f, err := strconv.ParseFloat(strings.TrimSpace(string(s)), 64); err == nil {
				lv, ok = lua.LNumber(f), true
			}
		}
	}
	if !ok {
		L.Error(errorTable(L, "First argument must be a number (log level)."), 0)
	}
	level := int(lv)
	if level < logDebug || level > logWarning {
		L.Error(errorTable(L, "Invalid debug level."), 0)
	}
	var parts []string
	for i := 2; i <= argc; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString, lua.LNumber:
			parts = append(parts, v.String())
		}
	}
	msg := strings.Join(parts, " ")
	switch level {
	case logWarning:
		st.engine.log.Warn(msg, "source", "script")
	case logNotice:
		st.engine.log.Info(msg, "source", "script")
	default:
		st.engine.log.Debug(msg, "source", "script")
	}
	return 0
}

func (st *state) redisSetresp(L *lua.LState) int {
	if st.run == nil {
		L.Error(errorTable(L, "redis.setresp can only be called inside a script invocation"), 0)
	}
	if L.GetTop() != 1 {
		L.Error(errorTable(L, "redis.setresp() requires one argument."), 0)
	}
	n := int(L.ToNumber(1))
	if n != 2 && n != 3 {
		L.Error(errorTable(L, "RESP version must be 2 or 3."), 0)
	}
	st.run.resp = n
	return 0
}

func redisSha1hex(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.Error(errorTable(L, "wrong number of arguments"), 0)
	}
	L.Push(lua.LString(sha1hex([]byte(L.ToString(1)))))
	return 1
}

func redisErrorReply(L *lua.LState) int {
	s, ok := L.Get(1).(lua.LString)
	if L.GetTop() != 1 || !ok {
		L.Push(errorTable(L, "wrong number or type of arguments"))
		return 1
	}
	msg := string(s)
	if !strings.HasPrefix(msg, "-") {
		msg = "-" + msg
	}
	L.Push(errorTable(L, msg))
	return 1
}

func redisStatusReply(L *lua.LState) int {
	s, ok := L.Get(1).(lua.LString)
	if L.GetTop() != 1 || !ok {
		L.Push(errorTable(L, "wrong number or type of arguments"))
		return 1
	}
	t := L.NewTable()
	t.RawSetString("ok", s)
	L.Push(t)
	return 1
}

// redisSetRepl checks its argument as Redis does; effects are always what
// is logged here, so there is nothing to switch.
func redisSetRepl(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.Error(errorTable(L, "redis.set_repl() requires two arguments."), 0)
	}
	if flags := int(L.ToNumber(1)); flags&^replAll != 0 {
		L.Error(errorTable(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."), 0)
	}
	return 0
}

// redisACLCheck answers true for every known command: there are no ACL
// users besides the default one.
func (st *state) redisACLCheck(L *lua.LState) int {
	if L.GetTop() == 0 {
		L.Error(errorTable(L, errNoArgs), 0)
	}
	if st.engine.table.Lookup([]byte(L.ToString(1))) == nil {
		L.Error(errorTable(L, "Invalid command passed to redis.acl_check_cmd()"), 0)
	}
	L.Push(lua.LTrue)
	return 1
}
