package keyspace

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// setMaxIntsetEntries is Redis 7.0's set-max-intset-entries default.
const setMaxIntsetEntries = 512

// Set is the value of a set key. Like Redis 7.0 it starts as an intset:
// sorted 64-bit integers, the order in which Redis lists such a set. The
// first member that is not an integer (by string2ll's rules), or the 513th
// member, turns it into a table for good; a table's order is unspecified
// in Redis and is insertion order here.
type Set struct {
	ints  []int64 // the members while !table, ascending
	table bool
	m     fieldMap[struct{}]
}

// setElem is one member as a set holds it: a number in an intset, a string
// in a table.
type setElem struct {
	s     string
	n     int64
	isInt bool
}

// appendTo appends the member's bytes to b.
func (e setElem) appendTo(b []byte) []byte {
	if e.isInt {
		return strconv.AppendInt(b, e.n, 10)
	}
	return append(b, e.s...)
}

func (e setElem) String() string {
	if e.isInt {
		return strconv.FormatInt(e.n, 10)
	}
	return e.s
}

func (e setElem) write(w *resp.Writer) {
	if e.isInt {
		w.BulkInt(e.n)
	} else {
		w.BulkString(e.s)
	}
}

// NewSet returns an empty set (an intset, as Redis creates one).
func NewSet() *Set { return &Set{} }

// Len is the number of members.
func (s *Set) Len() int {
	if s.table {
		return s.m.len()
	}
	return len(s.ints)
}

// Clone returns a deep copy with the same encoding, as Redis's COPY.
func (s *Set) Clone() Collection {
	if s.table {
		return &Set{table: true, m: s.m.clone()}
	}
	return &Set{ints: slices.Clone(s.ints)}
}

// Encoding is the name OBJECT ENCODING gives the set in Redis 7.0.
func (s *Set) Encoding() string {
	if s.table {
		return "hashtable"
	}
	return "intset"
}

// Add adds member (copying it) and reports whether it is new.
func (s *Set) Add(member []byte) bool {
	if !s.table {
		if n, ok := ParseInt(member); ok {
			return s.addInt(n)
		}
		s.toTable()
	}
	return s.m.put(string(member), struct{}{})
}

// addElem adds a member of another set; strings are immutable, so a
// table member is shared rather than copied.
func (s *Set) addElem(e setElem) bool {
	switch {
	case e.isInt && !s.table:
		return s.addInt(e.n)
	case e.isInt:
		return s.m.put(e.String(), struct{}{})
	case !s.table:
		if n, ok := ParseInt([]byte(e.s)); ok {
			return s.addInt(n)
		}
		s.toTable()
	}
	return s.m.put(e.s, struct{}{})
}

func (s *Set) addInt(n int64) bool {
	i, found := slices.BinarySearch(s.ints, n)
	if found {
		return false
	}
	s.ints = slices.Insert(s.ints, i, n)
	if len(s.ints) > setMaxIntsetEntries {
		s.toTable()
	}
	return true
}

// toTable converts an intset to a table, as Redis's setTypeConvert.
func (s *Set) toTable() {
	s.table = true
	s.m = fieldMap[struct{}]{slots: make([]fieldSlot[struct{}], 0, len(s.ints)+1)}
	for _, n := range s.ints {
		s.m.put(strconv.FormatInt(n, 10), struct{}{})
	}
	s.ints = nil
}

// Remove removes member and reports whether it was there.
func (s *Set) Remove(member []byte) bool {
	if s.table {
		return s.m.del(member)
	}
	n, ok := ParseInt(member)
	if !ok {
		return false
	}
	return s.removeInt(n)
}

func (s *Set) removeInt(n int64) bool {
	i, found := slices.BinarySearch(s.ints, n)
	if found {
		s.ints = slices.Delete(s.ints, i, i+1)
	}
	return found
}

func (s *Set) removeElem(e setElem) bool {
	switch {
	case e.isInt && !s.table:
		return s.removeInt(e.n)
	case !e.isInt && s.table:
		i, ok := s.m.find(e.s)
		if ok {
			s.m.delAt(i)
		}
		return ok
	}
	var buf [24]byte
	return s.Remove(e.appendTo(buf[:0]))
}

