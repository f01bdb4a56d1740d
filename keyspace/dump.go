package keyspace

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/schemaproxy/schemaproxy/proto/rdb"
)

// DUMP and RESTORE speak Redis 7.0's payload format (RDB version 10, see
// proto/rdb), so values move between redis-server and this store both
// ways. DUMP picks the encoding Redis would have for the value under its
// default configuration, so for most values the bytes are Redis's own;
// RESTORE takes everything Redis 7.0 writes and the older encodings it
// still reads. Snapshots and the log keep their own format (encode.go).

// Redis 7.0's quicklist defaults, which decide how DUMP splits a list into
// nodes: it splits it as quicklistPushTail would, element by element (as
// RPUSH builds a list, and as Redis loads a plain list).
const (
	// list-max-listpack-size -2: a node's listpack holds up to 8 KiB.
	quicklistNodeBytes = 8192
	// The room quicklist counts for an entry besides its bytes.
	quicklistEntryOverhead = 8
	// packed_threshold: an element this large gets a node of its own.
	quicklistPackedThreshold = 1 << 30
	// A listpack is kept under 1 GiB (LISTPACK_MAX_SAFETY_SIZE): a sorted
	// set whose members add up to more is loaded as a skiplist.
	listpackMaxSafety = 1 << 30
)

// dumpPayload serializes e's value as Redis 7.0's DUMP does.
func dumpPayload(e *Entry) []byte {
	b := make([]byte, 0, 64)
	switch e.Kind {
	case KindString:
		b = rdb.AppendString(append(b, rdb.TypeString), e.Str)
	case KindList:
		b = dumpList(b, e.Coll.(*List))
	case KindHash:
		b = dumpHash(b, e.Coll.(*Hash))
	case KindSet:
		b = dumpSet(b, e.Coll.(*Set))
	case KindZSet:
		b = dumpZSet(b, e.Coll.(*ZSet))
	case KindStream:
		b = dumpStream(append(b, rdb.TypeStreamListpacks2), e.Coll.(*Stream))
	}
	return rdb.AppendFooter(b, 0)
}

// dumpList writes a quicklist of listpack nodes, cut where Redis's
// quicklistPushTail would cut them. A list Redis built otherwise (LPUSH,
// LINSERT, LREM...) may have other cuts: the same value in other bytes.
func dumpList(b []byte, l *List) []byte {
	type node struct {
		data  []byte
		plain bool
	}
	var nodes []node
	var lp []byte // the last node while it is a listpack
	l.Range(0, l.Len()-1, func(_ int, x []byte) bool {
		switch {
		case len(x) >= quicklistPackedThreshold:
			nodes = append(nodes, node{data: x, plain: true})
			lp = nil
		case lp != nil && len(lp)+len(x)+quicklistEntryOverhead <= quicklistNodeBytes:
			lp = rdb.ListpackAppend(lp, x)
			nodes[len(nodes)-1].data = lp
		default:
			lp = rdb.ListpackAppend(rdb.NewListpack(), x)
			nodes = append(nodes, node{data: lp})
		}
		return true
	})
	b = rdb.AppendLen(append(b, rdb.TypeListQuicklist2), uint64(len(nodes)))
	for _, n := range nodes {
		container := uint64(rdb.ContainerPacked)
		if n.plain {
			container = rdb.ContainerPlain
		}
		b = rdb.AppendString(rdb.AppendLen(b, container), n.data)
	}
	return b
}

// dumpHash writes a listpack of fields and values in order, or a table
// once Redis would have converted the hash (Hash.big).
func dumpHash(b []byte, h *Hash) []byte {
	if h.big {
		b = rdb.AppendLen(append(b, rdb.TypeHash), uint64(h.Len()))
		h.Each(func(f, v string) bool {
			b = rdb.AppendString(b, []byte(f))
			b = rdb.AppendString(b, []byte(v))
			return true
		})
		return b
	}
	lp := rdb.NewListpack()
	h.Each(func(f, v string) bool {
		lp = rdb.ListpackAppend(lp, []byte(f))
		lp = rdb.ListpackAppend(lp, []byte(v))
		return true
	})
	return rdb.AppendString(append(b, rdb.TypeHashListpack), lp)
}

