package main

import (
	"math"
	"runtime/debug"
	"slices"
	"sync"

	"github.com/schemaproxy/schemaproxy/config"
)

// memorySettings applies the maxmemory settings to the embedded store at
// start and on CONFIG SET.
type memorySettings struct {
	mu  sync.Mutex // guards cur
	cur config.Memory
	set func(maxmemory int64, m config.Memory) error
}

func (ms *memorySettings) apply() error {
	if err := ms.set(ms.cur.Maxmemory, ms.cur); err != nil {
		return err
	}
	setGoMemoryLimit(ms.cur.Maxmemory)
	return nil
}

func (ms *memorySettings) settable(name string) bool {
	return slices.Contains(config.MemorySettings, name)
}

// setConfig is CONFIG SET of one maxmemory setting.
func (ms *memorySettings) setConfig(name, value string) (string, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	next := ms.cur
	if err := next.Set(name, value); err != nil {
		return "", err
	}
	prev := ms.cur
	ms.cur = next
	if err := ms.apply(); err != nil {
		ms.cur = prev
		return "", err
	}
	return ms.cur.Get(name), nil
}

// setGoMemoryLimit bounds the Go heap near maxmemory. The GC otherwise
// lets the heap grow to twice what is live (GOGC 100) before it collects,
// so a store held at maxmemory could take twice that in RAM; with a soft
// limit the GC collects harder as the heap nears it. The margin leaves
// room for what the accounting does not count (connections, buffers, the
// log, a snapshot's copies) so that the GC does not run flat out at the
// limit. No maxmemory: no limit (GOMEMLIMIT from the environment stays).
func setGoMemoryLimit(maxmemory int64) {
	if maxmemory <= 0 {
		return
	}
	margin := max(maxmemory/2, 64<<20)
	limit := maxmemory + margin
	if limit < maxmemory { // overflow
		limit = math.MaxInt64
	}
	debug.SetMemoryLimit(limit)
}
