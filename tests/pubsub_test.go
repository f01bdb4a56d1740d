package tests

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/schemaproxy/schemaproxy/internal/testutil"
)

// TestPubSubGoRedis drives go-redis's Pub/Sub client, over RESP2 and
// RESP3, against a redis-server and a schemaproxy side by side: what the
// client observes must be the same on both.
func TestPubSubGoRedis(t *testing.T) {
	ref := testutil.StartRedis(t)
	p := startProxy(t)
	for _, proto := range []int{2, 3} {
		want := pubsubTranscript(t, ref.Addr, proto)
		got := pubsubTranscript(t, p.Addr, proto)
		if want != got {
			t.Errorf("RESP%d: go-redis saw different things\nredis-server:\n%s\nschemaproxy:\n%s", proto, want, got)
		}
	}
}

// pubsubTranscript runs a fixed Pub/Sub session with go-redis against addr
// and writes down what the client observed.
func pubsubTranscript(t *testing.T, addr string, proto int) string {
	t.Helper()
	ctx := ctxT(t)
	opts := func(o *redis.Options) { o.Protocol = proto }
	pub := client(t, addr, opts)
	sub := client(t, addr, opts)
	var b strings.Builder
	note := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }

	ps := sub.Subscribe(ctx, "news", "sport")
	defer ps.Close()
	for i := 0; i < 2; i++ {
		v, err := ps.Receive(ctx)
		note("receive %v %v", v, err)
	}
	if err := ps.PSubscribe(ctx, "n*"); err != nil {
		t.Fatal(err)
	}
	v, err := ps.Receive(ctx)
	note("receive %v %v", v, err)
	if err := ps.SSubscribe(ctx, "shard"); err != nil {
		t.Fatal(err)
	}
	v, err = ps.Receive(ctx)
	note("receive %v %v", v, err)

	note("publish %v", pub.Publish(ctx, "news", "hello").Val())
	note("spublish %v", pub.SPublish(ctx, "shard", "s1").Val())
	note("numsub %v", pub.PubSubNumSub(ctx, "news", "sport", "none").Val())
	note("numpat %v", pub.PubSubNumPat(ctx).Val())
	note("shardnumsub %v", pub.PubSubShardNumSub(ctx, "shard").Val())
	chans := pub.PubSubChannels(ctx, "*").Val()
	note("channels %d", len(chans))
	for i := 0; i < 3; i++ {
		m, err := ps.ReceiveMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		note("message channel=%s pattern=%s payload=%s", m.Channel, m.Pattern, m.Payload)
	}
	if err := ps.Ping(ctx, "hi"); err != nil {
		t.Fatal(err)
	}
	v, err = ps.Receive(ctx)
	note("ping %v %v", v, err)

	// MULTI on the publisher: its messages only if EXEC runs.
	_, err = pub.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Publish(ctx, "sport", "goal")
		p.Set(ctx, "k", "v", 0)
		p.Publish(ctx, "sport", "final")
		return nil
	})
	note("exec %v", err)
	for i := 0; i < 2; i++ {
		m, err := ps.ReceiveMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		note("message channel=%s payload=%s", m.Channel, m.Payload)
	}

	if err := ps.Unsubscribe(ctx, "sport"); err != nil {
		t.Fatal(err)
	}
	v, err = ps.Receive(ctx)
	note("receive %v %v", v, err)
	note("publish %v", pub.Publish(ctx, "sport", "unheard").Val())
	ps.Close()
	// The server notices the closed connection on its own time.
	waitUntil(t, func() bool { return pub.PubSubNumSub(ctx, "news").Val()["news"] == 0 })
	note("after close numsub %v numpat %v", pub.PubSubNumSub(ctx, "news").Val(), pub.PubSubNumPat(ctx).Val())
	return b.String()
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for the server")
		}
		time.Sleep(5 * time.Millisecond) // polling a process we do not control
	}
}

