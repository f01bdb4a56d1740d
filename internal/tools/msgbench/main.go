// Command msgbench measures messaging on a Redis-protocol server and
// prints one line of name=value fields. scripts/bench.sh runs it against
// schemaproxy and a redis-server in one run.
//
// Modes:
//
//	fanout  one publisher, -subscribers subscribers of one channel: messages
//	        delivered per second (every subscriber must get every message,
//	        in order)
//	queue   -clients producers LPUSH jobs that as many consumers take with
//	        BLPOP: round trips per second, and the latency from LPUSH to
//	        BLPOP's return
//	stream  -clients producers XADD to a stream that a consumer group of
//	        -clients consumers reads with XREADGROUP BLOCK and XACKs:
//	        entries acknowledged per second
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

type config struct {
	addr        string
	name        string
	mode        string
	clients     int
	subscribers int
	duration    time.Duration
	prefix      string
}

func main() {
	var c config
	flag.StringVar(&c.addr, "addr", "127.0.0.1:7000", "server address")
	flag.StringVar(&c.name, "name", "server", "label for the report")
	flag.StringVar(&c.mode, "mode", "fanout", "fanout, queue or stream")
	flag.IntVar(&c.clients, "clients", 10, "producers and consumers (queue, stream)")
	flag.IntVar(&c.subscribers, "subscribers", 50, "subscribers (fanout)")
	flag.DurationVar(&c.duration, "duration", 5*time.Second, "how long to produce")
	flag.StringVar(&c.prefix, "prefix", "msgb:", "key and channel prefix")
	flag.Parse()
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: c.addr, PoolSize: 2*c.clients + c.subscribers + 4})
	defer client.Close()
	var err error
	switch c.mode {
	case "fanout":
		err = fanout(ctx, c, client)
	case "queue":
		err = queue(ctx, c, client)
	case "stream":
		err = stream(ctx, c, client)
	default:
		err = fmt.Errorf("unknown -mode %q", c.mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "msgbench:", err)
		os.Exit(1)
	}
}

// fanout publishes for c.duration and counts what every subscriber got.
func fanout(ctx context.Context, c config, client *redis.Client) error {
	channel := c.prefix + "fanout"
	subs := make([]*redis.PubSub, c.subscribers)
	for i := range subs {
		subs[i] = client.Subscribe(ctx, channel)
		if _, err := subs[i].Receive(ctx); err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
		defer subs[i].Close()
	}
	const last = "end"
	got := make([]int64, c.subscribers)
	errs := make([]error, c.subscribers)
	var wg sync.WaitGroup
	for i, s := range subs {
		wg.Go(func() {
			next := int64(0)
			for {
				m, err := s.ReceiveMessage(ctx)
				if err != nil {
					errs[i] = err
					return
				}
				if m.Payload == last {
					got[i] = next
					return
				}
				if n, _ := strconv.ParseInt(m.Payload, 10, 64); n != next {
					errs[i] = fmt.Errorf("subscriber %d got message %d, want %d", i, n, next)
					return
				}
				next++
			}
		})
	}
	began := time.Now()
	var sent int64
	for time.Since(began) < c.duration {
		// Pipelines of 100, as a busy publisher sends them.
		p := client.Pipeline()
		for range 100 {
			p.Publish(ctx, channel, strconv.FormatInt(sent, 10))
			sent++
		}
		if _, err := p.Exec(ctx); err != nil {
			return err
		}
	}
	if err := client.Publish(ctx, channel, last).Err(); err != nil {
		return err
	}
	wg.Wait()
	elapsed := time.Since(began)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var delivered int64
	for _, n := range got {
		if n != sent {
			return fmt.Errorf("a subscriber got %d messages of %d", n, sent)
		}
		delivered += n
	}
	fmt.Printf("%s mode=fanout subscribers=%d published=%d published/s=%.0f delivered/s=%.0f\n",
		c.name, c.subscribers, sent, float64(sent)/elapsed.Seconds(), float64(delivered)/elapsed.Seconds())
	return nil
}

