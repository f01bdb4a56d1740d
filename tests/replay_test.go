package tests

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/schemaproxy/schemaproxy/internal/testutil"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// A framework's traffic, scripts included, recorded with MONITOR on a
// redis-server while the framework runs, then replayed command by command
// on a fresh redis-server and a fresh schemaproxy: every reply must be
// the same (those that tell the time or pick at random, by type only).
// The frameworks' own scripts (EVALSHA, EVAL) thus run with the keys and
// arguments they really get, on both servers.

// monitored is one command MONITOR saw.
type monitored struct {
	db   int
	args []string
}

// monitor records what a redis-server runs until stop is called.
func monitor(t *testing.T, addr string) (stop func() []monitored) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("MONITOR\r\n")); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []monitored
	done := make(chan struct{})
	go func() {
		defer close(done)
		rd := bufio.NewReaderSize(c, 1<<20)
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return
			}
			if m, ok := parseMonitorLine(strings.TrimRight(line, "\r\n")); ok {
				mu.Lock()
				got = append(got, m)
				mu.Unlock()
			}
		}
	}()
	return func() []monitored {
		c.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return got
	}
}

// parseMonitorLine reads `+<time> [<db> <client>] "ARG" ...`; commands a
// script ran ([<db> lua]) are left out: they replay with the script.
func parseMonitorLine(line string) (monitored, bool) {
	open := strings.IndexByte(line, '[')
	end := strings.IndexByte(line, ']')
	if !strings.HasPrefix(line, "+") || open < 0 || end < open {
		return monitored{}, false
	}
	who := strings.Fields(line[open+1 : end])
	if len(who) != 2 || who[1] == "lua" {
		return monitored{}, false
	}
	db, err := strconv.Atoi(who[0])
	if err != nil {
		return monitored{}, false
	}
	args, ok := parseRepr(line[end+1:])
	return monitored{db: db, args: args}, ok && len(args) > 0
}

// parseRepr reads the quoted, escaped arguments of a MONITOR line (Redis's
// sdscatrepr, which sdssplitargs reads back).
func parseRepr(s string) ([]string, bool) {
	raw, ok := resp.SplitArgs([]byte(s))
	if !ok {
		return nil, false
	}
	args := make([]string, len(raw))
	for i, a := range raw {
		args[i] = string(a)
	}
	return args, true
}

// replaySkipped are commands a replay leaves out: they block, change the
// connection, or report on the server rather than the data.
var replaySkipped = map[string]bool{
	"monitor": true, "blpop": true, "brpop": true, "brpoplpush": true, "blmove": true, "blmpop": true,
	"bzpopmin": true, "bzpopmax": true, "bzmpop": true, "subscribe": true, "psubscribe": true,
	"ssubscribe": true, "unsubscribe": true, "punsubscribe": true, "sunsubscribe": true, "client": true,
	"hello": true, "info": true, "config": true, "quit": true, "reset": true, "select": true, "auth": true,
	"wait": true, "debug": true, "command": true, "shutdown": true, "ping": true, "echo": true,
	"memory": true, "slowlog": true, "latency": true,
}

// replayByType are commands whose replies tell the time or pick at
// random: compared by type only.
var replayByType = map[string]bool{
	"xadd": true, "xrange": true, "xrevrange": true, "xread": true, "xreadgroup": true, "xinfo": true,
	"xpending": true, "xclaim": true, "xautoclaim": true, "ttl": true, "pttl": true, "expiretime": true,
	"pexpiretime": true, "time": true, "randomkey": true, "srandmember": true, "spop": true,
	"hrandfield": true, "zrandmember": true, "object": true, "lastsave": true, "dbsize": true,
	"pubsub": true, "publish": true, "spublish": true,
}

