package memory

import (
	"fmt"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
)

// maxmemory: each shard keeps its keys within an equal share of the
// store's maxmemory (keys spread evenly over shards by slot, as over the
// nodes of a Redis Cluster), by its store's own accounting
// (keyspace.Store.Used). Before a command runs on a shard that is over its
// share, the shard evicts keys as the policy says; a command that may grow
// memory (denyoom) while nothing could be evicted gets Redis's OOM error.
//
// An eviction is a deletion logged as DEL, as an expiry is, so replay
// reproduces it. It never takes a key a transaction holds: not one locked
// by a cross-shard transaction, and not one the running batch touches (its
// keys and WATCHed keys), so a transaction sees all of itself or none. The
// keys evicted in the middle of a batch are others than the batch's, so
// their deletions, logged before the batch's record, commute with it. A
// batch with a command over whole databases (KEYS, DBSIZE...) evicts only
// before its first command; a held shard (a cross-shard request's critical
// section) evicts only when it is taken (TryHold), before the request reads
// anything there.

// shardMem is a shard's part of maxmemory; the shard's mu guards it.
type shardMem struct {
	// budget is the shard's share of maxmemory in bytes; 0: no limit.
	budget int64
	// evicted counts keys evicted (INFO evicted_keys).
	evicted int64
	// keys are the keys of the running batch (or held request), built
	// when the batch first needs to evict; keyless is set when one of
	// its commands has no key arguments.
	keys    map[lockKey]struct{}
	built   bool
	keyless bool
	skip    func(db int, key string) bool
}

// setMemory changes the shard's budget and policy.
func (s *Shard) setMemory(budget int64, p keyspace.MemoryPolicy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mem.budget = budget
	s.store.SetMemoryPolicy(p)
	if s.mem.skip == nil {
		s.mem.keys = map[lockKey]struct{}{}
		s.mem.skip = func(db int, key string) bool {
			lk := lockKey{db, key}
			if _, held := s.locks[lk]; held {
				return true
			}
			_, mine := s.mem.keys[lk]
			return mine
		}
	}
}

// roomLocked makes room before op i of b runs, evicting if evict is set,
// and reports whether the shard is within its budget.
func (s *Shard) roomLocked(b *backends.Batch, i int, now int64, evict bool) bool {
	if s.store.Used() <= s.mem.budget {
		return true
	}
	if !evict {
		return false
	}
	if !s.mem.built {
		s.batchKeysLocked(b)
	}
	if i > 0 && s.mem.keyless {
		return false
	}
	return s.evictLocked(now)
}

// batchKeysLocked collects the keys b touches into s.mem.keys.
func (s *Shard) batchKeysLocked(b *backends.Batch) {
	clear(s.mem.keys)
	s.mem.built, s.mem.keyless = true, false
	for _, op := range b.Ops {
		if op.Cmd == nil || op.Reply != nil {
			continue
		}
		s.keyIdx, _ = op.Cmd.KeyIndexes(s.keyIdx[:0], op.Args)
		if len(s.keyIdx) == 0 && op.Cmd.Is(command.Global) {
			s.mem.keyless = true
		}
		for _, k := range s.keyIdx {
			s.mem.keys[lockKey{op.DB, string(op.Args[k])}] = struct{}{}
		}
	}
	for _, g := range b.Guards {
		s.mem.keys[lockKey{g.DB, g.Key}] = struct{}{}
	}
}

// holdKeysLocked sets the held request's keys as those not to evict.
func (s *Shard) holdKeysLocked(keys []backends.KeyRef) {
	clear(s.mem.keys)
	s.mem.built, s.mem.keyless = true, false
	for _, k := range keys {
		s.mem.keys[lockKey{k.DB, k.Key}] = struct{}{}
	}
}

// evictLocked evicts until the shard is within its budget, and reports
// whether it is.
func (s *Shard) evictLocked(now int64) bool {
	for s.store.Used() > s.mem.budget {
		ev, ok := s.store.Evict(now, s.mem.skip)
		if !ok {
			return false
		}
		if ev.DB == nil {
			continue // only expired keys were freed
		}
		s.mem.evicted++
		s.eventLocked(keyspace.NotifyEvicted, "evicted", ev.DB.Index(), ev.Key)
		if s.snap != nil {
			s.saveLocked(ev.DB, ev.Key, ev.Entry)
		}
		if s.log != nil {
			s.expired = append(s.expired, expiredKey{ev.DB.Index(), ev.Key})
		}
	}
	return true
}

// evictHeldLocked makes room when a cross-shard request takes the shard,
// keeping the request's keys.
func (s *Shard) evictHeldLocked(keys []backends.KeyRef) {
	if s.mem.budget == 0 || s.store.Used() <= s.mem.budget {
		return
	}
	s.holdKeysLocked(keys)
	now := s.clock.now()
	s.evictLocked(now)
	s.mem.built = false
	s.logExpiredLocked(now)
}

// SetMemory sets maxmemory (bytes, 0: no limit) and the eviction policy.
func (st *Store) SetMemory(maxmemory int64, p keyspace.MemoryPolicy) error {
	if maxmemory < 0 {
		return fmt.Errorf("memory: maxmemory must not be negative, got %d", maxmemory)
	}
	budget := maxmemory / int64(len(st.shards))
	if maxmemory > 0 && budget == 0 {
		budget = 1
	}
	for _, s := range st.shards {
		s.setMemory(budget, p)
	}
	st.noEvictLimit.Store(maxmemory > 0 && p.Policy == keyspace.NoEviction)
	return nil
}

// OutOfMemory reports whether the store is over maxmemory with nothing it
// may evict (policy noeviction): Redis's out_of_memory, under which a
// MULTI refuses to queue commands and an EXEC of writes is refused.
func (st *Store) OutOfMemory() bool {
	if !st.noEvictLimit.Load() {
		return false // no limit, or the shards evict as commands run
	}
	var used, budget int64
	for _, s := range st.shards {
		s.mu.Lock()
		used += s.store.Used()
		budget += s.mem.budget
		s.mu.Unlock()
	}
	return budget > 0 && used > budget
}

// memoryStats sums the shards' accounting, and records the peak.
func (st *Store) memoryStats() (used, evicted int64) {
	for _, s := range st.shards {
		s.mu.Lock()
		used += s.store.Used()
		evicted += s.mem.evicted
		s.mu.Unlock()
	}
	for {
		peak := st.peak.Load()
		if used <= peak || st.peak.CompareAndSwap(peak, used) {
			break
		}
	}
	return used, evicted
}
