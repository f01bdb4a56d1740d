package keyspace

import (
	"encoding/binary"
	"hash/maphash"
	"math/rand/v2"
)

// How a database moves strings between its map and its strTable (see
// strtable.go).

// packIdleMillis is how long a string must go unchanged before the cron
// packs it: a key being written stays an entry, changed in place.
const packIdleMillis = 1000

// strHash is key's hash in the database's strTable.
func (db *DB) strHash(key []byte) uint64 { return maphash.Bytes(db.store.seed, key) }

// packedLen is the number of packed keys.
func (db *DB) packedLen() int {
	if db.str == nil {
		return 0
	}
	return db.str.n
}

// noteValue records that key now holds an entry the cron may pack.
func (db *DB) noteValue(key string) { db.fresh = append(db.fresh, key) }

// collection makes e, a packed sorted set's or hash's entry, from its
// record, with a copy of its listpack (the collection's strings will point
// into it).
func (r *strRec) collection(e *Entry) {
	var v scratchColl
	r.view(&v)
	e.Kind = r.kind()
	if e.Kind == KindZSet {
		v.z.lp = append([]byte(nil), v.z.lp...)
		e.Coll = &ZSet{lp: v.z.lp, length: v.z.length, packed: true, compact: true, rng: r.version()}
	} else {
		v.h.lp = append([]byte(nil), v.h.lp...)
		e.Coll = &Hash{lp: v.h.lp, n: v.h.n}
	}
}

// scratchColl holds the collection of a record read where it is, so that
// a walk over many allocates nothing.
type scratchColl struct {
	z ZSet
	h Hash
}

// view sets v's sorted set or hash (by the record's kind) to the record's
// value, read-only, and returns it.
func (r *strRec) view(v *scratchColl) Collection {
	b := r.val()
	n, w := binary.Uvarint(b)
	if r.kind() == KindZSet {
		v.z = ZSet{lp: b[w:], length: int(n), packed: true, compact: true}
		return &v.z
	}
	v.h = Hash{lp: b[w:], n: int(n)}
	return &v.h
}

// packedForm is what pack stores of e's value (see strRec.collection);
// scratch may hold it.
func packedForm(e *Entry, scratch []byte) []byte {
	switch c := e.Coll.(type) {
	case *ZSet:
		return append(binary.AppendUvarint(scratch[:0], uint64(c.length)), c.lp...)
	case *Hash:
		return append(binary.AppendUvarint(scratch[:0], uint64(c.n)), c.lp...)
	}
	return e.Str
}

// noteShrunk lists key when its string, changed in place from was to now,
// becomes small enough to pack (PackStrings forgot it while it was larger).
func (db *DB) noteShrunk(key, was, now []byte) {
	if len(was) > strPackMax && len(now) <= strPackMax {
		db.noteValue(string(key))
	}
}

// thaw moves key's packed string, if any, into the map as an entry and
// returns it; expired or not, as the caller decides what to do with it.
func (db *DB) thaw(key []byte) *Entry {
	i, r, ok := db.findPacked(key)
	if !ok {
		return nil
	}
	t := db.str
	var e *Entry
	if r.kind() == KindString {
		e = newStringEntry(r.val(), r.expireAt())
	} else {
		// A copy: the collection's strings will point into it.
		e = &Entry{ExpireAt: r.expireAt()}
		r.collection(e)
	}
	e.Version, e.Snap = r.version(), r.snap()
	e.setLRUField(r.lru())
	d := -strCost(r.size())
	t.remove(i, &r)
	k := string(key)
	db.keys[k] = e
	db.used += d
	db.store.used += d
	db.addKeyCost(len(k))
	db.account(e)
	db.noteHot(k, e)
	if t.n == 0 {
		db.str = nil
	}
	if db.store.OnThaw != nil {
		db.store.OnThaw(db, k, e)
	}
	return e
}

// getPacked is Get's path for a key missing from the map.
func (db *DB) getPacked(key []byte, now int64, touch bool) *Entry {
	if e := db.thaw(key); e != nil {
		return db.found(key, e, now, touch)
	}
	return nil
}

// pack moves the string entry e of key from the map into the strTable.
func (db *DB) pack(k string, e *Entry) {
	if db.str == nil {
		db.str = newStrTable()
	}
	t := db.str
	flags := byte(e.Kind) << recKindShift
	if e.ExpireAt != 0 {
		flags |= recTTL
	}
	kb := bytesOf(k)
	val := packedForm(e, db.store.packScratch)
	if e.Coll != nil {
		db.store.packScratch = val
	}
	pos := t.appendRec(flags, e.Snap, e.lruField(), e.Version, e.ExpireAt, kb, val)
	t.insert(db.strHash(kb), pos)
	r := t.record(pos)
	delete(db.keys, k)
	d := strCost(r.size()) - keyCost(len(k)) - e.cost()
	db.used += d
	db.store.used += d
}

