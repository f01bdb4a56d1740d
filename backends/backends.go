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
//
// Holder and Exclusiver (inprocess.go) are optional: only shards in the
// coordinator's process can be held or had to oneself.
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
	// ErrNotExecuted wraps a failure that is known to have changed
	// nothing (the shard refused the request before running it), so the
	// coordinator may release the transaction or try again. Any other
	// error from Commit or Apply leaves the outcome unknown.
	ErrNotExecuted = errors.New("backends: not executed")
	// ErrLockBusy is a NoWait Lock's refusal: a key is locked by another
	// transaction. It comes wrapped in ErrNotExecuted.
	ErrLockBusy = errors.New("backends: a key is locked by another transaction")
	// ErrSaveInProgress is a background snapshot's refusal to start while
	// another one runs (BGSAVE's "already in progress").
	ErrSaveInProgress = errors.New("backends: a background save is already in progress")
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
	// Epoch is the life of the backend the version was read in (see
	// Epocher); a guard from another life fails. 0: the shard's versions
	// outlive its restarts.
	Epoch uint64
}

// Epocher is implemented by shards whose server can restart under the
// coordinator (a Redis server, by its run_id): a WATCH taken before the
// restart fails its EXEC, as the client's connection to that server would
// have been lost.
type Epocher interface {
	Epoch() uint64
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

// TxMeta is what every participant of a cross-shard transaction knows of
// it: who decides it and until when.
type TxMeta struct {
	ID TxID
	// Primary is the shard whose Commit is the commit point.
	Primary int
	// Deadline is in unix milliseconds of the shards' clock. No
	// participant locks for the transaction, and the primary records no
	// commit, at or after it; a lock still held then is resolved by
	// whoever meets it: the primary's record decides whether the
	// transaction's writes are applied or dropped.
	Deadline int64
	// Participants are the shards that lock for the transaction, the
	// primary among them: the primary keeps its record until each has
	// applied it.
	Participants []int
	// NoWait asks Lock to fail at once with ErrLockBusy (not executed)
	// rather than wait for a key another transaction holds: the
	// coordinator locks every participant at once this way, and only
	// when that meets a lock falls back to locking them in order, waiting.
	NoWait bool
}

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
	// It gives up with ctx: callers bound it with a deadline.
	Lock(ctx context.Context, tx TxMeta, keys []KeyRef, guards []Guard) ([]KeyState, error)
	// Commit installs writes, makes them durable and releases tx's locks:
	// the commit point of a cross-shard transaction when sent to its
	// primary. record describes the whole transaction (every participant's
	// writes) so that recovery can finish it. An error wrapping
	// ErrNotExecuted means nothing was committed; any other error leaves
	// the outcome unknown.
	Commit(ctx context.Context, tx TxMeta, writes []KeyState, record *TxRecord) error
	// Apply installs a participant's writes and releases tx's locks. It is
	// sent only after the primary's Commit returned; record is the same
	// as the primary's. Applying a transaction a resolver has applied
	// already changes nothing.
	Apply(ctx context.Context, tx TxMeta, writes []KeyState, record *TxRecord) error
	// Unlock releases tx's locks without writing.
	Unlock(ctx context.Context, tx TxID) error
}

// TxRecord is the commit record of a cross-shard transaction: what every
// participant installs (Writes: key states) or runs natively (Ops, at time
// Now), by shard index.
type TxRecord struct {
	ID     TxID
	Writes map[int][]KeyState
	Ops    map[int][]Op
	Now    int64
	// Logged and Pos are set by the first participant of an in-process
	// backend that logs the record: the primary's Commit, before the other
	// participants' Applies (which may run at once) read them; those log
	// nothing and wait for Pos.
	Logged bool
	Pos    uint64
}