// replay runs cmds on a fresh redis-server and a fresh schemaproxy and
// reports the replies that differ; it returns how many commands, and how
// many script calls, it compared.
func replay(t *testing.T, cmds []monitored) (compared, scripts int) {
	t.Helper()
	ref, got := referencePair(t)
	db := 0
	var diffs []string
	for _, m := range cmds {
		name := strings.ToLower(m.args[0])
		if replaySkipped[name] {
			continue
		}
		args := m.args
		if name == "xread" || name == "xreadgroup" {
			args = withoutBlock(args)
		}
		if m.db != db {
			for _, c := range []*testutil.Conn{ref, got} {
				if _, err := c.Do("SELECT", strconv.Itoa(m.db)); err != nil {
					t.Fatal(err)
				}
			}
			db = m.db
		}
		want, err := ref.Do(args...)
		if err != nil {
			t.Fatalf("reference redis-server, %q: %v", args, err)
		}
		have, err := got.Do(args...)
		if err != nil {
			t.Fatalf("schemaproxy, %q: %v", args, err)
		}
		compared++
		if name == "eval" || name == "evalsha" || name == "fcall" || name == "evalsha_ro" || name == "eval_ro" {
			scripts++
		}
		same := bytes.Equal(want, have)
		if !same && replayByType[name] {
			same = len(want) > 0 && len(have) > 0 && want[0] == have[0]
		}
		if !same {
			// A script's reply or a hash may list a hash's fields in
			// another order (Redis's hash table's), and a JSON object a
			// script encoded with cjson its keys in another order
			// (gopher-lua iterates tables its own way); stream IDs made
			// of the time (XADD *, in a script or EXEC) differ: the same
			// data all the same.
			pairs := name == "hgetall" || name == "exec" || strings.HasPrefix(name, "eval") || strings.HasPrefix(name, "fcall")
			same = sameData(want, have, pairs, replayUnordered[name])
		}
		if !same && len(diffs) < 10 {
			diffs = append(diffs, fmt.Sprintf("%q:\n  redis:       %q\n  schemaproxy: %q", shorten(args), want, have))
		}
	}
	if len(diffs) > 0 {
		t.Errorf("replies differ:\n%s", strings.Join(diffs, "\n"))
	}
	return compared, scripts
}

// withoutBlock drops XREAD's BLOCK option: the replay never waits.
func withoutBlock(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		if strings.EqualFold(args[i], "block") && i+1 < len(args) {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// shorten keeps a script's body out of a report.
func shorten(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if len(a) > 80 {
			a = a[:77] + "..."
		}
		out[i] = a
	}
	return out
}

// streamID matches an ID XADD * makes: the time in milliseconds, a
// sequence.
var streamID = regexp.MustCompile(`^1[0-9]{12}-[0-9]+$`)

// sameData compares two replies after normalizing them: JSON strings
// with their keys sorted, and, if pairs, the field/value pairs of every
// even array of strings sorted.
func sameData(a, b []byte, pairs, unordered bool) bool {
	va, _, err1 := resp.Parse(a)
	vb, _, err2 := resp.Parse(b)
	if err1 != nil || err2 != nil {
		return false
	}
	if unordered {
		return sortedElems(va, pairs) == sortedElems(vb, pairs)
	}
	return normalize(va, pairs) == normalize(vb, pairs)
}

// sortedElems is normalize for a reply whose top-level order is Redis's
// hash table's (SMEMBERS).
func sortedElems(v resp.Value, pairs bool) string {
	elems := make([]string, len(v.Elems))
	for i, e := range v.Elems {
		elems[i] = normalize(e, pairs)
	}
	slices.Sort(elems)
	return strings.Join(elems, ",")
}

// replayUnordered are commands whose replies list a set in Redis's hash
// table's order.
var replayUnordered = map[string]bool{
	"smembers": true, "sunion": true, "sinter": true, "sdiff": true, "hkeys": true, "hvals": true, "keys": true,
}

func normalize(v resp.Value, pairs bool) string {
	switch {
	case v.Null:
		return "nil"
	case v.Kind == resp.KindBulk || v.Kind == resp.KindStatus:
		var j any
		if len(v.Str) > 1 && (v.Str[0] == '{' || v.Str[0] == '[') && json.Unmarshal(v.Str, &j) == nil {
			canon, _ := json.Marshal(j) // maps come out with sorted keys
			return "json:" + string(canon)
		}
		if streamID.Match(v.Str) {
			return "<stream id>"
		}
		return strconv.Quote(string(v.Str))
	case v.Kind == resp.KindInt:
		return strconv.FormatInt(v.Int, 10)
	case v.Kind == resp.KindArray:
		elems := make([]string, len(v.Elems))
		strs := len(v.Elems)%2 == 0
		for i, e := range v.Elems {
			elems[i] = normalize(e, pairs)
			strs = strs && e.Kind == resp.KindBulk
		}
		if pairs && strs && len(elems) > 0 {
			kv := make([]string, 0, len(elems)/2)
			for i := 0; i < len(elems); i += 2 {
				kv = append(kv, elems[i]+"="+elems[i+1])
			}
			slices.Sort(kv)
			elems = kv
		}
		return "[" + strings.Join(elems, ",") + "]"
	}
	return string(v.Kind) + string(v.Str)
}
