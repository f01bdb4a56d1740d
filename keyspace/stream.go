package keyspace

import (
	"encoding/binary"
	"math"
	"sort"
	"strconv"

	"github.com/schemaproxy/schemaproxy/proto/rdb"
)

// A stream is laid out as Redis 7.0 lays it out: entries in ID order, cut
// into nodes as Redis cuts its listpacks (a new node once the tail has 100
// entries, live or deleted, or its listpack would reach 4096 bytes), with
// deleted entries kept as tombstones inside their node until the whole
// node goes. The layout is Redis-visible: MAXLEN ~ and MINID ~ only drop
// whole nodes, XINFO counts the radix tree's keys and nodes, and DUMP
// writes one listpack per node. Each node keeps its entries' fields and
// values in one byte slice (no per-entry allocations) and the listpack
// size Redis would have, so node cuts fall where Redis's fall.
const (
	streamNodeMaxBytes   = 4096 // stream-node-max-bytes
	streamNodeMaxEntries = 100  // stream-node-max-entries
	// streamListpackMaxSize bounds the fields and values of one entry.
	streamListpackMaxSize = 1 << 30
	// streamTrimDefaultLimit is the work limit of ~ trimming without LIMIT.
	streamTrimDefaultLimit = 100 * streamNodeMaxEntries
)

// Entry flags as Redis writes them in a listpack.
const (
	streamFlagDeleted    = 1
	streamFlagSameFields = 2
)

// streamID is a stream entry's ID: milliseconds and sequence.
type streamID struct{ ms, seq uint64 }

var maxStreamID = streamID{math.MaxUint64, math.MaxUint64}

func (a streamID) cmp(b streamID) int {
	switch {
	case a.ms < b.ms:
		return -1
	case a.ms > b.ms:
		return 1
	case a.seq < b.seq:
		return -1
	case a.seq > b.seq:
		return 1
	}
	return 0
}

func (a streamID) isZero() bool { return a.ms == 0 && a.seq == 0 }

// incr is streamIncrID: the next ID; ok is false (and the ID 0-0) past the
// last one.
func (a streamID) incr() (streamID, bool) {
	switch {
	case a.seq != math.MaxUint64:
		return streamID{a.ms, a.seq + 1}, true
	case a.ms != math.MaxUint64:
		return streamID{a.ms + 1, 0}, true
	}
	return streamID{}, false
}

// decr is streamDecrID: the previous ID; ok is false (and the ID the
// last one) before 0-0.
func (a streamID) decr() (streamID, bool) {
	switch {
	case a.seq != 0:
		return streamID{a.ms, a.seq - 1}, true
	case a.ms != 0:
		return streamID{a.ms - 1, math.MaxUint64}, true
	}
	return maxStreamID, false
}

func (a streamID) appendTo(b []byte) []byte {
	b = strconv.AppendUint(b, a.ms, 10)
	b = append(b, '-')
	return strconv.AppendUint(b, a.seq, 10)
}

func (a streamID) String() string { return string(a.appendTo(nil)) }

// key is the ID as the radix tree's 128-bit big-endian key.
func (a streamID) key() []byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], a.ms)
	binary.BigEndian.PutUint64(b[8:], a.seq)
	return b[:]
}

func idFromKey(b []byte) streamID {
	return streamID{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:16])}
}

// streamEntry is one entry of a node: its fields and values are
// node.data[off:end], each with a uvarint length.
type streamEntry struct {
	id       streamID
	off, end uint32
	pairs    uint32
	flags    uint8
}

func (e *streamEntry) deleted() bool { return e.flags&streamFlagDeleted != 0 }

// streamNode is one of Redis's listpacks.
type streamNode struct {
	master  streamID
	fields  [][]byte // the master entry's fields
	entries []streamEntry
	data    []byte
	live    int
	deleted int
	// body is the listpack's size without its header, terminator and its
	// two counters (live, deleted), which change in place.
	body int
}

// bytes is the size of the node's listpack (lpBytes).
func (n *streamNode) bytes() int {
	return 7 + lpIntSize(int64(n.live)) + lpIntSize(int64(n.deleted)) + n.body
}

// eachPair calls fn with e's fields and values in order.
func (n *streamNode) eachPair(e *streamEntry, fn func(f, v []byte)) {
	b := n.data[e.off:e.end]
	for len(b) > 0 {
		var f, v []byte
		f, b, _ = readBytes(b)
		v, b, _ = readBytes(b)
		fn(f, v)
	}
}

