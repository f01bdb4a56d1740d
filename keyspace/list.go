package keyspace

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"unsafe"
)

// List is the value of a list key: a quicklist, as Redis keeps one. The
// elements are packed one after another in nodes of up to listNodeBytes
// (an element longer than that has a node of its own), each element as
// its length (a uvarint), its bytes and its length again written backwards,
// so a node is walked from either end, as a listpack is. A node keeps free
// room at both ends, so pushes and pops at either end of the list touch
// only its end node. Finding index i walks the node lengths from the
// nearer end of the list, then the node from its nearer end.
//
// Slices the list hands out (At, Range, PopFront, PopBack) point into its
// nodes: they are valid until the list next changes.
type List struct {
	nodes []listNode
	n     int
}

// listNode holds count elements in buf[lo:hi].
type listNode struct {
	buf    []byte
	lo, hi int32
	count  int32
}

// listNodeBytes is how much a node holds before a new node starts: the
// size Redis's default list-max-listpack-size (-2) gives its listpacks.
const listNodeBytes = 8192

func (x *listNode) data() []byte { return x.buf[x.lo:x.hi] }
func (x *listNode) size() int    { return int(x.hi - x.lo) }

// listElemSize is what x costs in a node.
func listElemSize(x []byte) int {
	fwd := uvarintLen(len(x)) + len(x)
	return fwd + uvarintLen(fwd)
}

// putListElem writes x's encoding at b[0:listElemSize(x)]: the uvarint
// length, the bytes, then the length of those two as a backwards varint
// (its last byte holds the low 7 bits, a set high bit meaning more bytes
// precede it).
func putListElem(b []byte, x []byte) {
	w := binary.PutUvarint(b, uint64(len(x)))
	w += copy(b[w:], x)
	fwd := w
	k := uvarintLen(fwd)
	for j := k - 1; j >= 0; j-- {
		c := byte(fwd & 0x7f)
		if j > 0 {
			c |= 0x80
		}
		b[w+j] = c
		fwd >>= 7
	}
}

// listElemAt reads the element starting at buf[i] and returns it and the
// offset past it.
func listElemAt(buf []byte, i int) ([]byte, int) {
	v, w := binary.Uvarint(buf[i:])
	start := i + w
	end := start + int(v)
	return buf[start:end:end], end + uvarintLen(w+int(v))
}

// listElemBefore reads the element ending at buf[i] and returns it and the
// offset where it starts.
func listElemBefore(buf []byte, i int) ([]byte, int) {
	fwd, shift := 0, 0
	for {
		i--
		c := buf[i]
		fwd |= int(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			break
		}
	}
	start := i - fwd
	x, _ := listElemAt(buf, start)
	return x, start
}

// Len is the number of elements.
func (l *List) Len() int { return l.n }

// locate returns the node holding element i and i's position in it.
func (l *List) locate(i int) (node, at int) {
	if i < l.n/2 {
		for node = 0; i >= int(l.nodes[node].count); node++ {
			i -= int(l.nodes[node].count)
		}
		return node, i
	}
	j := l.n - 1 - i // from the tail
	for node = len(l.nodes) - 1; j >= int(l.nodes[node].count); node-- {
		j -= int(l.nodes[node].count)
	}
	return node, int(l.nodes[node].count) - 1 - j
}

// offset returns the offsets in x.buf where its element k starts and ends.
func (x *listNode) offset(k int) (start, end int) {
	if k < int(x.count)/2 {
		i := int(x.lo)
		for ; k > 0; k-- {
			_, i = listElemAt(x.buf, i)
		}
		_, end = listElemAt(x.buf, i)
		return i, end
	}
	i := int(x.hi)
	for k = int(x.count) - 1 - k; k >= 0; k-- {
		end = i
		_, i = listElemBefore(x.buf, i)
	}
	return i, end
}