// queue runs producers and BLPOP consumers for c.duration.
func queue(ctx context.Context, c config, client *redis.Client) error {
	key := c.prefix + "queue"
	if err := client.Del(ctx, key).Err(); err != nil {
		return err
	}
	var stop atomic.Bool
	var produced atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	errs := make([]error, 2*c.clients)
	var producers, consumers sync.WaitGroup
	for i := range c.clients {
		consumers.Go(func() {
			var mine []time.Duration
			defer func() { mu.Lock(); lat = append(lat, mine...); mu.Unlock() }()
			for {
				v, err := client.BLPop(ctx, 0, key).Result()
				if err != nil {
					errs[i] = err
					return
				}
				if v[1] == "stop" {
					return
				}
				sentAt, _ := strconv.ParseInt(v[1], 10, 64)
				mine = append(mine, time.Since(time.Unix(0, sentAt)))
			}
		})
		producers.Go(func() {
			for !stop.Load() {
				if err := client.LPush(ctx, key, strconv.FormatInt(time.Now().UnixNano(), 10)).Err(); err != nil {
					errs[c.clients+i] = err
					return
				}
				produced.Add(1)
			}
		})
	}
	began := time.Now()
	time.Sleep(c.duration)
	stop.Store(true)
	producers.Wait()
	// RPUSH puts the stops behind what is left (consumers pop the left).
	for range c.clients {
		if err := client.RPush(ctx, key, "stop").Err(); err != nil {
			return err
		}
	}
	consumers.Wait()
	elapsed := time.Since(began)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if int64(len(lat)) != produced.Load() {
		return fmt.Errorf("consumers took %d jobs of %d", len(lat), produced.Load())
	}
	slices.Sort(lat)
	fmt.Printf("%s mode=queue clients=%d jobs=%d jobs/s=%.0f p50=%.2fms p99=%.2fms\n", c.name, c.clients, len(lat),
		float64(len(lat))/elapsed.Seconds(), ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]))
	return nil
}

// stream runs XADD producers and a consumer group for c.duration.
func stream(ctx context.Context, c config, client *redis.Client) error {
	key, group := c.prefix+"stream", "g"
	if err := client.Del(ctx, key).Err(); err != nil {
		return err
	}
	if err := client.XGroupCreateMkStream(ctx, key, group, "0").Err(); err != nil {
		return err
	}
	var stop atomic.Bool
	var produced, acked atomic.Int64
	errs := make([]error, 2*c.clients)
	var producers, consumers sync.WaitGroup
	for i := range c.clients {
		consumers.Go(func() {
			name := "c" + strconv.Itoa(i)
			for {
				res, err := client.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: name,
					Streams: []string{key, ">"}, Count: 10, Block: 100 * time.Millisecond}).Result()
				if errors.Is(err, redis.Nil) {
					if stop.Load() && acked.Load() == produced.Load() {
						return
					}
					continue
				}
				if err != nil {
					errs[i] = err
					return
				}
				var ids []string
				for _, m := range res[0].Messages {
					ids = append(ids, m.ID)
				}
				if err := client.XAck(ctx, key, group, ids...).Err(); err != nil {
					errs[i] = err
					return
				}
				acked.Add(int64(len(ids)))
			}
		})
		producers.Go(func() {
			for !stop.Load() {
				if err := client.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []string{"job", "x"}}).Err(); err != nil {
					errs[c.clients+i] = err
					return
				}
				produced.Add(1)
			}
		})
	}
	began := time.Now()
	time.Sleep(c.duration)
	stop.Store(true)
	producers.Wait()
	consumers.Wait()
	elapsed := time.Since(began)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	pending, err := client.XPending(ctx, key, group).Result()
	if err != nil {
		return err
	}
	if pending.Count != 0 || acked.Load() != produced.Load() {
		return fmt.Errorf("%d entries added, %d acknowledged, %d pending", produced.Load(), acked.Load(), pending.Count)
	}
	fmt.Printf("%s mode=stream clients=%d entries=%d acked/s=%.0f\n", c.name, c.clients, acked.Load(),
		float64(acked.Load())/elapsed.Seconds())
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
