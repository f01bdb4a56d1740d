package keyspace

import (
	"bytes"
	"errors"
	"math"

	"github.com/schemaproxy/schemaproxy/proto/rdb"
)

// The generic (keys) commands, and the database-wide ones an embedded shard
// executes (DBSIZE, FLUSHDB, FLUSHALL, SWAPDB).
var genericCommands = map[string]Handler{
	"del":         delCmd,
	"unlink":      delCmd,
	"exists":      existsCmd,
	"type":        typeCmd,
	"touch":       touchCmd,
	"expire":      func(c *Ctx) { expireGeneric(c, "expire", c.Now, true) },
	"pexpire":     func(c *Ctx) { expireGeneric(c, "pexpire", c.Now, false) },
	"expireat":    func(c *Ctx) { expireGeneric(c, "expireat", 0, true) },
	"pexpireat":   func(c *Ctx) { expireGeneric(c, "pexpireat", 0, false) },
	"ttl":         func(c *Ctx) { ttlGeneric(c, false, false) },
	"pttl":        func(c *Ctx) { ttlGeneric(c, true, false) },
	"expiretime":  func(c *Ctx) { ttlGeneric(c, false, true) },
	"pexpiretime": func(c *Ctx) { ttlGeneric(c, true, true) },
	"persist":     persistCmd,
	"rename":      func(c *Ctx) { renameGeneric(c, false) },
	"renamenx":    func(c *Ctx) { renameGeneric(c, true) },
	"copy":        copyCmd,
	"move":        moveCmd,
	"keys":        keysCmd,
	"scan":        scanCmd,
	"randomkey":   randomkeyCmd,
	"dump":        dumpCmd,
	"restore":     restoreCmd,
	"object":      objectCmd,
	"memory":      memoryCmd,
	"dbsize":      dbsizeCmd,
	"flushdb":     flushdbCmd,
	"flushall":    flushallCmd,
	"swapdb":      swapdbCmd,
}

// intArg32 parses argument i as getIntFromObjectOrReply does: an integer
// within int32, else ErrNotInt or ErrIntRange.
func (c *Ctx) intArg32(i int) (int, bool) {
	n, ok := c.intArg(i)
	if !ok {
		return 0, false
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		c.W.Error(ErrIntRange)
		return 0, false
	}
	return int(n), true
}

// dbArg parses argument i as the index of one of the store's databases
// (COPY's DB, MOVE), writing Redis's errors.
func (c *Ctx) dbArg(i int) (*DB, bool) {
	n, ok := c.intArg32(i)
	if !ok {
		return nil, false
	}
	if n < 0 || n >= c.Store.NumDBs() {
		c.W.Error(ErrDBIndexRange)
		return nil, false
	}
	return c.Store.DB(n), true
}

// DEL and UNLINK (which only frees memory differently in Redis).
func delCmd(c *Ctx) {
	n := 0
	for _, k := range c.Args[1:] {
		if c.Del(k) {
			n++
		}
	}
	c.W.Int(int64(n))
}

// EXISTS counts a key once per mention.
func existsCmd(c *Ctx) {
	n := 0
	for _, k := range c.Args[1:] {
		if c.DB.GetRead(k, c.Now, false) != nil {
			n++
		}
	}
	c.W.Int(int64(n))
}

func typeCmd(c *Ctx) {
	if e := c.DB.GetRead(c.Args[1], c.Now, false); e != nil {
		c.W.Status(e.Kind.String())
		return
	}
	c.W.Status("none")
}

// TOUCH records an access to each key and counts those that exist.
func touchCmd(c *Ctx) {
	n := 0
	for _, k := range c.Args[1:] {
		if c.Get(k) != nil {
			n++
		}
	}
	c.W.Int(int64(n))
}

// The options of the EXPIRE family.
const (
	expireNX = 1 << iota
	expireXX
	expireGT
	expireLT
)