// Has reports whether member is in the set.
func (s *Set) Has(member []byte) bool {
	if s.table {
		return s.m.has(member)
	}
	n, ok := ParseInt(member)
	if !ok {
		return false
	}
	_, found := slices.BinarySearch(s.ints, n)
	return found
}

func (s *Set) hasElem(e setElem) bool {
	if e.isInt && !s.table {
		_, found := slices.BinarySearch(s.ints, e.n)
		return found
	}
	if !e.isInt && s.table {
		_, ok := s.m.find(e.s)
		return ok
	}
	var buf [24]byte
	return s.Has(e.appendTo(buf[:0]))
}

// elemAt returns the member at position i: an index of ints, or of the
// table's slots.
func (s *Set) elemAt(i int) setElem {
	if s.table {
		return setElem{s: s.m.slots[i].key}
	}
	return setElem{n: s.ints[i], isInt: true}
}

// each calls fn for every member in the set's order until fn returns false.
// fn must not change the set.
func (s *Set) each(fn func(e setElem) bool) {
	if s.table {
		s.m.each(func(sl *fieldSlot[struct{}]) bool { return fn(setElem{s: sl.key}) })
		return
	}
	for _, n := range s.ints {
		if !fn(setElem{n: n, isInt: true}) {
			return
		}
	}
}

// Each calls fn with every member until fn returns false.
func (s *Set) Each(fn func(member string) bool) {
	s.each(func(e setElem) bool { return fn(e.String()) })
}

// random returns a member chosen uniformly; the set must not be empty.
func (s *Set) random(rnd *rand.Rand) setElem {
	if s.table {
		return s.elemAt(s.m.random(rnd))
	}
	return s.elemAt(rnd.IntN(len(s.ints)))
}

// randomDistinct returns k distinct members chosen uniformly, k < Len().
func (s *Set) randomDistinct(rnd *rand.Rand, k int) []setElem {
	var pos []int
	if s.table {
		pos = s.m.randomDistinct(rnd, k)
	} else {
		all := make([]int, len(s.ints))
		for i := range all {
			all[i] = i
		}
		pos = partialShuffle(rnd, all, k)
	}
	out := make([]setElem, len(pos))
	for i, p := range pos {
		out[i] = s.elemAt(p)
	}
	return out
}

// encode writes the member count then each member.
func (s *Set) encode(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(s.Len()))
	var buf [24]byte
	s.each(func(e setElem) bool {
		if e.isInt {
			b = appendBytes(b, e.appendTo(buf[:0]))
		} else {
			b = appendHashString(b, e.s)
		}
		return true
	})
	return b
}

// decodeSet rebuilds a set as Redis loads one: an intset when every member
// is an integer and there are at most 512 of them.
func decodeSet(b []byte) (*Set, error) {
	n, b, err := readCount(b)
	if err != nil {
		return nil, err
	}
	s := NewSet()
	for ; n > 0; n-- {
		var m []byte
		if m, b, err = readBytes(b); err != nil {
			return nil, err
		}
		if !s.Add(m) {
			return nil, errCorrupt // duplicate member
		}
	}
	if len(b) != 0 {
		return nil, errCorrupt
	}
	return s, nil
}

var setCommands = map[string]Handler{
	"sadd":        sadd,
	"srem":        srem,
	"smembers":    sinter,
	"sismember":   sismember,
	"smismember":  smismember,
	"scard":       scard,
	"spop":        spop,
	"srandmember": srandmember,
	"smove":       smove,
	"sinter":      sinter,
	"sintercard":  sintercard,
	"sinterstore": sinterstore,
	"sunion":      sunion,
	"sunionstore": sunionstore,
	"sdiff":       sdiff,
	"sdiffstore":  sdiffstore,
	"sscan":       sscan,
}