// At returns element i (0 <= i < Len).
func (l *List) At(i int) []byte {
	node, k := l.locate(i)
	x := &l.nodes[node]
	start, _ := x.offset(k)
	e, _ := listElemAt(x.buf, start)
	return e
}

// Set replaces element i (0 <= i < Len) with a copy of x.
func (l *List) Set(i int, x []byte) {
	node, k := l.locate(i)
	nd := &l.nodes[node]
	start, end := nd.offset(k)
	l.rebuild(node, start, end, x, true)
}

// rebuild replaces buf[start:end] of node with x's element (none when
// !withX) in a new buffer, splitting a node grown past listNodeBytes in
// two and dropping one left empty.
func (l *List) rebuild(node, start, end int, x []byte, withX bool) {
	nd := &l.nodes[node]
	add := 0
	if withX {
		add = listElemSize(x)
	}
	size := nd.size() - (end - start) + add
	if size == 0 {
		l.nodes = slices.Delete(l.nodes, node, node+1)
		return
	}
	buf := make([]byte, size, allocSize(size))
	w := copy(buf, nd.buf[nd.lo:start])
	if withX {
		putListElem(buf[w:], x)
		w += add
	}
	copy(buf[w:], nd.buf[end:nd.hi])
	count := nd.count
	switch {
	case withX && end == start:
		count++
	case !withX:
		count--
	}
	*nd = listNode{buf: buf, hi: int32(size), count: count}
	if size > listNodeBytes && count > 1 {
		l.split(node)
	}
}

// split cuts node in two halves by element count.
func (l *List) split(node int) {
	nd := l.nodes[node]
	half := int(nd.count) / 2
	mid, _ := nd.offset(half)
	left := listNode{buf: packedClone(nd.buf[nd.lo:mid]), count: int32(half)}
	left.hi = int32(len(left.buf))
	right := listNode{buf: packedClone(nd.buf[mid:nd.hi]), count: nd.count - int32(half)}
	right.hi = int32(len(right.buf))
	l.nodes[node] = left
	l.nodes = slices.Insert(l.nodes, node+1, right)
}

// reserveFor makes room for front bytes before the node's elements and
// back bytes after them. A new buffer gets half the node's size again
// (within a node's bytes) as more room on the side that needed it, and
// keeps the other side's room, so pushes at both ends of a short list do
// not copy it every time. A push of many elements gives the bytes still to
// push (coming), and the node is sized once for what of them it can hold,
// rather than grown by half again and again (whose discarded buffers
// fragment the heap).
func (x *listNode) reserveFor(front, back, coming int) {
	if int(x.lo) >= front && len(x.buf)-int(x.hi) >= back {
		return
	}
	size := x.size()
	grow := min(max(size/2, 16), max(listNodeBytes-size, 0))
	if coming > front+back {
		grow = min(coming, max(listNodeBytes-size, 0)) - front - back
		grow = max(grow, 0)
	}
	if front > 0 {
		front, back = front+grow, len(x.buf)-int(x.hi)
	} else {
		front, back = int(x.lo), back+grow
	}
	buf := make([]byte, allocSize(front+size+back))
	lo := front
	if front > int(x.lo) { // the allocator's rounding goes to the front
		lo = len(buf) - back - size
	}
	copy(buf[lo:], x.data())
	x.buf, x.lo, x.hi = buf, int32(lo), int32(lo+size)
}

// PushFront adds a copy of x before element 0.
func (l *List) PushFront(x []byte) { l.pushFront(x, 0) }

// pushFront is PushFront with the bytes of elements still to come after x
// included (see reserveFor).
func (l *List) pushFront(x []byte, coming int) {
	need := listElemSize(x)
	if len(l.nodes) == 0 || (l.nodes[0].size()+need > listNodeBytes && l.nodes[0].count > 0) {
		l.nodes = slices.Insert(l.nodes, 0, listNode{})
	}
	nd := &l.nodes[0]
	nd.reserveFor(need, 0, coming)
	nd.lo -= int32(need)
	putListElem(nd.buf[nd.lo:], x)
	nd.count++
	l.n++
}

