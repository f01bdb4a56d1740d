package keyspace

import (
	"bytes"
	"encoding/binary"
	"math"
)

// List is the value of a list key: a double-ended queue in a ring buffer
// whose capacity is a power of two, so both ends push and pop in O(1) and
// any index is reached in O(1) (LINDEX, LRANGE, LSET).
//
// Elements are never appended to in place, so several of them may share one
// backing array (decode and Clone allocate one slab for all).
type List struct {
	buf  [][]byte // len(buf) is 0 or a power of two
	head int      // position of element 0 in buf
	n    int
}

// listMinCap is the capacity of a list's first buffer.
const listMinCap = 4

// Len is the number of elements.
func (l *List) Len() int { return l.n }

// slot is the buf position of element i.
func (l *List) slot(i int) int { return (l.head + i) & (len(l.buf) - 1) }

// At returns element i (0 <= i < Len).
func (l *List) At(i int) []byte { return l.buf[l.slot(i)] }

// Set replaces element i (0 <= i < Len) with x, which the list keeps.
func (l *List) Set(i int, x []byte) { l.buf[l.slot(i)] = x }

// resize moves the elements to a buffer of capacity c (a power of two >= n),
// element 0 first.
func (l *List) resize(c int) {
	nb := make([][]byte, c)
	if l.n > 0 {
		end := l.head + l.n
		if end <= len(l.buf) {
			copy(nb, l.buf[l.head:end])
		} else {
			k := copy(nb, l.buf[l.head:])
			copy(nb[k:], l.buf[:end-len(l.buf)])
		}
	}
	l.buf, l.head = nb, 0
}

func (l *List) grow() {
	if l.n < len(l.buf) {
		return
	}
	l.resize(max(listMinCap, 2*len(l.buf)))
}

// shrink halves the buffer while it is at most a quarter full, so a list
// that was long once does not keep its memory; the gap between the
// thresholds keeps alternating pushes and pops from resizing every time.
func (l *List) shrink() {
	for len(l.buf) > 64 && l.n <= len(l.buf)/4 {
		l.resize(len(l.buf) / 2)
	}
}

// PushFront adds x before element 0; the list keeps x.
func (l *List) PushFront(x []byte) {
	l.grow()
	l.head = (l.head - 1) & (len(l.buf) - 1)
	l.buf[l.head] = x
	l.n++
}

// PushBack adds x after the last element; the list keeps x.
func (l *List) PushBack(x []byte) {
	l.grow()
	l.buf[l.slot(l.n)] = x
	l.n++
}

// PopFront removes and returns element 0 (the list must not be empty).
func (l *List) PopFront() []byte {
	x := l.buf[l.head]
	l.buf[l.head] = nil // let the element be collected
	l.head = (l.head + 1) & (len(l.buf) - 1)
	l.n--
	l.shrink()
	return x
}

// PopBack removes and returns the last element (the list must not be
// empty).
func (l *List) PopBack() []byte {
	i := l.slot(l.n - 1)
	x := l.buf[i]
	l.buf[i] = nil
	l.n--
	l.shrink()
	return x
}

// Insert puts x at index i (0 <= i <= Len), moving whichever side of i is
// shorter.
func (l *List) Insert(i int, x []byte) {
	l.grow()
	if i < l.n/2 {
		l.head = (l.head - 1) & (len(l.buf) - 1)
		for j := 0; j < i; j++ {
			l.buf[l.slot(j)] = l.buf[l.slot(j+1)]
		}
	} else {
		for j := l.n; j > i; j-- {
			l.buf[l.slot(j)] = l.buf[l.slot(j-1)]
		}
	}
	l.buf[l.slot(i)] = x
	l.n++
}

// Trim removes front elements from the head and back elements from the
// tail (front+back <= Len).
func (l *List) Trim(front, back int) {
	for j := 0; j < front; j++ {
		l.buf[l.slot(j)] = nil
	}
	for j := l.n - back; j < l.n; j++ {
		l.buf[l.slot(j)] = nil
	}
	l.head = l.slot(front)
	l.n -= front + back
	if l.n == 0 {
		l.head = 0
	}
	l.shrink()
}

