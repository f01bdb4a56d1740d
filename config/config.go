// Package config is schemaproxy's configuration: one struct with defaults,
// filled from a config file, then the environment (SCHEMAPROXY_*), then
// command-line flags, each overriding the one before.
package config

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/schemaproxy/schemaproxy/cluster"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/pubsub"
)

// Config is everything the server is told at start.
type Config struct {
	// Listen is the client address, host:port.
	Listen string
	// Shards is the number of embedded shards.
	Shards int
	// Databases is the number of numbered databases (SELECT 0..n-1).
	Databases int
	// DataDir is where the embedded shards persist.
	DataDir string
	// AppendFsync is always, everysec or no, as Redis's appendfsync.
	AppendFsync string
	// RequirePass, when set, makes clients AUTH first.
	RequirePass string
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// ConfigFile is the file the settings were read from, if any.
	ConfigFile string
	// Version asks only for the version to be printed.
	Version bool
	// Backends are Redis servers (redis:// or rediss:// URLs) to shard
	// over instead of the embedded store; their order is the slot map's.
	Backends []string
	// UnsafeBackends starts even if a backend fails the safety checks.
	UnsafeBackends bool
	// Slots assigns the 16384 hash slots to the shards (the backends, or
	// the embedded shards), in cluster.ParseRanges's syntax: one field per
	// shard in shard order, separated by ';' or spaces, each a comma list
	// of ranges ("0-99,200-8191;100-199,8192-16383"). Empty: split evenly.
	Slots string
	// PubSubLimit is a subscriber's output limit, "<hard> <soft>
	// <seconds>" as Redis's client-output-buffer-limit pubsub class.
	PubSubLimit string
	// Maxmemory limits what the embedded store's keys and values take, in
	// bytes with Redis's units (100mb); "0": no limit. MaxmemoryPolicy,
	// MaxmemorySamples, LFULogFactor and LFUDecayTime are Redis's
	// maxmemory-policy, maxmemory-samples, lfu-log-factor and
	// lfu-decay-time (see Memory).
	Maxmemory        string
	MaxmemoryPolicy  string
	MaxmemorySamples int
	LFULogFactor     int
	LFUDecayTime     int
	// NotifyKeyspaceEvents is notify-keyspace-events: the classes of
	// keyspace events published ("" none, as Redis's default).
	NotifyKeyspaceEvents string
	// TxTimeoutMS bounds a cross-shard transaction from its first lock to
	// its commit (its deadline): past it, whoever meets its locks may
	// resolve them, so it is also how long a proxy that died or froze
	// can hold up others.
	TxTimeoutMS int
	// GCHeadroomPercent, GCMinHeadroom and GCScanHeadroomPercent pace the
	// Go collector: the heap may grow past what is live by this percentage
	// of it, but by at least GCMinHeadroom (Redis's units) and by at least
	// GCScanHeadroomPercent of the live heap that holds pointers (what a
	// collection must scan), and at most by all of it (GOGC 100). Less
	// headroom holds a store in less RAM and spends more CPU collecting;
	// GOGC in the environment turns the pacing off.
	GCHeadroomPercent     int
	GCMinHeadroom         string
	GCScanHeadroomPercent int
}

// Default returns the settings used when nothing is given.
func Default() Config {
	return Config{
		Listen:      "127.0.0.1:6379", // Redis's port: clients work unchanged
		Shards:      4,                // several, so cross-shard paths are real
		Databases:   16,               // Redis's default
		DataDir:     "./data",
		AppendFsync: "everysec", // Redis's default trade-off
		LogLevel:    "info",
		PubSubLimit: pubsub.FormatLimit(pubsub.DefaultConfig()), // Redis's, reasons there
		// Redis's defaults: no limit (a store, not a cache, unless told),
		// 5 samples (close to true LRU at a fraction of its cost), LFU
		// counters that saturate near a million hits and lose one per
		// idle minute.
		Maxmemory:        "0",
		MaxmemoryPolicy:  "noeviction",
		MaxmemorySamples: 5,
		LFULogFactor:     10,
		LFUDecayTime:     1,
		// Far above a transaction's normal time, below clients' timeouts.
		TxTimeoutMS: 5000,
		// A quarter of a large heap; the floor keeps a small heap (a
		// proxy over a small key space) from collecting all the time.
		GCHeadroomPercent: 25,
		GCMinHeadroom:     "8mb",
		// Twice the scannable heap: a heap of pointers collects about as
		// often as it did with a 64 MB floor, one of packed values
		// (pointer-free) collects cheaply and often.
		GCScanHeadroomPercent: 200,
	}
}

// setting is one option: its name in flags, files and the environment.
type setting struct {
	name  string
	usage string
	str   *string
	num   *int
	list  *[]string // repeatable: each flag or file line adds one; the environment gives a list
	flag  *bool
}

