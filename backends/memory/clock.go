package memory

import "sync/atomic"

// clock is the store's time in unix milliseconds: the wall clock, but
// never behind a time it handed out or a time found in the log. Shards
// read it under their mutex, so the records of each shard carry times that
// never go back, and a replay at those times expires exactly the keys that
// were expired when the records ran, even if the wall clock stepped back
// meanwhile or across a restart.
type clock struct {
	wall func() int64
	last atomic.Int64
}

func (c *clock) now() int64 {
	w := c.wall()
	for {
		l := c.last.Load()
		if w <= l {
			return l
		}
		if c.last.CompareAndSwap(l, w) {
			return w
		}
	}
}

// observe moves the clock up to t (a time read from the log).
func (c *clock) observe(t int64) {
	for {
		l := c.last.Load()
		if t <= l || c.last.CompareAndSwap(l, t) {
			return
		}
	}
}
