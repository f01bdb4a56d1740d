package keyspace

import (
	"encoding/binary"

	"github.com/schemaproxy/schemaproxy/proto/rdb"
)

// A stream's RDB form (RDB_TYPE_STREAM_LISTPACKS_2, rdb.c): its nodes as
// (16-byte master ID, listpack) pairs, its counters, then each consumer
// group with its PEL (raw IDs, delivery times and counts) and consumers
// (name, seen-time, the IDs they own). DUMP writes it, RESTORE reads it
// and version 1 (RDB_TYPE_STREAM_LISTPACKS), and snapshots and the log
// keep streams in it too, so a stream comes back with its node layout.

// nodeListpack builds node n's listpack as streamAppendItem would have.
func nodeListpack(n *streamNode) []byte {
	lp := rdb.NewListpack()
	lp = rdb.ListpackAppendInt(lp, int64(n.live))
	lp = rdb.ListpackAppendInt(lp, int64(n.deleted))
	lp = rdb.ListpackAppendInt(lp, int64(len(n.fields)))
	for _, f := range n.fields {
		lp = rdb.ListpackAppend(lp, f)
	}
	lp = rdb.ListpackAppendInt(lp, 0)
	for i := range n.entries {
		e := &n.entries[i]
		same := e.flags&streamFlagSameFields != 0
		lp = rdb.ListpackAppendInt(lp, int64(e.flags))
		lp = rdb.ListpackAppendInt(lp, int64(e.id.ms-n.master.ms))
		lp = rdb.ListpackAppendInt(lp, int64(e.id.seq-n.master.seq))
		if !same {
			lp = rdb.ListpackAppendInt(lp, int64(e.pairs))
		}
		n.eachPair(e, func(f, v []byte) {
			if !same {
				lp = rdb.ListpackAppend(lp, f)
			}
			lp = rdb.ListpackAppend(lp, v)
		})
		count := int64(e.pairs) + 3
		if !same {
			count += int64(e.pairs) + 1
		}
		lp = rdb.ListpackAppendInt(lp, count)
	}
	return lp
}

func appendMillis(b []byte, t int64) []byte { return binary.LittleEndian.AppendUint64(b, uint64(t)) }

// dumpStream appends s's RDB form (without the type byte) to b.
func dumpStream(b []byte, s *Stream) []byte {
	b = rdb.AppendLen(b, uint64(len(s.nodes)))
	for _, n := range s.nodes {
		b = rdb.AppendString(b, n.master.key())
		b = rdb.AppendString(b, nodeListpack(n))
	}
	for _, v := range []uint64{s.length, s.lastID.ms, s.lastID.seq, s.firstID.ms, s.firstID.seq,
		s.maxDeleted.ms, s.maxDeleted.seq, s.entriesAdded, uint64(len(s.groups))} {
		b = rdb.AppendLen(b, v)
	}
	for _, g := range s.groups {
		b = rdb.AppendString(b, []byte(g.name))
		b = rdb.AppendLen(b, g.lastID.ms)
		b = rdb.AppendLen(b, g.lastID.seq)
		b = rdb.AppendLen(b, uint64(g.entriesRead))
		b = rdb.AppendLen(b, uint64(len(g.pel)))
		for _, p := range g.pel {
			b = append(b, p.id.key()...)
			b = appendMillis(b, p.deliveryTime)
			b = rdb.AppendLen(b, p.deliveryCount)
		}
		b = rdb.AppendLen(b, uint64(len(g.consumers)))
		for _, cs := range g.consumers {
			b = rdb.AppendString(b, []byte(cs.name))
			b = appendMillis(b, cs.seenTime)
			b = rdb.AppendLen(b, uint64(len(cs.pel)))
			for _, p := range cs.pel {
				b = append(b, p.id.key()...)
			}
		}
	}
	return b
}

// streamReader reads the parts of a stream's RDB form.
type streamReader struct {
	p   []byte
	err error
}