func (c *Config) settings() []setting {
	return []setting{
		{name: "listen", usage: "client address host:port", str: &c.Listen},
		{name: "shards", usage: "number of embedded shards", num: &c.Shards},
		{name: "databases", usage: "number of databases", num: &c.Databases},
		{name: "data-dir", usage: "data directory of the embedded shards", str: &c.DataDir},
		{name: "appendfsync", usage: "always|everysec|no", str: &c.AppendFsync},
		{name: "requirepass", usage: "password clients must AUTH with", str: &c.RequirePass},
		{name: "log-level", usage: "debug|info|warn|error", str: &c.LogLevel},
		{name: "pubsub-output-limit", usage: "a subscriber's output limit, '<hard> <soft> <seconds>' as Redis's client-output-buffer-limit pubsub", str: &c.PubSubLimit},
		{name: "backend", usage: "a Redis server to shard over, redis://[user:pass@]host:port (repeat for each; none: the embedded store)", list: &c.Backends},
		{name: "maxmemory", usage: "limit on the embedded store's data, bytes or 100mb, 2gb...; 0: none", str: &c.Maxmemory},
		{name: "maxmemory-policy", usage: "noeviction|allkeys-lru|allkeys-lfu|allkeys-random|volatile-lru|volatile-lfu|volatile-random|volatile-ttl", str: &c.MaxmemoryPolicy},
		{name: "maxmemory-samples", usage: "keys sampled per database for each eviction", num: &c.MaxmemorySamples},
		{name: "lfu-log-factor", usage: "LFU counter's logarithm factor", num: &c.LFULogFactor},
		{name: "lfu-decay-time", usage: "minutes for an LFU counter to lose one", num: &c.LFUDecayTime},
		{name: "slots", usage: "slot ranges per shard in shard order, ';' between shards, ',' between a shard's ranges: 0-8191;8192-16383 (default: split evenly)", str: &c.Slots},
		{name: "notify-keyspace-events", usage: "keyspace events to publish, as Redis's classes (K E g $ l s h z x e t m n A)", str: &c.NotifyKeyspaceEvents},
		{name: "tx-timeout-ms", usage: "deadline of a cross-shard transaction, from its first lock to its commit", num: &c.TxTimeoutMS},
		{name: "gc-headroom-percent", usage: "heap growth past the live data before the Go collector runs, percent of it (1-100)", num: &c.GCHeadroomPercent},
		{name: "gc-min-headroom", usage: "least heap growth before the Go collector runs, bytes or 8mb...", str: &c.GCMinHeadroom},
		{name: "gc-scan-headroom-percent", usage: "least heap growth before the Go collector runs, percent of the live heap holding pointers", num: &c.GCScanHeadroomPercent},
		{name: "unsafe-backends", usage: "start even if a backend's settings could lose transactions", flag: &c.UnsafeBackends},
	}
}

func (s setting) set(v string) error {
	switch {
	case s.str != nil:
		*s.str = v
		return nil
	case s.list != nil:
		*s.list = append(*s.list, v)
		return nil
	case s.flag != nil:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%s: not a boolean: %q", s.name, v)
		}
		*s.flag = b
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("%s: not a number: %q", s.name, v)
	}
	*s.num = n
	return nil
}

func envName(name string) string {
	return "SCHEMAPROXY_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Load builds the configuration from args (without the program name), the
// environment lookup and the config file named by --config or
// SCHEMAPROXY_CONFIG. Help output goes to out.
func Load(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	cfg := Default()
	fs := flag.NewFlagSet("schemaproxy", flag.ContinueOnError)
	fs.SetOutput(out)
	// Flags are collected as given and applied last, over the file and
	// the environment; a repeated list flag gives every value.
	given := map[string][]string{}
	for _, s := range cfg.settings() {
		name, usage := s.name, s.usage+" (env "+envName(s.name)+")"
		if s.flag != nil {
			fs.BoolFunc(name, usage, func(v string) error { given[name] = []string{v}; return nil })
			continue
		}
		fs.Func(name, usage, func(v string) error { given[name] = append(given[name], v); return nil })
	}
	configFile := fs.String("config", "", "config file of 'name value' lines (env SCHEMAPROXY_CONFIG)")
	version := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg.Version = *version
	cfg.ConfigFile = *configFile
	if cfg.ConfigFile == "" {
		cfg.ConfigFile = getenv("SCHEMAPROXY_CONFIG")
	}
	if cfg.ConfigFile != "" {
		if err := cfg.loadFile(cfg.ConfigFile); err != nil {
			return cfg, err
		}
	}
	for _, s := range cfg.settings() {
		v := getenv(envName(s.name))
		if v == "" {
			continue
		}
		if s.list != nil {
			// A list from the environment replaces the file's: comma separated.
			*s.list = nil
			for _, item := range strings.Split(v, ",") {
				if item = strings.TrimSpace(item); item != "" {
					*s.list = append(*s.list, item)
				}
			}
			continue
		}
		if err := s.set(v); err != nil {
			return cfg, fmt.Errorf("%s: %w", envName(s.name), err)
		}
	}
	for _, s := range cfg.settings() {
		vs, ok := given[s.name]
		if !ok {
			continue
		}
		if s.list != nil {
			*s.list = nil
		}
		for _, v := range vs {
			if err := s.set(v); err != nil {
				return cfg, fmt.Errorf("--%w", err)
			}
		}
	}
	return cfg, cfg.Validate()
}

func (c *Config) loadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		name, value, _ := strings.Cut(text, " ")
		value = strings.Trim(strings.TrimSpace(value), `"`)
		found := false
		for _, s := range c.settings() {
			if s.name == strings.ToLower(name) {
				if err := s.set(value); err != nil {
					return fmt.Errorf("%s:%d: %w", path, line, err)
				}
				found = true
			}
		}
		if !found {
			return fmt.Errorf("%s:%d: unknown setting %q", path, line, name)
		}
	}
	return sc.Err()
}

