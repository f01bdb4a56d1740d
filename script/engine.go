// Package script runs Redis 7.0 Lua scripts on gopher-lua: EVAL, EVALSHA,
// their read-only forms and SCRIPT, with Redis's sandbox, redis.* API,
// Lua<->RESP conversions, error texts and the cjson, cmsgpack, bit and
// struct libraries. It knows nothing of shards: every redis.call goes to
// the Call its caller supplies (the coordinator's, which holds every shard
// while a script runs, so a script is one serializable transaction).
package script

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// Call runs one command for a running script in database db and appends
// its reply to w, in w's protocol. An error means the command could not be
// run at all (a shard failed); the script then fails with it.
type Call = func(cmd *command.Command, args [][]byte, db int, w *resp.Writer) error

// Config configures an Engine.
type Config struct {
	// Table resolves the commands scripts call; nil means command.Default.
	Table *command.Table
	// Logger receives redis.log lines; nil means slog.Default().
	Logger *slog.Logger
	// Libraries keeps the function libraries across restarts (and
	// between the proxies sharing it); nil keeps them in memory only.
	Libraries LibraryStore
	// BusyAfter is Redis's lua-time-limit (busy-reply-threshold): once a
	// script has run this long, other clients are answered BUSY and SCRIPT
	// KILL may stop it. 0 means 5 s, Redis's default.
	BusyAfter time.Duration
}

// Engine is the script cache and the Lua states that run scripts. It is
// safe for concurrent use; each running script has a state to itself.
type Engine struct {
	table     *command.Table
	log       *slog.Logger
	busyAfter time.Duration

	mu      sync.Mutex // guards scripts and free
	scripts map[string]*compiled
	free    []*state

	// rnd is math.random's generator, shared by every script as Redis's
	// is (Redis 7.0 no longer reseeds it per script).
	rndMu sync.Mutex // guards rnd
	rnd   lrand48

	// running is the script being run, for BUSY and SCRIPT KILL; scripts
	// run one at a time because each holds every shard.
	running atomic.Pointer[run]

	// fns are the function libraries (under mu); changeMu orders their
	// changes, store keeps them.
	fns      *librarySet
	changeMu sync.Mutex
	store    LibraryStore
}

// compiled is a script of the cache.
type compiled struct {
	sha   string
	proto *lua.FunctionProto
	flags scriptFlags
}

// scriptFlags are a script's shebang flags.
type scriptFlags struct {
	shebang  bool // the script has a shebang: no compatibility mode
	noWrites bool
}