// Stream is a stream value: its entries, counters and consumer groups.
type Stream struct {
	nodes        []*streamNode
	length       uint64
	lastID       streamID
	firstID      streamID
	maxDeleted   streamID
	entriesAdded uint64
	groups       []*streamGroup // by name, in byte order
	// dataBytes and slots count the nodes' data and entries, live or
	// not, for the memory estimate.
	dataBytes, slots int64
}

// NewStream returns an empty stream.
func NewStream() *Stream { return &Stream{} }

// Len is the number of entries. An empty stream still exists (XGROUP
// CREATE MKSTREAM, XDEL of every entry), unlike other collections.
func (s *Stream) Len() int { return int(min(s.length, math.MaxInt)) }

// Encoding is OBJECT ENCODING's name.
func (s *Stream) Encoding() string { return "stream" }

// Clone returns a deep copy.
func (s *Stream) Clone() Collection {
	c := *s
	c.nodes = make([]*streamNode, len(s.nodes))
	for i, n := range s.nodes {
		m := *n
		m.entries = append([]streamEntry(nil), n.entries...)
		m.data = append([]byte(nil), n.data...)
		c.nodes[i] = &m
	}
	c.groups = make([]*streamGroup, len(s.groups))
	for i, g := range s.groups {
		c.groups[i] = g.clone()
	}
	return &c
}

// lpIntSize is the size of an integer entry in a listpack, with its
// backlen (every integer encoding is under 128 bytes: one backlen byte).
func lpIntSize(v int64) int {
	switch {
	case v >= 0 && v <= 127:
		return 2
	case v >= -4096 && v <= 4095:
		return 3
	case v >= -32768 && v <= 32767:
		return 4
	case v >= -8388608 && v <= 8388607:
		return 5
	case v >= -2147483648 && v <= 2147483647:
		return 6
	}
	return 10
}

// lpStrSize is the size of elem's entry in a listpack, as lpAppend
// encodes it (an integer when it is one).
func lpStrSize(elem []byte) int {
	if v, ok := rdb.ParseInt(elem); ok {
		return lpIntSize(v)
	}
	n := len(elem)
	var l int
	switch {
	case n < 64:
		l = 1 + n
	case n < 4096:
		l = 2 + n
	default:
		l = 5 + n
	}
	switch {
	case l <= 127:
		return l + 1
	case l < 16383:
		return l + 2
	case l < 2097151:
		return l + 3
	case l < 268435455:
		return l + 4
	}
	return l + 5
}

// appendEntry adds an entry with ID id (greater than every ID before) and
// the fields and values in kv, as streamAppendItem does.
func (s *Stream) appendEntry(id streamID, kv [][]byte) {
	total := 0
	for _, x := range kv {
		total += len(x)
	}
	var n *streamNode
	if len(s.nodes) > 0 {
		n = s.nodes[len(s.nodes)-1]
		if n.bytes()+total >= streamNodeMaxBytes || n.live+n.deleted >= streamNodeMaxEntries {
			n = nil
		}
	}
	pairs := len(kv) / 2
	var flags uint8
	if n == nil {
		n = &streamNode{master: id}
		n.body = lpIntSize(int64(pairs)) + lpIntSize(0)
		for i := 0; i < pairs; i++ {
			f := append([]byte(nil), kv[2*i]...)
			n.fields = append(n.fields, f)
			n.body += lpStrSize(f)
		}
		s.nodes = append(s.nodes, n)
		flags = streamFlagSameFields
	} else if pairs == len(n.fields) {
		flags = streamFlagSameFields
		for i, f := range n.fields {
			if string(f) != string(kv[2*i]) {
				flags = 0
				break
			}
		}
	}
	size := lpIntSize(int64(flags)) + lpIntSize(int64(id.ms-n.master.ms)) + lpIntSize(int64(id.seq-n.master.seq))
	lpCount := pairs + 3
	if flags&streamFlagSameFields == 0 {
		size += lpIntSize(int64(pairs))
		lpCount += pairs + 1
	}
	size += lpIntSize(int64(lpCount))
	off := len(n.data)
	for i, x := range kv {
		if i%2 == 1 || flags&streamFlagSameFields == 0 {
			size += lpStrSize(x)
		}
		n.data = appendBytes(n.data, x)
	}
	n.body += size
	n.entries = append(n.entries, streamEntry{id: id, off: uint32(off), end: uint32(len(n.data)), pairs: uint32(pairs), flags: flags})
	n.live++
	s.dataBytes += int64(len(n.data) - off)
	s.slots++
	s.length++
	s.entriesAdded++
	s.lastID = id
	if s.length == 1 {
		s.firstID = id
	}
}

