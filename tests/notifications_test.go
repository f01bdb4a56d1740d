package tests

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// nextEvent returns the next keyevent message as "event key", within 10 s.
func nextEvent(t *testing.T, sub *redis.PubSub) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := sub.ReceiveMessage(ctx)
	if err != nil {
		t.Fatalf("waiting for a keyspace event: %v", err)
	}
	return strings.TrimPrefix(m.Channel, "__keyevent@0__:") + " " + m.Payload
}

// TestKeyspaceNotifications: the events of the store itself (a key that
// expires, keys evicted under maxmemory), none for a transaction that did
// not run, and each key's events in the order of its changes across a
// cross-shard MULTI.
func TestKeyspaceNotifications(t *testing.T) {
	p := startProxy(t, "--notify-keyspace-events", "Ehgxe$")
	c := client(t, p.Addr)
	ctx := ctxT(t)
	sub := c.PSubscribe(ctx, "__keyevent@0__:*")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := c.ConfigGet(ctx, "notify-keyspace-events").Result(); err != nil || got["notify-keyspace-events"] != "g$hxeE" {
		t.Fatalf("CONFIG GET notify-keyspace-events = %v, %v", got, err)
	}

	// A key that expires: active expiry finds it.
	if err := c.Set(ctx, "soon", "v", 50*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"set soon", "expire soon", "expired soon"} {
		if got := nextEvent(t, sub); got != want {
			t.Fatalf("event %q, want %q", got, want)
		}
	}

	// A WATCH that fails: the transaction fires nothing.
	if err := c.Set(ctx, "w", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got := nextEvent(t, sub); got != "set w" {
		t.Fatalf("event %q", got)
	}
	err := c.Watch(ctx, func(tx *redis.Tx) error {
		if err := c.Set(ctx, "w", "2", 0).Err(); err != nil {
			return err
		}
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "w", "3", 0)
			p.HSet(ctx, "h", "f", "v")
			return nil
		})
		return err
	}, "w")
	if err != redis.TxFailedErr {
		t.Fatalf("EXEC after a changed WATCH: %v", err)
	}
	if err := c.Set(ctx, "marker", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"set w", "set marker"} {
		if got := nextEvent(t, sub); got != want {
			t.Fatalf("event %q, want %q (the failed EXEC must fire nothing)", got, want)
		}
	}

	// A MULTI over keys of several shards: each key's events in order.
	keys := accountsOnShards("ev", 2, 4)
	_, err = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Set(ctx, k, "1", 0)
			p.HSet(ctx, k+":h", "f", "v")
			p.Del(ctx, k)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string][]string{}
	for range 3 * len(keys) {
		ev := nextEvent(t, sub)
		name, key, _ := strings.Cut(ev, " ")
		key = strings.TrimSuffix(key, ":h")
		seen[key] = append(seen[key], name)
	}
	for _, k := range keys {
		if got := strings.Join(seen[k], ","); got != "set,hset,del" && got != "set,del,hset" && got != "hset,set,del" {
			t.Errorf("events of %s: %s", k, got)
		}
		if i, j := slices.Index(seen[k], "set"), slices.Index(seen[k], "del"); i > j {
			t.Errorf("events of %s out of order: %v", k, seen[k])
		}
	}

	// Evictions under maxmemory.
	if err := c.ConfigSet(ctx, "maxmemory-policy", "allkeys-random").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "notify-keyspace-events", "Ee").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "maxmemory", "100kb").Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2000; i++ {
		if err := c.Set(ctx, fmt.Sprintf("fill:%d", i), strings.Repeat("x", 100), 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// allkeys-random may take the MULTI's hashes (ev:*:h) as well as the fill.
	if got := nextEvent(t, sub); !strings.HasPrefix(got, "evicted fill:") && !strings.HasPrefix(got, "evicted ev:") {
		t.Fatalf("event %q, want an eviction", got)
	}
}

// TestKeyspaceNotificationsRedisBackends: over Redis backends the
// backends' own events reach the clients of every proxy, each key's in
// order, with the proxy's metadata left out.
func TestKeyspaceNotificationsRedisBackends(t *testing.T) {
	ctx := ctxT(t)
	_, urls := startBackends(t, 3)
	a := startProxy(t, append(backendArgs(urls), "--notify-keyspace-events", "KEA")...)
	b := startProxy(t, backendArgs(urls)...)
	ca, cb := client(t, a.Addr), client(t, b.Addr)
	sub := cb.PSubscribe(ctx, "__keyevent@0__:*")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	keys := accountsOnShards("evb", 2, 3)
	_, err := ca.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Set(ctx, k, "1", 0)
			p.Incr(ctx, k)
			p.Expire(ctx, k, time.Hour)
			p.Del(ctx, k)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string][]string{}
	for range 4 * len(keys) {
		name, key, _ := strings.Cut(nextEvent(t, sub), " ")
		if strings.HasPrefix(key, "__sp:") {
			t.Fatalf("an event of the proxy's metadata: %s %s", name, key)
		}
		seen[key] = append(seen[key], name)
	}
	for _, k := range keys {
		if got := strings.Join(seen[k], ","); got != "set,incrby,expire,del" {
			t.Errorf("events of %s: %s", k, got)
		}
	}
}
