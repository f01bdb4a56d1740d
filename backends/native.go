package backends

import (
	"context"
	"errors"

	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// Native is implemented by shards that run a cross-shard transaction's
// commands themselves (DESIGN.md, execution mode 2: several shards, no
// data flowing between them): no value travels to the coordinator, and
// each shard's replies are its own. The rounds are those of Lock, Commit
// and Apply: Prepare on every participant but the primary, CommitNative
// on the primary (the commit point: it runs the primary's commands and
// records the others'), ApplyNative on the others. Unlock releases what
// Prepare locked. The primary needs no Prepare, unless the coordinator
// locks in shard order (after meeting another transaction's lock): it
// then prepares the primary first, as any participant.
type Native interface {
	// Prepare locks keys for tx and checks guards, as Lock, without
	// reading values. It returns the earliest absolute expiry (unix ms)
	// among the keys, 0 when none expires: a key expiring between the
	// commit and the apply would show the apply a later time than the
	// commit's.
	Prepare(ctx context.Context, tx TxMeta, keys []KeyRef, guards []Guard) (expireAt int64, err error)
	// CommitNative is the commit point, on the primary: it checks the
	// deadline, keys (unlocked, or locked by tx) and guards, runs ops
	// with their replies appended to w, releases tx's locks there and
	// records stages (the other participants' ops, by shard) so that any
	// proxy can apply them. It fails with ErrGuard, ErrNotExecuted
	// (wrapping ErrLockBusy when a key was locked by another
	// transaction), or an error that leaves the outcome unknown.
	CommitNative(ctx context.Context, tx TxMeta, keys []KeyRef, guards []Guard, ops []Op, stages map[int][]Op, w *resp.Writer) error
	// ApplyNative runs a participant's ops (its stage) and releases its
	// locks, with the replies appended to w. It fails with
	// ErrRepliesLost when a resolver applied the stage first, and with
	// ErrNotExecuted when a resolver dropped it: only a transaction that
	// writes nothing commits without a record, so only its stages can
	// be dropped once committed.
	ApplyNative(ctx context.Context, tx TxMeta, ops []Op, w *resp.Writer) error
	// Forget drops, on the primary, the stages of participants that
	// applied them (the record goes with the last). It does not wait:
	// a stage left behind is garbage, never applied again.
	Forget(tx TxMeta, participants []int)
}

// ErrRepliesLost is ApplyNative's answer when the stage was applied by
// someone else (the coordinator stalled past its deadline): the
// transaction is committed and applied, but its replies are not known.
var ErrRepliesLost = errors.New("backends: the transaction committed, but another proxy applied it and its replies are lost")

// GuardedReader is implemented by shards that read a key's guard (as
// Version) and its value in one step, waiting for a transaction that
// holds the key as a plain read does: the reads of optimistic
// transactions. payload is the value as a DUMP payload (nil: missing),
// expireAt its absolute expiry in unix ms (0: none).
type GuardedReader interface {
	ReadGuarded(ctx context.Context, db int, key []byte) (g Guard, payload []byte, expireAt int64, err error)
}
