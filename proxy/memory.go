package proxy

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"
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