// TestPubSubManyClients: go-redis subscribers and publishers at once on a
// schemaproxy process; every subscriber receives every message once, each
// publisher's in order, and the subscriptions are gone once they close.
func TestPubSubManyClients(t *testing.T) {
	p := startProxy(t)
	ctx := ctxT(t)
	const subs, pubs, per = 10, 5, 200
	admin := client(t, p.Addr)
	type sub struct {
		ps *redis.PubSub
		ch <-chan *redis.Message
	}
	ss := make([]sub, subs)
	for i := range ss {
		c := client(t, p.Addr, func(o *redis.Options) { o.Protocol = 2 + i%2 })
		var ps *redis.PubSub
		if i%2 == 0 {
			ps = c.Subscribe(ctx, "events")
		} else {
			ps = c.PSubscribe(ctx, "ev*")
		}
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		ss[i] = sub{ps, ps.Channel(redis.WithChannelSize(pubs * per))}
	}
	var wg sync.WaitGroup
	for w := 0; w < pubs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := client(t, p.Addr)
			for i := 0; i < per; i++ {
				n, err := c.Publish(ctx, "events", fmt.Sprintf("%d:%d", w, i)).Result()
				if err != nil || n != subs {
					t.Errorf("publish: %d receivers, %v", n, err)
					return
				}
			}
		}()
	}
	for i, s := range ss {
		next := make([]int, pubs)
		for n := 0; n < pubs*per; n++ {
			var m *redis.Message
			select {
			case m = <-s.ch:
			case <-ctx.Done():
				t.Fatalf("subscriber %d: %d of %d messages", i, n, pubs*per)
			}
			var w, k int
			if _, err := fmt.Sscanf(m.Payload, "%d:%d", &w, &k); err != nil || k != next[w] {
				t.Fatalf("subscriber %d: %q when %d:%d was due", i, m.Payload, w, next[w])
			}
			next[w]++
		}
	}
	wg.Wait()
	for _, s := range ss {
		s.ps.Close()
	}
	waitUntil(t, func() bool {
		return admin.PubSubNumSub(ctx, "events").Val()["events"] == 0 && admin.PubSubNumPat(ctx).Val() == 0
	})
	if list := admin.ClientList(ctx).Val(); strings.Contains(list, "flags=P") {
		t.Fatalf("a subscriber is left:\n%s", list)
	}
}

// TestPubSubOutputLimit: --pubsub-output-limit cuts a subscriber that
// stops reading, while one that reads keeps every message; CONFIG GET
// shows the limit as Redis does.
func TestPubSubOutputLimit(t *testing.T) {
	p := startProxy(t, "--pubsub-output-limit", "1mb 0 0")
	ctx := ctxT(t)
	admin := client(t, p.Addr)
	if got := admin.ConfigGet(ctx, "client-output-buffer-limit").Val()["client-output-buffer-limit"]; !strings.HasSuffix(got, "pubsub 1048576 0 0") {
		t.Fatalf("CONFIG GET client-output-buffer-limit: %q", got)
	}
	slow, err := testutil.Dial(p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := slow.Do("SUBSCRIBE", "feed"); err != nil {
		t.Fatal(err)
	}
	fast := client(t, p.Addr).Subscribe(ctx, "feed")
	defer fast.Close()
	if _, err := fast.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := fast.Channel(redis.WithChannelSize(8192))
	payload := strings.Repeat("m", 64<<10)
	// Each message is read by the reading subscriber before the next is
	// published, so that only the other one falls behind, however slowly
	// the machine runs.
	sent := 0
	for ; sent < 4096; sent++ {
		n, err := admin.Publish(ctx, "feed", payload).Result()
		if err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-msgs:
			if len(m.Payload) != len(payload) {
				t.Fatalf("message %d: %d bytes", sent, len(m.Payload))
			}
		case <-ctx.Done():
			t.Fatalf("the reading subscriber did not get message %d", sent)
		}
		if n == 1 {
			break // the slow subscriber is gone
		}
	}
	if sent == 4096 {
		t.Fatal("the slow subscriber was never cut off")
	}
}
