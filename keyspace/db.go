// Package keyspace holds Redis data types and command semantics in Go: what
// an embedded shard executes. It knows nothing of shards, transactions or
// connections: a handler reads its arguments from a Ctx, changes a DB and
// writes its reply with a resp.Writer.
//
// Versions: every modification of a key gives it a new version from the
// store's clock (Touch), and a deleted key leaves its version behind as a
// tombstone, so WATCH sees delete-and-recreate. A key that expires keeps its
// version: WATCH notices expiry because the key's liveness changed.
package keyspace

import (
	"hash/maphash"
	"math/rand/v2"
)

// Kind is the Redis type of a value.
type Kind uint8

// The value kinds, in TYPE's names.
const (
	KindNone Kind = iota
	KindString
	KindList
	KindHash
	KindSet
	KindZSet
	KindStream
)

var kindNames = [...]string{"none", "string", "list", "hash", "set", "zset", "stream"}

func (k Kind) String() string { return kindNames[k] }

// Collection is implemented by every non-string value.
type Collection interface {
	// Len is the number of elements; a collection at 0 must be deleted.
	Len() int
	// Clone returns a deep copy.
	Clone() Collection
}

// Entry is one key's value. Exactly one of Str (KindString) and Coll
// (other kinds) is meaningful.
type Entry struct {
	Kind Kind
	// memHi is the high byte of the value's cost code (see mem.go); it
	// sits in Kind's padding.
	memHi uint8
	// Snap is the epoch of the snapshot that has saved this entry, or
	// that need not save it (it was created after the snapshot's cut); a
	// copy-on-write snapshot saves an entry whose Snap is behind its epoch
	// before anything changes it. It sits in Kind's padding.
	Snap uint16
	// lru is Redis's LRU clock or LFU data in its low 24 bits (see
	// lru.go) and the low byte of the value's cost code in its top 8; it
	// sits in Kind's padding, so it costs no memory.
	lru  uint32
	Str  []byte
	Coll Collection
	// ExpireAt is the expiry as unix milliseconds; 0 means none.
	ExpireAt int64
	// Version is the key's last modification version.
	Version uint64
}

// Clone returns a deep copy of e.
func (e *Entry) Clone() *Entry {
	c := *e
	if e.Str != nil {
		c.Str = append([]byte(nil), e.Str...)
	}
	if e.Coll != nil {
		c.Coll = e.Coll.Clone()
	}
	return &c
}

// Store is the data of one shard: its databases and the version clock they
// share.
type Store struct {
	dbs   []*DB
	clock uint64
	// lastNow is the time NextVersion last read, in unix milliseconds: a
	// free clock for access times.
	lastNow int64
	// seed hashes keys for SCAN; fixed for the store's life so cursors
	// stay valid.
	seed maphash.Seed
	// Now returns the current unix time in milliseconds; injectable for
	// tests and for log replay.
	Now func() int64
	// OnExpire, when set, is told of every key removed because it expired
	// (lazily or actively), with the entry removed, so that persistence can
	// log the deletion as Redis propagates a DEL (replay then never depends
	// on the clock) and a snapshot can save the entry first.
	OnExpire func(db *DB, key string, e *Entry)
	// SnapEpoch stamps every entry created (see Entry.Snap).
	SnapEpoch uint16
	// used is the cost of every key and value (see mem.go).
	used int64
	// mem is the eviction settings; lfu is mem.Policy.LFU(), read on
	// every access. rng drives LFU's increments.
	mem MemoryPolicy
	lfu bool
	rng uint64
	// expanded are the small sorted sets commands expanded, to pack again
	// (PackZSets).
	expanded []zsetRef
	// OnThaw, when set, is told of every packed value taken out of its
	// table into an entry (see strtable.go) before anything reads or
	// changes it: a snapshot walking the table saves it first.
	OnThaw func(db *DB, key string, e *Entry)
	// pool is eviction's best candidates (evict.go).
	pool []evictCandidate
	// packScratch holds a collection's packed form while it is packed.
	packScratch []byte
	// packIdle is how long, in milliseconds, a value must go unchanged to
	// be packed (tests pack at once).
	packIdle int64
}

// NewStore returns a store of n empty databases.
func NewStore(n int, now func() int64) *Store {
	s := &Store{Now: now, seed: maphash.MakeSeed(), mem: DefaultMemoryPolicy(), packIdle: packIdleMillis}
	s.dbs = make([]*DB, n)
	for i := range s.dbs {
		s.dbs[i] = newDB(s, i)
	}
	return s
}

// DB returns database i.
func (s *Store) DB(i int) *DB { return s.dbs[i] }

