package txn

import "github.com/schemaproxy/schemaproxy/backends"

// TestingKnobs stop the coordinator at the steps of the Lock/Commit/Apply
// protocol, so that tests can see what other coordinators make of a
// transaction left there. They are nil in production, where each step
// costs one nil check.
//
// A knob that returns an error stops the coordinator on the spot, as if its
// process had died there: the request returns ErrUnknownOutcome wrapping
// that error, and nothing more is sent for the transaction (no unlock,
// commit or apply), so whatever it holds is left for others to resolve. A
// knob that blocks freezes the coordinator there; once it returns nil the
// coordinator goes on as if it had only been slow.
type TestingKnobs struct {
	// BeforeLock runs before participant shard's Lock is sent.
	// Participants lock at once, so stopping one here leaves the others
	// locked (or, when locking in turn after meeting a busy key, those
	// before it): the transaction after some PREPAREs and before the rest.
	BeforeLock func(tx backends.TxID, shard int) error
	// AfterLock runs once every participant is locked, before the commit.
	AfterLock func(tx backends.TxID) error
	// AfterCommit runs after the primary's commit and before any apply.
	AfterCommit func(tx backends.TxID) error
	// BeforeApply runs before participant shard's Apply is sent. The
	// participants apply at once, so stopping one here leaves the others
	// applied: the transaction after some APPLYs.
	BeforeApply func(tx backends.TxID, shard int) error
}

// The methods below run a knob if it is set; they are safe on nil knobs.

func (k *TestingKnobs) beforeLock(tx backends.TxID, shard int) error {
	if k == nil || k.BeforeLock == nil {
		return nil
	}
	return k.BeforeLock(tx, shard)
}

func (k *TestingKnobs) afterLock(tx backends.TxID) error {
	if k == nil || k.AfterLock == nil {
		return nil
	}
	return k.AfterLock(tx)
}

func (k *TestingKnobs) afterCommit(tx backends.TxID) error {
	if k == nil || k.AfterCommit == nil {
		return nil
	}
	return k.AfterCommit(tx)
}

func (k *TestingKnobs) beforeApply(tx backends.TxID, shard int) error {
	if k == nil || k.BeforeApply == nil {
		return nil
	}
	return k.BeforeApply(tx, shard)
}
