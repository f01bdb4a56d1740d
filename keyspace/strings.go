package keyspace

import (
	"math"
	"math/big"
	"strconv"
	"unsafe"
)

// The string commands (Redis 7.0 t_string.c). Values are Entry.Str; the
// handlers copy argument bytes before storing them because the caller reuses
// c.Args after the command returns.

var stringCommands = map[string]Handler{
	"get":         getCmd,
	"set":         setCmd,
	"setnx":       setnxCmd,
	"setex":       setexCmd,
	"psetex":      psetexCmd,
	"getset":      getsetCmd,
	"getdel":      getdelCmd,
	"getex":       getexCmd,
	"mget":        mgetCmd,
	"mset":        msetCmd,
	"msetnx":      msetnxCmd,
	"append":      appendCmd,
	"strlen":      strlenCmd,
	"incr":        incrCmd,
	"decr":        decrCmd,
	"incrby":      incrbyCmd,
	"decrby":      decrbyCmd,
	"incrbyfloat": incrbyfloatCmd,
	"getrange":    getrangeCmd,
	"substr":      getrangeCmd,
	"setrange":    setrangeCmd,
	"lcs":         lcsCmd,
}

// strMaxLen is Redis's default proto-max-bulk-len, the largest string
// APPEND and SETRANGE may build.
const strMaxLen = 512 << 20

// strOpt is the option set of SET and GETEX (OBJ_SET_NX ... OBJ_PERSIST).
type strOpt uint16

const (
	optNX strOpt = 1 << iota
	optXX
	optEX
	optPX
	optKeepTTL
	optGet
	optEXAT
	optPXAT
	optPersist
)

// optTTL are the options that set or keep the TTL; any two of them
// conflict.
const optTTL = optKeepTTL | optPersist | optEX | optPX | optEXAT | optPXAT

// strTTLWithArg maps the TTL options that take a time to their flag.
func strTTLWithArg(opt []byte) strOpt {
	switch {
	case EqualFold(opt, "ex"):
		return optEX
	case EqualFold(opt, "px"):
		return optPX
	case EqualFold(opt, "exat"):
		return optEXAT
	case EqualFold(opt, "pxat"):
		return optPXAT
	}
	return 0
}

// strParseOpts parses the options of SET (from argument 3) or GETEX (from
// argument 2) with the exact precedence of Redis's
// parseExtendedStringArgumentsOrReply: a repeated option is allowed, a
// conflicting one is a syntax error.
func strParseOpts(c *Ctx, isSet bool) (flags strOpt, expire []byte, ok bool) {
	j := 2
	if isSet {
		j = 3
	}
	for ; j < len(c.Args); j++ {
		opt := cstr(c.Args[j])
		next := j < len(c.Args)-1
		switch ttl := strTTLWithArg(opt); {
		case isSet && EqualFold(opt, "nx") && flags&optXX == 0:
			flags |= optNX
		case isSet && EqualFold(opt, "xx") && flags&optNX == 0:
			flags |= optXX
		case isSet && EqualFold(opt, "get"):
			flags |= optGet
		case isSet && EqualFold(opt, "keepttl") && flags&(optTTL&^optKeepTTL) == 0:
			flags |= optKeepTTL
		case !isSet && EqualFold(opt, "persist") && flags&(optTTL&^optPersist) == 0:
			flags |= optPersist
		case ttl != 0 && flags&(optTTL&^ttl) == 0 && next:
			flags |= ttl
			j++
			expire = c.Args[j]
		default:
			c.W.Error(ErrSyntax)
			return 0, nil, false
		}
	}
	return flags, expire, true
}

// strExpireAt turns the expire argument of cmd into absolute unix ms as
// getExpireMillisecondsOrReply does, writing its errors.
func (c *Ctx) strExpireAt(arg []byte, flags strOpt, cmd string) (int64, bool) {
	ms, ok := c.intVal(arg)
	if !ok {
		return 0, false
	}
	seconds := flags&(optEX|optEXAT) != 0
	if ms <= 0 || seconds && ms > math.MaxInt64/1000 {
		c.W.Error(ErrInvalidExpire(cmd))
		return 0, false
	}
	if seconds {
		ms *= 1000
	}
	if flags&(optEX|optPX) != 0 {
		// Redis adds mstime() and treats a wrapped sum as invalid.
		if c.Now > 0 && ms > math.MaxInt64-c.Now {
			c.W.Error(ErrInvalidExpire(cmd))
			return 0, false
		}
		ms += c.Now
		if ms <= 0 {
			c.W.Error(ErrInvalidExpire(cmd))
			return 0, false
		}
	}
	return ms, true
}

