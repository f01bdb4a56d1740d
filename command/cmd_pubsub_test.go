package command

import (
	"fmt"
	"testing"
)

func TestPubSubEntries(t *testing.T) {
	cases := []struct {
		name  string
		arity int
		flags []string
	}{
		{"publish", 3, []string{"pubsub", "loading", "stale", "fast"}},
		{"subscribe", -2, []string{"pubsub", "noscript", "loading", "stale"}},
		{"unsubscribe", -1, []string{"pubsub", "noscript", "loading", "stale"}},
		{"psubscribe", -2, []string{"pubsub", "noscript", "loading", "stale"}},
		{"punsubscribe", -1, []string{"pubsub", "noscript", "loading", "stale"}},
		{"spublish", 3, []string{"pubsub", "loading", "stale", "fast"}},
		{"ssubscribe", -2, []string{"pubsub", "noscript", "loading", "stale"}},
		{"sunsubscribe", -1, []string{"pubsub", "noscript", "loading", "stale"}},
		{"pubsub", -2, nil},
	}
	for _, c := range cases {
		cmd := Default.Lookup([]byte(c.name))
		if cmd == nil {
			t.Fatalf("%s missing", c.name)
		}
		if cmd.Arity != c.arity || fmt.Sprint(cmd.Flags.Names()) != fmt.Sprint(c.flags) || !cmd.Is(Conn) {
			t.Errorf("%s: arity %d flags %v conn %v", c.name, cmd.Arity, cmd.Flags.Names(), cmd.Is(Conn))
		}
	}
}

// TestShardChannelKeys: the shard channel has a key spec (NOT_KEY), so
// its position is known for COMMAND INFO and slot routing.
func TestShardChannelKeys(t *testing.T) {
	cases := []struct {
		cmd  []string
		want string
	}{
		{[]string{"SPUBLISH", "ch", "msg"}, "[1]"},
		{[]string{"SSUBSCRIBE", "a", "b"}, "[1 2]"},
		{[]string{"SUNSUBSCRIBE", "a"}, "[1]"},
		{[]string{"SUNSUBSCRIBE"}, "[]"},
		{[]string{"PUBLISH", "ch", "msg"}, "[]"},
	}
	for _, c := range cases {
		cmd := Default.Lookup([]byte(c.cmd[0]))
		idx, ok := cmd.KeyIndexes(nil, args(c.cmd...))
		if got := fmt.Sprint(idx); !ok || got != c.want {
			t.Errorf("%v: %s, want %s", c.cmd, got, c.want)
		}
		if cmd.Is(NotKey) != (c.cmd[0] != "PUBLISH") {
			t.Errorf("%v: NotKey %v", c.cmd, cmd.Is(NotKey))
		}
	}
}

func TestSubcommands(t *testing.T) {
	ps := Default.Lookup([]byte("pubsub"))
	sub := ps.Subcommand([]byte("NumSub"))
	if sub == nil || sub.Name != "pubsub|numsub" || sub.Arity != -2 || !sub.Is(PubSub) || !sub.Is(Conn) || sub.ID != ps.ID {
		t.Fatalf("pubsub|numsub: %+v", sub)
	}
	if h := ps.Subcommand([]byte("help")); h == nil || h.Is(PubSub) || h.Arity != 2 {
		t.Fatalf("pubsub|help: %+v", h)
	}
	if ps.Subcommand([]byte("nosuch")) != nil || ps.Subcommand(make([]byte, 100)) != nil {
		t.Fatal("unknown subcommands must not resolve")
	}
	if Default.Lookup([]byte("get")).Subcommand([]byte("x")) != nil {
		t.Fatal("a plain command has no subcommands")
	}
	for _, name := range []string{"client", "config", "command", "object", "pubsub"} {
		if len(Default.Lookup([]byte(name)).Subcommands) == 0 {
			t.Errorf("%s: container without subcommands", name)
		}
	}
}
