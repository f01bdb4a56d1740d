package tests

import (
	"fmt"
	"sort"
	"testing"

	"github.com/schemaproxy/schemaproxy/internal/difftest"
	"github.com/schemaproxy/schemaproxy/internal/testutil"
)

// TestDifferential replays every corpus (the data-type corpora of the
// keyspace package and the connection/transaction corpora here) against a
// real redis-server and against schemaproxy, requiring identical replies.
func TestDifferential(t *testing.T) { runDifferential(t, 2) }

// TestDifferentialRESP3 replays the same corpora after HELLO 3, so maps,
// sets, doubles and nulls are compared in their RESP3 forms too.
func TestDifferentialRESP3(t *testing.T) { runDifferential(t, 3) }

// TestDifferentialRedisBackends replays them through schemaproxy in front
// of three redis-servers: the replies must still be a single Redis's.
func TestDifferentialRedisBackends(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			_, urls := startBackends(t, 3)
			// Keyspace notifications exist on the embedded store only.
			runDifferentialExcept(t, proto, []string{"notifications.txt"}, backendArgs(urls)...)
		})
	}
}

// loadCorpora reads every differential corpus: the data-type corpora of
// the keyspace package and the connection/transaction corpora here.
func loadCorpora(t *testing.T) map[string][]difftest.Group {
	corpora := map[string][]difftest.Group{}
	for _, dir := range []string{"../keyspace/testdata/diff", "testdata/diff"} {
		c, err := difftest.ParseDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range c {
			corpora[k] = v
		}
	}
	return corpora
}

func runDifferential(t *testing.T, proto int, proxyArgs ...string) {
	runDifferentialExcept(t, proto, nil, proxyArgs...)
}

// runDifferentialExcept is runDifferential without the corpora named.
func runDifferentialExcept(t *testing.T, proto int, except []string, proxyArgs ...string) {
	corpora := loadCorpora(t)
	for _, name := range except {
		delete(corpora, name)
	}
	ref, got := referencePair(t, proxyArgs...)
	refD, gotD := dialing{ref, proto}, dialing{got, proto}
	names := make([]string, 0, len(corpora))
	for n := range corpora {
		names = append(names, n)
	}
	sort.Strings(names)
	total := 0
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			total += difftest.Run(t, corpora[name], refD, gotD, func() {
				for _, c := range []*testutil.Conn{ref, got} {
					// A group may leave the connection subscribed, with
					// messages unread.
					if err := resetConn(c); err != nil {
						t.Fatal(err)
					}
					for _, cmd := range [][]string{{"FLUSHALL"}, {"FUNCTION", "FLUSH"}, {"CONFIG", "SET", "notify-keyspace-events", ""}, {"SELECT", "0"}, {"HELLO", fmt.Sprint(proto)}} {
						if _, err := c.Do(cmd...); err != nil {
							t.Fatal(err)
						}
					}
				}
			})
		})
	}
	t.Logf("%d commands compared across %d corpora", total, len(names))
}

// dialing is a corpus's main connection that opens more to the same
// server, in the same protocol, for corpora with several clients.
type dialing struct {
	*testutil.Conn
	proto int
}

func (d dialing) Dial() (difftest.Client, error) {
	c, err := testutil.Dial(d.Addr())
	if err != nil {
		return nil, err
	}
	if _, err := c.Do("HELLO", fmt.Sprint(d.proto)); err != nil {
		c.Close()
		return nil, err
	}
	return extraClient{c}, nil
}

// extraClient is a further client of a corpus group.
type extraClient struct{ *testutil.Conn }

// Close ends the client's subscriptions first: a server notices a closed
// socket only some time later, and the next group must not see them.
func (c extraClient) Close() error {
	_ = resetConn(c.Conn)
	return c.Conn.Close()
}

// resetConn sends RESET and reads up to its reply, skipping the messages
// and replies still unread before it.
func resetConn(c *testutil.Conn) error {
	if err := c.WriteRaw([]byte("*1\r\n$5\r\nRESET\r\n")); err != nil {
		return err
	}
	for {
		r, err := c.ReadReply()
		if err != nil {
			return err
		}
		if string(r) == "+RESET\r\n" {
			return nil
		}
	}
}
