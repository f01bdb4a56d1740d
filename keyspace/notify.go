package keyspace

import (
	"strings"

	"github.com/schemaproxy/schemaproxy/command"
)

// Keyspace notifications (notify-keyspace-events): a command that changed
// keys yields events, in the order Redis fires them, which the shard
// publishes on __keyspace@<db>__:<key> and __keyevent@<db>__:<event>.
// Events are only gathered when Ctx.Notify has a class set, so the cost
// is one comparison per command otherwise.

// ErrNotifyClasses is Redis's reason for refusing a notify-keyspace-events.
const ErrNotifyClasses = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."

// NotifyFlags are the classes of notify-keyspace-events, as Redis's bits.
type NotifyFlags uint16

// The classes, by their letter in notify-keyspace-events.
const (
	NotifyKeyspace NotifyFlags = 1 << iota // K
	NotifyKeyevent                         // E
	NotifyGeneric                          // g
	NotifyString                           // $
	NotifyList                             // l
	NotifySet                              // s
	NotifyHash                             // h
	NotifyZset                             // z
	NotifyExpired                          // x
	NotifyEvicted                          // e
	NotifyStream                           // t
	NotifyKeyMiss                          // m
	notifyLoaded                           // modules only
	NotifyModule                           // d
	NotifyNew                              // n
	// NotifyAll is "A": every class but m and n.
	NotifyAll = NotifyGeneric | NotifyString | NotifyList | NotifySet | NotifyHash | NotifyZset |
		NotifyExpired | NotifyEvicted | NotifyStream | NotifyModule
)

var notifyLetters = []struct {
	f NotifyFlags
	c byte
}{
	{NotifyGeneric, 'g'}, {NotifyString, '$'}, {NotifyList, 'l'}, {NotifySet, 's'}, {NotifyHash, 'h'},
	{NotifyZset, 'z'}, {NotifyExpired, 'x'}, {NotifyEvicted, 'e'}, {NotifyStream, 't'}, {NotifyModule, 'd'},
	{NotifyNew, 'n'},
}

// ParseNotifyFlags reads notify-keyspace-events as Redis does; ok is false
// at a character that names no class.
func ParseNotifyFlags(s string) (f NotifyFlags, ok bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 'A':
			f |= NotifyAll
		case 'K':
			f |= NotifyKeyspace
		case 'E':
			f |= NotifyKeyevent
		case 'm':
			f |= NotifyKeyMiss
		default:
			found := false
			for _, l := range notifyLetters {
				if l.c == c {
					f |= l.f
					found = true
				}
			}
			if !found {
				return 0, false
			}
		}
	}
	return f, true
}

// String renders f as CONFIG GET shows it.
func (f NotifyFlags) String() string {
	var b strings.Builder
	if f&NotifyAll == NotifyAll {
		b.WriteByte('A') // n is not shown beside A: Redis's rendering
	} else {
		for _, l := range notifyLetters {
			if f&l.f != 0 {
				b.WriteByte(l.c)
			}
		}
	}
	if f&NotifyKeyspace != 0 {
		b.WriteByte('K')
	}
	if f&NotifyKeyevent != 0 {
		b.WriteByte('E')
	}
	if f&NotifyKeyMiss != 0 {
		b.WriteByte('m')
	}
	return b.String()
}

// Publishes reports whether f makes any event published: a class and a
// channel kind (K or E).
func (f NotifyFlags) Publishes() bool {
	return f&(NotifyKeyspace|NotifyKeyevent) != 0 && f&^(NotifyKeyspace|NotifyKeyevent) != 0
}

// Event is one keyspace event.
type Event struct {
	Class NotifyFlags
	Name  string
	DB    int
	Key   string
}

// notify records an event of class on key if the class is on.
func (c *Ctx) notify(class NotifyFlags, name string, key []byte) {
	if c.Notify&class != 0 {
		c.Events = append(c.Events, Event{Class: class, Name: name, DB: c.DBIndex, Key: string(key)})
	}
}

// notifyIn is notify for a key of another database (MOVE, COPY ... DB).
func (c *Ctx) notifyIn(db int, class NotifyFlags, name string, key []byte) {
	if c.Notify&class != 0 {
		c.Events = append(c.Events, Event{Class: class, Name: name, DB: db, Key: string(key)})
	}
}

// live reports whether key exists and has not expired, changing nothing.
func (db *DB) live(key []byte, now int64) bool {
	_, at, ok := db.lookupMeta(string(key))
	return ok && (at == 0 || at > now)
}

// eventSpec is what a command fires on each key it wrote: the event's
// class and name; an empty name means the command fires its own (see
// runNotifying's cases).
type eventSpec struct {
	class NotifyFlags
	name  string
}