// expireGeneric is Redis's expireGenericCommand: the time is base plus
// the argument (seconds when sec), options are checked before the number,
// overflow is an error, and a time already past deletes the key.
func expireGeneric(c *Ctx, name string, base int64, sec bool) {
	flags := 0
	for _, opt := range c.Args[3:] {
		switch {
		case optIs(opt, "nx"):
			flags |= expireNX
		case optIs(opt, "xx"):
			flags |= expireXX
		case optIs(opt, "gt"):
			flags |= expireGT
		case optIs(opt, "lt"):
			flags |= expireLT
		default:
			c.W.Error(ErrUnsupportedOption(opt))
			return
		}
	}
	if flags&expireNX != 0 && flags&(expireXX|expireGT|expireLT) != 0 {
		c.W.Error(ErrExpireNXOptions)
		return
	}
	if flags&expireGT != 0 && flags&expireLT != 0 {
		c.W.Error(ErrExpireGTLT)
		return
	}
	when, ok := c.intArg(2)
	if !ok {
		return
	}
	if sec {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			c.W.Error(ErrInvalidExpire(name))
			return
		}
		when *= 1000
	}
	if when > math.MaxInt64-base {
		c.W.Error(ErrInvalidExpire(name))
		return
	}
	when += base
	key := c.Args[1]
	e := c.Get(key)
	if e == nil {
		c.W.Int(0)
		return
	}
	cur := e.ExpireAt
	if cur == 0 {
		cur = -1
	}
	switch {
	case flags&expireNX != 0 && cur != -1,
		flags&expireXX != 0 && cur == -1,
		// No TTL counts as infinite: GT never succeeds on it, LT always.
		flags&expireGT != 0 && (when <= cur || cur == -1),
		flags&expireLT != 0 && cur != -1 && when >= cur:
		c.W.Int(0)
		return
	}
	if when <= c.Now {
		c.Del(key)
	} else {
		c.DB.SetExpire(e, when)
		c.Dirty++
	}
	c.W.Int(1)
}

// ttlGeneric answers TTL, PTTL, EXPIRETIME and PEXPIRETIME: -2 for a
// missing key, -1 without TTL; seconds are rounded to nearest.
func ttlGeneric(c *Ctx, ms, abs bool) {
	e := c.DB.GetRead(c.Args[1], c.Now, false)
	switch {
	case e == nil:
		c.W.Int(-2)
		return
	case e.ExpireAt == 0:
		c.W.Int(-1)
		return
	}
	t := e.ExpireAt
	if !abs {
		t -= c.Now
	}
	t = max(t, 0)
	if !ms {
		// Unsigned, so that a time near the int64 limit rounds up as it
		// does in Redis instead of wrapping.
		t = int64((uint64(t) + 500) / 1000)
	}
	c.W.Int(t)
}

func persistCmd(c *Ctx) {
	e := c.Get(c.Args[1])
	if e == nil || e.ExpireAt == 0 {
		c.W.Int(0)
		return
	}
	c.DB.SetExpire(e, 0)
	c.Dirty++
	c.W.Int(1)
}

// renameGeneric is RENAME and RENAMENX. Renaming a key to itself changes
// nothing but still needs the key to exist. The TTL moves with the value.
func renameGeneric(c *Ctx, nx bool) {
	src, dst := c.Args[1], c.Args[2]
	e := c.Get(src)
	if e == nil {
		c.W.Error(ErrNoSuchKey)
		return
	}
	if bytes.Equal(src, dst) {
		if nx {
			c.W.Int(0)
		} else {
			c.W.OK()
		}
		return
	}
	if nx && c.Get(dst) != nil {
		c.W.Int(0)
		return
	}
	moved := *e
	c.Del(src)
	c.Put(dst, &moved, false).setLRUField(e.lruField()) // the same object in Redis: its idle time stays
	if nx {
		c.W.Int(1)
	} else {
		c.W.OK()
	}
}

// COPY source destination [DB index] [REPLACE].
func copyCmd(c *Ctx) {
	dstDB := c.DB
	replace := false
	for j := 3; j < len(c.Args); j++ {
		switch {
		case optIs(c.Args[j], "replace"):
			replace = true
		case optIs(c.Args[j], "db") && j+1 < len(c.Args):
			var ok bool
			if dstDB, ok = c.dbArg(j + 1); !ok {
				return
			}
			j++
		default:
			c.W.Error(ErrSyntax)
			return
		}
	}
	src, dst := c.Args[1], c.Args[2]
	if dstDB == c.DB && bytes.Equal(src, dst) {
		c.W.Error(ErrSameObject)
		return
	}
	e := c.Get(src)
	if e == nil {
		c.W.Int(0)
		return
	}
	if dstDB.Get(dst, c.Now) != nil && !replace {
		c.W.Int(0)
		return
	}
	dstDB.Set(dst, e.Clone(), false)
	c.Dirty++
	c.W.Int(1)
}

// MOVE key db moves a key (with its TTL) to another database of the store
// unless the key exists there.
func moveCmd(c *Ctx) {
	dstDB, ok := c.dbArg(2)
	if !ok {
		return
	}
	if dstDB == c.DB {
		c.W.Error(ErrSameObject)
		return
	}
	key := c.Args[1]
	e := c.Get(key)
	if e == nil || dstDB.Get(key, c.Now) != nil {
		c.W.Int(0)
		return
	}
	moved := *e
	c.Del(key)
	dstDB.Set(key, &moved, false).setLRUField(e.lruField())
	c.Dirty++
	c.W.Int(1)
}

