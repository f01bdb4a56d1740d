package keyspace

import "math/big"

// The blocking commands (BLPOP, BRPOP, BRPOPLPUSH, BLMOVE, BLMPOP,
// BZPOPMIN, BZPOPMAX, BZMPOP) as the store runs them: never blocking, the
// way Redis 7.0 runs them where a client may not block (inside MULTI or a
// script): the timeout is checked first, then the keys are served as the
// non-blocking command would, and when nothing is there the reply is the
// null a timeout gives (a null bulk for BLMOVE and BRPOPLPUSH, as Redis
// writes it there). The proxy blocks: it runs the command again when a
// key it waits on is written (proxy/blocking.go).
var blockingCommands = map[string]Handler{
	"blpop":      func(c *Ctx) { blockingPop(c, listLeft) },
	"brpop":      func(c *Ctx) { blockingPop(c, listRight) },
	"brpoplpush": brpoplpush,
	"blmove":     blmove,
	"blmpop":     func(c *Ctx) { blockingMPop(c, lmpop) },
	"bzpopmin":   func(c *Ctx) { blockingZPop(c, false) },
	"bzpopmax":   func(c *Ctx) { blockingZPop(c, true) },
	"bzmpop":     func(c *Ctx) { blockingMPop(c, zmpop) },
}

// ParseTimeout parses a blocking command's timeout as Redis 7.0's
// getTimeoutFromObjectOrReply: seconds as a long double (rounded up to a
// millisecond), or whole milliseconds (XREAD's BLOCK). It returns the
// milliseconds (0: no timeout) or the error reply.
func ParseTimeout(arg []byte, seconds bool) (ms int64, errMsg string) {
	if !seconds {
		n, ok := ParseInt(arg)
		switch {
		case !ok:
			return 0, ErrTimeoutNotInt
		case n < 0:
			return 0, ErrTimeoutNegative
		}
		return n, ""
	}
	f, ok := parseLongDouble(arg)
	if !ok {
		return 0, ErrTimeoutNotFloat
	}
	// (long long) ceill(ftval * 1000.0): x87 turns what does not fit
	// (infinities included) into LLONG_MIN, which is negative.
	if f.IsInf() {
		return 0, ErrTimeoutNegative
	}
	x := new(big.Float).SetPrec(ldPrec).Mul(f, big.NewFloat(1000))
	i, acc := x.Int(nil)
	if acc == big.Below {
		i.Add(i, big.NewInt(1))
	}
	if !i.IsInt64() || i.Sign() < 0 {
		return 0, ErrTimeoutNegative
	}
	return i.Int64(), ""
}

// timeoutArg checks argument i as a timeout in seconds, writing the error.
func (c *Ctx) timeoutArg(i int) bool {
	if _, msg := ParseTimeout(c.Args[i], true); msg != "" {
		c.W.Error(msg)
		return false
	}
	return true
}

// blockingPop is BLPOP/BRPOP key [key ...] timeout: [key, element] from
// the first non-empty list.
func blockingPop(c *Ctx, end listEnd) {
	last := len(c.Args) - 1
	if !c.timeoutArg(last) {
		return
	}
	for _, key := range c.Args[1:last] {
		e, wrong := c.lookup(key, KindList)
		if wrong {
			return
		}
		if e == nil {
			continue
		}
		c.W.Array(2)
		c.W.Bulk(key)
		c.W.Bulk(e.Coll.(*List).pop(end))
		c.collChanged(key, e)
		return
	}
	c.W.NullArray()
}

// brpoplpush is BRPOPLPUSH source destination timeout.
func brpoplpush(c *Ctx) {
	if c.timeoutArg(3) {
		listMoveCmd(c, listRight, listLeft)
	}
}

// blmove is BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout: the
// directions are checked before the timeout.
func blmove(c *Ctx) {
	from, ok := c.listEndArg(3)
	if !ok {
		return
	}
	to, ok := c.listEndArg(4)
	if !ok {
		return
	}
	if c.timeoutArg(5) {
		listMoveCmd(c, from, to)
	}
}

// blockingMPop is BLMPOP/BZMPOP timeout numkeys key [key ...] ...: the
// timeout, then LMPOP/ZMPOP on the rest.
func blockingMPop(c *Ctx, mpop Handler) {
	if !c.timeoutArg(1) {
		return
	}
	args := c.Args
	c.Args = args[1:]
	mpop(c)
	c.Args = args
}

// blockingZPop is BZPOPMIN/BZPOPMAX key [key ...] timeout: [key, member,
// score] from the first non-empty sorted set.
func blockingZPop(c *Ctx, max bool) {
	last := len(c.Args) - 1
	if !c.timeoutArg(last) {
		return
	}
	for _, key := range c.Args[1:last] {
		e, z, wrong := c.zsetOf(key)
		if wrong {
			return
		}
		if z == nil {
			continue
		}
		c.W.Array(3)
		c.W.Bulk(key)
		zpopWrite(c, z, max, 1, false)
		c.collChanged(key, e)
		return
	}
	c.W.NullArray()
}
