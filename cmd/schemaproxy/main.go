// Command schemaproxy is a Redis-protocol server that runs every command and
// transaction as a strictly serializable transaction over sharded stores;
// with no backend flags it serves from embedded, persistent shards.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/schemaproxy/schemaproxy/cluster"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/config"
	"github.com/schemaproxy/schemaproxy/internal/gcpace"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proxy"
	"github.com/schemaproxy/schemaproxy/pubsub"
	"github.com/schemaproxy/schemaproxy/script"
	"github.com/schemaproxy/schemaproxy/txn"
)

func main() {
	if err := run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, errHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "schemaproxy:", err)
		os.Exit(1)
	}
}

var errHelp = errors.New("help requested")

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(args, getenv, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return err
	}
	if cfg.Version {
		fmt.Fprintf(stdout, "schemaproxy %s (Redis %s compatible)\n", proxy.Version, proxy.RedisVersion)
		return nil
	}
	if path := getenv("SCHEMAPROXY_CPUPROFILE"); path != "" {
		// A development aid: profile the whole run, written at shutdown.
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if getenv("GOGC") == "" {
		// A large store's heap gets a quarter of its live data as
		// headroom rather than all of it (GOGC 100): see gcpace.
		floor, _ := config.ParseMemory(cfg.GCMinHeadroom) // checked by config.Load
		// Two seconds under 1 MiB/s of allocation is idle: the heap a
		// burst grew goes back to the system.
		pacer := gcpace.Start(gcpace.Config{Fraction: float64(cfg.GCHeadroomPercent) / 100, Floor: uint64(floor),
			ScanFactor: float64(cfg.GCScanHeadroomPercent) / 100, Max: 100,
			Idle: 2 * time.Second, IdleBytes: 1 << 20})
		defer pacer.Stop()
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: parseLevel(cfg.LogLevel)}))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	defer ln.Close()

	exec := keyspace.NewExecutor(command.Default)
	began := time.Now()
	st, err := openStore(ctx, cfg, exec, log)
	if err != nil {
		return err
	}
	defer st.close()
	if path := getenv("SCHEMAPROXY_HEAPPROFILE"); path != "" {
		// A development aid: what is live at shutdown (the store still open), for memory work.
		defer func() {
			if err := writeHeapProfile(path); err != nil {
				fmt.Fprintln(stderr, err)
			}
		}()
	}

	var slots cluster.SlotMap // zero: the even split over the store's shards
	if cfg.Slots != "" {
		if slots, err = cfg.SlotMap(); err != nil { // checked by config.Load
			return err
		}
	}
	var shutdown func() // set once the signal context exists
	scripts := script.New(script.Config{Logger: log, Libraries: st.libraries})
	if err := scripts.LoadLibraries(ctx); err != nil {
		return fmt.Errorf("load the function libraries: %w", err)
	}
	coord := txn.New(txn.Config{Shards: st.shards, Slots: slots, Exec: exec, Databases: cfg.Databases, Now: st.now,
		Scripts: scripts, TxTimeout: time.Duration(cfg.TxTimeoutMS) * time.Millisecond, Notifier: st.notifier})
	ps := cfg.PubSub()
	settings := map[string]string{
		"bind":        hostOf(cfg.Listen),
		"port":        portOf(cfg.Listen),
		"databases":   strconv.Itoa(cfg.Databases),
		"appendonly":  "yes",
		"appendfsync": cfg.AppendFsync,
		"dir":         cfg.DataDir,
		"requirepass": cfg.RequirePass,
		"save":        "",
		// Only the pubsub class is enforced; the others are Redis's
		// defaults, for clients that read them.
		"client-output-buffer-limit": "normal 0 0 0 slave 268435456 67108864 60 pubsub " + pubsub.FormatLimit(ps),
	}
	mem := &memorySettings{cur: cfg.Memory(), getenv: getenv}
	var settable func(string) bool
	var setConfig func(name, value string) (string, error)
	if st.setMemory != nil {
		mem.set = st.setMemory
		if err := mem.apply(); err != nil {
			return err
		}
		settable, setConfig = mem.settable, mem.setConfig
	} else {
		mem.cur = config.Memory{Policy: mem.cur.Policy}
		mem.cur.Policy.Policy = keyspace.NoEviction // what Redis backends must run
	}
	for _, name := range config.MemorySettings {
		settings[name] = mem.cur.Get(name)
	}
	notify := &notifySettings{set: st.setNotify, setRemote: st.setRemoteNotify}
	notify.flags, _ = keyspace.ParseNotifyFlags(cfg.NotifyKeyspaceEvents) // checked by config.Load
	settings["notify-keyspace-events"] = notify.flags.String()
	settable, setConfig = notify.wrap(settable, setConfig)
	srv := proxy.New(proxy.Config{
		RequirePass: cfg.RequirePass,
		Databases:   cfg.Databases,
		Logger:      log,
		PubSub:      &ps,
		Settings:    settings,
		Settable:    settable,
		SetConfig:   setConfig,
		Info:        st.info,
		Snapshot:    st.snapshot,
		BGSave:      st.bgsave,
		LastSave:    st.lastSave,
		Shutdown:    func() { shutdown() },
		OutOfMemory: st.outOfMemory,
	}, coord)
	shutdown = stop
	if err := notify.start(srv.PublishKeyspaceEvents, srv.DeliverKeyspaceEvent); err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("ready to accept connections", "addr", ln.Addr().String(), "shards", len(st.shards),
		"backends", st.describe, "databases", cfg.Databases,
		"load_time", time.Since(began).Round(time.Millisecond).String())
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	_ = srv.Close()
	<-served
	return st.close()
}

func parseLevel(s string) slog.Level {
	switch s {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

func hostOf(addr string) string {
	h, _, _ := net.SplitHostPort(addr)
	return h
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// writeHeapProfile writes the live heap, after a collection, to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	return nil
}