// KEYS pattern lists the live keys that match, in no particular order.
func keysCmd(c *Ctx) {
	pat := c.Args[1]
	var keys []string
	var buf []byte
	c.DB.Range(c.Now, func(k string, _ *Entry) bool {
		buf = append(buf[:0], k...)
		if keyMatch(pat, buf) {
			keys = append(keys, k)
		}
		return true
	})
	c.W.Array(len(keys))
	for _, k := range keys {
		c.W.BulkString(k)
	}
}

// kindByName maps TYPE names as SCAN's TYPE option compares them.
func kindByName(name []byte) (Kind, bool) {
	for k := KindString; k <= KindStream; k++ {
		if optIs(name, k.String()) {
			return k, true
		}
	}
	return KindNone, false
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] over this database
// (see DB.Scan for the cursor).
func scanCmd(c *Ctx) {
	cursor, ok := ParseScanCursor(c.Args[1])
	if !ok {
		c.W.Error(ErrInvalidCursor)
		return
	}
	opts, ok := parseScanOpts(c, 2, true)
	if !ok {
		return
	}
	var match []byte
	if opts.match {
		match = opts.pattern
	}
	var keys []string
	next := c.DB.Scan(cursor, int(min(opts.count, math.MaxInt32)), match, opts.typ, c.Now, func(k string) {
		if opts.typeKnown {
			keys = append(keys, k)
		}
	})
	writeScanHead(c, next, len(keys))
	for _, k := range keys {
		c.W.BulkString(k)
	}
}

func randomkeyCmd(c *Ctx) {
	if k, ok := c.DB.RandomKey(c.Now, c.Rand); ok {
		c.W.BulkString(k)
		return
	}
	c.W.Null()
}

// DUMP serializes a value as Redis 7.0 does (see dump.go), so that
// redis-server can RESTORE it.
func dumpCmd(c *Ctx) {
	e := c.Get(c.Args[1])
	if e == nil {
		c.W.Null()
		return
	}
	c.W.Bulk(dumpPayload(e))
}

// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f], checked
// in Redis's order: options, existing key, TTL, payload.
func restoreCmd(c *Ctx) {
	replace, absTTL := false, false
	idle, freq := int64(-1), int64(-1)
	for j := 4; j < len(c.Args); j++ {
		more := j+1 < len(c.Args)
		switch a := c.Args[j]; {
		case optIs(a, "replace"):
			replace = true
		case optIs(a, "absttl"):
			absTTL = true
		case optIs(a, "idletime") && more && freq == -1:
			n, ok := c.intArg(j + 1)
			if !ok {
				return
			}
			if n < 0 {
				c.W.Error(ErrInvalidIdletime)
				return
			}
			idle = n
			j++
		case optIs(a, "freq") && more && idle == -1:
			n, ok := c.intArg(j + 1)
			if !ok {
				return
			}
			if n < 0 || n > 255 {
				c.W.Error(ErrInvalidFreq)
				return
			}
			freq = n
			j++
		default:
			c.W.Error(ErrSyntax)
			return
		}
	}
	key := c.Args[1]
	if !replace && c.Get(key) != nil {
		c.W.Error(ErrBusyKey)
		return
	}
	ttl, ok := c.intArg(2)
	if !ok {
		return
	}
	if ttl < 0 {
		c.W.Error(ErrInvalidTTL)
		return
	}
	e, err := restorePayload(c.Args[3])
	switch {
	case errors.Is(err, rdb.ErrFooter):
		c.W.Error(ErrDumpPayload)
		return
	case err != nil:
		c.W.Error(ErrBadDataFormat)
		return
	}
	if replace {
		c.Del(key)
	}
	if ttl != 0 && !absTTL {
		ttl += c.Now // wraps on overflow as in Redis, and then counts as past
	}
	if ttl != 0 && ttl <= c.Now {
		c.W.OK()
		return
	}
	e.ExpireAt = ttl
	e = c.Put(key, e, false)
	// Redis's objectSetLRUOrLFU: each option counts only under its policy.
	if c.Store.lfu && freq >= 0 {
		e.setLRUField(lfuMinutes(c.Now)<<8 | uint32(freq))
	} else if !c.Store.lfu && idle >= 0 {
		abs := int64(lruClock(c.Now)) - idle*1000/lruClockRes
		if abs < 0 {
			abs += lruMask
		}
		e.setLRUField(uint32(abs))
	}
	c.W.OK()
}

