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
	best := math.Inf(-1)
	expired := false
	for _, db := range s.dbs {
		if len(db.keys) == 0 || p.Volatile() && db.expires == 0 {
			continue
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
			var score float64
			switch p {
			case AllKeysLRU, VolatileLRU:
				score = float64(e.idleMillis(now))
			case AllKeysLFU, VolatileLFU:
				score = float64(255 - s.lfuDecr(e, now))
			case VolatileTTL:
				score = -float64(e.ExpireAt)
			default:
				score = s.rand01()
			}
			if score > best {
				best, ev = score, Evicted{DB: db, Key: k, Entry: e}
			}
		}
	}
	if ev.DB == nil {
		return ev, expired
	}
	// An eviction is a deletion: a new version, so WATCH sees it.
	ev.DB.remove(ev.Key, ev.Entry, s.NextVersion())
	return ev, true
}
