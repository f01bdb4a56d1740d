package keyspace

import "sort"

// Consumer groups. The pending entries lists (PELs) are slices sorted by
// ID: new deliveries append (IDs grow), and a lookup is a binary search;
// an acknowledgement in the middle moves the rest, which for the PEL sizes
// of real consumers (what is being worked on) stays cheap.

// entriesReadInvalid is SCG_INVALID_ENTRIES_READ.
const entriesReadInvalid = -1

// pendingEntry is a delivered, unacknowledged entry (Redis's NACK).
type pendingEntry struct {
	id            streamID
	consumer      *streamConsumer
	deliveryTime  int64
	deliveryCount uint64
}

type streamConsumer struct {
	name     string
	seenTime int64
	pel      []*pendingEntry // by ID
}

type streamGroup struct {
	name        string
	lastID      streamID
	entriesRead int64
	pel         []*pendingEntry   // by ID
	consumers   []*streamConsumer // by name, in byte order
}

// clone copies g with its own PEL entries and consumers.
func (g *streamGroup) clone() *streamGroup {
	c := *g
	copies := make(map[*pendingEntry]*pendingEntry, len(g.pel))
	c.pel = make([]*pendingEntry, len(g.pel))
	for i, p := range g.pel {
		q := *p
		c.pel[i] = &q
		copies[p] = &q
	}
	c.consumers = make([]*streamConsumer, len(g.consumers))
	for i, cs := range g.consumers {
		d := &streamConsumer{name: cs.name, seenTime: cs.seenTime, pel: make([]*pendingEntry, len(cs.pel))}
		for j, p := range cs.pel {
			q := copies[p]
			q.consumer = d
			d.pel[j] = q
		}
		c.consumers[i] = d
	}
	return &c
}

// pelSearch returns where id is, or would go, in pel.
func pelSearch(pel []*pendingEntry, id streamID) (int, bool) {
	i := sort.Search(len(pel), func(i int) bool { return pel[i].id.cmp(id) >= 0 })
	return i, i < len(pel) && pel[i].id == id
}

func pelInsert(pel []*pendingEntry, p *pendingEntry) []*pendingEntry {
	if n := len(pel); n == 0 || pel[n-1].id.cmp(p.id) < 0 {
		return append(pel, p)
	}
	i, _ := pelSearch(pel, p.id)
	pel = append(pel, nil)
	copy(pel[i+1:], pel[i:])
	pel[i] = p
	return pel
}

func pelRemove(pel []*pendingEntry, id streamID) []*pendingEntry {
	i, ok := pelSearch(pel, id)
	if !ok {
		return pel
	}
	copy(pel[i:], pel[i+1:])
	pel[len(pel)-1] = nil
	return pel[:len(pel)-1]
}

func (g *streamGroup) pending(id streamID) *pendingEntry {
	if i, ok := pelSearch(g.pel, id); ok {
		return g.pel[i]
	}
	return nil
}

// dropPending removes p from the group's PEL and its consumer's.
func (g *streamGroup) dropPending(p *pendingEntry) {
	g.pel = pelRemove(g.pel, p.id)
	if p.consumer != nil {
		p.consumer.pel = pelRemove(p.consumer.pel, p.id)
	}
}

// assign gives p to consumer c (from whoever held it).
func (g *streamGroup) assign(p *pendingEntry, c *streamConsumer) {
	if p.consumer == c {
		return
	}
	if p.consumer != nil {
		p.consumer.pel = pelRemove(p.consumer.pel, p.id)
	}
	c.pel = pelInsert(c.pel, p)
	p.consumer = c
}

func (g *streamGroup) consumerIndex(name []byte) (int, bool) {
	i := sort.Search(len(g.consumers), func(i int) bool { return g.consumers[i].name >= string(name) })
	return i, i < len(g.consumers) && g.consumers[i].name == string(name)
}

// consumer finds a consumer; refresh updates its seen-time to now.
func (g *streamGroup) consumer(name []byte, refresh bool, now int64) *streamConsumer {
	i, ok := g.consumerIndex(name)
	if !ok {
		return nil
	}
	c := g.consumers[i]
	if refresh {
		c.seenTime = now
	}
	return c
}