// streamPos is the place of an entry: node index and entry index.
type streamPos struct{ node, entry int }

// seekGE returns the position of the first entry, live or not, whose ID is
// at least id (node == len(nodes) when there is none).
func (s *Stream) seekGE(id streamID) streamPos {
	// The last node whose master ID is <= id holds it, or the next one.
	i := sort.Search(len(s.nodes), func(i int) bool { return s.nodes[i].master.cmp(id) > 0 }) - 1
	if i < 0 {
		return streamPos{0, 0}
	}
	n := s.nodes[i]
	j := sort.Search(len(n.entries), func(j int) bool { return n.entries[j].id.cmp(id) >= 0 })
	if j == len(n.entries) {
		return streamPos{i + 1, 0}
	}
	return streamPos{i, j}
}

// ascend calls fn with the live entries from start to end in ID order,
// until fn returns false.
func (s *Stream) ascend(start, end streamID, fn func(n *streamNode, e *streamEntry) bool) {
	if start.cmp(end) > 0 {
		return
	}
	p := s.seekGE(start)
	for i := p.node; i < len(s.nodes); i++ {
		n := s.nodes[i]
		j := 0
		if i == p.node {
			j = p.entry
		}
		for ; j < len(n.entries); j++ {
			e := &n.entries[j]
			if e.id.cmp(end) > 0 {
				return
			}
			if !e.deleted() && !fn(n, e) {
				return
			}
		}
	}
}

// descend calls fn with the live entries from end down to start, until fn
// returns false.
func (s *Stream) descend(start, end streamID, fn func(n *streamNode, e *streamEntry) bool) {
	if start.cmp(end) > 0 {
		return
	}
	// The first entry above end, then back.
	var p streamPos
	if nx, ok := end.incr(); ok {
		p = s.seekGE(nx)
	} else {
		p = streamPos{len(s.nodes), 0}
	}
	for i := p.node; i >= 0; i-- {
		if i >= len(s.nodes) {
			continue
		}
		n := s.nodes[i]
		j := len(n.entries) - 1
		if i == p.node {
			j = p.entry - 1
		}
		for ; j >= 0; j-- {
			e := &n.entries[j]
			if e.id.cmp(start) < 0 {
				return
			}
			if !e.deleted() && !fn(n, e) {
				return
			}
		}
	}
}

// find returns the live entry with ID id.
func (s *Stream) find(id streamID) (*streamNode, *streamEntry) {
	p := s.seekGE(id)
	if p.node >= len(s.nodes) {
		return nil, nil
	}
	n := s.nodes[p.node]
	e := &n.entries[p.entry]
	if e.id != id || e.deleted() {
		return nil, nil
	}
	return n, e
}

// firstLive and lastLive are the edge live IDs (streamGetEdgeID); ok is
// false for an empty stream.
func (s *Stream) firstLive() (id streamID, ok bool) {
	s.ascend(streamID{}, maxStreamID, func(_ *streamNode, e *streamEntry) bool {
		id, ok = e.id, true
		return false
	})
	return id, ok
}

func (s *Stream) lastLive() (id streamID, ok bool) {
	s.descend(streamID{}, maxStreamID, func(_ *streamNode, e *streamEntry) bool {
		id, ok = e.id, true
		return false
	})
	return id, ok
}

// removeNode drops node i.
func (s *Stream) removeNode(i int) {
	s.dataBytes -= int64(len(s.nodes[i].data))
	s.slots -= int64(len(s.nodes[i].entries))
	copy(s.nodes[i:], s.nodes[i+1:])
	s.nodes[len(s.nodes)-1] = nil
	s.nodes = s.nodes[:len(s.nodes)-1]
}

// deleteEntry removes the live entry id as streamDeleteItem does: the
// entry becomes a tombstone, and a node whose last live entry goes is
// dropped whole.
func (s *Stream) deleteEntry(id streamID) bool {
	p := s.seekGE(id)
	if p.node >= len(s.nodes) {
		return false
	}
	n := s.nodes[p.node]
	e := &n.entries[p.entry]
	if e.id != id || e.deleted() {
		return false
	}
	if n.live == 1 {
		s.removeNode(p.node)
	} else {
		e.flags |= streamFlagDeleted
		n.live--
		n.deleted++
	}
	s.length--
	return true
}