func (r *streamReader) len() uint64 {
	if r.err != nil {
		return 0
	}
	n, enc, rest, err := rdb.ReadLen(r.p)
	if err == nil && enc {
		err = errCorrupt
	}
	r.p, r.err = rest, err
	return n
}

// counter reads a group's entries_read, whose -1 is written as the
// 64-bit length 2^64-1 (RDB_LENERR to other readers, not to this one).
func (r *streamReader) counter() int64 {
	if r.err == nil && len(r.p) >= 9 && r.p[0] == 0x81 {
		v := binary.BigEndian.Uint64(r.p[1:9])
		r.p = r.p[9:]
		return int64(v)
	}
	return int64(r.len())
}

func (r *streamReader) str() []byte {
	if r.err != nil {
		return nil
	}
	s, rest, err := rdb.ReadString(r.p)
	r.p, r.err = rest, err
	return append([]byte(nil), s...)
}

func (r *streamReader) raw(n int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.p) < n {
		r.err = errCorrupt
		return nil
	}
	b := r.p[:n]
	r.p = r.p[n:]
	return b
}

func (r *streamReader) id() streamID { return streamID{r.len(), r.len()} }

// restoreStream reads a stream's RDB form; v2 is RDB_TYPE_STREAM_LISTPACKS_2.
func restoreStream(p []byte, v2 bool) (*Stream, error) {
	r := &streamReader{p: p}
	s := NewStream()
	nodes := r.len()
	if r.err == nil && nodes > uint64(len(r.p)) {
		return nil, errCorrupt
	}
	var prev streamID
	for i := uint64(0); i < nodes && r.err == nil; i++ {
		key := r.str()
		lp := r.str()
		if r.err != nil {
			break
		}
		if len(key) != 16 {
			return nil, errCorrupt
		}
		n, err := restoreNode(idFromKey(key), lp)
		if err != nil {
			return nil, err
		}
		if len(s.nodes) > 0 && n.master.cmp(prev) <= 0 {
			return nil, errCorrupt
		}
		prev = n.entries[len(n.entries)-1].id
		s.nodes = append(s.nodes, n)
		s.dataBytes += int64(len(n.data))
		s.slots += int64(len(n.entries))
	}
	s.length = r.len()
	s.lastID = r.id()
	if v2 {
		s.firstID = r.id()
		s.maxDeleted = r.id()
		s.entriesAdded = r.len()
	}
	if r.err != nil {
		return nil, r.err
	}
	live := uint64(0)
	for _, n := range s.nodes {
		live += uint64(n.live)
	}
	if live != s.length || (s.length > 0 && len(s.nodes) == 0) {
		return nil, errCorrupt
	}
	if !v2 {
		s.entriesAdded = s.length
		s.firstID, _ = s.firstLive()
	}
	groups := r.len()
	for i := uint64(0); i < groups && r.err == nil; i++ {
		name := r.str()
		last := r.id()
		read := int64(entriesReadInvalid)
		if v2 {
			read = r.counter()
		}
		if r.err != nil {
			break
		}
		if !v2 {
			read = s.estimateDistance(last)
		}
		g := s.createGroup(name, last, read)
		if g == nil {
			return nil, errCorrupt
		}
		pel := r.len()
		if r.err == nil && pel > uint64(len(r.p)) {
			return nil, errCorrupt
		}
		for j := uint64(0); j < pel && r.err == nil; j++ {
			id := idFromKeyOrZero(r.raw(16))
			t := r.raw(8)
			cnt := r.len()
			if r.err != nil {
				break
			}
			if n := len(g.pel); n > 0 && g.pel[n-1].id.cmp(id) >= 0 {
				return nil, errCorrupt
			}
			g.pel = append(g.pel, &pendingEntry{id: id, deliveryTime: int64(binary.LittleEndian.Uint64(t)), deliveryCount: cnt})
		}
		consumers := r.len()
		for j := uint64(0); j < consumers && r.err == nil; j++ {
			cname := r.str()
			t := r.raw(8)
			if r.err != nil {
				break
			}
			cs := g.createConsumer(cname, int64(binary.LittleEndian.Uint64(t)))
			if cs == nil {
				return nil, errCorrupt
			}
			owned := r.len()
			if r.err == nil && owned > uint64(len(r.p)) {
				return nil, errCorrupt
			}
			for k := uint64(0); k < owned && r.err == nil; k++ {
				id := idFromKeyOrZero(r.raw(16))
				if r.err != nil {
					break
				}
				pe := g.pending(id)
				if pe == nil || pe.consumer != nil {
					return nil, errCorrupt
				}
				pe.consumer = cs
				cs.pel = pelInsert(cs.pel, pe)
			}
		}
		for _, pe := range g.pel {
			if pe.consumer == nil && r.err == nil {
				return nil, errCorrupt
			}
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return s, nil
}

func idFromKeyOrZero(b []byte) streamID {
	if len(b) != 16 {
		return streamID{}
	}
	return idFromKey(b)
}

// restoreNode reads one listpack of a stream, checking its layout as
// streamValidateListpackIntegrity does.
func restoreNode(master streamID, lp []byte) (*streamNode, error) {
	var elems [][]byte
	if err := rdb.ListpackEach(lp, func(x []byte) error {
		elems = append(elems, append([]byte(nil), x...))
		return nil
	}); err != nil {
		return nil, err
	}
	pos := 0
	next := func() ([]byte, bool) {
		if pos >= len(elems) {
			return nil, false
		}
		pos++
		return elems[pos-1], true
	}
	num := func() (int64, bool) {
		x, ok := next()
		if !ok {
			return 0, false
		}
		return rdb.ParseInt(x)
	}
	live, ok1 := num()
	deleted, ok2 := num()
	nf, ok3 := num()
	if !ok1 || !ok2 || !ok3 || live < 0 || deleted < 0 || nf < 0 || live+deleted == 0 {
		return nil, errCorrupt
	}
	n := &streamNode{master: master, live: int(live), deleted: int(deleted)}
	for range nf {
		f, ok := next()
		if !ok {
			return nil, errCorrupt
		}
		n.fields = append(n.fields, f)
	}
	if z, ok := num(); !ok || z != 0 {
		return nil, errCorrupt
	}
	gotLive, gotDeleted := 0, 0
	for range live + deleted {
		flags, ok1 := num()
		msd, ok2 := num()
		seqd, ok3 := num()
		if !ok1 || !ok2 || !ok3 || flags < 0 || flags > 3 {
			return nil, errCorrupt
		}
		pairs := nf
		same := flags&streamFlagSameFields != 0
		if !same {
			var ok bool
			if pairs, ok = num(); !ok || pairs < 0 {
				return nil, errCorrupt
			}
		}
		off := len(n.data)
		for i := range pairs {
			var f []byte
			if same {
				f = n.fields[i]
			} else if f, ok1 = next(); !ok1 {
				return nil, errCorrupt
			}
			v, ok := next()
			if !ok {
				return nil, errCorrupt
			}
			n.data = appendBytes(n.data, f)
			n.data = appendBytes(n.data, v)
		}
		want := pairs + 3
		if !same {
			want += pairs + 1
		}
		if c, ok := num(); !ok || c != want {
			return nil, errCorrupt
		}
		id := streamID{master.ms + uint64(msd), master.seq + uint64(seqd)}
		if k := len(n.entries); k > 0 && n.entries[k-1].id.cmp(id) >= 0 || k == 0 && id.cmp(master) < 0 {
			return nil, errCorrupt
		}
		n.entries = append(n.entries, streamEntry{id: id, off: uint32(off), end: uint32(len(n.data)),
			pairs: uint32(pairs), flags: uint8(flags)})
		if flags&streamFlagDeleted != 0 {
			gotDeleted++
		} else {
			gotLive++
		}
	}
	if pos != len(elems) || gotLive != n.live || gotDeleted != n.deleted {
		return nil, errCorrupt
	}
	n.body = len(lp) - 7 - lpIntSize(live) - lpIntSize(deleted)
	return n, nil
}
