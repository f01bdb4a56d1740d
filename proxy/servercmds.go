package proxy

import (
	"context"
	"fmt"
	"os"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
	"github.com/schemaproxy/schemaproxy/pubsub"
)

// serverCommand answers INFO, TIME, CONFIG, COMMAND and LASTSAVE.
func (s *session) serverCommand(cmd *command.Command, args [][]byte) {
	w := &s.w
	switch cmd.Name {
	case "time":
		now := time.Now()
		w.Array(2)
		w.BulkInt(now.Unix())
		w.BulkInt(int64(now.Nanosecond() / 1000))
	case "lastsave":
		if s.srv.cfg.LastSave != nil {
			w.Int(s.srv.cfg.LastSave())
		} else {
			w.Int(s.srv.start.Unix())
		}
	case "save", "bgsave", "bgrewriteaof":
		s.save(cmd.Name, args)
	case "shutdown":
		s.shutdown(args)
	case "info":
		w.Verbatim("txt", s.srv.info(args[1:]))
	case "config":
		s.config(args)
	case "command":
		s.command(args)
	case "memory|stats", "memory|doctor", "memory|malloc-stats", "memory|purge":
		s.srv.memoryCommand(cmd.Name, w)
	default:
		w.Error(keyspace.ErrUnknownCommand(args))
	}
}

// save snapshots the store: SAVE waits for it, BGSAVE and BGREWRITEAOF
// start it in the store's background, as Redis forks a child.
func (s *session) save(name string, args [][]byte) {
	w := &s.w
	if name == "bgsave" && len(args) > 1 && !(len(args) == 2 && strings.EqualFold(string(args[1]), "schedule")) {
		w.Error(keyspace.ErrSyntax)
		return
	}
	cfg := &s.srv.cfg
	switch name {
	case "save":
		if cfg.Snapshot != nil {
			if err := cfg.Snapshot(context.Background()); err != nil {
				w.Error(errFrom(err))
				return
			}
		}
		w.OK()
	case "bgsave", "bgrewriteaof":
		if cfg.BGSave != nil {
			if err := cfg.BGSave(); err != nil {
				w.Error(errBGSave(name, err))
				return
			}
		}
		if name == "bgsave" {
			w.Status("Background saving started")
		} else {
			w.Status("Background append only file rewriting started")
		}
	}
}

// shutdown stops the server as Redis does: the logs are synced on the way
// out (NOSAVE skips nothing here: every write is already in the log), and
// the client sees the connection close rather than a reply.
func (s *session) shutdown(args [][]byte) {
	for _, a := range args[1:] {
		switch strings.ToLower(string(a)) {
		case "nosave", "save", "now", "force":
		case "abort":
			s.w.Error(errNoShutdown)
			return
		default:
			s.w.Error(keyspace.ErrSyntax)
			return
		}
	}
	if s.srv.cfg.Shutdown == nil {
		s.w.Error(errNoShutdownHook)
		return
	}
	s.srv.log.Info("SHUTDOWN requested", "client", s.addr)
	s.closing = true
	s.srv.cfg.Shutdown()
}

func (s *session) config(args [][]byte) {
	w := &s.w
	sub := strings.ToLower(string(args[1]))
	switch sub {
	case "get":
		if len(args) < 3 {
			w.Error(keyspace.ErrArity("config|get"))
			return
		}
		var names []string
		s.srv.settingsMu.RLock()
		defer s.srv.settingsMu.RUnlock()
		for name := range s.srv.cfg.Settings {
			for _, pat := range args[2:] {
				if ok, _ := path.Match(strings.ToLower(string(pat)), name); ok {
					names = append(names, name)
					break
				}
			}
		}
		sort.Strings(names)
		w.Map(len(names))
		for _, n := range names {
			w.BulkString(n)
			w.BulkString(s.srv.cfg.Settings[n])
		}
	case "resetstat":
		for i := range s.srv.stats.commands {
			st := &s.srv.stats.commands[i]
			st.calls.Store(0)
			st.usec.Store(0)
			st.failed.Store(0)
			st.rejected.Store(0)
		}
		s.srv.stats.processed.Store(0)
		s.srv.stats.connections.Store(0)
		w.OK()
	case "set":
		if len(args) < 4 || len(args)%2 != 0 {
			w.Error(keyspace.ErrArity("config|set"))
			return
		}
		s.configSet(args)
	case "rewrite":
		w.Error(errConfigRewrite)
	default:
		w.Error(keyspace.ErrUnknownSubcommand(args[1], "CONFIG"))
	}
}

