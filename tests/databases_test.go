package tests

import (
	"github.com/redis/go-redis/v9"
	"strings"
	"testing"

	"github.com/schemaproxy/schemaproxy/internal/testutil"
)

// step is one command on one of two connections.
type step struct {
	conn int
	args []string
}

// runTwoClients sends steps over two connections to redis-server and to
// schemaproxy and requires the same replies.
func runTwoClients(t *testing.T, steps []step) {
	t.Helper()
	redis := testutil.StartRedis(t)
	p := startProxy(t)
	var ref, got [2]*testutil.Conn
	for i := 0; i < 2; i++ {
		var err error
		if ref[i], err = testutil.Dial(redis.Addr); err != nil {
			t.Fatal(err)
		}
		defer ref[i].Close()
		if got[i], err = testutil.Dial(p.Addr); err != nil {
			t.Fatal(err)
		}
		defer got[i].Close()
	}
	for i, s := range steps {
		w, err := ref[s.conn].Do(s.args...)
		if err != nil {
			t.Fatal(err)
		}
		g, err := got[s.conn].Do(s.args...)
		if err != nil {
			t.Fatal(err)
		}
		if string(w) != string(g) {
			t.Errorf("step %d (client %d) %q:\n  redis: %q\n  got:   %q", i, s.conn, strings.Join(s.args, " "), w, g)
		}
	}
}

func steps(conn int, lines ...string) []step {
	var out []step
	for _, l := range lines {
		out = append(out, step{conn, strings.Fields(l)})
	}
	return out
}

// TestSwapDBAndWatch: SWAPDB counts as touching watched keys that exist in
// either swapped database, as Redis 7.0 decides.
func TestSwapDBAndWatch(t *testing.T) {
	var s []step
	s = append(s, steps(0, "SELECT 1", "SET w one", "WATCH w")...)
	s = append(s, steps(1, "SWAPDB 0 1")...)
	s = append(s, steps(0, "MULTI", "GET w", "EXEC")...)
	// A watched key in a database not swapped is unaffected.
	s = append(s, steps(0, "SELECT 2", "SET u two", "WATCH u")...)
	s = append(s, steps(1, "SWAPDB 0 1")...)
	s = append(s, steps(0, "MULTI", "GET u", "EXEC")...)
	// Another client's write to a watched key aborts; to another database's
	// key of the same name doesn't.
	s = append(s, steps(0, "SELECT 3", "SET v 1", "WATCH v")...)
	s = append(s, steps(1, "SELECT 4", "SET v 2")...)
	s = append(s, steps(0, "MULTI", "GET v", "EXEC")...)
	s = append(s, steps(0, "WATCH v")...)
	s = append(s, steps(1, "SELECT 3", "SET v 3")...)
	s = append(s, steps(0, "MULTI", "GET v", "EXEC")...)
	// FLUSHDB of another database leaves the watch alone; of this one it doesn't.
	s = append(s, steps(0, "WATCH v")...)
	s = append(s, steps(1, "SELECT 4", "FLUSHDB")...)
	s = append(s, steps(0, "MULTI", "GET v", "EXEC")...)
	s = append(s, steps(0, "WATCH v")...)
	s = append(s, steps(1, "SELECT 3", "FLUSHDB")...)
	s = append(s, steps(0, "MULTI", "GET v", "EXEC")...)
	runTwoClients(t, s)
}

// TestInfoKeyspace: one dbN line per non-empty database.
func TestInfoKeyspace(t *testing.T) {
	p := startProxy(t)
	c := client(t, p.Addr)
	ctx := ctxT(t)
	c.Set(ctx, "a", "1", 0)
	c3 := client(t, p.Addr, func(o *redis.Options) { o.DB = 3 })
	c3.Set(ctx, "b", "1", 0)
	c3.Set(ctx, "c", "1", 0)
	info, err := c.Info(ctx, "keyspace").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := "# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\ndb3:keys=2,expires=0,avg_ttl=0\r\n"
	if info != want {
		t.Fatalf("INFO keyspace = %q, want %q", info, want)
	}
}

// TestClientListShowsDatabase: CLIENT LIST shows each client's database,
// including other clients'.
func TestClientListShowsDatabase(t *testing.T) {
	p := startProxy(t)
	ctx := ctxT(t)
	c5 := client(t, p.Addr, func(o *redis.Options) { o.DB = 5; o.ClientName = "five" })
	if err := c5.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	c0 := client(t, p.Addr)
	list, err := c0.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(list, "name=five") || !strings.Contains(list, "db=5") {
		t.Fatalf("CLIENT LIST does not show the other client's name and db:\n%s", list)
	}
	info, err := c5.ClientInfo(ctx).Result()
	if err != nil || info.DB != 5 {
		t.Fatalf("CLIENT INFO of a db-5 client: %+v, %v", info, err)
	}
}
