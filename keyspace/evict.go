package keyspace

import "math"

// Eviction, as Redis's evict.c does it without the pool: sample a few keys
// of every database (keys with a TTL only, under a volatile policy), and
// take the one the policy likes least: the longest idle (LRU), the least
// frequently used (LFU), the nearest expiry (volatile-ttl), or any
// (random).

// volatileScan bounds how many keys a volatile policy looks at in one
// database to find its samples among keys without a TTL.
const volatileScan = 256

// Evicted is what Evict removed.
type Evicted struct {
	DB    *DB
	Key   string
	Entry *Entry
}

// Evict removes one key chosen by the store's policy, skipping those skip
// reports (keys a transaction holds), and reports it. Expired keys met on
// the way are expired instead (OnExpire hears of them): ok is true if
// either freed something. Nothing is evicted under noeviction, or when
// every sampled key is skipped.
func (s *Store) Evict(now int64, skip func(db int, key string) bool) (ev Evicted, ok bool) {
	p := s.mem.Policy
	if p == NoEviction {
		return ev, false
	}
	samples := max(s.mem.Samples, 1)
	random := p == AllKeysRandom || p == VolatileRandom
	best := math.Inf(-1)
	expired := false
	// consider takes a sampled key: the random policies keep the best of
	// this call's sample, the others add it to the pool.
	consider := func(db *DB, key string, e *Entry) {
		var sc float64
		switch p {
		case AllKeysLRU, VolatileLRU:
			sc = float64(e.idleMillis(now))
		case AllKeysLFU, VolatileLFU:
			sc = float64(255 - s.lfuDecr(e, now))
		case VolatileTTL:
			sc = -float64(e.ExpireAt)
		default:
			if sc = s.rand01(); sc > best {
				best, ev = sc, Evicted{DB: db, Key: key}
			}
			return
		}
		s.poolAdd(db, key, sc)
	}
	for _, db := range s.dbs {
		if db.Len() == 0 || p.Volatile() && db.expires == 0 {
			continue
		}
		if t := db.str; t != nil {
			// Packed strings: a run of slots from a random one.
			got := 0
			i := int(s.rand01() * float64(len(t.slots)))
			for seen := 0; seen < volatileScan && got < samples && db.str == t; seen++ {
				i = (i + 1) & (len(t.slots) - 1)
				sl := t.slots[i]
				if sl == 0 {
					continue
				}
				r := t.record(sl & posMask)
				at := r.expireAt()
				if at != 0 && at <= now {
					k := string(r.key())
					db.expire(k, db.thaw(r.key()))
					expired = true
					continue
				}
				if p.Volatile() && at == 0 || skip != nil && skip(db.index, r.keyString()) {
					continue
				}
				got++
				e := Entry{ExpireAt: at}
				e.setLRUField(r.lru())
				consider(db, string(r.key()), &e)
			}
		}
		got, seen := 0, 0
		// Map iteration starts at a random place: the keys met are a
		// random sample.
		for k, e := range db.keys {
			if got >= samples || seen >= volatileScan {
				break
			}
			seen++
			if e.ExpireAt != 0 && e.ExpireAt <= now {
				db.expire(k, e)
				expired = true
				continue
			}
			if p.Volatile() && e.ExpireAt == 0 {
				continue
			}
			if skip != nil && skip(db.index, k) {
				continue
			}
			got++
			consider(db, k, e)
		}
	}
	if !random {
		ev = s.poolTake(now, skip)
	}
	if ev.DB == nil {
		return ev, expired
	}
	ev.Entry = ev.DB.Peek(ev.Key) // packed: as an entry, for the snapshot
	// An eviction is a deletion: a new version, so WATCH sees it.
	ev.DB.remove(ev.Key, ev.Entry, s.NextVersion())
	return ev, true
}

// evictPoolSize is how many candidates the pool keeps, as Redis's
// EVPOOL_SIZE.
const evictPoolSize = 16

// evictCandidate is a key the pool holds, with its score when sampled
// (higher: evicted sooner).
type evictCandidate struct {
	db    *DB
	key   string
	score float64
}

// poolAdd offers a sampled key to the eviction pool, which keeps the best
// candidates of every call, as Redis's evictionPoolPopulate: so one
// unlucky sample of recently used keys does not evict one of them while
// better candidates seen before remain. The pool is sorted by score,
// ascending.
func (s *Store) poolAdd(db *DB, key string, score float64) {
	pool := s.pool
	for i := range pool {
		if pool[i].db == db && pool[i].key == key {
			pool = append(pool[:i], pool[i+1:]...) // scored again below
			break
		}
	}
	if len(pool) == evictPoolSize {
		if score <= pool[0].score {
			s.pool = pool
			return
		}
		pool = append(pool[:0], pool[1:]...)
	}
	i := len(pool)
	for i > 0 && pool[i-1].score > score {
		i--
	}
	pool = append(pool, evictCandidate{})
	copy(pool[i+1:], pool[i:])
	pool[i] = evictCandidate{db: db, key: key, score: score}
	s.pool = pool
}

// poolTake removes and returns the best candidate still live and evictable.
func (s *Store) poolTake(now int64, skip func(db int, key string) bool) Evicted {
	for n := len(s.pool); n > 0; n = len(s.pool) {
		c := s.pool[n-1]
		s.pool[n-1] = evictCandidate{}
		s.pool = s.pool[:n-1]
		_, at, ok := c.db.lookupMeta(c.key)
		if !ok || at != 0 && at <= now || s.mem.Policy.Volatile() && at == 0 ||
			skip != nil && skip(c.db.index, c.key) {
			continue
		}
		return Evicted{DB: c.db, Key: c.key}
	}
	return Evicted{}
}