func (s *session) command(args [][]byte) {
	w := &s.w
	t := s.srv.table
	if len(args) == 1 {
		w.Array(t.Len())
		for _, c := range t.All() {
			writeCommandInfo(w, c)
		}
		return
	}
	sub := strings.ToLower(string(args[1]))
	switch sub {
	case "count":
		w.Int(int64(t.Len()))
	case "list":
		w.Array(t.Len())
		for _, c := range t.All() {
			w.BulkString(c.Name)
		}
	case "info":
		if len(args) == 2 {
			w.Array(t.Len())
			for _, c := range t.All() {
				writeCommandInfo(w, c)
			}
			return
		}
		w.Array(len(args) - 2)
		for _, name := range args[2:] {
			if c := t.Lookup(name); c != nil {
				writeCommandInfo(w, c)
			} else {
				w.NullArray()
			}
		}
	case "docs":
		var cmds []*command.Command
		if len(args) == 2 {
			cmds = t.All()
		} else {
			for _, name := range args[2:] {
				if c := t.Lookup(name); c != nil {
					cmds = append(cmds, c)
				}
			}
		}
		w.Map(len(cmds))
		for _, c := range cmds {
			w.BulkString(c.Name)
			writeCommandDocs(w, c)
		}
	case "getkeys":
		if len(args) < 4 {
			w.Error(keyspace.ErrArity("command|getkeys"))
			return
		}
		c := t.Lookup(args[2])
		if c == nil {
			w.Error(errGetKeysCommand)
			return
		}
		if !c.CheckArity(len(args) - 2) {
			w.Error(errGetKeysArity)
			return
		}
		idx, ok := c.KeyIndexes(nil, args[2:])
		if !ok || len(idx) == 0 || c.Is(command.NotKey) {
			w.Error(errGetKeysNoKeys)
			return
		}
		w.Array(len(idx))
		for _, i := range idx {
			w.Bulk(args[2+i])
		}
	case "help":
		s.writeHelp(
			"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"(no subcommand)", "    Return details about all Redis commands.",
			"COUNT", "    Return the total number of commands in this Redis server.",
			"LIST", "    Return a list of all commands in this Redis server.",
			"INFO [<command-name> ...]", "    Return details about multiple Redis commands.",
			"DOCS [<command-name> ...]", "    Return documentation details about multiple Redis commands.",
			"GETKEYS <full-command>", "    Return the keys from a full Redis command.",
			"HELP", "    Print this help.",
		)
	default:
		w.Error(keyspace.ErrUnknownSubcommand(args[1], "COMMAND"))
	}
}

// writeCommandDocs writes c's COMMAND DOCS map: a generic line for
// Redis's commands, the table's words for ours (TXN, with its
// subcommands, as Redis documents a container's).
func writeCommandDocs(w *resp.Writer, c *command.Command) {
	summary, since := c.Name+" command", "1.0.0"
	if c.Summary != "" {
		summary, since = c.Summary, c.Since
	}
	var subs []*command.Command
	for _, sc := range c.Subcommands {
		if sc.Summary != "" {
			subs = append(subs, sc)
		}
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].Name < subs[j].Name })
	n := 3
	if len(subs) > 0 {
		n++
	}
	w.Map(n)
	w.BulkString("summary")
	w.BulkString(summary)
	w.BulkString("since")
	w.BulkString(since)
	w.BulkString("group")
	w.BulkString(c.Group)
	if len(subs) > 0 {
		w.BulkString("subcommands")
		w.Map(len(subs))
		for _, sc := range subs {
			w.BulkString(sc.Name)
			writeCommandDocs(w, sc)
		}
	}
}

