package keyspace

import (
	"math"
	"strconv"
)

// Argument parsing, index arithmetic and reply shapes that several
// families share.

// intArgPair parses arguments i and i+1 as integers (start and stop, offset
// and count), writing ErrNotInt at the first bad one.
func (c *Ctx) intArgPair(i int) (a, b int64, ok bool) {
	if a, ok = c.intArg(i); !ok {
		return 0, 0, false
	}
	if b, ok = c.intArg(i + 1); !ok {
		return 0, 0, false
	}
	return a, b, true
}

// nonNegArg parses argument i as an integer >= 0, writing msg for anything
// else, as Redis's getPositiveLongFromObjectOrReply and its LIMIT parsing
// do (the same message for a non-number and for a negative one).
func (c *Ctx) nonNegArg(i int, msg string) (int64, bool) {
	n, ok := ParseInt(c.Args[i])
	if !ok || n < 0 {
		c.W.Error(msg)
		return 0, false
	}
	return n, true
}

// numkeysArg parses the numkeys argument (1) of SINTERCARD, LMPOP and ZMPOP.
func (c *Ctx) numkeysArg() (int64, bool) {
	n, ok := ParseInt(c.Args[1])
	if !ok || n < 1 {
		c.W.Error(ErrNumKeysPositive)
		return 0, false
	}
	return n, true
}

// indexRange clamps Redis's start/stop indexes (inclusive, negative from
// the end) to a sequence of length n, as LRANGE, LTRIM, ZRANGE and
// ZREMRANGEBYRANK do; ok is false for an empty range.
func indexRange(start, stop int64, n int) (from, to int, ok bool) {
	ln := int64(n)
	if start < 0 {
		start += ln
	}
	if stop < 0 {
		stop += ln
	}
	start = max(start, 0)
	if start > stop || start >= ln {
		return 0, 0, false
	}
	stop = min(stop, ln-1)
	return int(start), int(stop), true
}

// mpopArgs parses the arguments of LMPOP and ZMPOP: numkeys key [key ...]
// first|second [COUNT count]. atSecond reports the second word (RIGHT,
// MAX); count is 1 unless given.
func (c *Ctx) mpopArgs(first, second string) (keys [][]byte, atSecond bool, count int64, ok bool) {
	numkeys, ok := c.numkeysArg()
	if !ok {
		return nil, false, 0, false
	}
	if numkeys >= int64(len(c.Args)-2) {
		c.W.Error(ErrSyntax)
		return nil, false, 0, false
	}
	whereIdx := 2 + int(numkeys)
	switch w := c.Args[whereIdx]; {
	case optIs(w, first):
	case optIs(w, second):
		atSecond = true
	default:
		c.W.Error(ErrSyntax)
		return nil, false, 0, false
	}
	count = -1
	for j := whereIdx + 1; j < len(c.Args); j++ {
		if count == -1 && optIs(c.Args[j], "count") && j+1 < len(c.Args) {
			j++
			n, ok := ParseInt(c.Args[j])
			if !ok || n < 1 {
				c.W.Error(ErrCountPositive)
				return nil, false, 0, false
			}
			count = n
			continue
		}
		c.W.Error(ErrSyntax)
		return nil, false, 0, false
	}
	if count == -1 {
		count = 1
	}
	return c.Args[2:whereIdx], atSecond, count, true
}

// scanOpts are the options of SCAN, HSCAN, SSCAN and ZSCAN.
type scanOpts struct {
	pattern []byte
	match   bool // false when there is no pattern or it is "*"
	count   int64
	// typ is SCAN's TYPE (KindNone: any); typeKnown is false for a name
	// no key has ("none", unknown), which matches nothing.
	typ       Kind
	typeKnown bool
}

func (o *scanOpts) keep(s []byte) bool {
	return !o.match || globMatch(o.pattern, s, false)
}

// parseScanOpts parses [MATCH pattern] [COUNT count], and with keys SCAN's
// [TYPE type], from argument i on, writing Redis's error when they are
// wrong. The option words are compared as C strings, as Redis does, so
// "COUNT\x00x" is COUNT.
func parseScanOpts(c *Ctx, i int, keys bool) (scanOpts, bool) {
	o := scanOpts{count: 10, typeKnown: true}
	for ; i < len(c.Args); i += 2 {
		if i+1 >= len(c.Args) {
			c.W.Error(ErrSyntax)
			return o, false
		}
		switch opt, val := c.Args[i], c.Args[i+1]; {
		case optIs(opt, "count"):
			n, ok := c.intArg(i + 1)
			if !ok {
				return o, false
			}
			if n < 1 {
				c.W.Error(ErrSyntax)
				return o, false
			}
			o.count = n
		case optIs(opt, "match"):
			o.pattern = val
			o.match = !(len(val) == 1 && val[0] == '*')
		case keys && optIs(opt, "type"):
			o.typ, o.typeKnown = kindByName(val)
		default:
			c.W.Error(ErrSyntax)
			return o, false
		}
	}
	return o, true
}

// collScanStart reads HSCAN, SSCAN and ZSCAN key cursor [MATCH pattern]
// [COUNT count] in Redis's order: the cursor, the key (missing, it answers
// an empty scan whatever the options), then the options. It returns the
// key's entry, of kind k, or nil when it has replied.
func collScanStart(c *Ctx, k Kind) (e *Entry, cursor uint64, opts scanOpts) {
	cursor, ok := ParseScanCursor(c.Args[2])
	if !ok {
		c.W.Error(ErrInvalidCursor)
		return nil, 0, opts
	}
	e, wrong := c.lookup(c.Key(1), k)
	if e == nil {
		if !wrong {
			writeScanHead(c, 0, 0)
		}
		return nil, 0, opts
	}
	if opts, ok = parseScanOpts(c, 3, false); !ok {
		return nil, 0, opts
	}
	return e, cursor, opts
}

// writePairsHeader writes the array header of a reply of n elements, each
// optionally paired with a value (a score, a hash value): flat in RESP2
// (2n entries), [element, value] arrays in RESP3. writePairStart begins
// each element.
func writePairsHeader(c *Ctx, n int, paired bool) {
	if paired && !c.W.Resp3() {
		c.W.Array(2 * n)
	} else {
		c.W.Array(n)
	}
}

func writePairStart(c *Ctx, paired bool) {
	if paired && c.W.Resp3() {
		c.W.Array(2)
	}
}

// writeScanHead starts the reply of a SCAN command: the next cursor, then
// the header of an array of n elements.
func writeScanHead(c *Ctx, cursor uint64, n int) {
	var buf [20]byte
	c.W.Array(2)
	c.W.Bulk(strconv.AppendUint(buf[:0], cursor, 10))
	c.W.Array(n)
}

// ParseScanCursor parses a SCAN cursor as Redis does with strtoul: no
// leading space, an optional sign ("-1" wraps around), decimal digits,
// nothing after them (C stops at a NUL byte, so what follows one is
// ignored; an empty cursor is 0).
func ParseScanCursor(b []byte) (uint64, bool) {
	if len(b) > 0 && cIsSpace(b[0]) {
		return 0, false
	}
	for i, ch := range b {
		if ch == 0 {
			b = b[:i]
			break
		}
	}
	if len(b) == 0 {
		return 0, true
	}
	neg := false
	p := b
	if p[0] == '+' || p[0] == '-' {
		neg = p[0] == '-'
		p = p[1:]
	}
	if len(p) == 0 {
		return 0, false
	}
	var v uint64
	for _, ch := range p {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		d := uint64(ch - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false // ERANGE
		}
		v = v*10 + d
	}
	if neg {
		v = -v
	}
	return v, true
}
