// Package proxy is the client-facing Redis server: it accepts connections
// (redcon), keeps each client's session (database, protocol, MULTI queue,
// WATCHed keys, name, authentication), answers connection and server
// commands itself and hands data commands to the transaction coordinator.
package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"

	"github.com/schemaproxy/schemaproxy/blocking"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/pubsub"
	"github.com/schemaproxy/schemaproxy/txn"
)

// Version is the schemaproxy release; RedisVersion is the Redis version
// whose behaviour it reproduces (what INFO and HELLO report, so that clients
// enable the right features).
const (
	Version      = "0.1.0"
	RedisVersion = "7.0.15"
)

// Config is what the server needs besides the coordinator.
type Config struct {
	// RequirePass, when set, is the password of the default user.
	RequirePass string
	// Databases is the number of numbered databases.
	Databases int
	// Settings are reported by CONFIG GET (name -> value).
	Settings map[string]string
	// Settable reports whether CONFIG SET can change a setting (lower-case
	// name); SetConfig changes it and returns the value CONFIG GET shows
	// then, or an error whose text is Redis's reason. Nil: CONFIG SET
	// changes nothing.
	Settable  func(name string) bool
	SetConfig func(name, value string) (string, error)
	// Info returns extra INFO fields for a section (persistence, ...).
	Info func(section string) [][2]string
	// Snapshot writes a snapshot and truncates the logs (SAVE); BGSave
	// starts one in the background (BGSAVE, BGREWRITEAOF) and fails while
	// one runs; LastSave is the unix time of the last one (LASTSAVE). Nil
	// when there is no persistence.
	Snapshot func(ctx context.Context) error
	BGSave   func() error
	LastSave func() int64
	// Shutdown asks the process to stop gracefully (SHUTDOWN).
	Shutdown func()
	// OutOfMemory reports whether the store is over maxmemory with
	// nothing to evict: MULTI then queues nothing and an EXEC of writes
	// is refused, as in Redis. Nil: never (the store checks each write).
	OutOfMemory func() bool
	// Logger receives connection-level events; nil means slog.Default().
	Logger *slog.Logger
	// PubSub configures the Pub/Sub hub (output limits); nil means
	// pubsub.DefaultConfig(), Redis's defaults.
	PubSub *pubsub.Config
}

// Server serves clients over the Redis protocol.
type Server struct {
	cfg   Config
	coord *txn.Coordinator
	table *command.Table
	// exec runs the commands of interactive transactions on their
	// scratch stores (txn.go).
	exec  *keyspace.Executor
	log   *slog.Logger
	start time.Time
	// startupMemory is used_memory at start (MEMORY STATS).
	startupMemory int64

	srv *redcon.Server

	// hub holds the clients' Pub/Sub subscriptions.
	hub *pubsub.Hub
	// blocked holds the clients blocked on keys (blocking.go).
	blocked *blocking.Registry
	// pubOrder lets one EXEC that publishes at a time run from its
	// commit to its last message, so that transactions' messages arrive
	// in commit order.
	pubOrder chan struct{}

	nextClientID atomic.Int64
	stats        stats

	mu      sync.Mutex // guards clients
	clients map[int64]*session

	settingsMu sync.RWMutex // guards cfg.Settings (CONFIG SET)
}

// New returns a server over coord.
func New(cfg Config, coord *txn.Coordinator) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Databases == 0 {
		cfg.Databases = 16
	}
	ps := pubsub.DefaultConfig()
	if cfg.PubSub != nil {
		ps = *cfg.PubSub
	}
	if ps.Logger == nil {
		ps.Logger = cfg.Logger
	}
	s := &Server{cfg: cfg, coord: coord, table: command.Default, exec: keyspace.NewExecutor(command.Default), log: cfg.Logger,
		start: time.Now(), clients: map[int64]*session{},
		hub: pubsub.New(ps), pubOrder: make(chan struct{}, 1), blocked: blocking.New()}
	s.stats.commands = make([]cmdStats, s.table.Len())
	// What the store holds at start (a restart's data included) stands
	// for Redis's startup.allocated.
	for _, f := range s.memoryInfo() {
		if f[0] == "used_memory" {
			s.startupMemory, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	coord.OnWrite(s.wrote)
	return s
}

// Serve accepts clients on ln until Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	s.srv = redcon.NewServer(ln.Addr().String(), s.handle, s.accept, s.closed)
	srv := s.srv
	s.mu.Unlock()
	err := srv.Serve(framedListener{ln})
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Close stops accepting clients and closes every connection.
func (s *Server) Close() error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Close()
}

func (s *Server) accept(conn redcon.Conn) bool {
	sess := newSession(s, conn)
	conn.SetContext(sess)
	s.mu.Lock()
	s.clients[sess.id] = sess
	s.mu.Unlock()
	s.stats.connections.Add(1)
	return true
}

func (s *Server) closed(conn redcon.Conn, err error) {
	sess, ok := conn.Context().(*session)
	if !ok {
		return
	}
	s.mu.Lock()
	delete(s.clients, sess.id)
	s.mu.Unlock()
	if sess.sub != nil {
		// Ends every subscription and the writer: nothing outlives the
		// connection.
		sess.sub.Close()
	}
	if err != nil {
		s.log.Debug("client connection ended", "id", sess.id, "err", err)
	}
}

// sessions returns the connected clients by id.
func (s *Server) sessions() []*session {
	s.mu.Lock()
	out := make([]*session, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// handle is redcon's per-command callback. It runs the rest of the
// client's pipeline in the same call so replies are flushed once.
func (s *Server) handle(conn redcon.Conn, cmd redcon.Command) {
	sess, ok := conn.Context().(*session)
	if !ok || sess.closing {
		// After QUIT a subscriber's writer closes the socket once it has
		// written the reply; what the client sent meanwhile is dropped.
		return
	}
	ctx := context.Background()
	sess.w.Reset()
	sess.cmdStart = time.Now()
	if rest := conn.ReadPipeline(); len(rest) == 0 {
		sess.run(ctx, cmd.Args)
	} else {
		// The session's slice, reused: a pipeline arrives with every read.
		sess.pipe = append(append(sess.pipe[:0], cmd), rest...)
		sess.runPipeline(ctx, sess.pipe)
		clear(sess.pipe) // drop the commands' buffers
		if cap(sess.pipe) > 1024 {
			sess.pipe = nil
		}
	}
	if err := sess.awaitDurability(ctx); err != nil {
		s.log.Error("writes not durable, dropping the connection", "id", sess.id, "err", err)
		conn.Close()
		return
	}
	if sess.sub != nil {
		// The subscriber's writer owns the socket's output now.
		sess.sub.Release(sess.w.B)
		if sess.closing {
			sess.sub.CloseWhenDrained()
		}
	} else {
		conn.WriteRaw(sess.w.B)
		if sess.closing {
			conn.Close()
		}
	}
	if cap(sess.w.B) > 1<<20 {
		// Don't let one huge reply pin memory for the connection's life.
		sess.w.B = nil
	}
}

// stats are the counters INFO reports.
type stats struct {
	connections atomic.Int64
	commands    []cmdStats
	processed   atomic.Int64
}

type cmdStats struct {
	calls atomic.Int64
	usec  atomic.Int64
	// rejected and failed count replies that were errors, as Redis 7.0.
	rejected atomic.Int64
	failed   atomic.Int64
}
