package keyspace

import (
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// zscan is ZSCAN key cursor [MATCH pattern] [COUNT count]. A listpack-sized
// set comes back whole, in order, with cursor 0, as in Redis; a bigger one
// is walked through its hash table with Redis's reverse-binary cursor, so
// an element present for the whole iteration is returned at least once.
// Scores are bulk strings in both protocols.
func zscan(c *Ctx) {
	e, cursor, opts := collScanStart(c, KindZSet)
	if e == nil {
		return
	}
	z := c.noteZSet(c.Key(1), e)
	var out []*znode
	if z.compact {
		for x := z.first(); x != nil; x = x.next() {
			out = append(out, x)
		}
		cursor = 0
	} else {
		// Redis counts list entries, two per element, and gives up after
		// ten times that many buckets.
		count := min(opts.count, 1<<40) * 2
		iterations := count * 10
		for {
			cursor = z.scan(cursor, func(x *znode) { out = append(out, x) })
			if cursor == 0 || iterations == 0 || int64(2*len(out)) >= count {
				break
			}
			iterations--
		}
	}
	if opts.match {
		kept := out[:0]
		for _, x := range out {
			if opts.keep([]byte(x.member)) {
				kept = append(kept, x)
			}
		}
		out = kept
	}
	writeScanHead(c, cursor, 2*len(out))
	var buf [32]byte
	for _, x := range out {
		c.W.BulkString(x.member)
		c.W.Bulk(resp.AppendFloat(buf[:0], x.score))
	}
}
