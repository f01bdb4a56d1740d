// Package backends defines what the transaction coordinator asks of a shard
// (the Shard contract, its requests and sentinel errors); implementations
// live in sub-packages (memory: the embedded, persistent default).
//
// The contract, which every implementation keeps:
//   - Exec runs a batch atomically: guards are checked first and, if one
//     fails, nothing runs; keys locked by a cross-shard transaction are
//     waited for, never read or written under the lock.
//   - Lock, then Commit on the primary, then Apply (or Unlock) on the other
//     participants is the cross-shard protocol: Lock checks guards, locks
//     every key read or written and returns copies of their values; Commit
//     on the primary is the commit point (durable before it returns);
//     Apply installs a participant's writes and releases its locks.
package backends

import (
	"context"
	"errors"

	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// Sentinel errors of the Shard contract.
var (
	// ErrGuard means a guard (a WATCHed key) changed; nothing was run.
	ErrGuard = errors.New("backends: watched key changed")
	// ErrClosed means the shard is shut down.
	ErrClosed = errors.New("backends: shard closed")
)

// Op is one command to run in one database.
type Op struct {
	Cmd  *command.Command
	Args [][]byte
	DB   int
	// Reply, when not nil, is written as this op's reply instead of running
	// it: commands the proxy answers itself inside a transaction (PING,
	// SELECT...) keep their place in the EXEC reply this way.
	Reply []byte
}

// Guard is a WATCHed key: the transaction runs only if the key still has
// this version and liveness.
type Guard struct {
	DB      int
	Key     string
	Version uint64
	Live    bool
}

// Batch is what Exec runs: ops in order, after checking guards, with replies
// appended to W in the writer's protocol.
type Batch struct {
	Ops    []Op
	Guards []Guard
	W      *resp.Writer
	// Defer asks Exec not to wait for durability: it sets Pos instead, and
	// the caller passes Pos to Durable before releasing the replies. A
	// pipeline of commands then waits once, not once per command.
	Defer bool
	Pos   uint64
	// Now, when not zero, is the time (unix ms) the batch runs at; callers
	// that already read the clock pass it to save another read.
	Now int64
}

// KeyRef names a key in a database.
type KeyRef struct {
	DB  int
	Key string
}

// KeyState is a key's value in a cross-shard transaction: what Lock read or
// what Commit/Apply installs. Entry nil means the key does not exist.
type KeyState struct {
	KeyRef
	Entry *keyspace.Entry
}

// TxID identifies a cross-shard transaction.
type TxID uint64

// Shard is one backend store. Every method is safe for concurrent use.
type Shard interface {
	// Exec runs b atomically. It returns ErrGuard (and runs nothing) when a
	// guard fails.
	Exec(ctx context.Context, b *Batch) error
	// Durable returns once everything up to log position pos (from
	// Batch.Pos) is durable under the shard's fsync policy.
	Durable(ctx context.Context, pos uint64) error
	// Version returns the version and liveness of a key, for WATCH.
	Version(ctx context.Context, db int, key []byte) (version uint64, live bool, err error)
	// Lock waits until no other transaction holds any of keys, checks the
	// guards, locks keys for tx and returns copies of their current states.
	Lock(ctx context.Context, tx TxID, keys []KeyRef, guards []Guard) ([]KeyState, error)
	// Commit installs writes, makes them durable and releases tx's locks:
	// the commit point of a cross-shard transaction when sent to its
	// primary. record describes the whole transaction (every participant's
	// writes) so that recovery can finish it.
	Commit(ctx context.Context, tx TxID, writes []KeyState, record *TxRecord) error
	// Apply installs a participant's writes and releases tx's locks. It is
	// sent only after the primary's Commit returned; record is the same
	// as the primary's, so that any surviving copy finishes the transaction.
	Apply(ctx context.Context, tx TxID, writes []KeyState, record *TxRecord) error
	// Unlock releases tx's locks without writing.
	Unlock(ctx context.Context, tx TxID) error
	// Exclusive runs fn once no cross-shard transaction holds locks here,
	// keeping all other work out until fn returns. Exclusive sections of
	// several shards nest, lowest index first, for commands over whole
	// databases (FLUSHALL, SWAPDB, KEYS) and transactions that contain them.
	Exclusive(ctx context.Context, fn func(x Locked) error) error
}

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
	Held() Locked
	// Unhold releases the shard and returns the log position the
	// request's reply depends on, for Durable.
	Unhold() uint64
}

// Locked is a shard held by an Exclusive section: the same operations as
// Shard, run without waiting (nothing else runs meanwhile).
type Locked interface {
	Run(b *Batch) error
	Read(keys []KeyRef) []KeyState
	// Install writes states and logs record, the whole transaction.
	Install(tx TxID, writes []KeyState, record *TxRecord)
	// LSN is the number of records in the shard's log so far.
	LSN() uint64
	// LogPos is the log position after the last record appended.
	LogPos() uint64
	// AddDeps records that the shard's state now depends on other shards'
	// logs up to these positions (by shard index): replies that read it
	// wait for those too, so no acknowledged reply rests on state a crash
	// could take back elsewhere.
	AddDeps(deps map[int]uint64)
	// RunTx runs record.Ops for this shard natively at record.Now, appends
	// their replies to w and, if they changed anything, logs the record.
	RunTx(record *TxRecord, shard int, w *resp.Writer)
}

// TxRecord is the commit record of a cross-shard transaction: what every
// participant installs (Writes: key states) or runs natively (Ops, at time
// Now), by shard index.
type TxRecord struct {
	ID TxID
	// Seq orders the records of transactions that share a shard: it is
	// taken while the transaction holds its keys, so it follows their
	// execution order. Recovery rolls records forward in this order.
	Seq    uint64
	Writes map[int][]KeyState
	Ops    map[int][]Op
	Now    int64
	// Prev is, for each participant that logs the record, how many
	// records its log held before this one. A record whose copies survive
	// a crash only elsewhere may be rolled forward onto a participant only
	// if that participant kept everything before it; otherwise the record
	// (and what followed it) is cut everywhere, because its values were
	// computed from state the crash lost. Nil skips the check.
	Prev map[int]uint64
	// Encoded is a backend's encoding of the record, kept by the first
	// participant that logs it so the others reuse it. Participants are
	// called one after another, never at once.
	Encoded []byte
}
