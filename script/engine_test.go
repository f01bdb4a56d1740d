package script

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// fakeStore answers GET, SET and INCR from a map: enough to drive scripts
// without shards.
type fakeStore struct {
	mu   sync.Mutex
	data map[string]string
}

func (f *fakeStore) call(cmd *command.Command, args [][]byte, db int, w *resp.Writer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch cmd.Name {
	case "get":
		if v, ok := f.data[string(args[1])]; ok {
			w.BulkString(v)
		} else {
			w.Null()
		}
	case "set":
		f.data[string(args[1])] = string(args[2])
		w.OK()
	default:
		w.Error("ERR fake store: " + cmd.Name)
	}
	return nil
}

func eval(t *testing.T, e *Engine, f *fakeStore, proto int, body string, args ...string) string {
	t.Helper()
	all := [][]byte{[]byte("eval"), []byte(body)}
	for _, a := range args {
		all = append(all, []byte(a))
	}
	w := &resp.Writer{Proto: proto}
	if err := e.RunScript(context.Background(), command.Default.Lookup([]byte("eval")), all, 0, w, f.call); err != nil {
		t.Fatal(err)
	}
	return string(w.B)
}

func TestEvalConversions(t *testing.T) {
	e := New(Config{})
	f := &fakeStore{data: map[string]string{"k": "v"}}
	for _, c := range []struct {
		proto      int
		body, want string
		args       []string
	}{
		{2, "return redis.call('get', KEYS[1])", "$1\r\nv\r\n", []string{"1", "k"}},
		{2, "return redis.call('get', 'nokey')", "$-1\r\n", []string{"0"}},
		{2, "return redis.call('set', 'a', 3.5)", "+OK\r\n", []string{"0"}},
		{2, "return redis.call('get', 'a')", "$3\r\n3.5\r\n", []string{"0"}},
		{2, "return {1, 2.9, 'x', false, {ok='s'}}", "*5\r\n:1\r\n:2\r\n$1\r\nx\r\n$-1\r\n+s\r\n", []string{"0"}},
		{3, "return {double=1.5}", ",1.5\r\n", []string{"0"}},
		{2, "return {double=1.5}", "$3\r\n1.5\r\n", []string{"0"}},
		{3, "redis.setresp(3) return false", "#f\r\n", []string{"0"}},
		{2, "redis.setresp(3) return false", ":0\r\n", []string{"0"}},
		{2, "return redis.call('lpush', 'x', 'y')", "-ERR fake store: lpush script: ", []string{"0"}},
		{2, "return cjson.encode({1, 'a'})", "$7\r\n[1,\"a\"]\r\n", []string{"0"}},
		{2, "return bit.bxor(5, 3)", ":6\r\n", []string{"0"}},
		{2, "return cmsgpack.unpack(cmsgpack.pack({7}))[1]", ":7\r\n", []string{"0"}},
	} {
		got := eval(t, e, f, c.proto, c.body, c.args...)
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s (RESP%d): %q, want %q", c.body, c.proto, got, c.want)
		}
	}
}

// TestScriptKill: a script past the time limit makes Busy true; SCRIPT
// KILL stops it unless it wrote.
func TestScriptKill(t *testing.T) {
	e := New(Config{BusyAfter: time.Millisecond})
	f := &fakeStore{data: map[string]string{}}
	script := command.Default.Lookup([]byte("script"))
	kill := func() string {
		w := &resp.Writer{Proto: 2}
		if err := e.RunScript(context.Background(), script, [][]byte{[]byte("script"), []byte("kill")}, 0, w, nil); err != nil {
			t.Fatal(err)
		}
		return string(w.B)
	}
	if got := kill(); got != "-"+errNotBusy+"\r\n" {
		t.Fatalf("kill with nothing running: %q", got)
	}
	for _, c := range []struct {
		body, kill, reply string
	}{
		{"while true do end", "+OK\r\n", "-ERR Script killed by user with SCRIPT KILL... script: "},
		{"redis.call('set', 'w', '1') local n = 0 while n < 3e6 do n = n + 1 end return n", "-UNKILLABLE ", ":3000000\r\n"},
	} {
		done := make(chan string)
		go func() { done <- eval(t, e, f, 2, c.body, "0") }()
		for !e.Busy() {
			time.Sleep(time.Millisecond) // waiting for the script to start
		}
		if got := kill(); !strings.HasPrefix(got, c.kill) {
			t.Errorf("%s: SCRIPT KILL answered %q", c.body, got)
		}
		if got := <-done; !strings.HasPrefix(got, c.reply) {
			t.Errorf("%s: script answered %q", c.body, got)
		}
	}
}
