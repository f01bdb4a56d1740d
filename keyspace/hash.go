package keyspace

import (
	"encoding/binary"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strconv"
)

// Redis 7.0's defaults for when a hash leaves its compact encoding
// (hash-max-listpack-entries / hash-max-listpack-value). A listpack lists
// fields in insertion order; a hashtable in no specified order. Hash always
// keeps insertion order, so small hashes reply exactly as Redis's do; the
// thresholds only decide whether HSCAN returns everything at once.
const (
	hashMaxListpackEntries = 512
	// hashPackedMax is how many fields a hash keeps packed: searching a
	// buffer in order costs more than an index past about this many (a
	// hash Redis keeps a listpack up to 512 fields).
	hashPackedMax        = 128
	hashMaxListpackValue = 64
)

// fieldMap is a string-keyed map that keeps insertion order, with O(1)
// lookup, insert and delete and O(1) expected uniform random choice (for
// HRANDFIELD, SPOP, SRANDMEMBER). Deleted slots stay in place until they are
// half of the slice, then one compaction removes them all (amortized O(1)),
// so a random slot index is live with probability >= 1/2.
//
// Every insert gets a sequence number that never changes and only grows
// along the slice: HSCAN/SSCAN cursors are sequence numbers, so an element
// present for a whole scan is returned whatever else is added or deleted.
type fieldMap[V any] struct {
	slots []fieldSlot[V]
	// index maps a key to its position in slots once the map has more
	// than fieldMapSmall slots; a smaller map is searched in order, as
	// Redis searches a listpack, which spares a Go map per small hash or
	// set (most of their memory).
	index map[string]int
	n     int    // live keys
	dead  int    // deleted slots still in slots
	seq   uint64 // last sequence number handed out
}

// fieldMapSmall is how many slots a map searches in order.
const fieldMapSmall = 16

type fieldSlot[V any] struct {
	key  string
	val  V
	seq  uint64
	gone bool
}

func (m *fieldMap[V]) len() int { return m.n }

// find returns k's position in slots.
func (m *fieldMap[V]) find(k string) (int, bool) {
	if m.index != nil {
		i, ok := m.index[k]
		return i, ok
	}
	for i := range m.slots {
		if !m.slots[i].gone && m.slots[i].key == k {
			return i, true
		}
	}
	return 0, false
}

// findBytes is find for a key in bytes, without copying it.
func (m *fieldMap[V]) findBytes(k []byte) (int, bool) {
	if m.index != nil {
		i, ok := m.index[string(k)]
		return i, ok
	}
	for i := range m.slots {
		if !m.slots[i].gone && m.slots[i].key == string(k) {
			return i, true
		}
	}
	return 0, false
}

func (m *fieldMap[V]) get(k []byte) (V, bool) {
	if i, ok := m.findBytes(k); ok {
		return m.slots[i].val, true
	}
	var zero V
	return zero, false
}

func (m *fieldMap[V]) has(k []byte) bool {
	_, ok := m.findBytes(k)
	return ok
}

// put sets k to v; an existing key keeps its position. It reports whether k
// is new.
func (m *fieldMap[V]) put(k string, v V) bool {
	if i, ok := m.find(k); ok {
		m.slots[i].val = v
		return false
	}
	if len(m.slots) == cap(m.slots) && cap(m.slots) < 64 {
		// Small maps grow a few slots at a time: doubling would leave
		// up to half of a small hash's slots empty.
		m.slots = slices.Grow(m.slots, max(2, cap(m.slots)/4))
	}
	m.seq++
	m.n++
	m.slots = append(m.slots, fieldSlot[V]{key: k, val: v, seq: m.seq})
	switch {
	case m.index != nil:
		m.index[k] = len(m.slots) - 1
	case len(m.slots) > fieldMapSmall:
		m.buildIndex()
	}
	return true
}

// indexCost is what the index costs per key (none for a small map).
func (m *fieldMap[V]) indexCost() int {
	if m.index == nil {
		return 0
	}
	return fieldIndex
}

