package main

import (
	"math"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/schemaproxy/schemaproxy/config"
)

// memorySettings applies the maxmemory settings to the embedded store at
// start and on CONFIG SET.
type memorySettings struct {
	mu  sync.Mutex // guards cur
	cur config.Memory
	set func(maxmemory int64, m config.Memory) error
	// getenv reads the environment (GOMEMLIMIT wins over maxmemory).
	getenv func(string) string
}

func (ms *memorySettings) apply() error {
	if err := ms.set(ms.cur.Maxmemory, ms.cur); err != nil {
		return err
	}
	setGoMemoryLimit(ms.cur.Maxmemory, ms.getenv)
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
// lets the heap grow well past what is live before it collects (see
// internal/gcpace), so a store held at maxmemory could take much more in
// RAM; with a soft limit the GC collects harder as the heap nears it. The
// margin leaves room for what the accounting does not count (connections,
// buffers, the log, a snapshot's copies) so that the GC does not run flat
// out at the limit. No maxmemory: the limit is most of the machine's (or
// the cgroup's) memory, so a heap near it collects rather than being
// killed. GOMEMLIMIT in the environment wins over both.
func setGoMemoryLimit(maxmemory int64, getenv func(string) string) {
	if getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := int64(math.MaxInt64)
	if maxmemory > 0 {
		margin := max(maxmemory/2, 64<<20)
		if limit = maxmemory + margin; limit < maxmemory { // overflow
			limit = math.MaxInt64
		}
	} else if total := machineMemory(); total > 0 {
		limit = total / 10 * 9
	}
	debug.SetMemoryLimit(limit)
}

// machineMemory is the memory this process may use: the cgroup's limit if
// there is one, else the machine's; 0 if unknown.
func machineMemory() int64 {
	var total int64
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				total = kb << 10
			}
		}
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			total = n
		}
	}
	return total
}