// eventSpecs are the events of write commands, from Redis 7.0's calls of
// notifyKeyspaceEvent.
var eventSpecs = map[string]eventSpec{
	"set": {NotifyString, "set"}, "setnx": {NotifyString, "set"}, "setex": {NotifyString, "set"},
	"psetex": {NotifyString, "set"}, "getset": {NotifyString, "set"}, "mset": {NotifyString, "set"},
	"msetnx": {NotifyString, "set"}, "append": {NotifyString, "append"}, "setrange": {NotifyString, "setrange"},
	"incr": {NotifyString, "incrby"}, "decr": {NotifyString, "incrby"}, "incrby": {NotifyString, "incrby"},
	"decrby": {NotifyString, "incrby"}, "incrbyfloat": {NotifyString, "incrbyfloat"},
	"setbit": {NotifyString, "setbit"}, "bitfield": {NotifyString, "setbit"}, "bitop": {NotifyString, "set"},
	"lpush": {NotifyList, "lpush"}, "lpushx": {NotifyList, "lpush"}, "rpush": {NotifyList, "rpush"},
	"rpushx": {NotifyList, "rpush"}, "linsert": {NotifyList, "linsert"}, "lset": {NotifyList, "lset"},
	"lrem": {NotifyList, "lrem"}, "ltrim": {NotifyList, "ltrim"}, "lpop": {NotifyList, "lpop"},
	"rpop": {NotifyList, "rpop"}, "blpop": {NotifyList, "lpop"}, "brpop": {NotifyList, "rpop"},
	"hset": {NotifyHash, "hset"}, "hmset": {NotifyHash, "hset"}, "hsetnx": {NotifyHash, "hset"},
	"hdel": {NotifyHash, "hdel"}, "hincrby": {NotifyHash, "hincrby"}, "hincrbyfloat": {NotifyHash, "hincrbyfloat"},
	"sadd": {NotifySet, "sadd"}, "srem": {NotifySet, "srem"}, "spop": {NotifySet, "spop"},
	"sinterstore": {NotifySet, "sinterstore"}, "sunionstore": {NotifySet, "sunionstore"},
	"sdiffstore": {NotifySet, "sdiffstore"},
	"zincrby":    {NotifyZset, "zincr"}, "zrem": {NotifyZset, "zrem"},
	"zremrangebyscore": {NotifyZset, "zremrangebyscore"}, "zremrangebyrank": {NotifyZset, "zremrangebyrank"},
	"zremrangebylex": {NotifyZset, "zremrangebylex"}, "zpopmin": {NotifyZset, "zpopmin"},
	"zpopmax": {NotifyZset, "zpopmax"}, "bzpopmin": {NotifyZset, "zpopmin"}, "bzpopmax": {NotifyZset, "zpopmax"},
	"zunionstore": {NotifyZset, "zunionstore"}, "zinterstore": {NotifyZset, "zinterstore"},
	"zdiffstore": {NotifyZset, "zdiffstore"}, "zrangestore": {NotifyZset, "zrangestore"},
	"xadd": {NotifyStream, "xadd"}, "xdel": {NotifyStream, "xdel"}, "xtrim": {NotifyStream, "xtrim"},
	"xsetid":  {NotifyStream, "xsetid"},
	"persist": {NotifyGeneric, "persist"}, "restore": {}, "xgroup": {},
	// Their own cases in runNotifying.
	"del": {}, "unlink": {}, "getdel": {}, "getex": {}, "expire": {}, "pexpire": {}, "expireat": {},
	"pexpireat": {}, "rename": {}, "renamenx": {}, "move": {}, "copy": {}, "zadd": {}, "lmove": {},
	"rpoplpush": {}, "blmove": {}, "brpoplpush": {}, "smove": {}, "lmpop": {}, "blmpop": {}, "zmpop": {},
	"bzmpop": {},
}