// strCopy returns a copy of src, reusing dst's array when it fits without
// pinning much more memory than src needs: overwriting a string in place is
// what keeps SET free of allocations.
func strCopy(dst, src []byte) []byte {
	if cap(dst) >= len(src) && cap(dst) <= 2*len(src)+64 {
		return append(dst[:0], src...)
	}
	b := make([]byte, len(src))
	copy(b, src)
	return b
}

// strSet stores val under key as Redis's setKey does: the TTL becomes at
// (0: none) unless keepTTL. old is key's live entry or nil; a string entry is
// updated in place.
func (c *Ctx) strSet(key []byte, old *Entry, val []byte, at int64, keepTTL bool) {
	if old != nil && old.Kind == KindString {
		c.DB.noteShrunk(key, old.Str, val)
		old.Str = strCopy(old.Str, val)
		if !keepTTL && old.ExpireAt != at {
			c.DB.SetExpire(old, at)
		}
		c.Modified(old)
		return
	}
	c.Put(key, newStringEntry(val, at), keepTTL)
}

// newStringEntry returns an entry holding a copy of val, expiring at at.
// A small value shares one allocation with its entry, sized to the next of
// the allocator's size classes, so that inserting a key costs that and the
// key string only.
func newStringEntry(val []byte, at int64) *Entry {
	var e *Entry
	var buf []byte
	switch n := len(val); {
	case n <= 16:
		e, buf = entryWith[[16]byte](n)
	case n <= 32:
		e, buf = entryWith[[32]byte](n)
	case n <= 48:
		e, buf = entryWith[[48]byte](n)
	case n <= 64:
		e, buf = entryWith[[64]byte](n)
	case n <= 96:
		e, buf = entryWith[[96]byte](n)
	case n <= 128:
		e, buf = entryWith[[128]byte](n)
	default:
		e, buf = new(Entry), make([]byte, n)
	}
	copy(buf, val)
	e.Kind, e.Str, e.ExpireAt = KindString, buf, at
	return e
}

// entryWith allocates an entry and a byte array B in one object and returns
// the entry and the first n bytes of the array.
func entryWith[B any](n int) (*Entry, []byte) {
	x := new(struct {
		e Entry
		b B
	})
	return &x.e, unsafe.Slice((*byte)(unsafe.Pointer(&x.b)), unsafe.Sizeof(x.b))[:n]
}

// strGet writes the string value of key (or null) as getGenericCommand
// does; wrong reports a WRONGTYPE reply.
func (c *Ctx) strGet(key []byte) (e *Entry, wrong bool) {
	e, wrong = c.lookup(key, KindString)
	if wrong {
		return nil, true
	}
	if e == nil {
		c.W.Null()
	} else {
		c.W.Bulk(e.Str)
	}
	return e, false
}

func getCmd(c *Ctx) {
	switch e := c.DB.GetRead(c.Args[1], c.Now, true); {
	case e == nil:
		c.W.Null()
	case e.Kind != KindString:
		c.W.Error(ErrWrongType)
	default:
		c.W.Bulk(e.Str)
	}
}

// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]
func setCmd(c *Ctx) {
	flags, expire, ok := strParseOpts(c, true)
	if !ok {
		return
	}
	var at int64
	if expire != nil {
		if at, ok = c.strExpireAt(expire, flags, "set"); !ok {
			return
		}
	}
	key := c.Args[1]
	get := flags&optGet != 0
	if !get {
		switch c.DB.setPacked(key, c.Args[2], at, flags&optKeepTTL != 0, flags&optNX != 0, flags&optXX != 0, c.Now) {
		case setDone:
			c.Dirty++
			c.W.OK()
			return
		case setRefused:
			c.W.Null()
			return
		}
	}
	var old *Entry
	if get {
		var wrong bool
		if old, wrong = c.strGet(key); wrong {
			return
		}
	} else {
		old = c.Get(key)
	}
	if flags&optNX != 0 && old != nil || flags&optXX != 0 && old == nil {
		if !get {
			c.W.Null()
		}
		return
	}
	c.strSet(key, old, c.Args[2], at, flags&optKeepTTL != 0)
	if !get {
		c.W.OK()
	}
}

func setnxCmd(c *Ctx) {
	key := c.Args[1]
	if c.Get(key) != nil {
		c.W.Int(0)
		return
	}
	c.strSet(key, nil, c.Args[2], 0, false)
	c.W.Int(1)
}

