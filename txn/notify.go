package txn

import (
	"context"

	"github.com/schemaproxy/schemaproxy/backends"
)

// OnWrite makes the coordinator call fn with the ops of every request
// once it has run (committed, or failed), each command a script calls
// included: clients blocked on keys those ops write are woken so (a
// signal after a request that changed nothing only costs them a look).
// fn must be quick and must not call the coordinator. Set it before the
// first request.
func (c *Coordinator) OnWrite(fn func(ops []backends.Op)) { c.wrote = fn }

// InProcess reports whether every shard lives in this process, so that
// every write to them goes through this coordinator (and OnWrite).
func (c *Coordinator) InProcess() bool {
	for _, s := range c.cfg.Shards {
		if _, ok := s.(backends.Holder); !ok {
			return false
		}
	}
	return true
}

// Run executes r and appends its reply to r.W.
func (c *Coordinator) Run(ctx context.Context, r *Request) error {
	err := c.run(ctx, r)
	c.notify(r.Ops)
	return err
}

func (c *Coordinator) notify(ops []backends.Op) {
	if c.wrote != nil {
		c.wrote(ops)
	}
}
