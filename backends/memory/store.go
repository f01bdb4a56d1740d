package memory

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/backends/memory/aof"
	"github.com/schemaproxy/schemaproxy/keyspace"
)

// Options configures the embedded store.
type Options struct {
	// Shards is the number of shards (>= 1).
	Shards int
	// Databases is the number of numbered databases per shard.
	Databases int
	// Dir is the data directory; empty means no persistence.
	Dir string
	// Fsync is the appendfsync policy.
	Fsync aof.Policy
	// SnapshotBytes is the log size (bytes) past which a background
	// snapshot is taken; 0 means 64 MiB, as Redis's auto-aof-rewrite-min-size.
	SnapshotBytes int64
	// ExpireEvery is the period of active expiry; 0 means 100 ms (Redis's
	// hz 10).
	ExpireEvery time.Duration
	// TombstoneAge is how long a deleted key's version is kept for WATCH;
	// 0 means a minute, far longer than a WATCH..EXEC normally takes.
	TombstoneAge time.Duration
	// Logf receives warnings; nil discards them.
	Logf func(format string, args ...any)
	// Now returns unix milliseconds; nil means the wall clock.
	Now func() int64
	// Knobs are test hooks; nil in production.
	Knobs *Knobs
}

// Knobs let tests see the store's durable steps.
type Knobs struct {
	// LogStep runs at each durable step of a snapshot (see aof.Options.Step).
	LogStep func(name string)
	// SnapshotChunk runs between the chunks of a snapshot's walk, with no
	// lock held, so a test can change the data in the middle of it.
	SnapshotChunk func()
}

// Store is the set of embedded shards, their log and background work.
type Store struct {
	opts   Options
	shards []*Shard
	clock  *clock
	log    *storeLog // nil without persistence

	stop chan struct{}
	wg   sync.WaitGroup // the background loop and a running BGSAVE
	// lifeMu orders closing stop against starting a BGSAVE.
	lifeMu sync.Mutex

	snapMu    sync.Mutex // serialises snapshots
	bgRunning atomic.Bool
	lastSave  atomic.Int64 // unix seconds of the last snapshot
	lastOK    atomic.Bool
	lastCost  atomic.Int64 // bytes the last snapshot saved before changes
	lastTook  atomic.Int64 // milliseconds the last snapshot took
	peak      atomic.Int64 // the highest used memory seen (INFO used_memory_peak)
	// noEvictLimit is set while maxmemory is on under noeviction: only
	// then can the store be out of memory (OutOfMemory).
	noEvictLimit atomic.Bool
}