// createConsumer adds a consumer, or returns nil if it exists.
func (g *streamGroup) createConsumer(name []byte, now int64) *streamConsumer {
	i, ok := g.consumerIndex(name)
	if ok {
		return nil
	}
	c := &streamConsumer{name: string(name), seenTime: now}
	g.consumers = append(g.consumers, nil)
	copy(g.consumers[i+1:], g.consumers[i:])
	g.consumers[i] = c
	return c
}

// deleteConsumer removes c and its pending entries (from the group too).
func (g *streamGroup) deleteConsumer(c *streamConsumer) {
	for _, p := range c.pel {
		g.pel = pelRemove(g.pel, p.id)
	}
	i, _ := g.consumerIndex([]byte(c.name))
	copy(g.consumers[i:], g.consumers[i+1:])
	g.consumers[len(g.consumers)-1] = nil
	g.consumers = g.consumers[:len(g.consumers)-1]
}

func (s *Stream) groupIndex(name []byte) (int, bool) {
	i := sort.Search(len(s.groups), func(i int) bool { return s.groups[i].name >= string(name) })
	return i, i < len(s.groups) && s.groups[i].name == string(name)
}

func (s *Stream) group(name []byte) *streamGroup {
	if i, ok := s.groupIndex(name); ok {
		return s.groups[i]
	}
	return nil
}

// createGroup adds a group, or returns nil if one of that name exists.
func (s *Stream) createGroup(name []byte, last streamID, entriesRead int64) *streamGroup {
	i, ok := s.groupIndex(name)
	if ok {
		return nil
	}
	g := &streamGroup{name: string(name), lastID: last, entriesRead: entriesRead}
	s.groups = append(s.groups, nil)
	copy(s.groups[i+1:], s.groups[i:])
	s.groups[i] = g
	return g
}

func (s *Stream) destroyGroup(name []byte) bool {
	i, ok := s.groupIndex(name)
	if !ok {
		return false
	}
	copy(s.groups[i:], s.groups[i+1:])
	s.groups[len(s.groups)-1] = nil
	s.groups = s.groups[:len(s.groups)-1]
	return true
}

// rangeHasTombstones is streamRangeHasTombstones from start to the end.
func (s *Stream) rangeHasTombstones(start streamID) bool {
	if s.length == 0 || s.maxDeleted.isZero() {
		return false
	}
	if s.firstID.cmp(s.maxDeleted) > 0 {
		return false
	}
	return start.cmp(s.maxDeleted) <= 0
}

// estimateDistance is streamEstimateDistanceFromFirstEverEntry: id's
// logical read counter, or entriesReadInvalid when it cannot be known.
func (s *Stream) estimateDistance(id streamID) int64 {
	if s.entriesAdded == 0 {
		return 0
	}
	if s.length == 0 && id.cmp(s.lastID) < 1 {
		return int64(s.entriesAdded)
	}
	switch c := id.cmp(s.lastID); {
	case c == 0:
		return int64(s.entriesAdded)
	case c > 0:
		return entriesReadInvalid
	}
	cmpFirst := id.cmp(s.firstID)
	if s.maxDeleted.isZero() || s.maxDeleted.cmp(s.firstID) < 0 {
		if cmpFirst < 0 {
			return int64(s.entriesAdded - s.length)
		} else if cmpFirst == 0 {
			return int64(s.entriesAdded - s.length + 1)
		}
	}
	return entriesReadInvalid
}

// lag is a group's lag (streamReplyWithCGLag); ok is false when unknown.
func (s *Stream) lag(g *streamGroup) (int64, bool) {
	if s.entriesAdded == 0 {
		return 0, true
	}
	if g.entriesRead != entriesReadInvalid && !s.rangeHasTombstones(g.lastID) {
		return int64(s.entriesAdded) - g.entriesRead, true
	}
	if r := s.estimateDistance(g.lastID); r != entriesReadInvalid {
		return int64(s.entriesAdded) - r, true
	}
	return 0, false
}
