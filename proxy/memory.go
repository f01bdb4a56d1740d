package proxy

import (
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// setting is a CONFIG GET value; SetConfig changes them at run time.
func (srv *Server) setting(name string) string {
	srv.settingsMu.RLock()
	defer srv.settingsMu.RUnlock()
	return srv.cfg.Settings[name]
}

// configSet is CONFIG SET name value [name value ...], for the settings
// Config.SetConfig knows: all names are checked first, then the values are
// applied in order; one that fails undoes those applied before it, as
// Redis does.
func (s *session) configSet(args [][]byte) {
	w := &s.w
	srv := s.srv
	if srv.cfg.SetConfig == nil || srv.cfg.Settable == nil {
		w.Error(errConfigSet)
		return
	}
	srv.settingsMu.Lock()
	defer srv.settingsMu.Unlock()
	names := make([]string, 0, len(args)/2)
	shown := make([]string, len(args)/2)
	for i := 2; i+1 < len(args); i += 2 {
		name := strings.ToLower(string(args[i]))
		if !srv.cfg.Settable(name) {
			if _, known := srv.cfg.Settings[name]; known {
				w.Error(errConfigSet) // ours: known, but only at start
			} else {
				w.Error(errConfigSetUnknown(string(args[i])))
			}
			return
		}
		names = append(names, name)
	}
	for j, name := range names {
		got, err := srv.cfg.SetConfig(name, string(args[3+2*j]))
		if err != nil {
			for k := j - 1; k >= 0; k-- {
				_, _ = srv.cfg.SetConfig(names[k], srv.cfg.Settings[names[k]])
			}
			w.Error(errConfigSetFailed(string(args[2+2*j]), err.Error()))
			return
		}
		shown[j] = got
	}
	for j, name := range names {
		srv.cfg.Settings[name] = shown[j]
	}
	w.OK()
}

// memoryInfo is INFO's Memory section: used_memory is the store's own
// accounting of its keys and values when it has one (the embedded store),
// the Go heap otherwise; RSS is the process's.
func (srv *Server) memoryInfo() [][2]string {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	used, peak := int64(ms.HeapAlloc), int64(0)
	if srv.cfg.Info != nil {
		for _, f := range srv.cfg.Info("memory") {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			switch f[0] {
			case "used_memory":
				used = n
			case "used_memory_peak":
				peak = n
			}
		}
	}
	peak = max(peak, used)
	rss := rssBytes()
	if rss == 0 {
		rss = int64(ms.Sys)
	}
	frag := 0.0
	if used > 0 {
		frag = float64(rss) / float64(used)
	}
	maxmem, _ := strconv.ParseInt(srv.setting("maxmemory"), 10, 64)
	policy := srv.setting("maxmemory-policy")
	if policy == "" {
		policy = "noeviction"
	}
	return [][2]string{
		{"used_memory", strconv.FormatInt(used, 10)},
		{"used_memory_human", humanBytes(uint64(used))},
		{"used_memory_rss", strconv.FormatInt(rss, 10)},
		{"used_memory_rss_human", humanBytes(uint64(rss))},
		{"used_memory_peak", strconv.FormatInt(peak, 10)},
		{"used_memory_peak_human", humanBytes(uint64(peak))},
		{"maxmemory", strconv.FormatInt(maxmem, 10)},
		{"maxmemory_human", humanBytes(uint64(maxmem))},
		{"maxmemory_policy", policy},
		{"mem_fragmentation_ratio", strconv.FormatFloat(frag, 'f', 2, 64)},
	}
}

// rssBytes is the process's resident set from /proc/self/statm (0 where
// there is none).
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}

// storeField is one field of the store's INFO section, or def.
func (srv *Server) storeField(section, name, def string) string {
	if srv.cfg.Info == nil {
		return def
	}
	for _, f := range srv.cfg.Info(section) {
		if f[0] == name {
			return f[1]
		}
	}
	return def
}

// memoryReport is what MEMORY STATS and DOCTOR report, in Redis's terms:
// the store's accounting stands for the allocator's allocations, the Go
// runtime's heap for the allocator's own figures.
type memoryReport struct {
	peak, total, startup int64
	dbs                  []dbOverhead
	overhead, keys       int64
	dataset              int64
	heapAlloc, heapInuse int64
	heapResident, rss    int64
}

// dbOverhead is a database's share of the key tables (MEMORY STATS db.N).
type dbOverhead struct {
	db          int
	main, expir int64
}

// tableCost estimates a hash table of n entries as Redis's dict: 8 bytes
// a bucket (a power of two) and a 24-byte entry each.
func tableCost(n int64) int64 {
	if n == 0 {
		return 0
	}
	buckets := int64(4)
	for buckets < n {
		buckets *= 2
	}
	return buckets*8 + n*24
}