func writeCommandInfo(w interface {
	Array(int)
	BulkString(string)
	Status(string)
	Int(int64)
	Set(int)
}, c *command.Command) {
	w.Array(10)
	w.BulkString(c.Name)
	w.Int(int64(c.Arity))
	flags := c.Flags.Names()
	w.Set(len(flags))
	for _, f := range flags {
		w.Status(f)
	}
	w.Int(int64(c.FirstKey))
	w.Int(int64(c.LastKey))
	w.Int(int64(c.Step))
	w.Set(len(c.Categories))
	for _, cat := range c.Categories {
		w.Status(cat)
	}
	w.Set(0) // tips
	w.Array(0)
	w.Array(0)
}

// info renders INFO for the requested sections.
func (srv *Server) info(args [][]byte) string {
	want := map[string]bool{}
	for _, a := range args {
		want[strings.ToLower(string(a))] = true
	}
	all := len(want) == 0 || want["all"] || want["everything"] || want["default"]
	var b strings.Builder
	section := func(name string, fields [][2]string) {
		if !all && !want[strings.ToLower(name)] {
			return
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + name + "\r\n")
		for _, f := range fields {
			b.WriteString(f[0] + ":" + f[1] + "\r\n")
		}
	}
	uptime := time.Since(srv.start)
	host, _ := os.Hostname()
	section("Server", [][2]string{
		{"redis_version", RedisVersion},
		{"schemaproxy_version", Version},
		{"redis_mode", "standalone"},
		{"os", runtime.GOOS + " " + runtime.GOARCH},
		{"arch_bits", "64"},
		{"go_version", runtime.Version()},
		{"process_id", strconv.Itoa(os.Getpid())},
		{"hostname", host},
		{"uptime_in_seconds", strconv.FormatInt(int64(uptime/time.Second), 10)},
		{"uptime_in_days", strconv.FormatInt(int64(uptime/(24*time.Hour)), 10)},
	})
	srv.mu.Lock()
	nclients := len(srv.clients)
	srv.mu.Unlock()
	section("Clients", [][2]string{
		{"connected_clients", strconv.Itoa(nclients)},
		{"blocked_clients", strconv.Itoa(srv.blocked.Blocked())},
	})
	if all || want["memory"] {
		section("Memory", srv.memoryInfo())
	}
	if srv.cfg.Info != nil {
		section("Persistence", srv.cfg.Info("persistence"))
	}
	var channels, patterns, shards int
	if all || want["stats"] {
		srv.hub.Atomic(func(tx *pubsub.Tx) {
			channels, patterns, shards = tx.Names(pubsub.Channel), tx.Names(pubsub.Pattern), tx.Names(pubsub.Shard)
		})
	}
	section("Stats", [][2]string{
		{"total_connections_received", strconv.FormatInt(srv.stats.connections.Load(), 10)},
		{"total_commands_processed", strconv.FormatInt(srv.stats.processed.Load(), 10)},
		{"pubsub_channels", strconv.Itoa(channels)},
		{"pubsub_patterns", strconv.Itoa(patterns)},
		{"pubsubshard_channels", strconv.Itoa(shards)},
		{"evicted_keys", srv.storeField("stats", "evicted_keys", "0")},
	})
	if want["commandstats"] || want["everything"] {
		var fields [][2]string
		for _, c := range srv.table.All() {
			st := &srv.stats.commands[c.ID]
			calls := st.calls.Load()
			if calls == 0 {
				continue
			}
			usec := st.usec.Load()
			fields = append(fields, [2]string{"cmdstat_" + c.Name, fmt.Sprintf(
				"calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d",
				calls, usec, float64(usec)/float64(calls), st.rejected.Load(), st.failed.Load())})
		}
		all, want["commandstats"] = true, true
		section("Commandstats", fields)
		all = len(want) == 0 || want["all"] || want["everything"] || want["default"]
	}
	if srv.cfg.Info != nil {
		section("Keyspace", srv.cfg.Info("keyspace"))
	}
	// Ours, not Redis's: only when asked for by name.
	if srv.cfg.Info != nil && (want["backends"] || want["everything"]) {
		section("Backends", srv.cfg.Info("backends"))
	}
	return b.String()
}

func humanBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2fG", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2fM", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.2fK", float64(n)/(1<<10))
	}
	return strconv.FormatUint(n, 10) + "B"
}