// NumDBs is the number of databases.
func (s *Store) NumDBs() int { return len(s.dbs) }

// Swap exchanges databases a and b (SWAPDB).
func (s *Store) Swap(a, b int) {
	s.dbs[a], s.dbs[b] = s.dbs[b], s.dbs[a]
	s.dbs[a].index, s.dbs[b].index = a, b
}

// NextVersion returns a version greater than every one handed out before,
// and at least now*1024, so versions keep growing across restarts.
func (s *Store) NextVersion() uint64 {
	v := s.clock + 1
	now := s.Now()
	s.lastNow = now
	if t := uint64(now) * 1024; t > v {
		v = t
	}
	s.clock = v
	return v
}

// DB is one numbered database of a shard.
type DB struct {
	store *Store
	index int // its number
	keys  map[string]*Entry
	// str holds the strings at rest, packed (strtable.go); nil when none.
	// fresh are keys that became strings since PackStrings last looked.
	str   *strTable
	fresh []string
	// freshRipe is how many of fresh were listed before the last tick.
	freshRipe int
	// hot are strings PackStrings found being written (each once: listed),
	// looked at again once a second (hotDue), a pass from hotPos.
	hot     []hotRef
	listed  map[*Entry]struct{}
	hotPos  int
	hotDue  int64
	view    Entry // GetRead's entry of a packed string
	expires int   // keys with a TTL, packed or not
	// tombs holds the versions of deleted keys; floor is the version every
	// key without a tombstone reports (raised when tombstones are dropped).
	tombs map[string]uint64
	floor uint64
	// used is this database's share of the store's used (see mem.go).
	used int64
	// scan orders the keys by hash for SCAN while SCAN is in use; nil
	// otherwise (see scan.go).
	scan *scanIndex
}

func newDB(s *Store, index int) *DB {
	return &DB{store: s, index: index, keys: make(map[string]*Entry), tombs: make(map[string]uint64)}
}

// Len is the number of keys, expired ones not yet removed included.
func (db *DB) Len() int { return len(db.keys) + db.packedLen() }

// Expires is the number of keys with a TTL.
func (db *DB) Expires() int { return db.expires }

// Get returns the live entry of key, removing it if it has expired. It
// counts as an access (OBJECT IDLETIME).
func (db *DB) Get(key []byte, now int64) *Entry {
	e, ok := db.keys[string(key)]
	if !ok {
		if db.str == nil {
			return nil
		}
		return db.getPacked(key, now, true)
	}
	return db.found(key, e, now, true)
}

// found is what a lookup makes of key's entry e: an expired one is
// removed (nil); touch records an access.
func (db *DB) found(key []byte, e *Entry, now int64, touch bool) *Entry {
	if e.ExpireAt != 0 && e.ExpireAt <= now {
		db.expire(string(key), e)
		return nil
	}
	if touch {
		db.accessed(e, now)
	}
	return e
}

// accessed records an access to e (OBJECT IDLETIME, OBJECT FREQ). The LRU
// clock is stored only when its second changes, so reads seldom dirty the
// entry.
func (db *DB) accessed(e *Entry, now int64) {
	if db.store.lfu {
		db.store.lfuAccess(e, now)
	} else if t := uint32(now/lruClockRes) & lruMask; e.lru&lruMask != t {
		e.lru = e.lru&^lruMask | t
	}
}

// GetNoTouch is Get without recording an access, for commands that Redis
// runs with LOOKUP_NOTOUCH (TYPE, TTL, OBJECT, EXISTS...).
func (db *DB) GetNoTouch(key []byte, now int64) *Entry {
	e, ok := db.keys[string(key)]
	if !ok {
		if db.str == nil {
			return nil
		}
		return db.getPacked(key, now, false)
	}
	return db.found(key, e, now, false)
}

// Index is the database's number (it changes with SWAPDB).
func (db *DB) Index() int { return db.index }

// Entries is the database's map of keys, for a copy-on-write snapshot (its
// packed strings are apart: Packed): the
// caller holds the store's lock while it reads it and never changes it.
// FLUSHDB replaces the map rather than clearing it, so a reference taken
// earlier keeps the keys as they were.
func (db *DB) Entries() map[string]*Entry { return db.keys }

// Peek returns the entry of key without expiring it (for persistence).
func (db *DB) Peek(key string) *Entry {
	if e, ok := db.keys[key]; ok {
		return e
	}
	return db.thaw(bytesOf(key))
}

func (db *DB) expire(key string, e *Entry) {
	// Expiry keeps the version: liveness changing is what WATCH checks.
	db.remove(key, e, e.Version)
	if db.store.OnExpire != nil {
		db.store.OnExpire(db, key, e)
	}
}