// buildIndex indexes every live slot.
func (m *fieldMap[V]) buildIndex() {
	m.index = make(map[string]int, len(m.slots))
	for i := range m.slots {
		if !m.slots[i].gone {
			m.index[m.slots[i].key] = i
		}
	}
}

// del removes k and reports whether it was there.
func (m *fieldMap[V]) del(k []byte) bool {
	i, ok := m.findBytes(k)
	if !ok {
		return false
	}
	m.delAt(i)
	return true
}

func (m *fieldMap[V]) delAt(i int) {
	if m.index != nil {
		delete(m.index, m.slots[i].key)
	}
	m.slots[i] = fieldSlot[V]{seq: m.slots[i].seq, gone: true}
	m.n--
	m.dead++
	for n := len(m.slots); n > 0 && m.slots[n-1].gone; n-- {
		m.slots = m.slots[:n-1]
		m.dead--
	}
	if m.dead*2 > len(m.slots) {
		m.compact()
	}
}

func (m *fieldMap[V]) compact() {
	j := 0
	for _, s := range m.slots {
		if !s.gone {
			m.slots[j] = s
			if m.index != nil {
				m.index[s.key] = j
			}
			j++
		}
	}
	clear(m.slots[j:])
	m.slots = m.slots[:j]
	m.dead = 0
	if cap(m.slots) > 64 && cap(m.slots) > 4*j {
		m.slots = slices.Clip(m.slots)
	}
}

// random returns the position of a live slot chosen uniformly; the map must
// not be empty.
func (m *fieldMap[V]) random(rnd *rand.Rand) int {
	for {
		if i := rnd.IntN(len(m.slots)); !m.slots[i].gone {
			return i
		}
	}
}

// randomDistinct returns the positions of k distinct live slots chosen
// uniformly, k < len().
func (m *fieldMap[V]) randomDistinct(rnd *rand.Rand, k int) []int {
	live := func() []int {
		live := make([]int, 0, m.len())
		for i := range m.slots {
			if !m.slots[i].gone {
				live = append(live, i)
			}
		}
		return live
	}
	return pickDistinct(rnd, k, m.len(), live, func() int { return m.random(rnd) })
}

// each calls fn for every live slot in insertion order until it returns
// false. fn must not change the map.
func (m *fieldMap[V]) each(fn func(s *fieldSlot[V]) bool) {
	for i := range m.slots {
		if !m.slots[i].gone && !fn(&m.slots[i]) {
			return
		}
	}
}

// scan calls fn for up to count live slots whose sequence number is at
// least cursor, in order, and returns the cursor that continues after them
// (0 when none are left).
func (m *fieldMap[V]) scan(cursor uint64, count int64, fn func(s *fieldSlot[V])) uint64 {
	i, _ := slices.BinarySearchFunc(m.slots, cursor, func(s fieldSlot[V], c uint64) int {
		switch {
		case s.seq < c:
			return -1
		case s.seq > c:
			return 1
		}
		return 0
	})
	for ; i < len(m.slots); i++ {
		s := &m.slots[i]
		if s.gone {
			continue
		}
		if count == 0 {
			return s.seq
		}
		fn(s)
		count--
	}
	return 0
}

func (m *fieldMap[V]) clone() fieldMap[V] {
	c := fieldMap[V]{slots: make([]fieldSlot[V], 0, m.len()), seq: m.seq}
	m.each(func(s *fieldSlot[V]) bool {
		c.slots = append(c.slots, *s)
		return true
	})
	c.n = len(c.slots)
	if len(c.slots) > fieldMapSmall {
		c.buildIndex()
	}
	return c
}

// Hash is the value of a hash key: fields in insertion order, as Redis's
// listpack keeps a small hash. A small hash is packed (packed.go): its
// fields and values alternate in one buffer, searched in order as Redis
// searches a listpack. Past hashPackedMax fields, or once Redis would have
// converted it to a hashtable, it becomes a fieldMap and stays one.
type Hash struct {
	lp []byte // the packed fields and values, while m is nil
	n  int    // fields in lp
	m  *fieldMap[string]
	// big is set once Redis would have converted the hash to a hashtable
	// (too many fields, or a long field or value); like Redis 7.0 it never
	// converts back. A hash restored from a listpack with long strings is
	// still called a listpack, as Redis keeps it one.
	big bool
}