// xdel is XDEL's change for one ID, with the counters it updates.
func (s *Stream) xdel(ids []streamID) int {
	deleted, first := 0, false
	for _, id := range ids {
		if s.deleteEntry(id) {
			if id == s.firstID {
				first = true
			}
			if id.cmp(s.maxDeleted) > 0 {
				s.maxDeleted = id
			}
			deleted++
		}
	}
	if deleted > 0 {
		if s.length == 0 {
			s.firstID = streamID{}
		} else if first {
			s.firstID, _ = s.firstLive()
		}
	}
	return deleted
}

// The trimming strategies.
const (
	trimNone = iota
	trimMaxLen
	trimMinID
)

// trimArgs are XADD's and XTRIM's trimming options.
type trimArgs struct {
	strategy int
	approx   bool
	limit    int64
	maxlen   int64
	minid    streamID
	// argIdx is the argument of the count or ID.
	argIdx int
}

// trim is streamTrim: it removes entries from the head, whole nodes
// while it can, then (unless approx) single entries of the next node.
func (s *Stream) trim(a *trimArgs) int64 {
	if a.strategy == trimNone {
		return 0
	}
	var deleted int64
	for len(s.nodes) > 0 {
		if a.strategy == trimMaxLen && s.length <= uint64(a.maxlen) {
			break
		}
		n := s.nodes[0]
		entries := int64(n.live)
		if a.limit != 0 && deleted+entries > a.limit {
			break
		}
		var remove bool
		if a.strategy == trimMaxLen {
			remove = int64(s.length)-entries >= a.maxlen
		} else {
			remove = n.entries[len(n.entries)-1].id.cmp(a.minid) < 0
		}
		if remove {
			s.removeNode(0)
			s.length -= uint64(entries)
			deleted += entries
			continue
		}
		if a.approx {
			break
		}
		for j := range n.entries {
			e := &n.entries[j]
			var stop bool
			if a.strategy == trimMaxLen {
				stop = s.length <= uint64(a.maxlen)
			} else {
				stop = e.id.cmp(a.minid) >= 0
			}
			if stop {
				break
			}
			if !e.deleted() {
				e.flags |= streamFlagDeleted
				n.live--
				n.deleted++
				s.length--
				deleted++
			}
		}
		break
	}
	if s.length > 0 {
		s.firstID, _ = s.firstLive()
	} else {
		s.firstID = streamID{}
	}
	return deleted
}

// raxNodes is the number of nodes of Redis's radix tree holding the
// stream's node keys (XINFO STREAM radix-tree-nodes): the nodes of the
// compressed trie of the 16-byte keys, counted as rax lays it out (a
// node at the root, at every branch's children, at every branching or
// key).
func (s *Stream) raxNodes() int {
	keys := make([][]byte, len(s.nodes))
	for i, n := range s.nodes {
		keys[i] = n.master.key()
	}
	var count func(lo, hi, depth int, parentBranches bool) int
	count = func(lo, hi, depth int, parentBranches bool) int {
		if depth == 16 {
			return 1
		}
		// The children: runs of keys sharing the byte at depth.
		var runs [][2]int
		for i := lo; i < hi; {
			j := i + 1
			for j < hi && keys[j][depth] == keys[i][depth] {
				j++
			}
			runs = append(runs, [2]int{i, j})
			i = j
		}
		total := 0
		if parentBranches || len(runs) != 1 {
			total = 1
		}
		for _, r := range runs {
			total += count(r[0], r[1], depth+1, len(runs) > 1)
		}
		return total
	}
	if len(keys) == 0 {
		return 1
	}
	return count(0, len(keys), 0, true)
}

// memCost estimates what the stream costs (see mem.go).
func (s *Stream) memCost() int64 {
	// O(groups and consumers): it runs after every change.
	c := int64(collHeader) + s.dataBytes + int64(len(s.nodes))*(96+8) + s.slots*32
	for _, g := range s.groups {
		c += 96 + int64(len(g.name)) + int64(len(g.pel))*(64+8)
		for _, cs := range g.consumers {
			c += 64 + int64(len(cs.name)) + int64(len(cs.pel))*8
		}
	}
	return c
}