// PushBack adds a copy of x after the last element.
func (l *List) PushBack(x []byte) { l.pushBack(x, 0) }

func (l *List) pushBack(x []byte, coming int) {
	need := listElemSize(x)
	last := len(l.nodes) - 1
	if last < 0 || (l.nodes[last].size()+need > listNodeBytes && l.nodes[last].count > 0) {
		l.nodes = append(l.nodes, listNode{})
		last++
	}
	nd := &l.nodes[last]
	nd.reserveFor(0, need, coming)
	putListElem(nd.buf[nd.hi:], x)
	nd.hi += int32(need)
	nd.count++
	l.n++
}

// PopFront removes and returns element 0 (the list must not be empty).
func (l *List) PopFront() []byte {
	nd := &l.nodes[0]
	x, next := listElemAt(nd.buf, int(nd.lo))
	nd.lo = int32(next)
	nd.count--
	l.n--
	if nd.count == 0 {
		l.nodes = slices.Delete(l.nodes, 0, 1)
	}
	return x
}

// PopBack removes and returns the last element (the list must not be
// empty).
func (l *List) PopBack() []byte {
	last := len(l.nodes) - 1
	nd := &l.nodes[last]
	x, start := listElemBefore(nd.buf, int(nd.hi))
	nd.hi = int32(start)
	nd.count--
	l.n--
	if nd.count == 0 {
		l.nodes[last] = listNode{}
		l.nodes = l.nodes[:last]
	}
	return x
}

// Insert puts a copy of x at index i (0 <= i <= Len).
func (l *List) Insert(i int, x []byte) {
	switch i {
	case 0:
		l.PushFront(x)
		return
	case l.n:
		l.PushBack(x)
		return
	}
	node, k := l.locate(i)
	start, _ := l.nodes[node].offset(k)
	l.rebuild(node, start, start, x, true)
	l.n++
}

// Trim removes front elements from the head and back elements from the
// tail (front+back <= Len).
func (l *List) Trim(front, back int) {
	// Whole nodes go at once; then single elements.
	drop := 0
	for drop < len(l.nodes) && front >= int(l.nodes[drop].count) {
		front -= int(l.nodes[drop].count)
		l.n -= int(l.nodes[drop].count)
		drop++
	}
	l.nodes = slices.Delete(l.nodes, 0, drop)
	keep := len(l.nodes)
	for keep > 0 && back >= int(l.nodes[keep-1].count) {
		back -= int(l.nodes[keep-1].count)
		l.n -= int(l.nodes[keep-1].count)
		keep--
	}
	clear(l.nodes[keep:])
	l.nodes = l.nodes[:keep]
	for ; front > 0; front-- {
		l.PopFront()
	}
	for ; back > 0; back-- {
		l.PopBack()
	}
	if l.n == 0 {
		l.nodes = nil
	}
}

// Remove deletes the elements equal to x, at most limit of them when limit
// is positive, scanning from the tail when fromTail is set (LREM). It
// returns how many it removed; the survivors keep their order.
func (l *List) Remove(x []byte, limit int, fromTail bool) int {
	keep := make([]bool, l.n)
	removed := 0
	match := func(i int, e []byte) bool {
		if (limit <= 0 || removed < limit) && bytes.Equal(e, x) {
			removed++
		} else {
			keep[i] = true
		}
		return true
	}
	if fromTail {
		l.RangeReverse(0, l.n-1, match)
	} else {
		l.Range(0, l.n-1, match)
	}
	if removed == 0 {
		return 0
	}
	var out List
	i := 0
	l.Range(0, l.n-1, func(_ int, e []byte) bool {
		if keep[i] {
			out.PushBack(e)
		}
		i++
		return true
	})
	*l = out
	return removed
}