// NewHash returns an empty hash.
func NewHash() *Hash { return &Hash{} }

// Len is the number of fields.
func (h *Hash) Len() int {
	if h.m != nil {
		return h.m.len()
	}
	return h.n
}

// Clone returns a deep copy (with the same encoding, as Redis's COPY).
func (h *Hash) Clone() Collection {
	if h.m != nil {
		m := h.m.clone()
		return &Hash{m: &m, big: h.big}
	}
	return &Hash{lp: packedClone(h.lp), n: h.n, big: h.big}
}

// Encoding is the name OBJECT ENCODING gives the hash in Redis 7.0.
func (h *Hash) Encoding() string {
	if h.big {
		return "hashtable"
	}
	return "listpack"
}

// find returns the offsets of field's entry in lp (from its field to past
// its value) and its value.
func (h *Hash) find(field []byte) (from, to int, val []byte, ok bool) {
	for i := 0; i < len(h.lp); {
		f, next := packedNext(h.lp, i)
		if string(f) == string(field) {
			val, to = packedNext(h.lp, next)
			return i, to, val, true
		}
		_, i = packedNext(h.lp, next)
	}
	return 0, 0, nil, false
}

// Get returns the value of field.
func (h *Hash) Get(field []byte) (string, bool) {
	if h.m != nil {
		return h.m.get(field)
	}
	_, _, v, ok := h.find(field)
	return packedString(v), ok
}

// Set sets field to value (copying both) and reports whether field is new.
func (h *Hash) Set(field, value []byte) bool {
	if !h.big && (len(field) > hashMaxListpackValue || len(value) > hashMaxListpackValue) {
		h.toTable()
		h.big = true
	}
	if h.m != nil {
		added := h.m.put(string(field), string(value))
		if h.m.len() > hashMaxListpackEntries {
			h.big = true
		}
		return added
	}
	if from, to, v, ok := h.find(field); ok {
		if string(v) != string(value) {
			h.lp = packedReplace(h.lp, from, to, field, value)
		}
		return false
	}
	if h.n >= hashPackedMax {
		h.toTable()
		return h.Set(field, value)
	}
	h.lp = packedAppend(h.lp, field, value)
	h.n++
	return true
}

func (h *Hash) set(field, value string) bool { return h.Set(bytesOf(field), bytesOf(value)) }

// toTable converts a packed hash to a fieldMap (Set decides whether Redis
// would call it a hashtable yet).
func (h *Hash) toTable() {
	if h.m != nil {
		return
	}
	m := &fieldMap[string]{slots: make([]fieldSlot[string], 0, h.n+1)}
	h.Each(func(f, v string) bool {
		m.put(string(bytesOf(f)), string(bytesOf(v))) // copies: lp goes away
		return true
	})
	h.m, h.lp, h.n = m, nil, 0
}

// Delete removes field and reports whether it existed.
func (h *Hash) Delete(field []byte) bool {
	if h.m != nil {
		return h.m.del(field)
	}
	from, to, _, ok := h.find(field)
	if ok {
		h.lp = packedCut(h.lp, from, to)
		h.n--
	}
	return ok
}

// Each calls fn for every field in order until fn returns false. fn must
// not change the hash.
func (h *Hash) Each(fn func(field, value string) bool) {
	if h.m != nil {
		h.m.each(func(s *fieldSlot[string]) bool { return fn(s.key, s.val) })
		return
	}
	for i := 0; i < len(h.lp); {
		f, next := packedNext(h.lp, i)
		v, next := packedNext(h.lp, next)
		if !fn(packedString(f), packedString(v)) {
			return
		}
		i = next
	}
}

// pairAt returns the i'th field and value of a packed hash.
func (h *Hash) pairAt(i int) (field, value string) {
	h.Each(func(f, v string) bool {
		field, value = f, v
		i--
		return i >= 0
	})
	return field, value
}

