package command

import (
	"fmt"
	"testing"
)

func args(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i, a := range s {
		out[i] = []byte(a)
	}
	return out
}

func TestKeyIndexes(t *testing.T) {
	cases := []struct {
		cmd  []string
		want string
		ok   bool
	}{
		{[]string{"GET", "k"}, "[1]", true},
		{[]string{"MSET", "a", "1", "b", "2"}, "[1 3]", true},
		{[]string{"DEL", "a", "b", "c"}, "[1 2 3]", true},
		{[]string{"ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"}, "[1 3 4]", true},
		{[]string{"SINTERCARD", "9223372036854775807", "a"}, "[]", false},
		{[]string{"SINTERCARD", "2", "a"}, "[]", false},
		{[]string{"SINTERCARD", "-1", "a"}, "[]", false},
		{[]string{"LMPOP", "1", "a", "LEFT"}, "[2]", true},
		{[]string{"BLMPOP", "0", "2", "a", "b", "LEFT"}, "[3 4]", true},
		{[]string{"COPY", "a", "b", "DB", "1"}, "[1 2]", true},
		{[]string{"PING"}, "[]", true},
	}
	for _, c := range cases {
		cmd := Default.Lookup([]byte(c.cmd[0]))
		idx, ok := cmd.KeyIndexes(nil, args(c.cmd...))
		if got := fmt.Sprint(idx); ok != c.ok || (ok && got != c.want) {
			t.Errorf("%v: %s %v, want %s %v", c.cmd, got, ok, c.want, c.ok)
		}
	}
}

func TestLookupAnyCase(t *testing.T) {
	for _, name := range []string{"get", "GET", "gEt"} {
		if c := Default.Lookup([]byte(name)); c == nil || c.Name != "get" {
			t.Fatalf("Lookup(%q) = %v", name, c)
		}
	}
	if Default.Lookup([]byte("nosuch")) != nil || Default.Lookup(make([]byte, 100)) != nil {
		t.Fatal("unknown names must not resolve")
	}
}

func TestArity(t *testing.T) {
	get := Default.Lookup([]byte("get"))
	set := Default.Lookup([]byte("set"))
	if !get.CheckArity(2) || get.CheckArity(3) || !set.CheckArity(3) || !set.CheckArity(7) || set.CheckArity(2) {
		t.Fatal("arity rules broken")
	}
}