// packable reports whether the cron may pack e, a candidate: it has not
// changed for idle milliseconds.
func packable(e *Entry, now, idle int64) bool {
	return int64(e.Version>>10) <= now-idle
}

// packFreshMillis is how long a new value must go unchanged to be packed:
// a key written once (a load) is packed on the next tick or so, while one
// written again at once is found being written. One taken out of its table
// is being used: it waits packIdleMillis.
const packFreshMillis = 100

// noteHot lists k, with entry e, as being used: looked at once a second.
func (db *DB) noteHot(k string, e *Entry) {
	if db.listed == nil {
		db.listed = make(map[*Entry]struct{})
	}
	if _, dup := db.listed[e]; !dup {
		db.listed[e] = struct{}{}
		db.hot = append(db.hot, hotRef{k, e})
	}
}

// PackStrings packs up to about budget strings that have not changed for a
// second, of those set or taken out of their tables since the last call,
// and compacts the tables' arenas. The embedded shard calls it from its
// cron, under its lock, and never while a snapshot walks the tables.
func (s *Store) PackStrings(now int64, budget int) {
	for _, db := range s.dbs {
		budget = db.packFresh(now, budget)
		if db.str != nil {
			db.str.compact(64*budget+segSize, db.strHash)
		}
	}
}

// hotRef is a string entry found being written, to look at again.
type hotRef struct {
	key string
	e   *Entry
}

// packFresh looks at the keys listed since the last tick, packing those
// idle, moving those being written to the hot list (once each); and, once a
// second, at the hot list. So a key written all the time costs a look a
// second, not a look a tick.
func (db *DB) packFresh(now int64, budget int) int {
	// Keys listed since the last tick wait for the next: a new key gets
	// its chance to be written again first.
	ripe := db.freshRipe
	if db.store.packIdle <= 0 {
		ripe = len(db.fresh)
	}
	i := 0
	for ; i < ripe && budget > 0; i++ {
		k := db.fresh[i]
		budget--
		e, ok := db.keys[k]
		if !ok || !db.packCandidate(k, e) {
			continue
		}
		if packable(e, now, min(db.store.packIdle, packFreshMillis)) {
			db.pack(k, e)
			continue
		}
		db.noteHot(k, e)
	}
	n := copy(db.fresh, db.fresh[i:])
	clear(db.fresh[n:])
	db.fresh = db.fresh[:n]
	db.freshRipe = n
	if n == 0 && cap(db.fresh) > 4096 {
		db.fresh = nil // a load's worth of keys, gone
	}
	if now < db.hotDue {
		return budget
	}
	// One pass over the hot list, a budget a tick.
	kept, j := db.hotPos, db.hotPos
	for ; j < len(db.hot) && budget > 0; j++ {
		h := db.hot[j]
		budget--
		if e, ok := db.keys[h.key]; ok && e == h.e && db.packCandidate(h.key, e) {
			if !packable(e, now, db.store.packIdle) {
				db.hot[kept] = h
				kept++
				continue
			}
			db.pack(h.key, e)
		}
		delete(db.listed, h.e)
	}
	n = kept + copy(db.hot[kept:], db.hot[j:])
	clear(db.hot[n:])
	db.hot = db.hot[:n]
	db.hotPos = kept
	if kept >= n {
		db.hotPos, db.hotDue = 0, now+db.store.packIdle
		if n == 0 {
			db.hot, db.listed = nil, nil
		}
	}
	return budget
}

// packCandidate reports whether e, key k's entry, is a string small
// enough to pack.
func (db *DB) packCandidate(k string, e *Entry) bool {
	if len(k) > strPackMax {
		return false
	}
	switch c := e.Coll.(type) {
	case nil:
		return e.Kind == KindString && len(e.Str) <= strPackMax
	case *ZSet:
		return c.packed && len(c.lp) <= strPackMax
	case *Hash:
		return c.m == nil && !c.big && c.n > 0 && len(c.lp) <= strPackMax
	}
	return false
}

// packedMeta reads key's type and expiry without taking it out of its
// table.
func (db *DB) packedMeta(key []byte) (kind Kind, expireAt int64, ok bool) {
	_, r, ok := db.findPacked(key)
	if !ok {
		return KindNone, 0, false
	}
	return r.kind(), r.expireAt(), true
}

// lookupMeta reads key's type and expiry wherever it is, changing nothing.
func (db *DB) lookupMeta(key string) (Kind, int64, bool) {
	if e, ok := db.keys[key]; ok {
		return e.Kind, e.ExpireAt, true
	}
	if kind, at, ok := db.packedMeta(bytesOf(key)); ok {
		return kind, at, true
	}
	return KindNone, 0, false
}