func (db *DB) remove(key string, e *Entry, version uint64) {
	delete(db.keys, key)
	if e.ExpireAt != 0 {
		db.expires--
	}
	db.accountKey(key, e, -1)
	db.tombs[key] = version
	// The SCAN index drops key lazily (see scan.go), which keeps this
	// free of calls.
}

// Set stores e under key, replacing any value, and gives it a new version.
// keepTTL keeps the expiry of the value it replaces. The database keeps e;
// when key existed its entry is updated in place instead.
func (db *DB) Set(key []byte, e *Entry, keepTTL bool) *Entry {
	e.Version = db.store.NextVersion()
	old, ok := db.keys[string(key)]
	if !ok && db.str != nil {
		old = db.thaw(key)
		ok = old != nil
	}
	if ok {
		if e.Kind != old.Kind || e.Kind == KindString && len(old.Str) > strPackMax {
			db.noteValue(string(key)) // it may not have been packable before
		}
		if keepTTL {
			e.ExpireAt = old.ExpireAt
		}
		if old.ExpireAt != 0 {
			db.expires--
		}
		if e.ExpireAt != 0 {
			db.expires++
		}
		// The entry stays the key's: so does what a snapshot knows of it,
		// and the cost it was counted at. An overwrite keeps the LFU
		// counter, as Redis's dbSetValue does.
		e.Snap, e.memHi = old.Snap, old.memHi
		lru := old.lru
		*old = *e
		old.lru = lru
		if !db.store.lfu {
			db.store.initLRU(old, db.store.lastNow)
		}
		db.account(old)
		return old
	}
	db.store.initLRU(e, db.store.lastNow)
	e.memHi, e.lru = 0, e.lru&lruMask
	db.account(e)
	db.addKeyCost(len(key))
	e.Snap = db.store.SnapEpoch
	if keepTTL {
		e.ExpireAt = 0
	}
	if e.ExpireAt != 0 {
		db.expires++
	}
	k := string(key)
	delete(db.tombs, k)
	db.keys[k] = e
	if e.Kind == KindString || e.Kind == KindZSet || e.Kind == KindHash {
		db.noteValue(k)
	}
	if db.scan != nil {
		db.scanAdd(k)
	}
	return e
}

// Delete removes key and reports whether it existed (and was live).
func (db *DB) Delete(key []byte, now int64) bool {
	if db.str != nil && db.deletePacked(key, now) {
		return true
	}
	e := db.Get(key, now)
	if e == nil {
		return false
	}
	db.remove(string(key), e, db.store.NextVersion())
	return true
}

// Touch records that the value of key changed in place.
func (db *DB) Touch(e *Entry) {
	e.Version = db.store.NextVersion()
	db.account(e)
}

// SetExpire changes the expiry of a live entry (0 removes it).
func (db *DB) SetExpire(e *Entry, at int64) {
	if e.ExpireAt != 0 {
		db.expires--
	}
	if at != 0 {
		db.expires++
	}
	e.ExpireAt = at
	e.Version = db.store.NextVersion()
}

// Version reports key's version and whether it is live; a missing key
// reports its tombstone, or the floor. Evaluation on copies compares it
// before and after to find the keys a transaction changed.
func (db *DB) Version(key []byte, now int64) (uint64, bool) {
	if e := db.GetRead(key, now, false); e != nil {
		return e.Version, true
	}
	if v, ok := db.tombs[string(key)]; ok {
		return v, false
	}
	return db.floor, false
}

// WatchStamp is what WATCH records for key: its version when it is live;
// when it is missing, the store's clock, which every later change of the
// key (a write, a delete, an expiry) exceeds. Unchanged compares it.
func (db *DB) WatchStamp(key []byte, now int64) (uint64, bool) {
	if e := db.GetRead(key, now, false); e != nil {
		return e.Version, true
	}
	return db.store.clock, false
}

// Unchanged reports whether key is as it was when WATCH recorded (version,
// live) with WatchStamp. A missing key is unchanged if its tombstone (or,
// once tombstones were swept, the floor) is no newer than the WATCH: so
// sweeping other keys' tombstones does not fail the EXEC of a key that
// never existed, unless the sweep may have taken this key's own tombstone.
func (db *DB) Unchanged(key []byte, version uint64, live bool, now int64) bool {
	if e := db.GetRead(key, now, false); e != nil {
		return live && e.Version == version
	}
	if live {
		return false
	}
	if v, ok := db.tombs[string(key)]; ok {
		return v <= version
	}
	return db.floor <= version
}