// Range calls fn with each element from index from to index to, in order,
// until fn returns false. fn must not change the list.
func (l *List) Range(from, to int, fn func(i int, x []byte) bool) {
	if from > to || from >= l.n {
		return
	}
	node, k := l.locate(from)
	i := from
	for ; node < len(l.nodes); node++ {
		nd := &l.nodes[node]
		off := int(nd.lo)
		if k > 0 {
			off, _ = nd.offset(k)
			k = 0
		}
		for off < int(nd.hi) {
			var x []byte
			x, off = listElemAt(nd.buf, off)
			if i > to || !fn(i, x) {
				return
			}
			i++
		}
	}
}

// RangeReverse is Range from index to down to index from.
func (l *List) RangeReverse(from, to int, fn func(i int, x []byte) bool) {
	if from > to || to < 0 {
		return
	}
	node, k := l.locate(to)
	i := to
	for ; node >= 0; node-- {
		nd := &l.nodes[node]
		off := int(nd.hi)
		if k >= 0 {
			_, off = nd.offset(k)
			k = -1
		}
		for off > int(nd.lo) {
			var x []byte
			x, off = listElemBefore(nd.buf, off)
			if i < from || !fn(i, x) {
				return
			}
			i--
		}
	}
}

// Clone returns a deep copy.
func (l *List) Clone() Collection {
	c := &List{nodes: make([]listNode, len(l.nodes)), n: l.n}
	for i := range l.nodes {
		nd := &l.nodes[i]
		c.nodes[i] = listNode{buf: packedClone(nd.data()), hi: int32(nd.size()), count: nd.count}
	}
	return c
}

// cost is what the list's nodes take in memory.
func (l *List) cost() int64 {
	n := int64(allocSize(cap(l.nodes) * int(unsafe.Sizeof(listNode{}))))
	for i := range l.nodes {
		n += int64(allocSize(len(l.nodes[i].buf)))
	}
	return n
}

// encode appends the element count then each element.
func (l *List) encode(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(l.n))
	l.Range(0, l.n-1, func(_ int, x []byte) bool {
		b = appendBytes(b, x)
		return true
	})
	return b
}

func decodeList(b []byte) (*List, error) {
	n, rest, err := readCount(b)
	if err != nil {
		return nil, err
	}
	l := &List{}
	for i := 0; i < n; i++ {
		var x []byte
		x, rest, err = readBytes(rest)
		if err != nil {
			return nil, err
		}
		l.PushBack(x)
	}
	if len(rest) != 0 {
		return nil, errCorrupt
	}
	return l, nil
}

var listCommands = map[string]Handler{
	"lpush":     lpush,
	"rpush":     rpush,
	"lpushx":    lpushx,
	"rpushx":    rpushx,
	"lpop":      lpop,
	"rpop":      rpop,
	"llen":      llen,
	"lindex":    lindex,
	"lset":      lset,
	"lrange":    lrange,
	"ltrim":     ltrim,
	"lrem":      lrem,
	"linsert":   linsert,
	"lpos":      lpos,
	"rpoplpush": rpoplpush,
	"lmove":     lmove,
	"lmpop":     lmpop,
}

// listEnd is the end of a list an operation works on.
type listEnd bool

const (
	listLeft  listEnd = false
	listRight listEnd = true
)

// listCopy returns a copy of x.
func listCopy(x []byte) []byte { return append(make([]byte, 0, len(x)), x...) }

func (l *List) push(end listEnd, x []byte) {
	if end == listLeft {
		l.PushFront(x)
	} else {
		l.PushBack(x)
	}
}

func (l *List) pop(end listEnd) []byte {
	if end == listLeft {
		return l.PopFront()
	}
	return l.PopBack()
}

// listEndArg parses LEFT or RIGHT, or writes a syntax error.
func (c *Ctx) listEndArg(i int) (listEnd, bool) {
	switch {
	case optIs(c.Args[i], "left"):
		return listLeft, true
	case optIs(c.Args[i], "right"):
		return listRight, true
	}
	c.W.Error(ErrSyntax)
	return listLeft, false
}