// findPacked finds key's packed record: its slot and the record.
func (db *DB) findPacked(key []byte) (int, strRec, bool) {
	if db.str == nil {
		return 0, strRec{}, false
	}
	return db.str.find(key, db.strHash(key))
}

// dropPacked removes key's packed record, if any, and reports whether
// there was one.
func (db *DB) dropPacked(key []byte) bool {
	i, r, ok := db.findPacked(key)
	if ok {
		db.removePacked(i, &r)
	}
	return ok
}

// removePacked removes record r, in slot i, with what it counted.
func (db *DB) removePacked(i int, r *strRec) {
	t := db.str
	d := -strCost(r.size())
	if r.expireAt() != 0 {
		db.expires--
	}
	t.remove(i, r)
	db.used += d
	db.store.used += d
	if t.n == 0 {
		db.str = nil
	}
}

// packedUsage is MEMORY USAGE of a live packed key: its record and slot.
func (db *DB) packedUsage(key []byte, now int64) (int64, bool) {
	if _, ok := db.keys[string(key)]; ok {
		return 0, false
	}
	_, r, ok := db.findPacked(key)
	if !ok || r.expireAt() != 0 && r.expireAt() <= now {
		return 0, false // missing, or expired: GetNoTouch expires it
	}
	return strCost(r.size()), true
}

// deletePacked deletes key if it is a live packed string, leaving a
// tombstone as remove does, and reports whether it did.
func (db *DB) deletePacked(key []byte, now int64) bool {
	if _, ok := db.keys[string(key)]; ok {
		return false
	}
	i, r, ok := db.findPacked(key)
	if !ok || r.expireAt() != 0 && r.expireAt() <= now {
		return false // missing, or expired: Get expires it
	}
	db.removePacked(i, &r)
	db.tombs[string(key)] = db.store.NextVersion()
	return true
}

// expirePacked samples up to limit packed keys with a TTL for ActiveExpire.
func (db *DB) expirePacked(now int64, limit int) int {
	t := db.str
	if t == nil {
		return 0
	}
	n := 0
	for tries := len(t.slots); limit > 0 && tries > 0 && db.str == t; tries-- {
		t.expCursor = (t.expCursor + 1) & (len(t.slots) - 1)
		s := t.slots[t.expCursor]
		if s == 0 {
			continue
		}
		limit--
		r := t.record(s & posMask)
		if at := r.expireAt(); at != 0 && at <= now {
			k := r.key()
			if e := db.thaw(k); e != nil {
				db.expire(string(k), e)
				n++
			}
		}
	}
	return n
}

// randomPacked picks a packed key at random: a live one (ok), or else it
// expires the expired one it met.
func (db *DB) randomPacked(now int64, rnd *rand.Rand) (string, bool) {
	t := db.str
	i := rnd.IntN(len(t.slots))
	for t.slots[i] == 0 {
		i = (i + 1) & (len(t.slots) - 1)
	}
	r := t.record(t.slots[i] & posMask)
	if at := r.expireAt(); at != 0 && at <= now {
		k := string(r.key())
		db.expire(k, db.thaw(bytesOf(k)))
		return "", false
	}
	return string(r.key()), true
}

// rangePacked calls fn for the live packed keys until it returns false,
// with an entry valid only during the call.
func (db *DB) rangePacked(now int64, fn func(key string, e *Entry) bool) bool {
	t := db.str
	if t == nil {
		return true
	}
	var e Entry
	var sc scratchColl
	for _, s := range t.slots {
		if s == 0 {
			continue
		}
		r := t.record(s & posMask)
		if at := r.expireAt(); at != 0 && at <= now {
			continue
		}
		r.entry(&e, &sc)
		if !fn(string(r.key()), &e) {
			return false
		}
	}
	return true
}

// entry fills e with the record's value as it is, read-only; a
// collection's is in sc.
func (r *strRec) entry(e *Entry, sc *scratchColl) {
	*e = Entry{Kind: r.kind(), ExpireAt: r.expireAt(), Version: r.version()}
	if e.Kind == KindString {
		e.Str = r.val()
	} else {
		e.Coll = r.view(sc)
	}
}

// Packed is a database's table of packed strings as a snapshot's cut saw
// it: FLUSHDB replaces the table, so the walk still sees the old one.
type Packed struct{ t *strTable }

// Len is the number of packed strings.
func (p Packed) Len() int {
	if p.t == nil {
		return 0
	}
	return p.t.n
}

// Packed returns the database's packed strings, for a snapshot's cut.
func (db *DB) Packed() Packed { return Packed{db.str} }