func setexCmd(c *Ctx)  { setexGeneric(c, optEX, "setex") }
func psetexCmd(c *Ctx) { setexGeneric(c, optPX, "psetex") }

// setexGeneric is SETEX/PSETEX key time value.
func setexGeneric(c *Ctx, unit strOpt, cmd string) {
	at, ok := c.strExpireAt(c.Args[2], unit, cmd)
	if !ok {
		return
	}
	key := c.Args[1]
	c.strSet(key, c.Get(key), c.Args[3], at, false)
	c.W.OK()
}

func getsetCmd(c *Ctx) {
	key := c.Args[1]
	old, wrong := c.strGet(key)
	if wrong {
		return
	}
	c.strSet(key, old, c.Args[2], 0, false)
}

func getdelCmd(c *Ctx) {
	key := c.Args[1]
	e, wrong := c.strGet(key)
	if !wrong && e != nil {
		c.Del(key)
	}
}

// GETEX key [EX s|PX ms|EXAT ts|PXAT ms-ts|PERSIST]
func getexCmd(c *Ctx) {
	flags, expire, ok := strParseOpts(c, false)
	if !ok {
		return
	}
	key := c.Args[1]
	e, wrong := c.lookup(key, KindString)
	if wrong {
		return
	}
	if e == nil {
		// A missing key answers nil before the expire time is checked.
		c.W.Null()
		return
	}
	var at int64
	if expire != nil {
		if at, ok = c.strExpireAt(expire, flags, "getex"); !ok {
			return
		}
	}
	c.W.Bulk(e.Str)
	switch {
	case flags&(optEXAT|optPXAT) != 0 && at <= c.Now:
		// An absolute time already past deletes the key.
		c.Del(key)
	case expire != nil:
		c.DB.SetExpire(e, at)
		c.Modified(e)
	case flags&optPersist != 0 && e.ExpireAt != 0:
		c.DB.SetExpire(e, 0)
		c.Modified(e)
	}
}

// MGET answers nil for missing keys and keys of other types alike.
func mgetCmd(c *Ctx) {
	c.W.Array(len(c.Args) - 1)
	for _, key := range c.Args[1:] {
		if e := c.DB.GetRead(key, c.Now, true); e != nil && e.Kind == KindString {
			c.W.Bulk(e.Str)
		} else {
			c.W.Null()
		}
	}
}

func msetCmd(c *Ctx) {
	if len(c.Args)%2 == 0 {
		c.W.Error(ErrArity("mset"))
		return
	}
	msetAll(c)
	c.W.OK()
}

// MSETNX sets nothing if any key exists (checked before any is set, so a
// key repeated in the arguments is set twice).
func msetnxCmd(c *Ctx) {
	if len(c.Args)%2 == 0 {
		c.W.Error(ErrArity("msetnx"))
		return
	}
	for j := 1; j < len(c.Args); j += 2 {
		if c.Get(c.Args[j]) != nil {
			c.W.Int(0)
			return
		}
	}
	msetAll(c)
	c.W.Int(1)
}

func msetAll(c *Ctx) {
	for j := 1; j < len(c.Args); j += 2 {
		key := c.Args[j]
		if c.DB.setPacked(key, c.Args[j+1], 0, false, false, false, c.Now) == setDone {
			c.Dirty++
			continue
		}
		c.strSet(key, c.Get(key), c.Args[j+1], 0, false)
	}
}

// APPEND creates the key even with an empty value, unlike SETRANGE.
func appendCmd(c *Ctx) {
	key, val := c.Args[1], c.Args[2]
	e, wrong := c.lookup(key, KindString)
	if wrong {
		return
	}
	if e == nil {
		c.Put(key, newStringEntry(val, 0), false)
		c.W.Int(int64(len(val)))
		return
	}
	if uint64(len(e.Str))+uint64(len(val)) > strMaxLen {
		c.W.Error(ErrStringTooLong)
		return
	}
	e.Str = append(e.Str, val...)
	c.Modified(e)
	c.W.Int(int64(len(e.Str)))
}

func strlenCmd(c *Ctx) {
	e := c.DB.GetRead(c.Args[1], c.Now, true)
	if e != nil && e.Kind != KindString {
		c.W.Error(ErrWrongType)
		return
	}
	if e == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(len(e.Str)))
}

func incrCmd(c *Ctx) { incrDecr(c, 1) }
func decrCmd(c *Ctx) { incrDecr(c, -1) }

func incrbyCmd(c *Ctx) {
	if n, ok := c.intArg(2); ok {
		incrDecr(c, n)
	}
}

