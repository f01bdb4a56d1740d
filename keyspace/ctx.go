package keyspace

import (
	"math/rand/v2"

	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// Ctx is what a handler runs with. The executor fills it per command.
type Ctx struct {
	Store *Store
	// DBIndex is the database the command runs in; DB is Store.DB(DBIndex).
	DBIndex int
	DB      *DB
	// Args are the command's arguments; Args[0] is its name.
	Args [][]byte
	// W receives the reply.
	W *resp.Writer
	// Now is the command's time in unix milliseconds: one value for the
	// whole command, as Redis uses, and the logged time on replay.
	Now int64
	// Rand is the source for random commands.
	Rand *rand.Rand
	// Dirty counts the changes the command made; a command with Dirty 0 is
	// not logged.
	Dirty int
	// Propagate, when set, is logged instead of Args, for commands whose
	// effect is not a function of their arguments (SPOP logs SREM).
	Propagate [][]byte
	// Notify are the classes of keyspace events to gather in Events
	// (notify.go); 0 gathers none.
	Notify NotifyFlags
	Events []Event
}

// Handler executes one command.
type Handler func(c *Ctx)

// Handlers maps lower-case command names to their handlers.
func Handlers() map[string]Handler {
	all := map[string]Handler{}
	for _, fam := range []map[string]Handler{
		genericCommands, stringCommands, hashCommands, listCommands, setCommands, zsetCommands,
		streamCommands, blockingCommands,
	} {
		for name, h := range fam {
			if _, dup := all[name]; dup {
				panic("keyspace: handler registered twice: " + name)
			}
			all[name] = h
		}
	}
	return all
}

// Key returns argument i as a key.
func (c *Ctx) Key(i int) []byte { return c.Args[i] }

// Get returns the live entry of key.
func (c *Ctx) Get(key []byte) *Entry { return c.DB.Get(key, c.Now) }

// lookup returns the live entry of key if it has kind k. wrong is set (and
// the WRONGTYPE error written) when the key holds another kind.
func (c *Ctx) lookup(key []byte, k Kind) (e *Entry, wrong bool) {
	e = c.DB.Get(key, c.Now)
	if e == nil {
		return nil, false
	}
	if e.Kind != k {
		c.W.Error(ErrWrongType)
		return nil, true
	}
	return e, false
}

// Modified records an in-place change of e.
func (c *Ctx) Modified(e *Entry) {
	c.DB.Touch(e)
	c.Dirty++
}

// Put stores a new value under key (replacing any) and counts the change.
func (c *Ctx) Put(key []byte, e *Entry, keepTTL bool) *Entry {
	c.Dirty++
	return c.DB.Set(key, e, keepTTL)
}

// Del deletes key and counts the change; it reports whether key existed.
func (c *Ctx) Del(key []byte) bool {
	if c.DB.Delete(key, c.Now) {
		c.Dirty++
		return true
	}
	return false
}

// collChanged records an in-place change of the collection e at key,
// deleting the key when the collection has no elements left.
func (c *Ctx) collChanged(key []byte, e *Entry) {
	if e.Coll.Len() == 0 {
		c.Del(key)
		return
	}
	c.Modified(e)
}

// removeCount is the body of the commands that remove elements from the
// collection of kind k at Args[1] and answer how many (HDEL, SREM, LREM,
// ZREM, ZREMRANGEBY*): del removes them; a missing key answers 0.
func (c *Ctx) removeCount(k Kind, del func(coll Collection) int) {
	c.removeCountOf(k, func(e *Entry) int { return del(e.Coll) })
}

// removeCountOf is removeCount with the entry.
func (c *Ctx) removeCountOf(k Kind, del func(e *Entry) int) {
	key := c.Key(1)
	e, wrong := c.lookup(key, k)
	if wrong {
		return
	}
	n := 0
	if e != nil {
		if n = del(e); n > 0 {
			c.collChanged(key, e)
		}
	}
	c.W.Int(int64(n))
}

// collStored stores coll, created for a missing key (e nil), as a new
// value of kind k, or records the in-place change of e.
func (c *Ctx) collStored(key []byte, e *Entry, k Kind, coll Collection) {
	if e == nil {
		c.Put(key, &Entry{Kind: k, Coll: coll}, false)
		return
	}
	c.Modified(e)
}

// storeResult ends every *STORE command: it replaces dst with coll, a new
// value of kind k (whatever dst held, its TTL dropped), or deletes dst when
// coll is empty, and replies with coll's size.
func (c *Ctx) storeResult(dst []byte, k Kind, coll Collection) {
	n := coll.Len()
	if n > 0 {
		e := c.Put(dst, &Entry{Kind: k, Coll: coll}, false)
		if k == KindZSet {
			c.noteZSet(dst, e) // packs it later
		}
	} else {
		c.Del(dst)
	}
	c.W.Int(int64(n))
}
