// Package command is the command table: for every command its name, arity,
// flags and key positions. It is the single source that routing, queue-time
// validation (EXECABORT), locking and COMMAND INFO read; nothing else knows
// which arguments are keys or whether a command writes.
package command

import (
	"bytes"
	"strconv"
	"strings"
)

// Flag describes a property of a command.
type Flag uint32

// Command flags. The first group mirrors Redis's own COMMAND INFO flags; the
// second group is how schemaproxy routes a command.
const (
	Write Flag = 1 << iota
	ReadOnly
	DenyOOM
	Admin
	PubSub
	NoScript
	Random
	Loading
	Stale
	SkipMonitor
	Fast
	NoAuth
	NoMulti // refused inside MULTI (WATCH)
	Blocking
	// NoMandatoryKeys: the command may take no key at all (EVAL 0).
	NoMandatoryKeys
	// AllowBusy: runs while a script is busy (SCRIPT KILL).
	AllowBusy

	// Conn commands act on the client connection, not on data (PING,
	// SELECT, MULTI...). The proxy handles them.
	Conn
	// Global commands act on whole databases, every shard (DBSIZE, KEYS,
	// FLUSHDB, SWAPDB...).
	Global
	// Server commands are answered by the proxy from its own state (INFO,
	// TIME, CONFIG, COMMAND).
	Server
	// Unsupported commands exist in Redis but not here yet; they answer a
	// clear error rather than "unknown command".
	Unsupported
	// NotKey marks key positions that name shard channels, not data
	// (Redis's NOT_KEY key spec: SPUBLISH, SSUBSCRIBE): COMMAND INFO shows
	// them, COMMAND GETKEYS does not, and no shard is asked about them.
	NotKey
	// Scripting commands run Lua scripts (EVAL, EVALSHA...) or manage
	// their cache (SCRIPT): the coordinator hands them to its script
	// runner, with every shard held while a script runs.
	Scripting
)

// routing are the flags that say who runs a command; subcommands inherit
// them from their container.
const routing = Conn | Global | Server | Unsupported | NotKey | Scripting

var flagNames = []struct {
	f    Flag
	name string
}{
	{Write, "write"}, {ReadOnly, "readonly"}, {DenyOOM, "denyoom"}, {Admin, "admin"},
	{PubSub, "pubsub"}, {NoScript, "noscript"}, {Random, "random"}, {Loading, "loading"},
	{Stale, "stale"}, {SkipMonitor, "skip_monitor"}, {Fast, "fast"}, {NoAuth, "no_auth"},
	{NoMandatoryKeys, "no_mandatory_keys"}, {NoMulti, "no_multi"}, {Blocking, "blocking"},
	{AllowBusy, "allow_busy"},
}