// Flush deletes every key. Live keys leave tombstones so that their
// watchers notice; keys that were already missing keep their versions, as
// Redis's FLUSHDB only touches watched keys that existed.
func (db *DB) Flush(now int64) {
	v := db.store.NextVersion()
	for k, e := range db.keys {
		if e.ExpireAt == 0 || e.ExpireAt > now {
			db.tombs[k] = v
		} else {
			db.tombs[k] = e.Version
		}
	}
	if t := db.str; t != nil {
		for _, s := range t.slots {
			if s == 0 {
				continue
			}
			r := t.record(s & posMask)
			if at := r.expireAt(); at == 0 || at > now {
				db.tombs[string(r.key())] = v
			} else {
				db.tombs[string(r.key())] = r.version()
			}
		}
	}
	db.keys = make(map[string]*Entry)
	db.str, db.fresh, db.freshRipe, db.hot, db.hotPos, db.listed = nil, nil, 0, nil, 0, nil
	db.expires = 0
	db.scan = nil
	db.store.used -= db.used
	db.used = 0
}

// SweepTombstones drops tombstones older than version before, raising the
// floor so that a watcher of such a key sees a change rather than a version
// that could repeat.
func (db *DB) SweepTombstones(before uint64) {
	for k, v := range db.tombs {
		if v < before {
			if v > db.floor {
				db.floor = v
			}
			delete(db.tombs, k)
		}
	}
}

// ActiveExpire removes up to limit expired keys, sampled as Redis does, and
// returns how many it removed.
func (db *DB) ActiveExpire(now int64, limit int) int {
	if db.expires == 0 {
		return 0
	}
	n := db.expirePacked(now, limit)
	for k, e := range db.keys {
		if limit <= 0 {
			break
		}
		limit--
		if e.ExpireAt != 0 && e.ExpireAt <= now {
			db.expire(k, e)
			n++
		}
	}
	return n
}

// RandomKey returns a live key chosen at random, or "" and false when
// there is none. Expired keys met on the way are removed, so a database
// with many expired keys and one live key still answers that key (a bounded
// number of tries could miss it).
func (db *DB) RandomKey(now int64, rnd *rand.Rand) (string, bool) {
	for {
		nk, np := len(db.keys), db.packedLen()
		if nk+np == 0 {
			return "", false
		}
		if np > 0 && rnd.IntN(nk+np) >= nk {
			if k, ok := db.randomPacked(now, rnd); ok {
				return k, true
			}
			continue // it expired a key
		}
		if k, ok := db.randomMapped(now, rnd); ok {
			return k, true
		}
	}
}

// randomMapped is RandomKey among the map's keys: false when all of them
// had expired (and are gone).
func (db *DB) randomMapped(now int64, rnd *rand.Rand) (string, bool) {
	// Go starts each map iteration at a random place; the skip spreads
	// the choice within it.
	skip := rnd.IntN(min(len(db.keys), 64))
	first, found := "", false
	for k, e := range db.keys {
		if e.ExpireAt != 0 && e.ExpireAt <= now {
			db.expire(k, e)
			continue
		}
		if skip == 0 {
			return k, true
		}
		skip--
		if !found {
			first, found = k, true
		}
	}
	return first, found
}

// Range calls fn for every live key until fn returns false. fn must not
// change the database; a packed string's entry is valid only during the
// call.
func (db *DB) Range(now int64, fn func(key string, e *Entry) bool) {
	for k, e := range db.keys {
		if e.ExpireAt != 0 && e.ExpireAt <= now {
			continue
		}
		if !fn(k, e) {
			return
		}
	}
	db.rangePacked(now, fn)
}

// Put installs e under key as recovery and cross-shard commits do: e keeps
// the version it is given unless it is zero.
func (db *DB) Put(key string, e *Entry) {
	old, ok := db.keys[key]
	if ok {
		if old.ExpireAt != 0 {
			db.expires--
		}
		db.accountKey(key, old, -1)
	} else {
		ok = db.dropPacked(bytesOf(key))
	}
	if e.ExpireAt != 0 {
		db.expires++
	}
	if e.Version == 0 {
		e.Version = db.store.NextVersion()
	}
	if e.lruField() == 0 {
		db.store.initLRU(e, db.store.Now())
	}
	e.memHi, e.lru = 0, e.lru&lruMask
	if z, ok := e.Coll.(*ZSet); ok {
		z.pack() // a value from elsewhere comes in at rest
	}
	db.account(e)
	db.addKeyCost(len(key))
	e.Snap = db.store.SnapEpoch
	delete(db.tombs, key)
	db.keys[key] = e
	if e.Kind == KindString || e.Kind == KindZSet || e.Kind == KindHash {
		db.noteValue(key)
	}
	if !ok && db.scan != nil {
		db.scanAdd(key)
	}
}