var objectHelp = []string{
	"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
	"HELP",
	"    Prints this help.",
}

// OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ key, OBJECT HELP. IDLETIME answers
// under the LRU policies (and noeviction), FREQ under the LFU ones.
func objectCmd(c *Ctx) {
	sub := c.Args[1]
	var name string
	for _, s := range []string{"help", "encoding", "refcount", "idletime", "freq"} {
		if EqualFold(sub, s) {
			name = s
		}
	}
	switch {
	case name == "":
		c.W.Error(ErrUnknownSubcommand(sub, "OBJECT"))
		return
	case name == "help":
		if len(c.Args) != 2 {
			c.W.Error(ErrArity("object|help"))
			return
		}
		c.W.Array(len(objectHelp))
		for _, l := range objectHelp {
			c.W.Status(l)
		}
		return
	case len(c.Args) != 3:
		c.W.Error(ErrArity("object|" + name))
		return
	}
	e := c.DB.GetNoTouch(c.Args[2], c.Now)
	if e == nil {
		c.W.Null()
		return
	}
	switch name {
	case "encoding":
		c.W.BulkString(objectEncoding(e))
	case "refcount":
		c.W.Int(objectRefcount(e))
	case "idletime":
		if c.Store.lfu {
			c.W.Error(ErrLFUSelected)
			return
		}
		c.W.Int(e.idleMillis(c.Now) / 1000)
	case "freq":
		if !c.Store.lfu {
			c.W.Error(ErrLFUNotSelected)
			return
		}
		c.W.Int(int64(c.Store.lfuDecr(e, c.Now)))
	}
}

// objectEncoding names e's encoding as Redis 7.0 reports it. Collections
// that track Redis's encoding conversions say so themselves; strings are
// judged by their value (Redis also says "raw" for short strings changed in
// place by APPEND, SETRANGE or SETBIT, which this cannot see).
func objectEncoding(e *Entry) string {
	switch e.Kind {
	case KindString:
		if len(e.Str) <= 20 {
			if _, ok := ParseInt(e.Str); ok {
				return "int"
			}
		}
		if len(e.Str) <= 44 {
			return "embstr"
		}
		return "raw"
	case KindList:
		return "quicklist" // 7.0 has no other list encoding
	}
	if r, ok := e.Coll.(interface{ Encoding() string }); ok {
		return r.Encoding()
	}
	return "hashtable"
}

// objectRefcount is 1, except for Redis's shared integers 0..9999, whose
// count is INT_MAX.
func objectRefcount(e *Entry) int64 {
	if e.Kind == KindString && len(e.Str) <= 4 {
		if n, ok := ParseInt(e.Str); ok && n >= 0 && n < 10000 {
			return math.MaxInt32
		}
	}
	return 1
}

func dbsizeCmd(c *Ctx) { c.W.Int(int64(c.DB.Len())) }

// flushArgs accepts FLUSHDB/FLUSHALL's optional ASYNC or SYNC (both flush
// at once here).
func flushArgs(c *Ctx) bool {
	if len(c.Args) == 1 || len(c.Args) == 2 && (optIs(c.Args[1], "sync") || optIs(c.Args[1], "async")) {
		return true
	}
	c.W.Error(ErrSyntax)
	return false
}

// FLUSHDB always counts as a change, so it is logged even on an empty
// database, as Redis propagates it.
func flushdbCmd(c *Ctx) {
	if !flushArgs(c) {
		return
	}
	c.DB.Flush(c.Now)
	c.Dirty++
	c.W.OK()
}

// FLUSHALL empties every database of the store.
func flushallCmd(c *Ctx) {
	if !flushArgs(c) {
		return
	}
	for i := 0; i < c.Store.NumDBs(); i++ {
		c.Store.DB(i).Flush(c.Now)
	}
	c.Dirty++
	c.W.OK()
}

// SWAPDB a b exchanges two databases of the store; the keys keep their
// versions, so WATCH sees every key whose value changed under its name.
func swapdbCmd(c *Ctx) {
	a, ok := ParseInt(c.Args[1])
	if !ok || a < math.MinInt32 || a > math.MaxInt32 {
		c.W.Error(ErrInvalidFirstDB)
		return
	}
	b, ok := ParseInt(c.Args[2])
	if !ok || b < math.MinInt32 || b > math.MaxInt32 {
		c.W.Error(ErrInvalidSecondDB)
		return
	}
	n := int64(c.Store.NumDBs())
	if a < 0 || a >= n || b < 0 || b >= n {
		c.W.Error(ErrDBIndexRange)
		return
	}
	c.Store.Swap(int(a), int(b))
	c.Dirty++
	c.W.OK()
}
