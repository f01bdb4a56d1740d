package aof

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Options configures a Log.
type Options struct {
	// Dir holds the files; Open creates it if missing. Several logs may
	// share a directory when their names differ.
	Dir string
	// Name prefixes every file of this log, e.g. "shard-0". It must not
	// contain a path separator.
	Name string
	// Policy says when to fsync; the zero value is Always.
	Policy Policy
	// Logf receives warnings, such as a torn tail cut away by Load; nil
	// discards them.
	Logf func(format string, args ...any)

	// Step, when set, runs at each durable step of Rotate and
	// WriteSnapshot (named in the package comment), so that a test of the
	// log's owner can copy the directory there and see what a crash would
	// leave. Nil in production.
	Step func(name string)

	// knobs are test hooks; nil in production, and free there.
	knobs *testingKnobs
}

// testingKnobs let tests count and fail I/O, drive the EverySec clock and
// stop at each step of a snapshot, without sleeps or globals.
type testingKnobs struct {
	// beforeWrite runs before each write(2) of buffered frames to a log
	// file; a non-nil error replaces the write.
	beforeWrite func(p []byte) error
	// beforeSync runs before each fsync of a log file; a non-nil error
	// replaces the fsync.
	beforeSync func() error
	// tick replaces the EverySec ticker.
	tick <-chan time.Time
	// afterTick runs after the EverySec goroutine handled a tick.
	afterTick func()
	// step runs at each durable step of Rotate and WriteSnapshot, named
	// as in the package comment; a test copies the directory there to see
	// what a crash at that point would leave.
	step func(name string)
}

func (o *Options) validate() error {
	var errs []error
	if o.Dir == "" {
		errs = append(errs, errors.New("aof: Options.Dir is empty"))
	}
	if o.Name == "" || strings.ContainsAny(o.Name, `/\`) {
		errs = append(errs, fmt.Errorf("aof: Options.Name %q must be non-empty and have no path separator", o.Name))
	}
	if !o.Policy.valid() {
		errs = append(errs, fmt.Errorf("aof: invalid %v", o.Policy))
	}
	return errors.Join(errs...)
}
