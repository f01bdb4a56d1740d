package keyspace

import (
	"testing"

	"github.com/schemaproxy/schemaproxy/command"
)

// TestEveryDataCommandHasAHandler: a command of the table that the proxy
// or the coordinator does not answer itself (connection, server,
// scripting, not supported) runs here, so it must have a handler; and
// every handler belongs to a table entry.
func TestEveryDataCommandHasAHandler(t *testing.T) {
	x := NewExecutor(command.Default)
	for _, c := range command.Default.All() {
		own := c.Is(command.Conn) || c.Is(command.Server) || c.Is(command.Scripting) || c.Is(command.Unsupported)
		if !own && !x.Has(c) {
			t.Errorf("%s: in the table, runs on the shards, and has no handler", c.Name)
		}
	}
	for name := range Handlers() {
		if command.Default.Lookup([]byte(name)) == nil {
			t.Errorf("handler %s has no table entry", name)
		}
	}
}