// Open creates the shards, loads their data from Dir and starts the
// background jobs (active expiry, tombstone sweeping, snapshots).
func Open(opts Options, exec *keyspace.Executor) (*Store, error) {
	if opts.Shards < 1 {
		return nil, fmt.Errorf("memory: shards must be at least 1, got %d", opts.Shards)
	}
	if opts.Databases < 1 {
		return nil, fmt.Errorf("memory: databases must be at least 1, got %d", opts.Databases)
	}
	if opts.Now == nil {
		opts.Now = func() int64 { return time.Now().UnixMilli() }
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.SnapshotBytes == 0 {
		opts.SnapshotBytes = 64 << 20
	}
	if opts.ExpireEvery == 0 {
		opts.ExpireEvery = 100 * time.Millisecond
	}
	if opts.TombstoneAge == 0 {
		opts.TombstoneAge = time.Minute
	}
	st := &Store{opts: opts, stop: make(chan struct{}), clock: &clock{wall: opts.Now}}
	st.shards = newShards(opts.Shards, opts.Databases, exec, st.clock)
	st.lastSave.Store(time.Now().Unix())
	st.lastOK.Store(true)
	if opts.Dir != "" {
		if err := st.load(); err != nil {
			if st.log != nil {
				st.log.aof.Close()
			}
			return nil, err
		}
	}
	st.wg.Add(1)
	go st.background()
	return st, nil
}

func newShards(n, databases int, exec *keyspace.Executor, clk *clock) []*Shard {
	shards := make([]*Shard, n)
	events := &notifier{}
	for i := range shards {
		shards[i] = newShard(i, databases, exec, clk)
		shards[i].events = events
	}
	for _, s := range shards {
		s.siblings = shards
	}
	return shards
}

// Shards returns the shards as the coordinator sees them.
func (st *Store) Shards() []backends.Shard {
	out := make([]backends.Shard, len(st.shards))
	for i, s := range st.shards {
		out[i] = s
	}
	return out
}

// Now is the store's clock: the wall clock, never going back. The
// coordinator evaluates transactions at it.
func (st *Store) Now() int64 { return st.clock.now() }

// background runs active expiry, sweeps old tombstones and starts a
// snapshot when the log has grown.
func (st *Store) background() {
	defer st.wg.Done()
	tick := time.NewTicker(st.opts.ExpireEvery)
	defer tick.Stop()
	lastSweep := time.Now()
	for {
		select {
		case <-st.stop:
			return
		case <-tick.C:
		}
		for _, s := range st.shards {
			s.activeExpire()
		}
		st.memoryStats() // keeps the peak
		if time.Since(lastSweep) >= st.opts.TombstoneAge/6 {
			lastSweep = time.Now()
			before := uint64(st.clock.now()-st.opts.TombstoneAge.Milliseconds()) * 1024
			for _, s := range st.shards {
				s.sweepTombstones(before)
			}
		}
		if st.log != nil && st.log.aof.Size() > st.opts.SnapshotBytes {
			if err := st.BGSave(); err != nil && !errors.Is(err, backends.ErrSaveInProgress) {
				st.opts.Logf("snapshot: %v", err)
			}
		}
	}
}

// Close stops background work (a running snapshot is abandoned; the logs
// it would have replaced stay), refuses new requests and closes the log
// after syncing it.
func (st *Store) Close() error {
	st.lifeMu.Lock()
	select {
	case <-st.stop:
		st.lifeMu.Unlock()
		return nil
	default:
	}
	close(st.stop)
	st.lifeMu.Unlock()
	st.wg.Wait()
	for _, s := range st.shards {
		s.mu.Lock()
		s.closed = true
		s.broadcastLocked()
		s.mu.Unlock()
	}
	if st.log == nil {
		return nil
	}
	return st.log.aof.Close()
}

// Info returns INFO fields for section: "persistence", "memory", "stats" or
// "keyspace".
func (st *Store) Info(section string) [][2]string {
	switch section {
	case "persistence":
		enabled, size := "0", int64(0)
		if st.log != nil {
			enabled, size = "1", st.log.aof.Size()
		}
		status := "ok"
		if !st.lastOK.Load() {
			status = "err"
		}
		return [][2]string{
			{"loading", "0"},
			{"rdb_bgsave_in_progress", b01(st.bgRunning.Load())},
			{"rdb_last_save_time", fmt.Sprint(st.lastSave.Load())},
			{"rdb_last_bgsave_status", status},
			{"rdb_last_bgsave_time_sec", fmt.Sprint(st.lastTook.Load() / 1000)},
			// What the last snapshot copied because clients changed it
			// meanwhile, as Redis reports its fork's copy-on-write.
			{"rdb_last_cow_size", fmt.Sprint(st.lastCost.Load())},
			{"aof_enabled", enabled},
			{"aof_current_size", fmt.Sprint(size)},
			{"appendfsync", st.opts.Fsync.String()},
		}
	case "memory":
		used, _ := st.memoryStats()
		return [][2]string{{"used_memory", fmt.Sprint(used)}, {"used_memory_peak", fmt.Sprint(st.peak.Load())}}
	case "stats":
		_, evicted := st.memoryStats()
		return [][2]string{{"evicted_keys", fmt.Sprint(evicted)}}
	case "keyspace":
		var out [][2]string
		for db := 0; db < st.opts.Databases; db++ {
			keys, expires := 0, 0
			for _, s := range st.shards {
				s.mu.Lock()
				keys += s.store.DB(db).Len()
				expires += s.store.DB(db).Expires()
				s.mu.Unlock()
			}
			if keys > 0 {
				out = append(out, [2]string{fmt.Sprintf("db%d", db),
					fmt.Sprintf("keys=%d,expires=%d,avg_ttl=0", keys, expires)})
			}
		}
		return out
	}
	return nil
}

func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// LastSave is the unix time of the last successful snapshot (LASTSAVE).
func (st *Store) LastSave() int64 { return st.lastSave.Load() }
