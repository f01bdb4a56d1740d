package keyspace

// Argument parsing and index arithmetic that several families share.

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
	case equalFold(w, first):
	case equalFold(w, second):
		atSecond = true
	default:
		c.W.Error(ErrSyntax)
		return nil, false, 0, false
	}
	count = -1
	for j := whereIdx + 1; j < len(c.Args); j++ {
		if count == -1 && equalFold(c.Args[j], "count") && j+1 < len(c.Args) {
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