func (srv *Server) memoryReport() memoryReport {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var r memoryReport
	for _, f := range srv.memoryInfo() {
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "used_memory":
			r.total = n
		case "used_memory_peak":
			r.peak = n
		case "used_memory_rss":
			r.rss = n
		}
	}
	r.startup = srv.startupMemory
	r.overhead = r.startup
	if srv.cfg.Info != nil {
		for _, f := range srv.cfg.Info("keyspace") {
			db, err := strconv.Atoi(strings.TrimPrefix(f[0], "db"))
			if err != nil {
				continue
			}
			var keys, expires int64
			for _, kv := range strings.Split(f[1], ",") {
				name, v, _ := strings.Cut(kv, "=")
				n, _ := strconv.ParseInt(v, 10, 64)
				switch name {
				case "keys":
					keys = n
				case "expires":
					expires = n
				}
			}
			d := dbOverhead{db: db, main: tableCost(keys), expir: tableCost(expires)}
			r.dbs = append(r.dbs, d)
			r.keys += keys
			r.overhead += d.main + d.expir
		}
	}
	r.dataset = max(r.total-r.overhead, 0)
	r.heapAlloc, r.heapInuse = int64(ms.HeapAlloc), int64(ms.HeapInuse)
	r.heapResident = int64(ms.HeapSys - ms.HeapReleased)
	return r
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// memoryCommand answers MEMORY STATS, DOCTOR, MALLOC-STATS and PURGE.
func (srv *Server) memoryCommand(name string, w *resp.Writer) {
	switch name {
	case "memory|stats":
		r := srv.memoryReport()
		w.Map(27 + len(r.dbs))
		field := func(name string, v int64) { w.BulkString(name); w.Int(v) }
		double := func(name string, v float64) { w.BulkString(name); w.Double(v) }
		field("peak.allocated", r.peak)
		field("total.allocated", r.total)
		field("startup.allocated", r.startup)
		for _, name := range []string{"replication.backlog", "clients.slaves", "clients.normal", "cluster.links",
			"aof.buffer", "lua.caches", "functions.caches"} {
			field(name, 0)
		}
		for _, d := range r.dbs {
			w.BulkString("db." + strconv.Itoa(d.db))
			w.Map(3)
			field("overhead.hashtable.main", d.main)
			field("overhead.hashtable.expires", d.expir)
			field("overhead.hashtable.slot-to-keys", 0)
		}
		field("overhead.total", r.overhead)
		field("keys.count", r.keys)
		perKey := int64(0)
		if r.keys > 0 {
			perKey = (r.total - r.startup) / r.keys
		}
		field("keys.bytes-per-key", perKey)
		field("dataset.bytes", r.dataset)
		double("dataset.percentage", 100*ratio(r.dataset, r.total-r.startup))
		double("peak.percentage", 100*ratio(r.total, r.peak))
		field("allocator.allocated", r.heapAlloc)
		field("allocator.active", r.heapInuse)
		field("allocator.resident", r.heapResident)
		double("allocator-fragmentation.ratio", ratio(r.heapInuse, r.heapAlloc))
		field("allocator-fragmentation.bytes", r.heapInuse-r.heapAlloc)
		double("allocator-rss.ratio", ratio(r.heapResident, r.heapInuse))
		field("allocator-rss.bytes", r.heapResident-r.heapInuse)
		double("rss-overhead.ratio", ratio(r.rss, r.heapResident))
		field("rss-overhead.bytes", r.rss-r.heapResident)
		double("fragmentation", ratio(r.rss, r.total))
		field("fragmentation.bytes", r.rss-r.total)
	case "memory|doctor":
		w.Verbatim("txt", memoryDoctor(srv.memoryReport()))
	case "memory|malloc-stats":
		// Redis's answer when its allocator is not jemalloc.
		w.BulkString("Stats not supported for the current allocator")
	case "memory|purge":
		debug.FreeOSMemory()
		w.OK()
	}
}

// memoryDoctor is MEMORY DOCTOR's report, by Redis's rules and words (the
// client buffer, replica and script checks have nothing to look at here).
func memoryDoctor(r memoryReport) string {
	if r.total < 5<<20 {
		return "Hi Sam, this instance is empty or is using very little memory, " +
			"my issues detector can't be used in these conditions. " +
			"Please, leave for your mission on Earth and fill it with some data. " +
			"The new Sam and I will be back to our programming as soon as I " +
			"finished rebooting.\n"
	}
	var issues []string
	if ratio(r.peak, r.total) > 1.5 {
		issues = append(issues, " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n")
	}
	if ratio(r.rss, r.total) > 1.4 && r.rss-r.total > 10<<20 {
		issues = append(issues, " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"go\".\n\n")
	}
	if ratio(r.heapInuse, r.heapAlloc) > 1.1 && r.heapInuse-r.heapAlloc > 10<<20 {
		issues = append(issues, " * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n")
	}
	if ratio(r.heapResident, r.heapInuse) > 1.1 && r.heapResident-r.heapInuse > 10<<20 {
		issues = append(issues, " * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n")
	}
	if ratio(r.rss, r.heapResident) > 1.1 && r.rss-r.heapResident > 10<<20 {
		issues = append(issues, " * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n")
	}
	if len(issues) == 0 {
		return "Hi Sam, I can't find any memory issue in your instance. " +
			"I can only account for what occurs on this base.\n"
	}
	return "Sam, I detected a few issues in this Redis instance memory implants:\n\n" +
		strings.Join(issues, "") + "I'm here to keep you safe, Sam. I want to help you.\n"
}
