package keyspace

import "strings"

// Policy is a maxmemory-policy: what to evict when a write needs memory.
type Policy uint8

// The policies, as Redis names them.
const (
	NoEviction Policy = iota
	AllKeysLRU
	AllKeysLFU
	AllKeysRandom
	VolatileLRU
	VolatileLFU
	VolatileRandom
	VolatileTTL
)

var policyNames = [...]string{"noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
	"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"}

func (p Policy) String() string { return policyNames[p] }

// ParsePolicy reads a policy name in any case.
func ParsePolicy(s string) (Policy, bool) {
	for i, n := range policyNames {
		if strings.EqualFold(s, n) {
			return Policy(i), true
		}
	}
	return NoEviction, false
}

// LFU reports whether entries track access frequency rather than time.
func (p Policy) LFU() bool { return p == AllKeysLFU || p == VolatileLFU }

// Volatile reports whether only keys with a TTL may be evicted.
func (p Policy) Volatile() bool { return p >= VolatileLRU }

// MemoryPolicy is the eviction settings a store runs with.
type MemoryPolicy struct {
	Policy Policy
	// Samples is maxmemory-samples: keys sampled per database for each
	// eviction (Redis's default 5).
	Samples int
	// LFULogFactor and LFUDecayTime are lfu-log-factor (10) and
	// lfu-decay-time in minutes (1), as Redis's.
	LFULogFactor int
	LFUDecayTime int
}

// DefaultMemoryPolicy is Redis's defaults.
func DefaultMemoryPolicy() MemoryPolicy {
	return MemoryPolicy{Policy: NoEviction, Samples: 5, LFULogFactor: 10, LFUDecayTime: 1}
}

// SetMemoryPolicy changes the eviction settings. Entries keep their LRU or
// LFU data: as in Redis, it takes a while to mean the other thing after a
// switch between LRU and LFU.
func (s *Store) SetMemoryPolicy(p MemoryPolicy) {
	if p.Policy != s.mem.Policy {
		clear(s.pool)
		s.pool = s.pool[:0] // scores of another policy
	}
	s.mem = p
	s.lfu = p.Policy.LFU()
}

// MemoryPolicy is the store's eviction settings.
func (s *Store) MemoryPolicy() MemoryPolicy { return s.mem }

// Entry.lru is Redis's robj lru field in its low 24 bits: the LRU clock of
// the last access (seconds), or under an LFU policy the minute of the last
// decrement (16 bits) and a logarithmic access counter (8 bits).
const (
	lruMask     = 1<<24 - 1
	lfuInitVal  = 5 // a new key's counter, so it is not evicted at once
	lruClockRes = 1000
)

// lruClock is Redis's LRU_CLOCK: seconds, wrapping at 24 bits.
func lruClock(now int64) uint32 { return uint32(now/lruClockRes) & lruMask }

func (e *Entry) lruField() uint32 { return e.lru & lruMask }

func (e *Entry) setLRUField(v uint32) { e.lru = e.lru&^lruMask | v&lruMask }

// idleMillis is Redis's estimateObjectIdleTime.
func (e *Entry) idleMillis(now int64) int64 {
	clock, lru := int64(lruClock(now)), int64(e.lruField())
	if clock >= lru {
		return (clock - lru) * lruClockRes
	}
	return (clock + (lruMask - lru)) * lruClockRes
}

// lfuMinutes is Redis's LFUGetTimeInMinutes.
func lfuMinutes(now int64) uint32 { return uint32(now/60000) & 65535 }

// lfuDecr is Redis's LFUDecrAndReturn: the counter less one per
// lfu-decay-time minutes since the last decrement.
func (s *Store) lfuDecr(e *Entry, now int64) uint32 {
	ldt, counter := e.lruField()>>8, e.lruField()&255
	if s.mem.LFUDecayTime <= 0 {
		return counter
	}
	t := lfuMinutes(now)
	elapsed := t - ldt
	if t < ldt {
		elapsed = 65535 - ldt + t
	}
	if periods := elapsed / uint32(s.mem.LFUDecayTime); periods < counter {
		return counter - periods
	}
	return 0
}

// rand01 is a uniform float in [0, 1) from the store's xorshift state,
// for LFU's logarithmic increments (no lock, no allocation).
func (s *Store) rand01() float64 {
	x := s.rng
	if x == 0 {
		x = 0x9E3779B97F4A7C15
	}
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	s.rng = x
	return float64(x>>11) / (1 << 53)
}

// lfuAccess is Redis's updateLFU: decay, then a logarithmic increment.
func (s *Store) lfuAccess(e *Entry, now int64) {
	counter := s.lfuDecr(e, now)
	if counter < 255 {
		base := float64(counter) - lfuInitVal
		if base < 0 {
			base = 0
		}
		if s.rand01() < 1.0/(base*float64(s.mem.LFULogFactor)+1) {
			counter++
		}
	}
	e.setLRUField(lfuMinutes(now)<<8 | counter)
}

// initLRU sets the LRU or LFU data of a new entry as Redis's createObject.
func (s *Store) initLRU(e *Entry, now int64) {
	if s.lfu {
		e.setLRUField(lfuMinutes(now)<<8 | lfuInitVal)
	} else {
		e.setLRUField(lruClock(now))
	}
}