// Save walks the records from cursor (0 to start), calling fn for each
// live one not stamped with epoch and stamping it, until fn returns false
// or the walk has looked at saveVisits records; it returns where to go on
// and whether the walk is over. The entry fn gets is valid only during the
// call. The table may take new records meanwhile (they carry the epoch) and
// lose some (thawed: saved first), but must not be compacted.
func (p Packed) Save(cursor uint64, epoch uint16, fn func(key string, e *Entry) bool) (uint64, bool) {
	t := p.t
	if t == nil {
		return 0, true
	}
	var e Entry
	var sc scratchColl
	visits := 0
	seg, off := int(cursor>>segBits), int(cursor&(segSize-1))
	for ; seg < len(t.segs); seg, off = seg+1, 0 {
		b := t.segs[seg]
		if off == 0 {
			off = 1
		}
		for off < len(b) {
			pos := uint64(seg)<<segBits | uint64(off)
			r := t.record(pos)
			off += r.size()
			if visits++; visits >= saveVisits {
				return pos, false // this record again, next time
			}
			if r.flags()&recDead != 0 || r.snap() == epoch {
				continue
			}
			r.entry(&e, &sc)
			more := fn(r.keyString(), &e)
			t.setSnap(pos, epoch)
			if !more {
				return uint64(seg)<<segBits | uint64(off), false
			}
		}
	}
	return 0, true
}

// saveVisits bounds the records one Save looks at, so that a table mostly
// saved already is walked a bounded time per call.
const saveVisits = 4096

// GetRead is Get (touch) or GetNoTouch for a command that only reads the
// value: a packed string is read where it is, in an entry valid until the
// next call on the database, which the caller must not change or keep.
func (db *DB) GetRead(key []byte, now int64, touch bool) *Entry {
	e, ok := db.keys[string(key)]
	if !ok {
		if db.str == nil {
			return nil
		}
		return db.viewPacked(key, now, touch)
	}
	return db.found(key, e, now, touch)
}

func (db *DB) viewPacked(key []byte, now int64, touch bool) *Entry {
	_, r, ok := db.findPacked(key)
	if !ok {
		return nil
	}
	at := r.expireAt()
	if at != 0 && at <= now || r.kind() != KindString {
		return db.getPacked(key, now, touch) // expires it, as Get; or an entry
	}
	db.view = Entry{Kind: KindString, Str: r.val(), ExpireAt: at, Version: r.version()}
	if touch {
		db.view.setLRUField(r.lru())
		db.accessed(&db.view, now)
		db.str.setLRU(r.pos, db.view.lruField())
	}
	return &db.view
}

// setResult is what setPacked did.
type setResult uint8

const (
	setFallback setResult = iota // not for the table: set it as an entry
	setDone
	setRefused // NX or XX refused
)

// setPacked is SET of a small string to a key that is missing or packed:
// it writes the value into the table, with no entry at all. A key in the
// map, or packed but expired (it must expire first, as Redis's lookup
// does), falls back to an entry.
func (db *DB) setPacked(key, val []byte, at int64, keepTTL, nx, xx bool, now int64) setResult {
	if len(key) > strPackMax || len(val) > strPackMax {
		return setFallback
	}
	if _, ok := db.keys[string(key)]; ok {
		return setFallback
	}
	if db.str == nil {
		db.str = newStrTable()
	}
	t := db.str
	h := db.strHash(key)
	i, r, found := t.find(key, h)
	if found {
		if old := r.expireAt(); old != 0 && old <= now {
			return setFallback
		}
	}
	if nx && found || xx && !found {
		return setRefused
	}
	snap, lru := db.store.SnapEpoch, uint32(0)
	if found {
		old := r.expireAt()
		if keepTTL {
			at = old
		}
		if old != 0 {
			db.expires--
		}
		// An overwrite keeps what a snapshot knows of the key (it saved
		// it first) and its LFU counter, as Set.
		snap, lru = r.snap(), r.lru()
		d := -strCost(r.size())
		db.used += d
		db.store.used += d
		t.remove(i, &r)
	} else {
		if keepTTL {
			at = 0
		}
		delete(db.tombs, string(key))
	}
	version := db.store.NextVersion()
	if !found || !db.store.lfu {
		var e Entry
		db.store.initLRU(&e, db.store.lastNow)
		lru = e.lruField()
	}
	flags := byte(KindString) << recKindShift
	if at != 0 {
		flags |= recTTL
		db.expires++
	}
	pos := t.appendRec(flags, snap, lru, version, at, key, val)
	t.insert(h, pos)
	nr := t.record(pos)
	d := strCost(nr.size())
	db.used += d
	db.store.used += d
	if !found && db.scan != nil {
		db.scanAdd(string(key))
	}
	return setDone
}