func lpush(c *Ctx)  { listPushCmd(c, listLeft, false) }
func rpush(c *Ctx)  { listPushCmd(c, listRight, false) }
func lpushx(c *Ctx) { listPushCmd(c, listLeft, true) }
func rpushx(c *Ctx) { listPushCmd(c, listRight, true) }

// listPushCmd is [LR]PUSH[X] key element [element ...].
func listPushCmd(c *Ctx, end listEnd, onlyExisting bool) {
	key := c.Key(1)
	e, wrong := c.lookup(key, KindList)
	if wrong {
		return
	}
	if e == nil && onlyExisting {
		c.W.Int(0)
		return
	}
	l := listOrNew(e)
	coming := 0
	for _, x := range c.Args[2:] {
		coming += listElemSize(x)
	}
	for _, x := range c.Args[2:] {
		if end == listLeft {
			l.pushFront(x, coming)
		} else {
			l.pushBack(x, coming)
		}
		coming -= listElemSize(x)
	}
	c.collStored(key, e, KindList, l)
	c.W.Int(int64(l.Len()))
}

// listOrNew returns the list of e, or a new empty one (for collStored)
// when the key is missing (e nil).
func listOrNew(e *Entry) *List {
	if e == nil {
		return &List{}
	}
	return e.Coll.(*List)
}

func lpop(c *Ctx) { listPopCmd(c, "lpop", listLeft) }
func rpop(c *Ctx) { listPopCmd(c, "rpop", listRight) }

// listPopCmd is [LR]POP key [count]: a bulk string without count, an array
// with it (nil array for a missing key, empty array for count 0).
func listPopCmd(c *Ctx, name string, end listEnd) {
	if len(c.Args) > 3 {
		c.W.Error(ErrArity(name))
		return
	}
	hasCount := len(c.Args) == 3
	var count int64
	if hasCount {
		var ok bool
		if count, ok = c.nonNegArg(2, ErrNotPositive); !ok {
			return
		}
	}
	key := c.Key(1)
	e, wrong := c.lookup(key, KindList)
	if wrong {
		return
	}
	if e == nil {
		if hasCount {
			c.W.NullArray()
		} else {
			c.W.Null()
		}
		return
	}
	l := e.Coll.(*List)
	if !hasCount {
		c.W.Bulk(l.pop(end))
		c.collChanged(key, e)
		return
	}
	if count == 0 {
		c.W.Array(0)
		return
	}
	listPopReply(c, l, end, count)
	c.collChanged(key, e)
}

// listPopReply pops up to count elements from end, replying with them in
// the order they were popped.
func listPopReply(c *Ctx, l *List, end listEnd, count int64) {
	n := int(min(count, int64(l.Len())))
	c.W.Array(n)
	for range n {
		c.W.Bulk(l.pop(end))
	}
}

// llen is LLEN key.
func llen(c *Ctx) {
	e, wrong := c.lookup(c.Key(1), KindList)
	switch {
	case wrong:
	case e == nil:
		c.W.Int(0)
	default:
		c.W.Int(int64(e.Coll.Len()))
	}
}

// listIndex resolves a Redis index (negative counts from the tail) against
// a list of length n; ok is false when it falls outside.
func listIndex(idx int64, n int) (int, bool) {
	if idx < 0 {
		idx += int64(n)
	}
	if idx < 0 || idx >= int64(n) {
		return 0, false
	}
	return int(idx), true
}

// lindex is LINDEX key index. The key is looked up before the index is
// parsed, as Redis does, so a missing key answers nil even to a bad index.
func lindex(c *Ctx) {
	e, wrong := c.lookup(c.Key(1), KindList)
	if wrong {
		return
	}
	if e == nil {
		c.W.Null()
		return
	}
	idx, ok := c.intArg(2)
	if !ok {
		return
	}
	l := e.Coll.(*List)
	i, ok := listIndex(idx, l.Len())
	if !ok {
		c.W.Null()
		return
	}
	c.W.Bulk(l.At(i))
}

