package memory

import (
	"sync"
	"sync/atomic"

	"github.com/schemaproxy/schemaproxy/backends/memory/aof"
)

// storeLog is the store's one log, shared by every shard. While every shard
// is in an Exclusive section (a request over the whole store, which may
// run several commands, each with its own records), appends are gathered
// into one group record, logged when the first shard leaves: the request
// then survives a crash whole or not at all.
type storeLog struct {
	aof    *aof.Log
	shards int
	// grouping mirrors mu-guarded state so that append needs no lock
	// outside whole-store sections.
	grouping atomic.Bool

	mu        sync.Mutex // guards the fields below; taken after a shard's mu
	exclusive int        // shards in an Exclusive section
	group     []byte     // the group record being built
	groupEnd  uint64     // log position just past the last group logged
}

// append logs rec and returns the position just past it, or 0 when rec
// went into a group, whose position leaveExclusive returns.
func (l *storeLog) append(rec []byte) uint64 {
	if l.grouping.Load() {
		l.mu.Lock()
		if l.grouping.Load() {
			l.group = appendGroupPart(l.group, rec)
			l.mu.Unlock()
			return 0
		}
		l.mu.Unlock()
	}
	return l.aof.Append(rec)
}

func (l *storeLog) enterExclusive() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.exclusive++
	if l.exclusive == l.shards {
		l.group = append(l.group[:0], recGroup)
		l.grouping.Store(true)
	}
}

// leaveExclusive ends the group when the whole store was exclusive and
// returns the position the leaving shard's replies must wait for.
func (l *storeLog) leaveExclusive() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.exclusive == l.shards && l.grouping.Load() {
		l.grouping.Store(false)
		if len(l.group) > 1 {
			l.groupEnd = l.aof.Append(l.group)
		}
		if cap(l.group) > 1<<20 {
			l.group = nil
		}
	}
	l.exclusive--
	return l.groupEnd
}
