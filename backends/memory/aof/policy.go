package aof

import (
	"fmt"
	"strings"
)

// Policy says when the log fsyncs, with the meaning of Redis's appendfsync.
// Whatever the policy, Wait returns only after write(2), so an acknowledged
// record survives the death of the process; the policy decides what survives
// the death of the machine.
type Policy int

const (
	// Always fsyncs before Wait returns: nothing acknowledged is ever lost.
	// It is the zero value so that a forgotten setting errs on the safe side.
	Always Policy = iota
	// EverySec fsyncs from a background goroutine once a second when there is
	// unsynced data: a power loss may lose about the last second.
	EverySec
	// No never fsyncs on behalf of Wait and leaves flushing to the kernel.
	No
)

// ParsePolicy parses a Redis appendfsync value: "always", "everysec" or "no",
// in any case.
func ParsePolicy(s string) (Policy, error) {
	switch strings.ToLower(s) {
	case "always":
		return Always, nil
	case "everysec":
		return EverySec, nil
	case "no":
		return No, nil
	}
	return 0, fmt.Errorf("aof: unknown fsync policy %q (want always, everysec or no)", s)
}

// String returns the appendfsync spelling of p.
func (p Policy) String() string {
	switch p {
	case Always:
		return "always"
	case EverySec:
		return "everysec"
	case No:
		return "no"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

func (p Policy) valid() bool { return p >= Always && p <= No }