// random returns a field and its value chosen uniformly; the hash must not
// be empty.
func (h *Hash) random(rnd *rand.Rand) (field, value string) {
	if h.m != nil {
		s := &h.m.slots[h.m.random(rnd)]
		return s.key, s.val
	}
	return h.pairAt(rnd.IntN(h.n))
}

// randomDistinct calls fn for k distinct fields chosen uniformly, k <
// Len().
func (h *Hash) randomDistinct(rnd *rand.Rand, k int, fn func(field, value string)) {
	if h.m != nil {
		for _, i := range h.m.randomDistinct(rnd, k) {
			fn(h.m.slots[i].key, h.m.slots[i].val)
		}
		return
	}
	pairs := make([][2]string, 0, h.n)
	h.Each(func(f, v string) bool {
		pairs = append(pairs, [2]string{f, v})
		return true
	})
	for _, p := range partialShuffle(rnd, pairs, k) {
		fn(p[0], p[1])
	}
}

// encode writes the field count then each field and value.
func (h *Hash) encode(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(h.Len()))
	h.Each(func(f, v string) bool {
		b = appendHashString(b, f)
		b = appendHashString(b, v)
		return true
	})
	return b
}

// appendHashString is appendBytes for a string, without converting it.
func appendHashString(b []byte, x string) []byte {
	b = binary.AppendUvarint(b, uint64(len(x)))
	return append(b, x...)
}

func decodeHash(b []byte) (*Hash, error) {
	n, b, err := readCount(b)
	if err != nil {
		return nil, err
	}
	h := NewHash()
	for ; n > 0; n-- {
		var f, v []byte
		if f, b, err = readBytes(b); err != nil {
			return nil, err
		}
		if v, b, err = readBytes(b); err != nil {
			return nil, err
		}
		if !h.Set(f, v) {
			return nil, errCorrupt // duplicate field
		}
	}
	if len(b) != 0 {
		return nil, errCorrupt
	}
	return h, nil
}

var hashCommands = map[string]Handler{
	"hset":         hset,
	"hmset":        hmset,
	"hsetnx":       hsetnx,
	"hget":         hget,
	"hmget":        hmget,
	"hdel":         hdel,
	"hlen":         hlen,
	"hstrlen":      hstrlen,
	"hexists":      hexists,
	"hkeys":        hkeys,
	"hvals":        hvals,
	"hgetall":      hgetall,
	"hincrby":      hincrby,
	"hincrbyfloat": hincrbyfloat,
	"hrandfield":   hrandfield,
	"hscan":        hscan,
}

// hashForWrite returns the hash at key, or a new empty one (stored by
// collStored) when key is missing. ok is false after a WRONGTYPE reply.
func hashForWrite(c *Ctx, key []byte) (h *Hash, e *Entry, ok bool) {
	e, wrong := c.lookup(key, KindHash)
	if wrong {
		return nil, nil, false
	}
	if e == nil {
		return NewHash(), nil, true
	}
	return e.Coll.(*Hash), e, true
}

// hashRead returns the hash at key, nil when missing; ok is false after a
// WRONGTYPE reply.
func hashRead(c *Ctx, key []byte) (h *Hash, ok bool) {
	e, wrong := c.lookup(key, KindHash)
	if wrong {
		return nil, false
	}
	if e == nil {
		return nil, true
	}
	return e.Coll.(*Hash), true
}

func hset(c *Ctx)  { hsetGeneric(c, "hset") }
func hmset(c *Ctx) { hsetGeneric(c, "hmset") }