// Remove deletes the elements equal to x, at most limit of them when limit
// is positive, scanning from the tail when fromTail is set (LREM). It
// returns how many it removed; the survivors keep their order.
func (l *List) Remove(x []byte, limit int, fromTail bool) int {
	// The survivors move toward the end the scan starts from, which then
	// loses as many elements as were removed.
	r, step := 0, 1
	if fromTail {
		r, step = l.n-1, -1
	}
	w, removed := r, 0
	for k := 0; k < l.n; k, r = k+1, r+step {
		e := l.At(r)
		if (limit <= 0 || removed < limit) && bytes.Equal(e, x) {
			removed++
			continue
		}
		if w != r {
			l.Set(w, e)
		}
		w += step
	}
	if fromTail {
		l.Trim(removed, 0)
	} else {
		l.Trim(0, removed)
	}
	return removed
}

// Clone returns a deep copy.
func (l *List) Clone() Collection {
	size := 0
	for i := 0; i < l.n; i++ {
		size += len(l.At(i))
	}
	slab := make([]byte, 0, size)
	c := newListCap(l.n)
	for i := 0; i < l.n; i++ {
		slab = c.pushSlab(slab, l.At(i))
	}
	return c
}

// newListCap returns an empty list with room for n elements.
func newListCap(n int) *List {
	l := &List{}
	if n > 0 {
		l.buf = make([][]byte, max(listMinCap, listCap(n)))
	}
	return l
}

// pushSlab appends a copy of x, carved from slab, to a list being built
// (with room for it, head 0) and returns the slab. The copy is capped so
// that appending to it cannot overwrite the next element.
func (l *List) pushSlab(slab, x []byte) []byte {
	start := len(slab)
	slab = append(slab, x...)
	l.buf[l.n] = slab[start:len(slab):len(slab)]
	l.n++
	return slab
}

// listCap is the least power of two >= n (n >= 1).
func listCap(n int) int {
	c := 1
	for c < n {
		c <<= 1
	}
	return c
}

// encode appends the element count then each element.
func (l *List) encode(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(l.n))
	for i := 0; i < l.n; i++ {
		b = appendBytes(b, l.At(i))
	}
	return b
}

func decodeList(b []byte) (*List, error) {
	n, rest, err := readCount(b)
	if err != nil {
		return nil, err
	}
	// The elements are copied into one slab: the caller may reuse b.
	slab := make([]byte, 0, len(rest))
	l := newListCap(n)
	for i := 0; i < n; i++ {
		var x []byte
		x, rest, err = readBytes(rest)
		if err != nil {
			return nil, err
		}
		slab = l.pushSlab(slab, x)
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

// listCopy returns a copy of x that the list may keep: the caller reuses
// the argument buffers after the command.
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
	for _, x := range c.Args[2:] {
		l.push(end, listCopy(x))
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
	l.Set(i, listCopy(c.Args[3]))
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
	for i := from; i <= to; i++ {
		c.W.Bulk(l.At(i))
	}
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
	pivot := c.Args[3]
	for i := 0; i < l.Len(); i++ {
		if string(l.At(i)) != string(pivot) {
			continue
		}
		if after {
			i++
		}
		l.Insert(i, listCopy(c.Args[4]))
		c.Modified(e)
		c.W.Int(int64(l.Len()))
		return
	}
	c.W.Int(-1)
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
	for k := 0; k < n && (maxlen == 0 || int64(k) < maxlen); k++ {
		i := k
		if fromTail {
			i = n - 1 - k
		}
		if string(l.At(i)) != string(ele) {
			continue
		}
		matches++
		if matches < rank {
			continue
		}
		if count == -1 {
			found = int64(i)
			break
		}
		hits = append(hits, int64(i))
		if count != 0 && matches-rank+1 >= count {
			break
		}
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