// setRead returns the set at key, nil when missing; ok is false after a
// WRONGTYPE reply.
func setRead(c *Ctx, key []byte) (s *Set, e *Entry, ok bool) {
	e, wrong := c.lookup(key, KindSet)
	if wrong {
		return nil, nil, false
	}
	if e == nil {
		return nil, nil, true
	}
	return e.Coll.(*Set), e, true
}

// sadd is SADD key member [member ...].
func sadd(c *Ctx) {
	key := c.Key(1)
	s, e, ok := setRead(c, key)
	if !ok {
		return
	}
	if s == nil {
		s = NewSet()
	}
	added := 0
	for _, m := range c.Args[2:] {
		if s.Add(m) {
			added++
		}
	}
	if e == nil || added > 0 {
		c.collStored(key, e, KindSet, s)
	}
	c.W.Int(int64(added))
}

// srem is SREM key member [member ...].
func srem(c *Ctx) {
	c.removeCount(KindSet, func(coll Collection) int {
		s, deleted := coll.(*Set), 0
		for _, m := range c.Args[2:] {
			if s.Remove(m) {
				deleted++
			}
		}
		return deleted
	})
}

// sismember is SISMEMBER key member.
func sismember(c *Ctx) {
	s, _, ok := setRead(c, c.Key(1))
	if !ok {
		return
	}
	if s != nil && s.Has(c.Args[2]) {
		c.W.Int(1)
	} else {
		c.W.Int(0)
	}
}

// smismember is SMISMEMBER key member [member ...]; a missing key is an
// empty set.
func smismember(c *Ctx) {
	s, _, ok := setRead(c, c.Key(1))
	if !ok {
		return
	}
	c.W.Array(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		if s != nil && s.Has(m) {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
	}
}

// scard is SCARD key.
func scard(c *Ctx) {
	s, _, ok := setRead(c, c.Key(1))
	if !ok {
		return
	}
	if s == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(s.Len()))
}

