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
		waitBusy(t, e)
		if got := kill(); !strings.HasPrefix(got, c.kill) {
			t.Errorf("%s: SCRIPT KILL answered %q", c.body, got)
		}
		if got := <-done; !strings.HasPrefix(got, c.reply) {
			t.Errorf("%s: script answered %q", c.body, got)
		}
	}
}

// waitBusy returns once a script or function has run past the time limit.
func waitBusy(t *testing.T, e *Engine) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); e.Busy() == ""; {
		if time.Now().After(end) {
			t.Fatal("the script never got busy")
		}
		time.Sleep(time.Millisecond) // the script has to start
	}
}

// TestFunctionKill: a function past the time limit answers others with
// the BUSY that names FUNCTION KILL; SCRIPT KILL refuses to stop it,
// FUNCTION STATS shows it, FUNCTION KILL stops it.
func TestFunctionKill(t *testing.T) {
	e := New(Config{BusyAfter: time.Millisecond})
	f := &fakeStore{data: map[string]string{}}
	do := func(args ...string) string {
		all := make([][]byte, len(args))
		for i, a := range args {
			all[i] = []byte(a)
		}
		w := &resp.Writer{Proto: 2}
		if err := e.RunScript(context.Background(), command.Default.Lookup(all[0]), all, 0, w, f.call); err != nil {
			t.Fatal(err)
		}
		return string(w.B)
	}
	if got := do("function", "load", "#!lua name=spin\nredis.register_function('spin', function() while true do end end)"); got != "$4\r\nspin\r\n" {
		t.Fatalf("FUNCTION LOAD: %q", got)
	}
	if got := do("function", "kill"); got != "-"+errNotBusy+"\r\n" {
		t.Fatalf("FUNCTION KILL with nothing running: %q", got)
	}
	done := make(chan string)
	go func() { done <- do("fcall", "spin", "0", "arg") }()
	waitBusy(t, e)
	if got := e.Busy(); got != errBusyFunction {
		t.Errorf("Busy while a function runs: %q", got)
	}
	if got := do("script", "kill"); got != "-"+errBusyFunction+"\r\n" {
		t.Errorf("SCRIPT KILL of a function: %q", got)
	}
	stats := do("function", "stats")
	if want := "*4\r\n$14\r\nrunning_script\r\n*6\r\n$4\r\nname\r\n$4\r\nspin\r\n$7\r\ncommand\r\n*4\r\n$5\r\nfcall\r\n$4\r\nspin\r\n$1\r\n0\r\n$3\r\narg\r\n$11\r\nduration_ms\r\n:"; !strings.HasPrefix(stats, want) {
		t.Errorf("FUNCTION STATS while spinning: %q", stats)
	}
	if got := do("function", "kill"); got != "+OK\r\n" {
		t.Errorf("FUNCTION KILL: %q", got)
	}
	if got, want := <-done, "-ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:"; !strings.HasPrefix(got, want) {
		t.Errorf("the killed function answered %q, want %q...", got, want)
	}
	// A script is not stopped by FUNCTION KILL.
	go func() { done <- eval(t, e, f, 2, "while true do end", "0") }()
	waitBusy(t, e)
	if got := do("function", "kill"); got != "-"+ErrBusy+"\r\n" {
		t.Errorf("FUNCTION KILL of a script: %q", got)
	}
	if got := do("function", "stats"); got != "-"+ErrBusy+"\r\n" {
		t.Errorf("FUNCTION STATS while a script runs: %q", got)
	}
	if got := do("script", "kill"); got != "+OK\r\n" {
		t.Errorf("SCRIPT KILL: %q", got)
	}
	<-done
}