// dumpSet writes an intset, in the narrowest width (Redis keeps the width
// its widest member ever needed, which a set that lost that member shows),
// or a table.
func dumpSet(b []byte, s *Set) []byte {
	if !s.table {
		return rdb.AppendString(append(b, rdb.TypeSetIntset), rdb.AppendIntset(nil, s.ints))
	}
	b = rdb.AppendLen(append(b, rdb.TypeSet), uint64(s.Len()))
	s.m.each(func(sl *fieldSlot[struct{}]) bool {
		b = rdb.AppendString(b, []byte(sl.key))
		return true
	})
	return b
}

// dumpZSet writes a listpack of members and scores in order, or the
// skiplist's elements from the greatest down with binary scores.
func dumpZSet(b []byte, z *ZSet) []byte {
	if !z.compact {
		b = rdb.AppendLen(append(b, rdb.TypeZSet2), uint64(z.Len()))
		for x := z.tail; x != nil; x = x.backward {
			b = rdb.AppendString(b, []byte(x.member))
			b = rdb.AppendBinaryDouble(b, x.score)
		}
		return b
	}
	lp := rdb.NewListpack()
	var buf [32]byte
	z.Range(func(m string, score float64) bool {
		lp = rdb.ListpackAppend(lp, bytesOf(m))
		if n, ok := double2ll(score); ok {
			lp = rdb.ListpackAppendInt(lp, n)
		} else {
			lp = rdb.ListpackAppend(lp, d2string(buf[:0], score))
		}
		return true
	})
	return rdb.AppendString(append(b, rdb.TypeZSetListpack), lp)
}

// double2ll is Redis's: f as an integer when it is one and within half the
// int64 range (whole scores go into a listpack as integers).
func double2ll(f float64) (int64, bool) {
	const lim = float64(math.MaxInt64 / 2)
	if !(f >= -lim && f <= lim) {
		return 0, false
	}
	n := int64(f)
	return n, float64(n) == f
}

// d2string is Redis's text for a score that double2ll refuses: "inf",
// "-inf", or C's "%.17g" (which Go's 'g' with 17 digits matches).
func d2string(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	return strconv.AppendFloat(b, f, 'g', 17, 64)
}

