// Package gcpace keeps the Go heap's headroom over its live data small when
// the live data is large, so that a store holding gigabytes does not need
// twice that in RAM.
//
// Go's collector lets the heap grow to (1 + GOGC/100) times what survived
// the last collection before it collects again: with the default GOGC of
// 100, a store's RSS is about twice its data. A lower GOGC saves that
// memory but makes a small heap collect very often (a proxy serving a
// small key space would spend its CPU collecting). The pacer gives the
// heap a headroom of Fraction of the live heap but at least Floor bytes,
// and at least ScanFactor times the live heap the collector must scan
// (what holds pointers): a collection's work is the scannable heap, so a
// heap made mostly of pointer-free arenas (the store's packed values)
// collects cheaply and can do it often, while one of pointers gets room.
// After every collection it sets GOGC to that headroom, capped at Max
// percent. A large heap then runs at GOGC 25 (the collector's work per
// allocated byte grows as the headroom shrinks, but a large store's
// allocation rate does not grow with its size), a small one at 100.
//
// A server that stops allocating keeps whatever heap its last burst grew
// (the collector only runs on allocation, or every two minutes), so once
// the program has allocated next to nothing for Idle, the pacer collects
// and hands the free memory back to the system, once per idle spell, as
// Redis's allocator purges dirty pages in the background.
package gcpace

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// Config is the pacing rule.
type Config struct {
	// Fraction is the headroom as a fraction of the live heap.
	Fraction float64
	// Floor is the least headroom, in bytes.
	Floor uint64
	// ScanFactor is the least headroom as a multiple of the scannable
	// live heap.
	ScanFactor float64
	// Max is the highest GOGC the pacer sets.
	Max int
	// Idle is how long the program must allocate less than IdleBytes per
	// second before the pacer returns the free heap to the system; 0:
	// never.
	Idle      time.Duration
	IdleBytes uint64
	// onRelease, for tests, is called after each idle release.
	onRelease func()
}

// Pacer adjusts GOGC after every collection until Stop.
type Pacer struct {
	cfg     Config
	stopped atomic.Bool
	done    chan struct{} // closed by Stop: ends the idle watcher
	live    []metrics.Sample
	scan    []metrics.Sample
	// percent is the GOGC the pacer set last (for tests).
	percent atomic.Int64
}

// readUint64 reads the one metric of sample (0 if unsupported).
func readUint64(sample []metrics.Sample) uint64 {
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}

// Start begins pacing and sets GOGC for the heap as it is now.
func Start(cfg Config) *Pacer {
	p := &Pacer{cfg: cfg, done: make(chan struct{}), live: []metrics.Sample{{Name: "/gc/heap/live:bytes"}},
		scan: []metrics.Sample{{Name: "/gc/scan/heap:bytes"}}}
	p.adjust()
	p.arm()
	if cfg.Idle > 0 {
		go p.watchIdle()
	}
	return p
}

// watchIdle releases the free heap once per idle spell.
func (p *Pacer) watchIdle() {
	tick := min(p.cfg.Idle/4, time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	allocs := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	read := func() uint64 { return readUint64(allocs) }
	last, quiet, released := read(), time.Duration(0), false
	limit := uint64(float64(p.cfg.IdleBytes) * tick.Seconds())
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
		}
		now := read()
		if now-last > limit {
			quiet, released = 0, false
		} else {
			quiet += tick
		}
		last = now
		if quiet >= p.cfg.Idle && !released {
			debug.FreeOSMemory()
			released = true
			if p.cfg.onRelease != nil {
				p.cfg.onRelease()
			}
			last = read() // the release's own allocations do not end the spell
		}
	}
}

// Stop ends pacing and restores GOGC to Max.
func (p *Pacer) Stop() {
	if p.stopped.Swap(true) {
		return
	}
	close(p.done)
	debug.SetGCPercent(p.cfg.Max)
}

// Percent is the GOGC the pacer set last.
func (p *Pacer) Percent() int { return int(p.percent.Load()) }

// Percent is the GOGC for a live heap of live bytes, scan of them
// scannable.
func (c Config) Percent(live, scan uint64) int {
	if live == 0 {
		return c.Max
	}
	headroom := max(uint64(float64(live)*c.Fraction), c.Floor, uint64(float64(min(scan, live))*c.ScanFactor))
	pct := headroom * 100 / live
	if pct > uint64(c.Max) {
		return c.Max
	}
	return max(int(pct), 1)
}

// arm sets a finalizer on a fresh object: it runs after the next
// collection, which is when the live heap is known.
func (p *Pacer) arm() {
	sentinel := new([16]byte) // large enough not to be batched with tiny allocations
	runtime.SetFinalizer(sentinel, func(*[16]byte) {
		if p.stopped.Load() {
			return
		}
		p.adjust()
		p.arm()
	})
}

func (p *Pacer) adjust() {
	live := readUint64(p.live)
	pct := p.cfg.Percent(live, readUint64(p.scan))
	if int64(pct) != p.percent.Load() {
		debug.SetGCPercent(pct)
		p.percent.Store(int64(pct))
	}
}
