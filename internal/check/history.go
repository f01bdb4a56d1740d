// Package check verifies histories of list-append transactions for strict
// serializability, in the manner of Jepsen's Elle.
//
// A transaction is a list of micro-operations on lists: append a value that
// is unique in the whole history (RPUSH), or read a whole list (LRANGE 0 -1).
// Because values are unique and lists only grow, every read names the exact
// version of its key, and the longest read of a key gives the order in which
// that key's appends took effect. From that order the checker derives the
// dependency graph of Adya's formalism (ww, wr and rw edges), adds real-time
// edges (T1 completed before T2 was invoked), and reports every cycle it
// finds, classified as G0, G1c, G-single or G2 (with "-realtime" when the
// cycle needs a real-time edge). It also reports the anomalies that need no
// cycle: aborted reads (G1a), intermediate reads (G1b), reads that disagree
// on a key's order, duplicated or never-written elements, and transactions
// that do not see their own writes.
package check

import (
	"fmt"
	"strings"
)

// OpKind is what a micro-operation does.
type OpKind uint8

const (
	// Append adds Value at the end of the list Key.
	Append OpKind = iota + 1
	// Read returns the whole list Key in Values.
	Read
)

// Op is one micro-operation of a transaction.
type Op struct {
	Kind   OpKind
	Key    string
	Value  int   // Append: the value, unique in the history
	Values []int // Read of a transaction that completed OK: the list read
}

// A returns an append of v to key (a shorthand for hand-written histories).
func A(key string, v int) Op { return Op{Kind: Append, Key: key, Value: v} }

// R returns a read of key that returned vs.
func R(key string, vs ...int) Op { return Op{Kind: Read, Key: key, Values: vs} }

func (o Op) String() string {
	if o.Kind == Append {
		return fmt.Sprintf("append %s %d", o.Key, o.Value)
	}
	return fmt.Sprintf("read %s %s", o.Key, list(o.Values))
}

// list prints a read, eliding the middle of long ones: the last elements
// are the ones that dependencies are about.
func list(vs []int) string {
	const head, tail = 2, 8
	if len(vs) <= head+tail+1 {
		return fmt.Sprint(vs)
	}
	return fmt.Sprintf("%v ...%d more... %v", vs[:head], len(vs)-head-tail, vs[len(vs)-tail:])
}

// Outcome is what the client learned about a transaction.
type Outcome uint8

const (
	// OK: the transaction committed and its reads returned Values.
	OK Outcome = iota + 1
	// Fail: the transaction certainly did not take effect.
	Fail
	// Unknown: it may or may not have taken effect (a timeout, a crash);
	// its reads are ignored.
	Unknown
)

func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Fail:
		return "fail"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Txn is one transaction of a history.
type Txn struct {
	Process int // the client that ran it, for reports only
	Ops     []Op
	// Invoke and Complete are readings of one monotonic clock (any unit).
	// For an OK transaction Complete is its reply. For an Unknown one it
	// is a time by which it had certainly taken effect or never will (the
	// moment its server was known dead, say), or 0 when there is none.
	Invoke, Complete int64
	Outcome          Outcome
}

func (t Txn) String() string {
	ops := make([]string, len(t.Ops))
	for i, o := range t.Ops {
		ops[i] = o.String()
	}
	return fmt.Sprintf("p%d %s [%d,%d] {%s}", t.Process, t.Outcome, t.Invoke, t.Complete, strings.Join(ops, "; "))
}

// validate rejects histories that no server could have produced: they are
// bugs of the workload, not anomalies.
func validate(h []Txn) error {
	seen := make(map[int]int)
	for i, t := range h {
		switch t.Outcome {
		case OK, Fail, Unknown:
		default:
			return fmt.Errorf("check: T%d: invalid outcome %d", i, t.Outcome)
		}
		if t.Outcome == OK && t.Complete < t.Invoke {
			return fmt.Errorf("check: T%d completed (%d) before its invocation (%d)", i, t.Complete, t.Invoke)
		}
		for _, o := range t.Ops {
			switch o.Kind {
			case Append:
				if j, dup := seen[o.Value]; dup {
					return fmt.Errorf("check: value %d appended by T%d and T%d: values must be unique", o.Value, j, i)
				}
				seen[o.Value] = i
			case Read:
			default:
				return fmt.Errorf("check: T%d: invalid op kind %d", i, o.Kind)
			}
		}
	}
	return nil
}