// restorePayload parses a DUMP payload as Redis 7.0's RESTORE does. Its
// errors: rdb.ErrFooter for a bad version or checksum, and errCorrupt or rdb.ErrCorrupt for everything else. Like Redis it reads
// the object from the whole payload, footer included, and ignores what the
// object leaves unread. The entry has no TTL and no version.
func restorePayload(p []byte) (*Entry, error) {
	if err := rdb.CheckFooter(p); err != nil {
		return nil, err
	}
	t, body := p[0], p[1:]
	var err error
	e := &Entry{}
	switch t {
	case rdb.TypeString:
		var s []byte
		if s, _, err = rdb.ReadString(body); err == nil {
			e.Kind, e.Str = KindString, append([]byte{}, s...)
		}
	case rdb.TypeList, rdb.TypeListZiplist, rdb.TypeListQuicklist, rdb.TypeListQuicklist2:
		e.Kind = KindList
		e.Coll, err = restoreList(t, body)
	case rdb.TypeSet, rdb.TypeSetIntset:
		e.Kind = KindSet
		e.Coll, err = restoreSet(t, body)
	case rdb.TypeHash, rdb.TypeHashZipmap, rdb.TypeHashZiplist, rdb.TypeHashListpack:
		e.Kind = KindHash
		e.Coll, err = restoreHash(t, body)
	case rdb.TypeZSet, rdb.TypeZSet2, rdb.TypeZSetZiplist, rdb.TypeZSetListpack:
		e.Kind = KindZSet
		e.Coll, err = restoreZSet(t, body)
	case rdb.TypeStreamListpacks, rdb.TypeStreamListpacks2:
		e.Kind = KindStream
		e.Coll, err = restoreStream(body, t == rdb.TypeStreamListpacks2)
	default: // modules (no module is loaded) and unknown types
		return nil, errCorrupt
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}

// readContainer reads the string that holds a listpack, ziplist, intset or
// zipmap.
func readContainer(p []byte) ([]byte, error) {
	s, _, err := rdb.ReadString(p)
	return s, err
}

// listBuilder gathers a list's elements.
type listBuilder struct{ l List }

func (lb *listBuilder) add(x []byte) error {
	lb.l.PushBack(x)
	return nil
}

// restoreList reads a plain list (of strings), a ziplist, or a quicklist of
// ziplists (version 1) or of listpacks and plain nodes (version 2). Empty
// nodes are skipped as Redis skips them; an empty list is corrupt.
func restoreList(t byte, p []byte) (*List, error) {
	var lb listBuilder
	if t == rdb.TypeListZiplist {
		zl, err := readContainer(p)
		if err != nil {
			return nil, err
		}
		if err := rdb.ZiplistEach(zl, lb.add); err != nil {
			return nil, err
		}
		return lb.finish()
	}
	n, p, err := rdb.ReadCount(p)
	if err != nil {
		return nil, err
	}
	for range n {
		if p, err = restoreListNode(t, p, &lb); err != nil {
			return nil, err
		}
	}
	return lb.finish()
}

// restoreListNode reads one element of a plain list or one quicklist node
// into lb and returns what follows it.
func restoreListNode(t byte, p []byte, lb *listBuilder) ([]byte, error) {
	container := uint64(rdb.ContainerPacked)
	var err error
	if t == rdb.TypeListQuicklist2 {
		if container, _, p, err = rdb.ReadLen(p); err != nil {
			return nil, err
		}
	}
	x, p, err := rdb.ReadString(p)
	switch {
	case err != nil:
		return nil, err
	case t == rdb.TypeList:
		return p, lb.add(x)
	case len(x) == 0:
		return nil, errCorrupt
	case container == rdb.ContainerPlain:
		return p, lb.add(x)
	case container != rdb.ContainerPacked:
		return nil, errCorrupt
	case t == rdb.TypeListQuicklist:
		return p, rdb.ZiplistEach(x, lb.add)
	}
	return p, rdb.ListpackEach(x, lb.add)
}

func (lb *listBuilder) finish() (*List, error) {
	if lb.l.Len() == 0 {
		return nil, errCorrupt
	}
	return &lb.l, nil
}

// restoreSet reads an intset or a table of members, and encodes the set as
// Redis loads it: an intset while every member is an integer and there are
// at most 512 of them.
func restoreSet(t byte, p []byte) (*Set, error) {
	if t == rdb.TypeSetIntset {
		is, err := readContainer(p)
		if err != nil {
			return nil, err
		}
		ints, err := rdb.Intset(is)
		if err != nil {
			return nil, err
		}
		s := &Set{ints: ints}
		if len(ints) > setMaxIntsetEntries {
			s.toTable()
		}
		return s, nil
	}
	n, p, err := rdb.ReadCount(p)
	if err != nil || n == 0 {
		return nil, errCorrupt
	}
	s := NewSet()
	for range n {
		var m []byte
		if m, p, err = rdb.ReadString(p); err != nil {
			return nil, err
		}
		if !s.Add(m) {
			return nil, errCorrupt // duplicate member
		}
	}
	return s, nil
}

// restoreHash reads a table, a listpack, a ziplist or a zipmap. A table (or
// zipmap) becomes a listpack as Redis loads it: unless it has more than 512
// fields or a field or value over 64 bytes. A listpack or ziplist stays one
// unless it has more than 512 fields, whatever its lengths, as in Redis.
func restoreHash(t byte, p []byte) (*Hash, error) {
	h := NewHash()
	put := func(f, v []byte) error {
		if !h.Set(f, v) {
			return errCorrupt // duplicate field
		}
		return nil
	}
	switch t {
	case rdb.TypeHash:
		n, p, err := rdb.ReadCount(p)
		if err != nil {
			return nil, err
		}
		for range n {
			var f, v []byte
			if f, p, err = rdb.ReadString(p); err != nil {
				return nil, err
			}
			if v, p, err = rdb.ReadString(p); err != nil {
				return nil, err
			}
			if err = put(f, v); err != nil {
				return nil, err
			}
		}
	case rdb.TypeHashZipmap:
		zm, err := readContainer(p)
		if err != nil {
			return nil, err
		}
		if err := rdb.ZipmapEach(zm, put); err != nil {
			return nil, err
		}
	default: // TypeHashListpack, TypeHashZiplist
		c, err := readContainer(p)
		if err != nil {
			return nil, err
		}
		if err := eachPair(t == rdb.TypeHashZiplist, c, put); err != nil {
			return nil, err
		}
		h.big = h.Len() > hashMaxListpackEntries
	}
	if h.Len() == 0 {
		return nil, errCorrupt
	}
	return h, nil
}

// eachPair calls fn with the entries of a listpack (or a ziplist) two by
// two; an odd count is corrupt. The slices are valid only during the call.
func eachPair(ziplist bool, c []byte, fn func(a, b []byte) error) error {
	var first []byte
	odd := false
	pair := func(x []byte) error {
		if !odd {
			first, odd = append(first[:0], x...), true
			return nil
		}
		odd = false
		return fn(first, x)
	}
	var err error
	if ziplist {
		err = rdb.ZiplistEach(c, pair)
	} else {
		err = rdb.ListpackEach(c, pair)
	}
	if err == nil && odd {
		err = errCorrupt
	}
	return err
}

// restoreZSet reads a skiplist's elements (binary or text scores) or a
// listpack or ziplist of members and scores, in any order. A skiplist is
// listpack-encoded as Redis loads it when it fits the listpack limits; a
// listpack stays one unless it has more than 128 elements.
func restoreZSet(t byte, p []byte) (*ZSet, error) {
	var pairs []zpair
	compact := false
	switch t {
	case rdb.TypeZSet, rdb.TypeZSet2:
		n, p, err := rdb.ReadCount(p)
		if err != nil {
			return nil, err
		}
		pairs = make([]zpair, 0, n)
		maxlen, total := 0, 0
		for range n {
			var m []byte
			var score float64
			if m, p, err = rdb.ReadString(p); err != nil {
				return nil, err
			}
			if t == rdb.TypeZSet2 {
				score, p, err = rdb.ReadBinaryDouble(p)
			} else {
				score, p, err = rdb.ReadTextDouble(p, scanDouble)
			}
			if err != nil {
				return nil, err
			}
			pairs = append(pairs, zpair{string(m), score})
			maxlen, total = max(maxlen, len(m)), total+len(m)
		}
		compact = zsetFits(n, maxlen) && total <= listpackMaxSafety
	default: // TypeZSetListpack, TypeZSetZiplist
		c, err := readContainer(p)
		if err != nil {
			return nil, err
		}
		if err := eachPair(t == rdb.TypeZSetZiplist, c, func(m, s []byte) error {
			score, ok := ParseFloat(s)
			if !ok {
				return errCorrupt
			}
			pairs = append(pairs, zpair{string(m), score})
			return nil
		}); err != nil {
			return nil, err
		}
		compact = len(pairs) <= zsetMaxListpackEntries
	}
	if len(pairs) == 0 {
		return nil, errCorrupt
	}
	slices.SortFunc(pairs, func(a, b zpair) int {
		if c := cmp.Compare(a.score, b.score); c != 0 {
			return c
		}
		return strings.Compare(a.member, b.member)
	})
	z := newZSet(uint64(len(pairs)))
	z.reserve(len(pairs))
	a := newZAppender(z)
	for _, x := range pairs {
		if math.IsNaN(x.score) || z.findString(x.member) != nil {
			return nil, errCorrupt
		}
		a.add(x.member, x.score)
	}
	a.finish()
	z.setCompact(compact)
	z.pack()
	return z, nil
}

// scanDouble reads a text score of an old skiplist payload as sscanf's %lg
// does: the longest number at the start, leading space allowed.
func scanDouble(b []byte) (float64, bool) {
	f, n, _ := cStrtod(b)
	return f, n > 0
}

// DumpPayload is e's value as Redis 7.0's DUMP serializes it: how values
// travel to and from Redis backends.
func DumpPayload(e *Entry) []byte { return dumpPayload(e) }

// RestorePayload reads a DUMP payload into an entry with no TTL.
func RestorePayload(p []byte) (*Entry, error) { return restorePayload(p) }