// lset is LSET key index element.
func lset(c *Ctx) {
	key := c.Key(1)
	e, wrong := c.lookup(key, KindList)
	if wrong {
		return
	}
	if e == nil {
		c.W.Error(ErrNoSuchKey)
		return
	}
	idx, ok := c.intArg(2)
	if !ok {
		return
	}
	l := e.Coll.(*List)
	i, ok := listIndex(idx, l.Len())
	if !ok {
		c.W.Error(ErrIndexRange)
		return
	}
	l.Set(i, c.Args[3])
	c.Modified(e)
	c.W.OK()
}

// lrange is LRANGE key start stop; the indexes are parsed before the key is
// looked up.
func lrange(c *Ctx) {
	start, stop, ok := c.intArgPair(2)
	if !ok {
		return
	}
	e, wrong := c.lookup(c.Key(1), KindList)
	if wrong {
		return
	}
	if e == nil {
		c.W.Array(0)
		return
	}
	l := e.Coll.(*List)
	from, to, ok := indexRange(start, stop, l.Len())
	if !ok {
		c.W.Array(0)
		return
	}
	c.W.Array(to - from + 1)
	l.Range(from, to, func(_ int, x []byte) bool {
		c.W.Bulk(x)
		return true
	})
}

// ltrim is LTRIM key start stop. A trim that removes nothing is no change
// (Redis still signals the key to WATCH; we do not bump its version).
func ltrim(c *Ctx) {
	start, stop, ok := c.intArgPair(2)
	if !ok {
		return
	}
	key := c.Key(1)
	e, wrong := c.lookup(key, KindList)
	if wrong {
		return
	}
	if e == nil {
		c.W.OK()
		return
	}
	l := e.Coll.(*List)
	n := l.Len()
	front, back := n, 0
	if from, to, ok := indexRange(start, stop, n); ok {
		front, back = from, n-to-1
	}
	if front+back > 0 {
		l.Trim(front, back)
		c.collChanged(key, e)
	}
	c.W.OK()
}

// lrem is LREM key count element: count > 0 removes from the head, < 0
// from the tail, 0 all.
func lrem(c *Ctx) {
	count, ok := c.intArg(2)
	if !ok {
		return
	}
	fromTail := count < 0
	limit := count
	if fromTail {
		limit = -count // MinInt64 stays negative: no limit, as in Redis
	}
	if limit < 0 || limit > math.MaxInt {
		limit = 0 // beyond any list length: the same as no limit
	}
	c.removeCount(KindList, func(coll Collection) int {
		return coll.(*List).Remove(c.Args[3], int(limit), fromTail)
	})
}

// linsert is LINSERT key BEFORE|AFTER pivot element: the new length, -1
// when pivot is absent, 0 when the key is.
func linsert(c *Ctx) {
	var after bool
	switch {
	case optIs(c.Args[2], "after"):
		after = true
	case optIs(c.Args[2], "before"):
	default:
		c.W.Error(ErrSyntax)
		return
	}
	key := c.Key(1)
	e, wrong := c.lookup(key, KindList)
	if wrong {
		return
	}
	if e == nil {
		c.W.Int(0)
		return
	}
	l := e.Coll.(*List)
	pivot, at := c.Args[3], -1
	l.Range(0, l.Len()-1, func(i int, x []byte) bool {
		if string(x) == string(pivot) {
			at = i
			return false
		}
		return true
	})
	if at < 0 {
		c.W.Int(-1)
		return
	}
	if after {
		at++
	}
	l.Insert(at, c.Args[4])
	c.Modified(e)
	c.W.Int(int64(l.Len()))
}