// Validate checks ranges and enumerations.
func (c *Config) Validate() error {
	var errs []error
	if c.Shards < 1 || c.Shards > 1024 {
		errs = append(errs, fmt.Errorf("shards must be between 1 and 1024, got %d", c.Shards))
	}
	if c.Databases < 1 || c.Databases > 1<<20 {
		errs = append(errs, fmt.Errorf("databases must be at least 1, got %d", c.Databases))
	}
	if _, ok := keyspace.ParseNotifyFlags(c.NotifyKeyspaceEvents); !ok {
		errs = append(errs, fmt.Errorf("notify-keyspace-events %q: %s", c.NotifyKeyspaceEvents, keyspace.ErrNotifyClasses))
	}
	if c.TxTimeoutMS < 1 {
		errs = append(errs, fmt.Errorf("tx-timeout-ms must be at least 1, got %d", c.TxTimeoutMS))
	}
	if c.GCHeadroomPercent < 1 || c.GCHeadroomPercent > 100 {
		errs = append(errs, fmt.Errorf("gc-headroom-percent must be between 1 and 100, got %d", c.GCHeadroomPercent))
	}
	if c.GCScanHeadroomPercent < 0 {
		errs = append(errs, fmt.Errorf("gc-scan-headroom-percent must not be negative, got %d", c.GCScanHeadroomPercent))
	}
	if _, err := ParseMemory(c.GCMinHeadroom); err != nil {
		errs = append(errs, fmt.Errorf("gc-min-headroom %q: %w", c.GCMinHeadroom, err))
	}
	switch c.AppendFsync {
	case "always", "everysec", "no":
	default:
		errs = append(errs, fmt.Errorf("appendfsync must be always, everysec or no, got %q", c.AppendFsync))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level must be debug, info, warn or error, got %q", c.LogLevel))
	}
	if c.Listen == "" {
		errs = append(errs, errors.New("listen address is empty"))
	}
	var ps pubsub.Config
	if err := pubsub.ParseLimit(c.PubSubLimit, &ps); err != nil {
		errs = append(errs, fmt.Errorf("pubsub-output-limit: %w", err))
	}
	if err := c.validateMemory(); err != nil {
		errs = append(errs, err)
	}
	if c.Slots != "" {
		if _, err := c.SlotMap(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// NumShards is the number of shards the slots are spread over: one per
// backend, or the embedded shards when there are no backends.
func (c *Config) NumShards() int {
	if len(c.Backends) > 0 {
		return len(c.Backends)
	}
	return c.Shards
}

// SlotMap is the slot map of Slots over NumShards shards, the even split
// when Slots is empty; its error is one line.
func (c *Config) SlotMap() (cluster.SlotMap, error) {
	n := c.NumShards()
	if c.Slots == "" {
		if n < 1 || n > cluster.NumSlots {
			return cluster.SlotMap{}, fmt.Errorf("slots: cannot split the slots over %d shards", n)
		}
		return cluster.NewSlotMap(n), nil
	}
	ranges, err := cluster.ParseRanges(c.Slots)
	if err != nil {
		return cluster.SlotMap{}, fmt.Errorf("slots: %w", err)
	}
	if len(ranges) != n {
		what := "embedded shards"
		if len(c.Backends) > 0 {
			what = "backends"
		}
		return cluster.SlotMap{}, fmt.Errorf("slots: ranges for %d shards, but %d %s", len(ranges), n, what)
	}
	m, err := cluster.NewSlotMapRanges(ranges)
	if err != nil {
		return cluster.SlotMap{}, fmt.Errorf("slots: %w", err)
	}
	return m, nil
}

// PubSub is the Pub/Sub hub's configuration: Redis's defaults with the
// output limit of PubSubLimit (checked by Validate).
func (c *Config) PubSub() pubsub.Config {
	ps := pubsub.DefaultConfig()
	_ = pubsub.ParseLimit(c.PubSubLimit, &ps)
	return ps
}