// hsetGeneric is HSET / HMSET key field value [field value ...].
func hsetGeneric(c *Ctx, name string) {
	if len(c.Args)%2 == 1 {
		c.W.Error(ErrArity(name))
		return
	}
	key := c.Key(1)
	h, e, ok := hashForWrite(c, key)
	if !ok {
		return
	}
	if e == nil && (len(c.Args)-2)/2 <= hashPackedMax {
		// A new packed hash gets the room its fields take, not a margin.
		size := 0
		for _, a := range c.Args[2:] {
			if len(a) > hashMaxListpackValue {
				size = 0
				break
			}
			size += uvarintLen(len(a)) + len(a)
		}
		if size > 0 {
			h.lp = make([]byte, 0, size)
		}
	}
	added := 0
	for i := 2; i < len(c.Args); i += 2 {
		if h.Set(c.Args[i], c.Args[i+1]) {
			added++
		}
	}
	c.collStored(key, e, KindHash, h)
	if name == "hset" {
		c.W.Int(int64(added))
	} else {
		c.W.OK()
	}
}

// hsetnx is HSETNX key field value.
func hsetnx(c *Ctx) {
	key := c.Key(1)
	h, e, ok := hashForWrite(c, key)
	if !ok {
		return
	}
	if _, exists := h.Get(c.Args[2]); exists {
		c.W.Int(0)
		return
	}
	h.Set(c.Args[2], c.Args[3])
	c.collStored(key, e, KindHash, h)
	c.W.Int(1)
}

// hget is HGET key field.
func hget(c *Ctx) {
	h, ok := hashRead(c, c.Key(1))
	if !ok {
		return
	}
	if h == nil {
		c.W.Null()
		return
	}
	if v, found := h.Get(c.Args[2]); found {
		c.W.BulkString(v)
	} else {
		c.W.Null()
	}
}

// hmget is HMGET key field [field ...]; a missing key is an empty hash.
func hmget(c *Ctx) {
	h, ok := hashRead(c, c.Key(1))
	if !ok {
		return
	}
	c.W.Array(len(c.Args) - 2)
	for _, f := range c.Args[2:] {
		if h == nil {
			c.W.Null()
		} else if v, found := h.Get(f); found {
			c.W.BulkString(v)
		} else {
			c.W.Null()
		}
	}
}

// hdel is HDEL key field [field ...].
func hdel(c *Ctx) {
	c.removeCount(KindHash, func(coll Collection) int {
		h, deleted := coll.(*Hash), 0
		for _, f := range c.Args[2:] {
			if h.Delete(f) {
				deleted++
			}
		}
		return deleted
	})
}

// hlen is HLEN key.
func hlen(c *Ctx) {
	h, ok := hashRead(c, c.Key(1))
	if !ok {
		return
	}
	if h == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(h.Len()))
}

// hstrlen is HSTRLEN key field.
func hstrlen(c *Ctx) {
	h, ok := hashRead(c, c.Key(1))
	if !ok {
		return
	}
	n := 0
	if h != nil {
		v, _ := h.Get(c.Args[2])
		n = len(v)
	}
	c.W.Int(int64(n))
}

// hexists is HEXISTS key field.
func hexists(c *Ctx) {
	h, ok := hashRead(c, c.Key(1))
	if !ok {
		return
	}
	found := false
	if h != nil {
		_, found = h.Get(c.Args[2])
	}
	if found {
		c.W.Int(1)
	} else {
		c.W.Int(0)
	}
}

func hkeys(c *Ctx)   { hgetallGeneric(c, true, false) }
func hvals(c *Ctx)   { hgetallGeneric(c, false, true) }
func hgetall(c *Ctx) { hgetallGeneric(c, true, true) }

// hgetallGeneric is HKEYS, HVALS and HGETALL (a map in RESP3).
func hgetallGeneric(c *Ctx, keys, vals bool) {
	h, ok := hashRead(c, c.Key(1))
	if !ok {
		return
	}
	n := 0
	if h != nil {
		n = h.Len()
	}
	if keys && vals {
		c.W.Map(n)
	} else {
		c.W.Array(n)
	}
	if h == nil {
		return
	}
	h.Each(func(f, v string) bool {
		if keys {
			c.W.BulkString(f)
		}
		if vals {
			c.W.BulkString(v)
		}
		return true
	})
}