// lpos is LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len].
func lpos(c *Ctx) {
	rank, count, maxlen := int64(1), int64(-1), int64(0) // count -1: not given
	for j := 3; j < len(c.Args); j++ {
		more := j+1 < len(c.Args)
		opt := c.Args[j]
		switch {
		case optIs(opt, "rank") && more:
			j++
			r, ok := c.intArg(j)
			if !ok {
				return
			}
			if r == 0 {
				c.W.Error(ErrRankZero)
				return
			}
			rank = r
		case optIs(opt, "count") && more:
			j++
			n, ok := c.nonNegArg(j, ErrCountNegative)
			if !ok {
				return
			}
			count = n
		case optIs(opt, "maxlen") && more:
			j++
			n, ok := c.nonNegArg(j, ErrMaxLenNegative)
			if !ok {
				return
			}
			maxlen = n
		default:
			c.W.Error(ErrSyntax)
			return
		}
	}
	fromTail := rank < 0
	if fromTail {
		// -MinInt64 wraps to itself, as in Redis 7.0: such a rank matches
		// from the first hit and never satisfies COUNT.
		rank = -rank
	}
	e, wrong := c.lookup(c.Key(1), KindList)
	if wrong {
		return
	}
	if e == nil {
		if count != -1 {
			c.W.Array(0)
		} else {
			c.W.Null()
		}
		return
	}
	l := e.Coll.(*List)
	ele := c.Args[2]
	n := l.Len()
	var hits []int64
	var matches int64
	found := int64(-1)
	k := 0
	visit := func(i int, x []byte) bool {
		if maxlen != 0 && int64(k) >= maxlen {
			return false
		}
		k++
		if string(x) != string(ele) {
			return true
		}
		matches++
		if matches < rank {
			return true
		}
		if count == -1 {
			found = int64(i)
			return false
		}
		hits = append(hits, int64(i))
		return count == 0 || matches-rank+1 < count
	}
	if fromTail {
		l.RangeReverse(0, n-1, visit)
	} else {
		l.Range(0, n-1, visit)
	}
	if count == -1 {
		if found < 0 {
			c.W.Null()
		} else {
			c.W.Int(found)
		}
		return
	}
	c.W.Array(len(hits))
	for _, i := range hits {
		c.W.Int(i)
	}
}

// rpoplpush is RPOPLPUSH source destination.
func rpoplpush(c *Ctx) { listMoveCmd(c, listRight, listLeft) }

// lmove is LMOVE source destination LEFT|RIGHT LEFT|RIGHT.
func lmove(c *Ctx) {
	from, ok := c.listEndArg(3)
	if !ok {
		return
	}
	to, ok := c.listEndArg(4)
	if !ok {
		return
	}
	listMoveCmd(c, from, to)
}

// listMoveCmd pops from one end of the source and pushes on one end of the
// destination, which may be the same key (a rotation). The destination's
// type is checked before anything is popped.
func listMoveCmd(c *Ctx, from, to listEnd) {
	src, dst := c.Key(1), c.Key(2)
	se, wrong := c.lookup(src, KindList)
	if wrong {
		return
	}
	if se == nil {
		c.W.Null()
		return
	}
	de, wrong := c.lookup(dst, KindList)
	if wrong {
		return
	}
	x := se.Coll.(*List).pop(from)
	c.W.Bulk(x)
	if de == se {
		x = listCopy(x) // pushing may reuse the room it was popped from
	}
	dl := listOrNew(de)
	dl.push(to, x)
	if de != se { // a rotation is recorded once, as the source's change
		c.collStored(dst, de, KindList, dl)
	}
	c.collChanged(src, se)
}

// lmpop is LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]: pops from
// the first non-empty list, replying [key, [elements]], or a nil array.
func lmpop(c *Ctx) {
	keys, right, count, ok := c.mpopArgs("left", "right")
	if !ok {
		return
	}
	end := listEnd(right)
	for _, key := range keys {
		e, wrong := c.lookup(key, KindList)
		if wrong {
			return
		}
		if e == nil {
			continue
		}
		c.W.Array(2)
		c.W.Bulk(key)
		listPopReply(c, e.Coll.(*List), end, count)
		c.collChanged(key, e)
		return
	}
	c.W.NullArray()
}
