package txn

import (
	"context"
	"errors"
	"fmt"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// Interactive transactions (TXN BEGIN ... COMMIT) are optimistic and run
// in the proxy's session: each key the transaction touches is read once,
// with ReadGuarded, into a scratch store where its commands run at once;
// COMMIT sends the writes as one MULTI/EXEC whose guards are every key
// read. The coordinator holds (or locks) those keys, checks the guards
// and runs the writes on the current values, which are the values the
// transaction read exactly when every guard holds: the commit is that
// EXEC's, and no lock is held while the client thinks.

// Now is the shards' clock in unix milliseconds, the time an interactive
// transaction runs its commands at.
func (c *Coordinator) Now() int64 { return c.cfg.Now() }

// ErrBadRead means a shard answered a read of ReadGuarded with something
// that is not a value.
var ErrBadRead = errors.New("txn: unexpected reply to a guarded read")

// ReadGuarded returns the guard WATCH key would take and then the key's
// value (nil when it is missing), with its expiry. The order matters: a
// change between the two raises the version past the guard's, so the
// commit that checks the guard fails instead of accepting a value read
// after it. The value is read by DUMP and PEXPIRETIME in one batch on the
// key's shard, as a plain read (waiting for any transaction that holds
// the key), on the embedded store and on Redis servers alike. pending is
// Request.Pending.
func (c *Coordinator) ReadGuarded(ctx context.Context, db int, key []byte, pending []uint64) (backends.Guard, *keyspace.Entry, error) {
	if gr, ok := c.cfg.Shards[c.slots.ShardOf(key)].(backends.GuardedReader); ok {
		// One step on shards that can.
		g, payload, at, err := gr.ReadGuarded(ctx, db, key)
		if err != nil || payload == nil {
			return g, nil, err
		}
		e, err := keyspace.RestorePayload(payload)
		if err != nil {
			return g, nil, fmt.Errorf("%w: %w", ErrBadRead, err)
		}
		e.ExpireAt = at
		return g, e, nil
	}
	g, err := c.Watch(ctx, db, key)
	if err != nil {
		return g, nil, err
	}
	t := c.cfg.Exec.Table()
	w := resp.Writer{Proto: 2}
	ops := []backends.Op{
		{Cmd: t.Lookup([]byte("dump")), Args: [][]byte{[]byte("dump"), key}, DB: db},
		{Cmd: t.Lookup([]byte("pexpiretime")), Args: [][]byte{[]byte("pexpiretime"), key}, DB: db},
	}
	r := Request{Batch: backends.Batch{Ops: ops, W: &w}, Pending: pending}
	if err := c.run(ctx, &r); err != nil {
		return g, nil, err
	}
	dump, n, err := resp.Parse(w.B)
	if err != nil {
		return g, nil, fmt.Errorf("%w: %w", ErrBadRead, err)
	}
	ttl, _, err := resp.Parse(w.B[n:])
	if err != nil {
		return g, nil, fmt.Errorf("%w: %w", ErrBadRead, err)
	}
	switch {
	case dump.Kind == resp.KindError:
		return g, nil, fmt.Errorf("%w: DUMP: %s", ErrBadRead, dump.Str)
	case ttl.Kind != resp.KindInt:
		return g, nil, fmt.Errorf("%w: PEXPIRETIME: %s", ErrBadRead, ttl)
	case dump.Null || ttl.Int == -2:
		return g, nil, nil
	}
	e, err := keyspace.RestorePayload(dump.Str)
	if err != nil {
		return g, nil, fmt.Errorf("%w: %w", ErrBadRead, err)
	}
	if ttl.Int > 0 {
		e.ExpireAt = ttl.Int
	}
	return g, e, nil
}
