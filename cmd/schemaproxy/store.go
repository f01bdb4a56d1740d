package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/backends/memory"
	"github.com/schemaproxy/schemaproxy/backends/memory/aof"
	"github.com/schemaproxy/schemaproxy/backends/redis"
	"github.com/schemaproxy/schemaproxy/config"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/script"
	"github.com/schemaproxy/schemaproxy/txn"
)

// store is what the server runs on: the embedded shards, or Redis servers.
type store struct {
	shards   []backends.Shard
	now      func() int64
	describe string
	info     func(section string) [][2]string
	snapshot func(ctx context.Context) error
	bgsave   func() error
	lastSave func() int64
	close    func() error
	// setMemory applies maxmemory settings; nil: the store has none
	// (Redis backends keep noeviction).
	setMemory func(maxmemory int64, m config.Memory) error
	// libraries keeps the function libraries.
	libraries script.LibraryStore
	// outOfMemory reports maxmemory reached with nothing to evict; nil
	// for Redis backends (they refuse writes themselves).
	outOfMemory func() bool
	// setNotify sets notify-keyspace-events and who publishes the
	// events; nil: the store has no keyspace notifications.
	setNotify func(flags keyspace.NotifyFlags, publish func([]keyspace.Event))
	// notifier is setNotify's for the coordinator's copies; nil with it.
	notifier txn.Notifier
	// setRemoteNotify sets notify-keyspace-events on Redis backends and
	// forwards their events to deliver; nil on the embedded store.
	setRemoteNotify func(flags keyspace.NotifyFlags, deliver func(channel, message []byte)) error
}

// libraryStore is a script.LibraryStore made of two functions.
type libraryStore struct {
	save func(ctx context.Context, payload []byte) error
	load func(ctx context.Context) ([]byte, error)
}

func (l libraryStore) Save(ctx context.Context, payload []byte) error { return l.save(ctx, payload) }
func (l libraryStore) Load(ctx context.Context) ([]byte, error)       { return l.load(ctx) }

// librariesFile is where the embedded store keeps the function libraries
// (a FUNCTION DUMP payload, replaced whole at every change).
const librariesFile = "functions.rdb"

// fileLibraries keeps the libraries in dir/librariesFile.
func fileLibraries(dir string) libraryStore {
	return libraryStore{
		save: func(_ context.Context, payload []byte) error { return aof.WriteFile(dir, librariesFile, payload) },
		load: func(context.Context) ([]byte, error) {
			b, err := os.ReadFile(filepath.Join(dir, librariesFile))
			if errors.Is(err, os.ErrNotExist) {
				return nil, nil
			}
			return b, err
		},
	}
}

func openStore(ctx context.Context, cfg config.Config, exec *keyspace.Executor, log *slog.Logger) (*store, error) {
	if len(cfg.Backends) > 0 {
		return openRedis(ctx, cfg, log)
	}
	policy, err := aof.ParsePolicy(cfg.AppendFsync)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	m, err := memory.Open(memory.Options{
		Shards: cfg.Shards, Databases: cfg.Databases, Dir: cfg.DataDir, Fsync: policy,
		Logf: func(format string, a ...any) { log.Warn(fmt.Sprintf(format, a...)) },
	}, exec)
	if err != nil {
		return nil, fmt.Errorf("open data directory %s: %w", cfg.DataDir, err)
	}
	return &store{
		shards: m.Shards(), now: m.Now,
		describe: fmt.Sprintf("embedded, data_dir %s, appendfsync %s", cfg.DataDir, cfg.AppendFsync),
		info:     m.Info, snapshot: m.Snapshot, bgsave: m.BGSave, lastSave: m.LastSave, close: m.Close,
		setMemory: func(maxmemory int64, mc config.Memory) error { return m.SetMemory(maxmemory, mc.Policy) },
		libraries: fileLibraries(cfg.DataDir), outOfMemory: m.OutOfMemory, setNotify: m.SetNotify, notifier: m.Notifier(),
	}, nil
}

// openRedis connects to the backends, waiting for those that are down,
// and refuses unsafe ones unless told otherwise.
func openRedis(ctx context.Context, cfg config.Config, log *slog.Logger) (*store, error) {
	shards, err := redis.Open(cfg.Backends, cfg.Databases)
	if err != nil {
		return nil, err
	}
	var facts []redis.Facts
	for i, s := range shards {
		c := s.Client()
		for {
			f, err := redis.Gather(ctx, c)
			if err == nil {
				facts = append(facts, f)
				break
			}
			log.Warn("backend is not answering; retrying", "backend", cfg.Backends[i], "err", err)
			select {
			case <-ctx.Done():
				c.Close()
				return nil, fmt.Errorf("backend %s: %w", cfg.Backends[i], err)
			case <-time.After(time.Second):
			}
		}
		c.Close()
	}
	if err := redis.CheckDatabases(facts, cfg.Databases); err != nil {
		return nil, err
	}
	if errs := redis.Check(facts); len(errs) > 0 {
		if !cfg.UnsafeBackends {
			return nil, errors.Join(errs...)
		}
		for _, e := range errs {
			log.Warn("starting anyway (--unsafe-backends)", "problem", e.Error())
		}
	}
	// The first backend's own function store holds the libraries, for
	// every proxy in front of these backends.
	out := &store{now: func() int64 { return time.Now().UnixMilli() },
		libraries: libraryStore{save: shards[0].SaveLibraries, load: shards[0].LoadLibraries},
		describe:  "redis " + strings.Join(cfg.Backends, " "),
		info:      func(section string) [][2]string { return redisInfo(shards, cfg.Databases, section) },
		close: func() error {
			for _, s := range shards {
				s.Close()
			}
			return nil
		}}
	for _, s := range shards {
		out.shards = append(out.shards, s)
	}
	// Every proxy hears every backend's keyspace events, whatever its own
	// setting: another proxy may have turned them on.
	var events []*redis.Events
	out.setRemoteNotify = func(flags keyspace.NotifyFlags, deliver func(channel, message []byte)) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if events == nil {
			for _, s := range shards {
				ev, err := s.SubscribeEvents(ctx, deliver)
				if err != nil {
					log.Warn("keyspace events of a backend: retrying", "err", err)
				}
				events = append(events, ev)
			}
		}
		if flags == notifyUnset {
			return nil
		}
		value := ""
		if flags.Publishes() {
			value = flags.String()
		}
		for _, s := range shards {
			if err := s.SetNotify(ctx, value); err != nil {
				return err
			}
		}
		return nil
	}
	closeBackends := out.close
	out.close = func() error {
		for _, ev := range events {
			ev.Close()
		}
		return closeBackends()
	}
	return out, nil
}

// redisInfo answers INFO's keyspace (the user keys of every backend,
// metadata left out) and backends sections over Redis backends.
func redisInfo(shards []*redis.Shard, databases int, section string) [][2]string {
	var out [][2]string
	switch section {
	case "backends":
		for _, s := range shards {
			out = append(out, s.Info())
		}
	case "keyspace":
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		total := make([]redis.KeyCounts, databases)
		for _, s := range shards {
			counts, err := s.Keyspace(ctx)
			if err != nil {
				return [][2]string{{"error", err.Error()}}
			}
			for db, kc := range counts {
				total[db].Keys += kc.Keys
				total[db].Expires += kc.Expires
			}
		}
		for db, kc := range total {
			if kc.Keys > 0 {
				out = append(out, [2]string{fmt.Sprintf("db%d", db), fmt.Sprintf("keys=%d,expires=%d,avg_ttl=0", kc.Keys, kc.Expires)})
			}
		}
	}
	return out
}