// hincrby is HINCRBY key field increment.
func hincrby(c *Ctx) {
	incr, ok := c.intArg(3)
	if !ok {
		return
	}
	key := c.Key(1)
	h, e, ok := hashForWrite(c, key)
	if !ok {
		return
	}
	var cur int64
	if v, found := h.Get(c.Args[2]); found {
		if cur, ok = ParseInt([]byte(v)); !ok {
			c.W.Error(ErrHashNotInt)
			return
		}
	}
	if (incr < 0 && cur < 0 && incr < math.MinInt64-cur) ||
		(incr > 0 && cur > 0 && incr > math.MaxInt64-cur) {
		c.W.Error(ErrOverflow)
		return
	}
	cur += incr
	h.set(string(c.Args[2]), strconv.FormatInt(cur, 10))
	c.collStored(key, e, KindHash, h)
	c.W.Int(cur)
}

// hincrbyfloat is HINCRBYFLOAT key field increment, in long double as
// INCRBYFLOAT (longdouble.go). Like Redis it is logged as HSET of the
// result, so replay never depends on float formatting.
func hincrbyfloat(c *Ctx) {
	incr, ok := parseLongDouble(c.Args[3])
	if !ok {
		c.W.Error(ErrNotFloat)
		return
	}
	if incr.IsInf() {
		c.W.Error(ErrHIncrNaNOrInf)
		return
	}
	key := c.Key(1)
	h, e, ok := hashForWrite(c, key)
	if !ok {
		return
	}
	cur := new(big.Float)
	if v, found := h.Get(c.Args[2]); found {
		if cur, ok = parseLongDouble([]byte(v)); !ok {
			c.W.Error(ErrHashNotFloat)
			return
		}
	}
	sum, ok := addLongDouble(cur, incr)
	if !ok {
		c.W.Error(ErrNaNOrInf)
		return
	}
	s := string(formatLongDouble(sum))
	h.set(string(c.Args[2]), s)
	c.collStored(key, e, KindHash, h)
	c.W.BulkString(s)
	c.Propagate = [][]byte{[]byte("hset"), key, c.Args[2], []byte(s)}
}

// hrandfield is HRANDFIELD key [count [WITHVALUES]].
func hrandfield(c *Ctx) {
	if len(c.Args) < 3 {
		h, ok := hashRead(c, c.Key(1))
		if !ok {
			return
		}
		if h == nil {
			c.W.Null()
			return
		}
		f, _ := h.random(c.Rand)
		c.W.BulkString(f)
		return
	}
	l, ok := c.randCountArg()
	if !ok {
		return
	}
	withValues, ok := c.randWithArg(l, "withvalues")
	if !ok {
		return
	}
	h, ok := hashRead(c, c.Key(1))
	if !ok {
		return
	}
	if h == nil || l == 0 {
		c.W.Array(0)
		return
	}
	pair := func(f, v string) {
		writePairStart(c, withValues)
		c.W.BulkString(f)
		if withValues {
			c.W.BulkString(v)
		}
	}
	mode, n := randPlan(l, h.Len())
	writePairsHeader(c, n, withValues)
	switch mode {
	case randRepeat:
		for range n {
			pair(h.random(c.Rand))
		}
	case randAll:
		h.Each(func(f, v string) bool { pair(f, v); return true })
	default:
		h.randomDistinct(c.Rand, n, pair)
	}
}

// hscan is HSCAN key cursor [MATCH pattern] [COUNT count]. A small hash
// (a listpack in Redis) is returned whole with cursor 0, as Redis does.
func hscan(c *Ctx) {
	e, cursor, opts := collScanStart(c, KindHash)
	if e == nil {
		return
	}
	h := e.Coll.(*Hash)
	var out []string
	keep := func(f, v string) {
		if opts.keep(bytesOf(f)) {
			out = append(out, f, v)
		}
	}
	next := uint64(0)
	if h.m != nil && h.big {
		next = h.m.scan(cursor, opts.count, func(s *fieldSlot[string]) { keep(s.key, s.val) })
	} else {
		h.Each(func(f, v string) bool { keep(f, v); return true })
	}
	writeScanHead(c, next, len(out))
	for _, x := range out {
		c.W.BulkString(x)
	}
}
