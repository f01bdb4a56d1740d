package proxy

import (
	"context"
	"time"

	"github.com/tidwall/redcon"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/command"
)

// runPipeline runs a client's pipeline. Consecutive plain data commands
// that each live on one shard go to the coordinator together, one batch
// per shard (see txn.RunEach): on Redis backends one round trip per shard
// for the lot, on the embedded store one lock hold. Everything else runs
// one command at a time.
func (s *session) runPipeline(ctx context.Context, cmds []redcon.Command) {
	for i := 0; i < len(cmds); {
		if s.closing {
			return
		}
		if n := s.runBatch(ctx, cmds[i:]); n > 0 {
			i += n
			continue
		}
		s.run(ctx, cmds[i].Args)
		i++
	}
}

// notBatched are the commands that depend on or change the session, act
// on whole databases, or are not the shards' to run.
const notBatched = command.Conn | command.Server | command.Global | command.Scripting |
	command.Unsupported | command.Blocking | command.PubSub

// runBatch runs the longest run of batchable commands at the start of
// cmds, if it has two or more, and returns how many it ran.
func (s *session) runBatch(ctx context.Context, cmds []redcon.Command) int {
	if s.multi || s.txn != nil || s.sub != nil || !s.authed || len(cmds) < 2 || s.srv.coord.ScriptBusy() != "" {
		return 0
	}
	ops, shards := s.batchOps[:0], s.batchShards[:0]
	for _, c := range cmds {
		if len(c.Args) == 0 {
			break
		}
		cmd := s.srv.table.Lookup(c.Args[0])
		if cmd == nil || cmd.Subcommands != nil || !cmd.CheckArity(len(c.Args)) || cmd.Flags&notBatched != 0 {
			break
		}
		op := backends.Op{Cmd: cmd, Args: c.Args, DB: s.db}
		shard, single := s.srv.coord.SingleShard(&op)
		if !single {
			break
		}
		ops, shards = append(ops, op), append(shards, shard)
	}
	s.batchOps, s.batchShards = ops[:0], shards[:0]
	if len(ops) < 2 {
		return 0
	}
	replies, errs := s.srv.coord.RunEach(ctx, &s.each, ops, shards, s.w.Proto, s.pending)
	end := time.Now()
	usec := end.Sub(s.cmdStart).Microseconds() / int64(len(ops))
	for i, op := range ops {
		start := len(s.w.B)
		if errs[i] != nil {
			s.backendError(errs[i])
		} else {
			s.w.Raw(replies[i])
		}
		st := &s.srv.stats.commands[op.Cmd.ID]
		st.calls.Add(1)
		st.usec.Add(usec)
		if s.w.B[start] == '-' {
			st.failed.Add(1)
		}
		s.srv.stats.processed.Add(1)
	}
	s.cmdStart, s.lastActive, s.lastCmd = end, end, ops[len(ops)-1].Cmd.Name
	return len(ops)
}