// smove is SMOVE source destination member.
func smove(c *Ctx) {
	srcKey, dstKey, member := c.Key(1), c.Key(2), c.Args[3]
	src, dst := c.Get(srcKey), c.Get(dstKey)
	// Redis answers 0 for a missing source before checking either type.
	if src == nil {
		c.W.Int(0)
		return
	}
	if src.Kind != KindSet || (dst != nil && dst.Kind != KindSet) {
		c.W.Error(ErrWrongType)
		return
	}
	srcSet := src.Coll.(*Set)
	if src == dst {
		if srcSet.Has(member) {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
		return
	}
	if !srcSet.Remove(member) {
		c.W.Int(0)
		return
	}
	c.collChanged(srcKey, src)
	if dst == nil {
		d := NewSet()
		d.Add(member)
		c.Put(dstKey, &Entry{Kind: KindSet, Coll: d}, false)
	} else if dst.Coll.(*Set).Add(member) {
		c.Modified(dst)
	}
	c.W.Int(1)
}

// spop is SPOP key [count]. It is logged as the SREM of what it popped, or
// as DEL when it popped everything, as Redis propagates it.
func spop(c *Ctx) {
	if len(c.Args) > 3 {
		c.W.Error(ErrSyntax)
		return
	}
	key := c.Key(1)
	if len(c.Args) == 3 {
		spopCount(c, key)
		return
	}
	s, e, ok := setRead(c, key)
	if !ok {
		return
	}
	if s == nil {
		c.W.Null()
		return
	}
	el := s.random(c.Rand)
	s.removeElem(el)
	m := el.appendTo(nil)
	c.W.Bulk(m)
	c.collChanged(key, e)
	c.Propagate = [][]byte{[]byte("srem"), key, m}
}

// spopMoveStrategyMul is Redis's SPOP_MOVE_STRATEGY_MUL: when few members
// remain, SPOP draws the ones that stay and rebuilds the set from them.
const spopMoveStrategyMul = 5

func spopCount(c *Ctx, key []byte) {
	// Redis's getPositiveLongFromObjectOrReply: one message for a
	// non-number and for a negative one.
	count, ok := c.nonNegArg(2, ErrNotPositive)
	if !ok {
		return
	}
	s, e, ok := setRead(c, key)
	if !ok {
		return
	}
	if s == nil || count == 0 {
		c.W.Set(0)
		return
	}
	size := int64(s.Len())
	if count >= size {
		// The whole set, listed as Redis does: through a new set (SUNION of
		// the key), so an all-integer set comes out sorted.
		all := NewSet()
		s.each(func(el setElem) bool { all.addElem(el); return true })
		c.W.Set(all.Len())
		all.each(func(el setElem) bool { el.write(c.W); return true })
		c.Del(key)
		c.Propagate = [][]byte{[]byte("del"), key}
		return
	}
	prop := make([][]byte, 2, 2+count)
	prop[0], prop[1] = []byte("srem"), key
	c.W.Set(int(count))
	remaining := size - count
	if remaining*spopMoveStrategyMul > count {
		for ; count > 0; count-- {
			el := s.random(c.Rand)
			s.removeElem(el)
			el.write(c.W)
			prop = append(prop, el.appendTo(nil))
		}
	} else {
		// Redis keeps a new set made of the remaining members, so its
		// encoding is recomputed (a table of integers may become an
		// intset again).
		kept := NewSet()
		for _, el := range s.randomDistinct(c.Rand, int(remaining)) {
			kept.addElem(el)
			s.removeElem(el)
		}
		s.each(func(el setElem) bool {
			el.write(c.W)
			prop = append(prop, el.appendTo(nil))
			return true
		})
		e.Coll = kept
	}
	c.Modified(e)
	c.Propagate = prop
}

// srandmember is SRANDMEMBER key [count].
func srandmember(c *Ctx) {
	if len(c.Args) > 3 {
		c.W.Error(ErrSyntax)
		return
	}
	if len(c.Args) == 3 {
		srandmemberCount(c)
		return
	}
	s, _, ok := setRead(c, c.Key(1))
	if !ok {
		return
	}
	if s == nil {
		c.W.Null()
		return
	}
	s.random(c.Rand).write(c.W)
}

func srandmemberCount(c *Ctx) {
	l, ok := c.randCountArg()
	if !ok {
		return
	}
	s, _, ok := setRead(c, c.Key(1))
	if !ok {
		return
	}
	if s == nil || l == 0 {
		c.W.Array(0)
		return
	}
	mode, n := randPlan(l, s.Len())
	c.W.Array(n)
	switch mode {
	case randRepeat:
		for range n {
			s.random(c.Rand).write(c.W)
		}
	case randAll:
		s.each(func(el setElem) bool { el.write(c.W); return true })
	default:
		for _, el := range s.randomDistinct(c.Rand, n) {
			el.write(c.W)
		}
	}
}

// sinter is SINTER key [key ...] and SMEMBERS key.
func sinter(c *Ctx) { sinterGeneric(c, c.Args[1:], nil, false, 0) }

// sinterstore is SINTERSTORE destination key [key ...].
func sinterstore(c *Ctx) { sinterGeneric(c, c.Args[2:], c.Key(1), false, 0) }

// sintercard is SINTERCARD numkeys key [key ...] [LIMIT limit].
func sintercard(c *Ctx) {
	numkeys, ok := c.numkeysArg()
	if !ok {
		return
	}
	if numkeys > int64(len(c.Args)-2) {
		c.W.Error(ErrNumKeysTooMany)
		return
	}
	var limit int64
	for j := 2 + int(numkeys); j < len(c.Args); j++ {
		if optIs(c.Args[j], "limit") && j+1 < len(c.Args) {
			j++
			n, ok := c.nonNegArg(j, ErrLimitNegative)
			if !ok {
				return
			}
			limit = n
		} else {
			c.W.Error(ErrSyntax)
			return
		}
	}
	sinterGeneric(c, c.Args[2:2+numkeys], nil, true, limit)
}

// setsRead looks up the sets of keys (nil for a missing key); ok is false
// after a WRONGTYPE reply.
func setsRead(c *Ctx, keys [][]byte) (sets []*Set, ok bool) {
	sets = make([]*Set, len(keys))
	for i, k := range keys {
		e := c.Get(k)
		if e == nil {
			continue
		}
		if e.Kind != KindSet {
			c.W.Error(ErrWrongType)
			return nil, false
		}
		sets[i] = e.Coll.(*Set)
	}
	return sets, true
}

// sinterGeneric intersects the sets at keys as Redis does: it walks the
// smallest set, so its order is the reply's order; with dst it stores the
// result, with cardOnly it counts up to limit (0: no limit).
func sinterGeneric(c *Ctx, keys [][]byte, dst []byte, cardOnly bool, limit int64) {
	sets, ok := setsRead(c, keys)
	if !ok {
		return
	}
	if slices.Contains(sets, nil) {
		switch {
		case dst != nil:
			c.storeResult(dst, KindSet, NewSet())
		case cardOnly:
			c.W.Int(0)
		default:
			c.W.Set(0)
		}
		return
	}
	slices.SortStableFunc(sets, func(a, b *Set) int { return a.Len() - b.Len() })
	var out *Set
	var list []setElem
	if dst != nil {
		out = NewSet()
	}
	var card int64
	sets[0].each(func(el setElem) bool {
		for _, o := range sets[1:] {
			if o != sets[0] && !o.hasElem(el) {
				return true
			}
		}
		card++
		switch {
		case cardOnly:
			return limit == 0 || card < limit
		case out != nil:
			out.addElem(el)
		default:
			list = append(list, el)
		}
		return true
	})
	switch {
	case cardOnly:
		c.W.Int(card)
	case out != nil:
		c.storeResult(dst, KindSet, out)
	default:
		c.W.Set(len(list))
		for _, el := range list {
			el.write(c.W)
		}
	}
}

func sunion(c *Ctx)      { sunionDiffGeneric(c, c.Args[1:], nil, false) }
func sunionstore(c *Ctx) { sunionDiffGeneric(c, c.Args[2:], c.Key(1), false) }
func sdiff(c *Ctx)       { sunionDiffGeneric(c, c.Args[1:], nil, true) }
func sdiffstore(c *Ctx)  { sunionDiffGeneric(c, c.Args[2:], c.Key(1), true) }

// sunionDiffGeneric is SUNION, SDIFF and their STORE forms. The result is
// built as a new set, as Redis does, so its order is the new set's: sorted
// when it is all integers (up to 512), unspecified otherwise.
func sunionDiffGeneric(c *Ctx, keys [][]byte, dst []byte, diff bool) {
	sets, ok := setsRead(c, keys)
	if !ok {
		return
	}
	out := NewSet()
	switch {
	case !diff:
		for _, s := range sets {
			if s != nil {
				s.each(func(el setElem) bool { out.addElem(el); return true })
			}
		}
	case sets[0] != nil && !slices.Contains(sets[1:], sets[0]):
		sets[0].each(func(el setElem) bool {
			for _, o := range sets[1:] {
				if o != nil && o.hasElem(el) {
					return true
				}
			}
			out.addElem(el)
			return true
		})
	}
	if dst != nil {
		c.storeResult(dst, KindSet, out)
		return
	}
	c.W.Set(out.Len())
	out.each(func(el setElem) bool { el.write(c.W); return true })
}

// sscan is SSCAN key cursor [MATCH pattern] [COUNT count]. An intset is
// returned whole with cursor 0, as Redis does.
func sscan(c *Ctx) {
	e, cursor, opts := collScanStart(c, KindSet)
	if e == nil {
		return
	}
	s := e.Coll.(*Set)
	var out [][]byte
	keep := func(el setElem) {
		b := el.appendTo(nil)
		if opts.keep(b) {
			out = append(out, b)
		}
	}
	next := uint64(0)
	if s.table {
		next = s.m.scan(cursor, opts.count, func(sl *fieldSlot[struct{}]) { keep(setElem{s: sl.key}) })
	} else {
		s.each(func(el setElem) bool { keep(el); return true })
	}
	writeScanHead(c, next, len(out))
	for _, b := range out {
		c.W.Bulk(b)
	}
}