// Names returns the Redis names of the flags set in f, for COMMAND INFO.
func (f Flag) Names() []string {
	var out []string
	for _, n := range flagNames {
		if f&n.f != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// KeysFunc returns the indexes of the key arguments of args (args[0] is the
// command name) for commands whose keys are not a fixed range, or ok=false
// when the arguments are malformed (the command itself reports the error).
type KeysFunc func(args [][]byte) (idx []int, ok bool)

// Command is one entry of the table.
type Command struct {
	// Name is lower case, as COMMAND INFO reports it.
	Name string
	// ID indexes per-command arrays (handlers, statistics).
	ID int
	// Arity is Redis's: N means exactly N arguments including the name, -N
	// at least N.
	Arity int
	Flags Flag
	// FirstKey, LastKey and Step locate the keys as in COMMAND INFO; LastKey
	// -1 means the last argument, -2 the one before. FirstKey 0: no keys.
	FirstKey, LastKey, Step int
	// Keys, when set, overrides FirstKey/LastKey/Step.
	Keys KeysFunc
	// Group is the Redis documentation group (string, list, generic, ...).
	Group string
	// Split, when set, says the command is independent per key (MSET,
	// MGET, DEL...): its keys on several shards run as one native command
	// per shard, whose replies merge as Split.Merge says.
	Split *Split
	// Merge says how the replies of a Global command run on every shard
	// become one (DBSIZE adds, KEYS concatenates...).
	Merge MergeKind
	// ACL categories, for COMMAND INFO.
	Categories []string
	// Subcommands, set for container commands (CLIENT, CONFIG, PUBSUB...),
	// are their subcommands by lower-case name. Each is a Command of its
	// own whose Name is Redis's full name ("pubsub|channels"), with the
	// parent's ID (statistics count under the parent).
	Subcommands map[string]*Command
	// Summary and Since document a command of ours (TXN) in COMMAND DOCS;
	// empty for Redis's commands.
	Summary, Since string
}

// Split describes a command that is independent per key.
type Split struct {
	// Step is the number of arguments per key (MSET: key value).
	Step  int
	Merge MergeKind
}

// MergeKind is how the replies of a command's parts on several shards
// become the client's one reply.
type MergeKind uint8

// The ways replies merge.
const (
	MergeNone   MergeKind = iota
	MergeOK               // every part answers +OK (MSET)
	MergeSum              // integer replies add up (DEL, EXISTS, DBSIZE)
	MergeOrder            // array elements in the original key order (MGET)
	MergeConcat           // arrays concatenated (KEYS)
	MergeRandom           // one non-null reply at random (RANDOMKEY)
	MergeSame             // every shard answers the same; the first counts (FLUSHDB)
	MergeScan             // a cursor walks the shards one after another (SCAN)
)

// Is reports whether c has every flag in f.
func (c *Command) Is(f Flag) bool { return c.Flags&f == f }

// CheckArity reports whether n arguments (including the name) suit c.
func (c *Command) CheckArity(n int) bool {
	if c.Arity >= 0 {
		return n == c.Arity
	}
	return n >= -c.Arity
}

// Subcommand finds the subcommand of a container command by name, in any
// case, without allocating; nil when there is none of that name.
func (c *Command) Subcommand(name []byte) *Command {
	var buf [32]byte
	low, ok := lower(buf[:0], name)
	if !ok {
		return nil
	}
	return c.Subcommands[string(low)]
}

// lower appends name in lower case to buf, unless it is longer than buf's
// capacity (no command name is): lookups then allocate nothing.
func lower(buf, name []byte) ([]byte, bool) {
	if len(name) > cap(buf) {
		return nil, false
	}
	for _, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf = append(buf, ch)
	}
	return buf, true
}

// KeyIndexes appends to dst the positions of the key arguments in args.
// ok is false when the arguments do not let the keys be found (a bad
// numkeys, say); the command then reports its own error.
func (c *Command) KeyIndexes(dst []int, args [][]byte) ([]int, bool) {
	if c.Keys != nil {
		idx, ok := c.Keys(args)
		return append(dst, idx...), ok
	}
	if c.FirstKey <= 0 {
		return dst, true
	}
	last := c.LastKey
	if last < 0 {
		last = len(args) + last
	}
	if last >= len(args) {
		last = len(args) - 1
	}
	for i := c.FirstKey; i <= last; i += c.Step {
		dst = append(dst, i)
	}
	return dst, true
}

// Table is an immutable set of commands indexed by name.
type Table struct {
	byName map[string]*Command
	all    []*Command
}

// Lookup finds a command by name, in any case, without allocating.
func (t *Table) Lookup(name []byte) *Command {
	if c, ok := t.byName[string(name)]; ok {
		return c
	}
	var buf [32]byte
	low, ok := lower(buf[:0], name)
	if !ok {
		return nil
	}
	return t.byName[string(low)]
}

// All returns every command in ID order.
func (t *Table) All() []*Command { return t.all }

// Len is the number of commands.
func (t *Table) Len() int { return len(t.all) }

// Default is the table of every command schemaproxy knows. It is built once
// and never changed.
var Default = build()

func build() *Table {
	t := &Table{byName: map[string]*Command{}}
	for _, fam := range families {
		for _, s := range fam.specs {
			c := &Command{
				Name: s.Name, ID: len(t.all), Arity: s.Arity, Flags: s.Flags,
				FirstKey: s.First, LastKey: s.Last, Step: s.Step,
				Keys: s.Keys, Group: fam.group, Split: s.Split, Merge: s.Merge,
				Summary: s.Summary, Since: s.Since,
			}
			if c.Step == 0 {
				c.Step = 1
			}
			c.Categories = categories(c)
			for _, sub := range s.Subcommands {
				if c.Subcommands == nil {
					c.Subcommands = map[string]*Command{}
				}
				sc := &Command{Name: c.Name + "|" + sub.Name, ID: c.ID, Arity: sub.Arity,
					Flags: sub.Flags | c.Flags&routing, Group: fam.group, Summary: sub.Summary, Since: sub.Since}
				sc.Step = 1
				sc.Categories = categories(sc)
				c.Subcommands[sub.Name] = sc
			}
			if _, dup := t.byName[c.Name]; dup {
				panic("command: duplicate entry " + c.Name)
			}
			t.byName[c.Name] = c
			// Clients send names in upper case more often than not: index
			// that spelling too, so the common lookup is a single map access.
			t.byName[strings.ToUpper(c.Name)] = c
			t.all = append(t.all, c)
		}
	}
	return t
}

func categories(c *Command) []string {
	var cats []string
	if c.Group != "" && c.Group != "server" && c.Group != "connection" && c.Group != "transactions" {
		cats = append(cats, "@"+c.Group)
	}
	if c.Is(Write) {
		cats = append(cats, "@write")
	}
	if c.Is(ReadOnly) {
		cats = append(cats, "@read")
	}
	if c.Is(Fast) {
		cats = append(cats, "@fast")
	} else {
		cats = append(cats, "@slow")
	}
	if c.Is(Admin) {
		cats = append(cats, "@admin", "@dangerous")
	}
	if c.Is(Blocking) {
		cats = append(cats, "@blocking")
	}
	switch c.Group {
	case "connection":
		cats = append(cats, "@connection")
	case "transactions":
		cats = append(cats, "@transaction")
	}
	return cats
}

// numKeysAt returns a KeysFunc for commands whose argument at pos is a key
// count followed by that many keys (ZUNION, LMPOP, SINTERCARD...); extra
// names fixed key positions before it (ZUNIONSTORE's destination).
func numKeysAt(pos int, extra ...int) KeysFunc {
	return func(args [][]byte) ([]int, bool) {
		if pos >= len(args) {
			return nil, false
		}
		n, err := strconv.Atoi(string(args[pos]))
		// n is compared before any addition: a huge count must not wrap.
		if err != nil || n <= 0 || n >= len(args)-pos {
			return nil, false
		}
		idx := append([]int(nil), extra...)
		for i := 0; i < n; i++ {
			idx = append(idx, pos+1+i)
		}
		return idx, true
	}
}

// twoKeys is for commands whose first two arguments are keys and whose
// other arguments are not (COPY, LCS).
func twoKeys(args [][]byte) ([]int, bool) {
	if len(args) < 3 {
		return nil, false
	}
	return []int{1, 2}, true
}

// OtherDB returns the database, besides the client's, that a command
// writes its key into: MOVE key db, COPY src dst DB n. The index is parsed
// leniently (a superset of what the command accepts), so callers that
// must see every database a command may touch never miss one.
func (c *Command) OtherDB(args [][]byte) (int, bool) {
	var arg []byte
	switch c.Name {
	case "move":
		if len(args) > 2 {
			arg = args[2]
		}
	case "copy":
		for i := 3; i+1 < len(args); i++ {
			if bytes.EqualFold(args[i], []byte("db")) {
				arg = args[i+1]
			}
		}
	}
	if arg == nil {
		return 0, false
	}
	n, err := strconv.Atoi(string(arg))
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
