package backends

import (
	"context"

	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// What an embedded shard offers beyond Shard, because it lives in
// the coordinator's process: the coordinator may hold it (its fast path
// for cross-shard requests) or have it to itself (whole databases).

// Holder is implemented by shards that live in this process. The
// coordinator can then hold every participant of a cross-shard request at
// once (in shard order) and run the request as one critical section,
// instead of locking keys and committing in rounds.
type Holder interface {
	// TryHold takes the shard unless one of keys is locked by a
	// transaction or an exclusive section is running or waiting; then it
	// returns false and a channel closed when that may have changed. The
	// caller must release everything it holds before waiting on it, so
	// that holders never wait on each other.
	TryHold(keys []KeyRef) (held bool, changed <-chan struct{})
	// Held operates on the shard while it is held.
	Held() Section
	// Unhold releases the shard and returns the log position the
	// request's reply depends on, for Durable.
	Unhold() uint64
}

// Section is a shard held by an Exclusive section or by a Holder: the same
// operations as Shard, run without waiting (nothing else runs meanwhile).
// Install and RunOps change the shard without logging; Log then records
// the whole transaction once every participant has run its part.
type Section interface {
	Run(b *Batch) error
	Read(keys []KeyRef) []KeyState
	// Now is the shard's clock, never behind any time it ran a command
	// at: a cross-shard transaction runs at the latest of its
	// participants' clocks, so time never goes back on any of them.
	Now() int64
	// Install writes states of a cross-shard transaction.
	Install(writes []KeyState)
	// RunOps runs ops natively at now and appends their replies to w.
	RunOps(ops []Op, now int64, w *resp.Writer)
	// Log records the whole transaction; it is called on every
	// participant, after all of them ran their part, and the replies that
	// read any of them wait until the record is durable.
	Log(record *TxRecord)
}

// Exclusiver is implemented by shards that can run a section with
// nothing else running on them.
type Exclusiver interface {
	// Exclusive runs fn once no cross-shard transaction holds locks here,
	// keeping all other work out until fn returns. Exclusive sections of
	// several shards nest, lowest index first, for commands over whole
	// databases (FLUSHALL, SWAPDB, KEYS) and transactions that contain them.
	Exclusive(ctx context.Context, fn func(x Section) error) error
}
