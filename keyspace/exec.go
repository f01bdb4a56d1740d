package keyspace

import (
	"github.com/schemaproxy/schemaproxy/command"
)

// Executor runs commands of a command table against a Store. It is
// immutable and shared by every shard.
type Executor struct {
	table    *command.Table
	handlers []Handler // by command ID
}

// NewExecutor binds the handlers of this package to the commands of t.
func NewExecutor(t *command.Table) *Executor {
	x := &Executor{table: t, handlers: make([]Handler, t.Len())}
	hs := Handlers()
	for _, c := range t.All() {
		x.handlers[c.ID] = hs[c.Name]
	}
	return x
}

// Table is the command table the executor serves.
func (x *Executor) Table() *command.Table { return x.table }

// Has reports whether cmd has a handler here.
func (x *Executor) Has(cmd *command.Command) bool { return x.handlers[cmd.ID] != nil }

// Run executes cmd with c. The caller has checked the arity.
func (x *Executor) Run(c *Ctx, cmd *command.Command) {
	h := x.handlers[cmd.ID]
	if h == nil {
		c.W.Error(ErrNotSupported(cmd.Name))
		return
	}
	if c.Notify != 0 {
		switch {
		case cmd.Is(command.Write):
			x.runNotifying(c, cmd, h)
			return
		case c.Notify&NotifyKeyMiss != 0 && cmd.Name != "object":
			runKeyMiss(c, cmd, h)
			return
		}
	}
	h(c)
}