func decrbyCmd(c *Ctx) {
	n, ok := c.intArg(2)
	if !ok {
		return
	}
	if n == math.MinInt64 {
		// -n would overflow before the value is even read.
		c.W.Error(ErrDecrementOverflow)
		return
	}
	incrDecr(c, -n)
}

// incrDecr adds incr to the integer at key (missing: 0), keeping its TTL.
func incrDecr(c *Ctx, incr int64) {
	key := c.Args[1]
	e, wrong := c.lookup(key, KindString)
	if wrong {
		return
	}
	var v int64
	if e != nil {
		var ok bool
		if v, ok = ParseInt(e.Str); !ok {
			c.W.Error(ErrNotInt)
			return
		}
	}
	if incr < 0 && v < 0 && incr < math.MinInt64-v || incr > 0 && v > 0 && incr > math.MaxInt64-v {
		c.W.Error(ErrOverflow)
		return
	}
	v += incr
	if e != nil {
		e.Str = strconv.AppendInt(e.Str[:0], v, 10)
		c.Modified(e)
	} else {
		var tmp [20]byte
		c.Put(key, newStringEntry(strconv.AppendInt(tmp[:0], v, 10), 0), false)
	}
	c.W.Int(v)
}

// INCRBYFLOAT adds in long double arithmetic as Redis does on x86-64 and
// stores the sum printed with %.17Lf, trailing zeros trimmed. The TTL stays.
func incrbyfloatCmd(c *Ctx) {
	key := c.Args[1]
	e, wrong := c.lookup(key, KindString)
	if wrong {
		return
	}
	v := new(big.Float)
	if e != nil {
		var ok bool
		if v, ok = parseLongDouble(e.Str); !ok {
			c.W.Error(ErrNotFloat)
			return
		}
	}
	incr, ok := parseLongDouble(c.Args[2])
	if !ok {
		c.W.Error(ErrNotFloat)
		return
	}
	// inf+x is inf and inf-inf is NaN: both refused, as is overflow.
	sum, ok := addLongDouble(v, incr)
	if !ok {
		c.W.Error(ErrNaNOrInf)
		return
	}
	s := formatLongDouble(sum)
	if e != nil {
		c.DB.noteShrunk(key, e.Str, s)
		e.Str = strCopy(e.Str, s)
		c.Modified(e)
	} else {
		c.Put(key, newStringEntry(s, 0), false)
	}
	c.W.Bulk(s)
	// Log the result, not the addition, as Redis propagates it: replay then
	// cannot depend on float emulation details.
	c.Propagate = [][]byte{[]byte("set"), strCopy(nil, key), strCopy(nil, s), []byte("keepttl")}
}

// GETRANGE/SUBSTR key start end, with Redis's clamping of negative indexes.
func getrangeCmd(c *Ctx) {
	start, end, ok := c.intArgPair(2)
	if !ok {
		return
	}
	e, wrong := c.lookup(c.Args[1], KindString)
	if wrong {
		return
	}
	if e == nil {
		c.W.BulkString("")
		return
	}
	n := int64(len(e.Str))
	if start < 0 && end < 0 && start > end {
		c.W.BulkString("")
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start = max(start, 0)
	end = max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		c.W.BulkString("")
		return
	}
	c.W.Bulk(e.Str[start : end+1])
}

// SETRANGE key offset value: a missing key with an empty value is not
// created; an existing one answers its length unchanged.
func setrangeCmd(c *Ctx) {
	offset, ok := c.intArg(2)
	if !ok {
		return
	}
	if offset < 0 {
		c.W.Error(ErrOffsetRange)
		return
	}
	key, val := c.Args[1], c.Args[3]
	e, wrong := c.lookup(key, KindString)
	if wrong {
		return
	}
	if len(val) == 0 {
		if e == nil {
			c.W.Int(0)
		} else {
			c.W.Int(int64(len(e.Str)))
		}
		return
	}
	if uint64(offset)+uint64(len(val)) > strMaxLen {
		c.W.Error(ErrStringTooLong)
		return
	}
	need := int(offset) + len(val)
	if e == nil {
		b := make([]byte, need)
		copy(b[offset:], val)
		c.Put(key, &Entry{Kind: KindString, Str: b}, false)
		c.W.Int(int64(need))
		return
	}
	if need > len(e.Str) {
		// The gap is zero-filled, as sdsgrowzero does.
		e.Str = append(e.Str, make([]byte, need-len(e.Str))...)
	}
	copy(e.Str[offset:], val)
	c.Modified(e)
	c.W.Int(int64(len(e.Str)))
}

// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
func lcsCmd(c *Ctx) {
	ea, eb := c.Get(c.Args[1]), c.Get(c.Args[2])
	if ea != nil && ea.Kind != KindString || eb != nil && eb.Kind != KindString {
		c.W.Error(ErrLCSNotStrings)
		return
	}
	var a, b []byte
	if ea != nil {
		a = ea.Str
	}
	if eb != nil {
		b = eb.Str
	}
	var getLen, getIdx, withMatchLen bool
	var minMatchLen int64
	for j := 3; j < len(c.Args); j++ {
		opt := cstr(c.Args[j])
		switch {
		case EqualFold(opt, "idx"):
			getIdx = true
		case EqualFold(opt, "len"):
			getLen = true
		case EqualFold(opt, "withmatchlen"):
			withMatchLen = true
		case EqualFold(opt, "minmatchlen") && j < len(c.Args)-1:
			j++
			n, ok := c.intArg(j)
			if !ok {
				return
			}
			minMatchLen = max(n, 0)
		default:
			c.W.Error(ErrSyntax)
			return
		}
	}
	if getLen && getIdx {
		c.W.Error(ErrLCSLenAndIdx)
		return
	}
	if uint64(len(a)) >= math.MaxUint32-1 || uint64(len(b)) >= math.MaxUint32-1 {
		c.W.Error(ErrLCSTooLong)
		return
	}
	if (uint64(len(a))+1)*(uint64(len(b))+1)*4 > strMaxLen {
		c.W.Error(ErrLCSMemory)
		return
	}
	lcsReply(c, a, b, getLen, getIdx, withMatchLen, minMatchLen)
}

// lcsRange is one match of LCS IDX: a[aStart..aEnd] equals b[bStart..bEnd].
type lcsRange struct{ aStart, aEnd, bStart, bEnd uint32 }

// lcsReply runs Redis's dynamic program and its backward walk, emitting
// the ranges in the same order and with the same merging rules.
func lcsReply(c *Ctx, a, b []byte, getLen, getIdx, withMatchLen bool, minMatchLen int64) {
	alen, blen := uint32(len(a)), uint32(len(b))
	w := blen + 1
	tbl := make([]uint32, (uint64(alen)+1)*uint64(w))
	at := func(i, j uint32) uint32 { return tbl[uint64(i)*uint64(w)+uint64(j)] }
	for i := uint32(1); i <= alen; i++ {
		for j := uint32(1); j <= blen; j++ {
			var v uint32
			if a[i-1] == b[j-1] {
				v = at(i-1, j-1) + 1
			} else {
				v = max(at(i-1, j), at(i, j-1))
			}
			tbl[uint64(i)*uint64(w)+uint64(j)] = v
		}
	}
	total := at(alen, blen)
	if getLen {
		c.W.Int(int64(total))
		return
	}
	result := make([]byte, total)
	var ranges []lcsRange
	idx := total
	cur := lcsRange{aStart: alen} // aStart == alen: no range open
	i, j := alen, blen
	for i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			if cur.aStart == alen {
				cur = lcsRange{i - 1, i - 1, j - 1, j - 1}
			} else if cur.aStart == i && cur.bStart == j {
				cur.aStart--
				cur.bStart--
			} else {
				emit = true
			}
			if cur.aStart == 0 || cur.bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if at(i-1, j) > at(i, j-1) {
				i--
			} else {
				j--
			}
			if cur.aStart != alen {
				emit = true
			}
		}
		if emit {
			if getIdx && (minMatchLen == 0 || int64(cur.aEnd-cur.aStart+1) >= minMatchLen) {
				ranges = append(ranges, cur)
			}
			cur.aStart = alen
		}
	}
	if !getIdx {
		c.W.Bulk(result)
		return
	}
	c.W.Map(2)
	c.W.BulkString("matches")
	c.W.Array(len(ranges))
	for _, r := range ranges {
		if withMatchLen {
			c.W.Array(3)
		} else {
			c.W.Array(2)
		}
		c.W.Array(2)
		c.W.Int(int64(r.aStart))
		c.W.Int(int64(r.aEnd))
		c.W.Array(2)
		c.W.Int(int64(r.bStart))
		c.W.Int(int64(r.bEnd))
		if withMatchLen {
			c.W.Int(int64(r.aEnd - r.aStart + 1))
		}
	}
	c.W.BulkString("len")
	c.W.Int(int64(total))
}
