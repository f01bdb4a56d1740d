package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// fenceTTL bounds how long a fence outlives a proxy that died holding it.
const fenceTTL = 10 * time.Second

// Exclusive implements backends.Exclusiver for a request over whole
// databases (KEYS, DBSIZE, FLUSHDB, SWAPDB..., and MULTI blocks holding
// them): it fences every database of the backend, so that no batch and no
// new lock gets in, waits for the locks of transactions in flight to
// drain (resolving those of coordinators gone), runs fn, and lifts the
// fence. Shards are fenced in order, so two such requests cannot deadlock.
func (s *Shard) Exclusive(ctx context.Context, fn func(x backends.Section) error) error {
	var tb [12]byte
	_, _ = rand.Read(tb[:])
	token := hex.EncodeToString(tb[:])
	dbs := strconv.Itoa(s.databases)
	for {
		var held int64
		err := s.with(ctx, 2, 0, func(c *conn) error {
			r, err := c.do(ctx, evalArgs(scriptFence, nil, token, strconv.FormatInt(fenceTTL.Milliseconds(), 10), dbs))
			if err == nil {
				var v resp.Value
				if v, err = parseValue(r[0]); err == nil {
					held = v.Int
					if v.Kind == resp.KindError {
						err = fmt.Errorf("backend %s: fence: %s", s.addr, v.Str)
					}
				}
			}
			return err
		})
		if err != nil {
			return err
		}
		if held == 0 {
			break
		}
		if held > 0 {
			if err := s.resolveAll(ctx); err != nil {
				return err
			}
		}
		select { // another proxy's fence, or locks still draining
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	unfence := context.WithoutCancel(ctx)
	defer s.with(unfence, 2, 0, func(c *conn) error {
		_, err := c.do(unfence, evalArgs(scriptUnfence, nil, token, dbs))
		return err
	})
	return fn(&fenced{s: s, ctx: ctx, token: token})
}

// resolveAll resolves the locks found in every database (those of
// transactions past their deadline go; the others are waited for).
func (s *Shard) resolveAll(ctx context.Context) error {
	for db := 0; db < s.databases; db++ {
		var owners []string
		err := s.with(ctx, 2, db, func(c *conn) error {
			r, err := c.do(ctx, [][]byte{[]byte("KEYS"), []byte(lockPrefix + "*")})
			if err != nil {
				return err
			}
			v, err := parseValue(r[0])
			for _, k := range v.Elems {
				g, err := c.do(ctx, [][]byte{[]byte("GET"), k.Str})
				if err != nil {
					return err
				}
				if o, err := parseValue(g[0]); err == nil && !o.Null {
					owners = append(owners, string(o.Str))
				}
			}
			return err
		})
		if err != nil {
			return err
		}
		for _, o := range owners {
			if err := s.resolve(ctx, db, o); err != nil {
				return err
			}
		}
	}
	return nil
}

// fenced is a shard inside its fence (backends.Section).
type fenced struct {
	s     *Shard
	ctx   context.Context
	token string
}

func (f *fenced) Run(b *backends.Batch) error {
	err := f.s.exec(f.ctx, b, f.token)
	if err == nil && flushes(b) {
		// FLUSHALL took the fence with the data: set it again.
		_ = f.s.with(f.ctx, 2, 0, func(c *conn) error {
			_, err := c.do(f.ctx, evalArgs(scriptFence, nil, f.token, strconv.FormatInt(fenceTTL.Milliseconds(), 10), strconv.Itoa(f.s.databases)))
			return err
		})
	}
	return err
}

func flushes(b *backends.Batch) bool {
	for _, op := range b.Ops {
		if op.Cmd != nil && (op.Cmd.Name == "flushall" || op.Cmd.Name == "flushdb" || op.Cmd.Name == "swapdb") {
			return true
		}
	}
	return false
}

func (f *fenced) Read(keys []backends.KeyRef) []backends.KeyState {
	states := make([]backends.KeyState, len(keys))
	for i, k := range keys {
		states[i].KeyRef = k
		var v resp.Value
		err := f.s.with(f.ctx, 2, k.DB, func(c *conn) error {
			r, err := c.do(f.ctx, evalArgs(scriptRead, []string{k.Key}))
			if err == nil {
				v, err = parseValue(r[0])
			}
			return err
		})
		if err != nil || len(v.Elems) != 2 || len(v.Elems[0].Str) == 0 {
			continue
		}
		if e, err := keyspace.RestorePayload(v.Elems[0].Str); err == nil {
			if at, _ := strconv.ParseInt(string(v.Elems[1].Str), 10, 64); at > 0 {
				e.ExpireAt = at
			}
			states[i].Entry = e
		}
	}
	return states
}

func (f *fenced) Now() int64 { return time.Now().UnixMilli() }

func (f *fenced) Install(writes []backends.KeyState) {
	args := append([]string{"", "0"}, writeArgs(writes)...)
	_ = f.s.with(f.ctx, 2, 0, func(c *conn) error {
		_, err := c.do(f.ctx, evalArgs(scriptApply, nil, args...))
		return err
	})
}

func (f *fenced) RunOps(ops []backends.Op, now int64, w *resp.Writer) {
	if err := f.Run(&backends.Batch{Ops: ops, W: w}); err != nil {
		for range ops {
			w.Error("ERR backend failure: " + err.Error())
		}
	}
}

// Log implements backends.Section: every write is in the backend's own AOF
// already.
func (f *fenced) Log(*backends.TxRecord) {}

var _ backends.Exclusiver = (*Shard)(nil)
