package redis

import (
	"context"
	"fmt"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// Keyspace notifications over Redis backends: each backend fires its own
// (notify-keyspace-events is set on it), and every proxy subscribes to
// them and hands them to its clients, leaving out the events of the
// proxy's metadata (keys under the reserved prefix). Each proxy hears
// every backend, so each client hears each event once, whichever proxy it
// is connected to; a key's events come from its one backend, in order.

// Events follows a backend's keyspace events.
type Events struct {
	s       *Shard
	client  *goredis.Client
	sub     *goredis.PubSub
	stop    context.CancelFunc
	started bool
	done    chan struct{}
}

// SetNotify sets the backend's notify-keyspace-events (Redis's letters).
func (s *Shard) SetNotify(ctx context.Context, flags string) error {
	return s.with(ctx, 2, 0, func(c *conn) error {
		rs, err := c.do(ctx, [][]byte{[]byte("CONFIG"), []byte("SET"), []byte("notify-keyspace-events"), []byte(flags)})
		if err == nil && len(rs[0]) > 0 && rs[0][0] == '-' {
			err = fmt.Errorf("%s", strings.TrimSpace(string(rs[0][1:])))
		}
		if err != nil {
			return fmt.Errorf("backend %s: CONFIG SET notify-keyspace-events: %w", s.addr, err)
		}
		return nil
	})
}

// SubscribeEvents forwards the backend's keyspace events to deliver
// (channel, message) until Close, through a connection of its own that
// resubscribes after the backend comes back. An error says the first
// subscription failed; the forwarding goes on, and subscribes once the
// backend answers.
func (s *Shard) SubscribeEvents(ctx context.Context, deliver func(channel, message []byte)) (*Events, error) {
	c := s.Client()
	ev := &Events{s: s, client: c, done: make(chan struct{})}
	runCtx, stop := context.WithCancel(context.Background())
	ev.stop = stop
	ev.sub = c.PSubscribe(runCtx, "__keyspace@*__:*", "__keyevent@*__:*")
	_, err := ev.sub.Receive(ctx)
	if err != nil {
		err = fmt.Errorf("backend %s: PSUBSCRIBE: %w", s.addr, err)
	}
	ev.started = true
	go ev.forward(runCtx, deliver)
	return ev, err
}

func (ev *Events) forward(ctx context.Context, deliver func(channel, message []byte)) {
	defer close(ev.done)
	ch := ev.sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			if metadataEvent(m.Channel, m.Payload) {
				continue
			}
			deliver([]byte(m.Channel), []byte(m.Payload))
		}
	}
}

// metadataEvent reports whether an event is about the proxy's own keys.
func metadataEvent(channel, payload string) bool {
	if strings.HasPrefix(channel, "__keyspace@") {
		if i := strings.Index(channel, "__:"); i >= 0 {
			return strings.HasPrefix(channel[i+3:], metaPrefix)
		}
		return false
	}
	return strings.HasPrefix(payload, metaPrefix)
}

// Close stops forwarding.
func (ev *Events) Close() {
	if ev == nil {
		return
	}
	ev.stop()
	ev.sub.Close()
	ev.client.Close()
	if ev.started {
		<-ev.done
	}
}