// runNotifying runs h, then records the events Redis would have fired for
// what it changed, in Redis's order.
func (x *Executor) runNotifying(c *Ctx, cmd *command.Command, h Handler) {
	spec, known := eventSpecs[cmd.Name]
	if !known {
		h(c)
		return
	}
	var idx [8]int
	keys, _ := cmd.KeyIndexes(idx[:0], c.Args)
	var before [8]bool
	existed := before[:0]
	for _, k := range keys {
		existed = append(existed, c.DB.live(c.Args[k], c.Now))
	}
	dirty := c.Dirty
	db := c.DB
	// XGROUP's key is not among its key positions (it is a container).
	groupKeyExisted := cmd.Name == "xgroup" && len(c.Args) > 2 && db.live(c.Args[2], c.Now)
	h(c)
	if c.Dirty == dirty {
		return
	}
	now := c.DB.live
	arg := func(i int) []byte { return c.Args[keys[i]] }
	// wrote fires name on key i: "new" first when it appeared, "del" after
	// when it went away.
	wrote := func(i int, class NotifyFlags, name string) {
		k := arg(i)
		if !existed[i] && now(k, c.Now) {
			c.notify(NotifyNew, "new", k)
		}
		c.notify(class, name, k)
		if existed[i] && !now(k, c.Now) {
			c.notify(NotifyGeneric, "del", k)
		}
	}
	switch cmd.Name {
	case "del", "unlink", "getdel":
		for i := range keys {
			if existed[i] && !now(arg(i), c.Now) {
				c.notify(NotifyGeneric, "del", arg(i))
			}
		}
	case "expire", "pexpire", "expireat", "pexpireat":
		if now(arg(0), c.Now) {
			c.notify(NotifyGeneric, "expire", arg(0))
		} else {
			c.notify(NotifyGeneric, "del", arg(0))
		}
	case "getex":
		switch {
		case !now(arg(0), c.Now):
			c.notify(NotifyGeneric, "del", arg(0))
		case hasOption(c.Args[2:], "persist"):
			c.notify(NotifyGeneric, "persist", arg(0))
		default:
			c.notify(NotifyGeneric, "expire", arg(0))
		}
	case "set", "setex", "psetex":
		wrote(0, spec.class, spec.name)
		if cmd.Name != "set" || hasOption(c.Args[3:], "ex", "px", "exat", "pxat") {
			c.notify(NotifyGeneric, "expire", arg(0))
		}
	case "rename", "renamenx":
		c.notify(NotifyNew, "new", arg(1))
		c.notify(NotifyGeneric, "rename_from", arg(0))
		c.notify(NotifyGeneric, "rename_to", arg(1))
	case "move":
		to, _ := c.intArg32(2)
		c.notifyIn(to, NotifyNew, "new", arg(0))
		c.notify(NotifyGeneric, "move_from", arg(0))
		c.notifyIn(to, NotifyGeneric, "move_to", arg(0))
	case "copy":
		to := db.index
		for i := 3; i+1 < len(c.Args); i++ {
			if EqualFold(c.Args[i], "db") {
				if n, ok := c.intArg32(i + 1); ok {
					to = n
				}
			}
		}
		c.notifyIn(to, NotifyNew, "new", arg(1))
		c.notifyIn(to, NotifyGeneric, "copy_to", arg(1))
	case "restore":
		// RESTORE ... REPLACE deletes, then adds: the key is new either way.
		c.notify(NotifyNew, "new", c.Args[1])
		c.notify(NotifyGeneric, "restore", c.Args[1])
	case "xgroup":
		if len(c.Args) > 2 {
			if !groupKeyExisted && db.live(c.Args[2], c.Now) {
				c.notify(NotifyNew, "new", c.Args[2])
			}
			c.notify(NotifyStream, "xgroup-"+strings.ToLower(string(c.Args[1])), c.Args[2])
		}
	case "zadd":
		name := "zadd"
		if hasOption(c.Args[2:], "incr") {
			name = "zincr"
		}
		wrote(0, NotifyZset, name)
	case "lmove", "blmove", "rpoplpush", "brpoplpush":
		from, to := "rpop", "lpush"
		if cmd.Name == "lmove" || cmd.Name == "blmove" {
			if EqualFold(c.Args[3], "left") {
				from = "lpop"
			}
			if EqualFold(c.Args[4], "right") {
				to = "rpush"
			}
		}
		// Redis pushes, then tells of the pop.
		wrote(1, NotifyList, to)
		wrote(0, NotifyList, from)
	case "smove":
		wrote(0, NotifySet, "srem")
		wrote(1, NotifySet, "sadd")
	case "lmpop", "blmpop", "zmpop", "bzmpop", "blpop", "brpop", "bzpopmin", "bzpopmax":
		class, name := spec.class, spec.name
		switch cmd.Name {
		case "lmpop", "blmpop":
			class, name = NotifyList, "lpop"
			if hasOption(c.Args, "right") {
				name = "rpop"
			}
		case "zmpop", "bzmpop":
			class, name = NotifyZset, "zpopmin"
			if hasOption(c.Args, "max") {
				name = "zpopmax"
			}
		}
		// The first key that held something is the one popped.
		for i := range keys {
			if existed[i] {
				wrote(i, class, name)
				break
			}
		}
	case "sinterstore", "sunionstore", "sdiffstore", "zunionstore", "zinterstore", "zdiffstore",
		"zrangestore", "bitop":
		// Only the destination is written; an empty result deletes it.
		if now(arg(0), c.Now) {
			wrote(0, spec.class, spec.name)
		} else if existed[0] {
			c.notify(NotifyGeneric, "del", arg(0))
		}
	default:
		for i := range keys {
			wrote(i, spec.class, spec.name)
		}
	}
}

// hasOption reports whether args hold one of words (any case).
func hasOption(args [][]byte, words ...string) bool {
	for _, a := range args {
		for _, w := range words {
			if EqualFold(a, w) {
				return true
			}
		}
	}
	return false
}

// runKeyMiss runs a read, then fires keymiss for each of its keys that was
// missing, as Redis's lookups do (all but OBJECT's).
func runKeyMiss(c *Ctx, cmd *command.Command, h Handler) {
	var idx [8]int
	keys, _ := cmd.KeyIndexes(idx[:0], c.Args)
	var before [8]bool
	missing := before[:0]
	for _, k := range keys {
		missing = append(missing, !c.DB.live(c.Args[k], c.Now))
	}
	h(c)
	for i, k := range keys {
		if missing[i] {
			c.notify(NotifyKeyMiss, "keymiss", c.Args[k])
		}
	}
}