// New returns an engine with an empty cache.
func New(cfg Config) *Engine {
	if cfg.Table == nil {
		cfg.Table = command.Default
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.BusyAfter == 0 {
		cfg.BusyAfter = 5 * time.Second
	}
	e := &Engine{table: cfg.Table, log: cfg.Logger, busyAfter: cfg.BusyAfter,
		scripts: map[string]*compiled{}, fns: newLibrarySet(), store: cfg.Libraries}
	e.rnd.seed(int32(time.Now().UnixNano()))
	return e
}

// RunScript runs a scripting command (cmd is flagged command.Scripting):
// EVAL and its kin run the script, calling call for every redis.call;
// SCRIPT manages the cache and needs no call. The reply goes to w.
func (e *Engine) RunScript(ctx context.Context, cmd *command.Command, args [][]byte, db int, w *resp.Writer, call Call) error {
	switch cmd.Name {
	case "script":
		e.scriptCommand(args, w)
		return nil
	case "function":
		e.functionCommand(ctx, args, w)
		return nil
	case "fcall", "fcall_ro":
		return e.fcall(ctx, cmd.Name, args, db, w, call)
	case "eval", "eval_ro", "evalsha", "evalsha_ro":
	default:
		w.Error("ERR unknown scripting command '" + cmd.Name + "'")
		return nil
	}
	numkeys, ok := numKeys(args, errNotInteger, w)
	if !ok {
		return nil
	}
	var sc *compiled
	var err error
	if cmd.Name == "eval" || cmd.Name == "eval_ro" {
		if sc, err = e.load(args[1]); err != nil {
			w.Error(err.Error())
			return nil
		}
	} else {
		e.mu.Lock()
		sc = e.scripts[strings.ToLower(string(args[1]))]
		e.mu.Unlock()
		if sc == nil {
			w.Error(errNoScript)
			return nil
		}
	}
	readOnly := strings.HasSuffix(cmd.Name, "_ro")
	if readOnly && sc.flags.shebang && !sc.flags.noWrites {
		w.Error(errROWithWriteFlag)
		return nil
	}
	keys := args[3 : 3+numkeys]
	argv := args[3+numkeys:]
	return e.eval(ctx, sc, keys, argv, db, readOnly || sc.flags.noWrites, w, call)
}

// numKeys reads the numkeys argument of EVAL and FCALL (args[2]) and
// checks it against the arguments, answering Redis's error to w if it is
// wrong; notInteger is the command's word for an unreadable one.
func numKeys(args [][]byte, notInteger string, w *resp.Writer) (int64, bool) {
	numkeys, err := strconv.ParseInt(string(args[2]), 10, 64)
	switch {
	case err != nil:
		w.Error(notInteger)
	case numkeys > int64(len(args)-3):
		w.Error(errTooManyKeys)
	case numkeys < 0:
		w.Error(errNegativeKeys)
	default:
		return numkeys, true
	}
	return 0, false
}

// Errors the engine answers before a script runs.
const (
	errNotInteger      = "ERR value is not an integer or out of range"
	errTooManyKeys     = "ERR Number of keys can't be greater than number of args"
	errNegativeKeys    = "ERR Number of keys can't be negative"
	errNoScript        = "NOSCRIPT No matching script. Please use EVAL."
	errROWithWriteFlag = "ERR Can not execute a script with write flag using *_ro command."
	errNotBusy         = "NOTBUSY No scripts in execution right now."
	errUnkillable      = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
	// ErrBusy is the reply to other clients once a script has run past
	// the time limit.
	ErrBusy = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
)

// sha1hex is Redis's script digest.
func sha1hex(b []byte) string {
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}

// load returns the cached script of body, compiling and caching it first
// when it is new (EVAL caches as SCRIPT LOAD does).
func (e *Engine) load(body []byte) (*compiled, error) {
	sha := sha1hex(body)
	e.mu.Lock()
	sc := e.scripts[sha]
	e.mu.Unlock()
	if sc != nil {
		return sc, nil
	}
	flags, src, err := parseShebang(string(body))
	if err != nil {
		return nil, err
	}
	chunk, err := parse.Parse(strings.NewReader(src), "@user_script")
	if err != nil {
		return nil, errors.New("ERR Error compiling script (new function): " + compileMessage(err, "user_script"))
	}
	proto, err := lua.Compile(chunk, "user_script")
	if err != nil {
		return nil, errors.New("ERR Error compiling script (new function): user_script: " + err.Error())
	}
	sc = &compiled{sha: sha, proto: proto, flags: flags}
	e.mu.Lock()
	if old := e.scripts[sha]; old != nil {
		sc = old
	} else {
		e.scripts[sha] = sc
	}
	e.mu.Unlock()
	return sc, nil
}

// compileMessage renders a gopher-lua syntax error in Lua 5.1's shape
// ("user_script:LINE: message near 'token'"); the messages themselves are
// gopher-lua's, not Lua's.
func compileMessage(err error, chunk string) string {
	var pe *parse.Error
	if errors.As(err, &pe) {
		line := strconv.Itoa(pe.Pos.Line)
		if pe.Pos.Line == parse.EOF {
			return chunk + ": " + pe.Message + " near '<eof>'"
		}
		return chunk + ":" + line + ": " + pe.Message + " near '" + pe.Token + "'"
	}
	return chunk + ": " + err.Error()
}

// parseShebang reads Redis 7.0's "#!lua flags=..." first line and returns
// the body to compile, with the shebang blanked so line numbers stay.
func parseShebang(body string) (scriptFlags, string, error) {
	var f scriptFlags
	if !strings.HasPrefix(body, "#!") {
		return f, body, nil
	}
	end := strings.IndexByte(body, '\n')
	if end < 0 {
		return f, "", errors.New("ERR Invalid script shebang")
	}
	parts := strings.Fields(body[:end])
	if len(parts) == 0 {
		return f, "", errors.New("ERR Invalid engine in script shebang")
	}
	if parts[0] != "#!lua" {
		return f, "", errors.New("ERR Unexpected engine in script shebang: " + parts[0])
	}
	f.shebang = true
	for _, p := range parts[1:] {
		list, ok := strings.CutPrefix(p, "flags=")
		if !ok {
			return f, "", errors.New("ERR Unknown lua shebang option: " + p)
		}
		for _, fl := range strings.Split(list, ",") {
			switch fl {
			case "no-writes":
				f.noWrites = true
			case "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys":
				// Nothing to do here: memory is not capped, there is no
				// replica or cluster state, and every key is reachable.
			case "":
			default:
				return f, "", errors.New("ERR Unexpected flag in script shebang: " + fl)
			}
		}
	}
	return f, body[end:], nil
}

// scriptCommand answers SCRIPT's subcommands.
func (e *Engine) scriptCommand(args [][]byte, w *resp.Writer) {
	switch strings.ToLower(string(args[1])) {
	case "load":
		sc, err := e.load(args[2])
		if err != nil {
			w.Error(err.Error())
			return
		}
		w.BulkString(sc.sha)
	case "exists":
		w.Array(len(args) - 2)
		e.mu.Lock()
		for _, a := range args[2:] {
			if e.scripts[strings.ToLower(string(a))] != nil {
				w.Int(1)
			} else {
				w.Int(0)
			}
		}
		e.mu.Unlock()
	case "flush":
		if len(args) > 3 || (len(args) == 3 && !strings.EqualFold(string(args[2]), "sync") && !strings.EqualFold(string(args[2]), "async")) {
			w.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
			return
		}
		e.mu.Lock()
		e.scripts = map[string]*compiled{}
		e.mu.Unlock()
		w.OK()
	case "kill":
		e.kill(w, false)
	case "debug":
		w.Error("ERR SCRIPT DEBUG is not supported by schemaproxy")
	case "help":
		w.Array(len(scriptHelp))
		for _, l := range scriptHelp {
			w.Status(l)
		}
	}
}

var scriptHelp = []string{
	"SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"DEBUG (YES|SYNC|NO)",
	"    Set the debug mode for subsequent scripts executed.",
	"EXISTS <sha1> [<sha1> ...]",
	"    Return information about the existence of the scripts in the script cache.",
	"FLUSH [ASYNC|SYNC]",
	"    Flush the Lua scripts cache. Very dangerous on replicas.",
	"    When called without the optional mode argument, the behavior is determined by the",
	"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
	"    * ASYNC: Asynchronously flush the scripts cache.",
	"    * SYNC: Synchronously flush the scripts cache.",
	"KILL",
	"    Kill the currently executing Lua script.",
	"LOAD <script>",
	"    Load a script into the scripts cache without executing it.",
	"HELP",
	"    Prints this help.",
}

// Busy returns the BUSY error other clients get once a script or
// function has run past the time limit, or "" (commands flagged
// allow-busy still run).
func (e *Engine) Busy() string {
	r := e.running.Load()
	switch {
	case r == nil || time.Since(r.start) < e.busyAfter:
		return ""
	case r.function:
		return errBusyFunction
	}
	return ErrBusy
}

// kill stops the running script (SCRIPT KILL) or function (FUNCTION
// KILL) if it has not written.
func (e *Engine) kill(w *resp.Writer, function bool) {
	r := e.running.Load()
	switch {
	case r == nil:
		w.Error(errNotBusy)
	case r.wrote.Load():
		w.Error(errUnkillable)
	case r.function && !function:
		w.Error(errBusyFunction)
	case !r.function && function:
		w.Error(ErrBusy)
	default:
		r.killed.Store(true)
		r.cancel()
		w.OK()
	}
}
