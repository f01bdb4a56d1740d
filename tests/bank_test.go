package tests

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/schemaproxy/schemaproxy/cluster"
)

// accountsOnShards returns n account keys spread over every shard.
func accountsOnShards(prefix string, n, shards int) []string {
	m := cluster.NewSlotMap(shards)
	var keys []string
	used := map[int]int{}
	for i := 0; len(keys) < n; i++ {
		k := fmt.Sprintf("%s:%d", prefix, i)
		s := m.ShardOf([]byte(k))
		if used[s] > n/shards {
			continue
		}
		used[s]++
		keys = append(keys, k)
	}
	return keys
}

// bank is a load that moves money between accounts while an auditor
// reads the total over and over: the total must never change.
type bank struct {
	accounts           []string
	workers, transfers int
	// stream is the workers' random stream: worker w draws from PCG(w, stream).
	stream uint64
	// transfer moves a random amount from one account to the other and
	// says how many transfers it committed.
	transfer func(ctx context.Context, rnd *rand.Rand, from, to string) (int64, error)
	// audit reads the total, the i-th time; it runs beside the transfers.
	audit func(ctx context.Context, i int) (int64, error)
	// name starts its messages ("db 3").
	name string
}

// run sets every account to 100, runs the transfers and the auditor, checks
// the totals, and returns the number of committed transfers.
func (b bank) run(t *testing.T, c *redis.Client) int64 {
	ctx := ctxT(t)
	const initial = 100
	for _, a := range b.accounts {
		if err := c.Set(ctx, a, initial, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	want := int64(initial * len(b.accounts))
	var committed atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, b.workers+1)
	stop := make(chan struct{})
	for w := 0; w < b.workers; w++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(seed, b.stream))
			for i := 0; i < b.transfers; i++ {
				from := b.accounts[rnd.IntN(len(b.accounts))]
				to := b.accounts[rnd.IntN(len(b.accounts))]
				if from == to {
					continue
				}
				n, err := b.transfer(ctx, rnd, from, to)
				if err != nil {
					errs <- err
					return
				}
				committed.Add(n)
			}
		}(uint64(w))
	}
	audits := 0
	auditDone := make(chan struct{})
	go func() {
		defer close(auditDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			sum, err := b.audit(ctx, audits)
			if err != nil {
				errs <- err
				return
			}
			if sum != want {
				errs <- fmt.Errorf("%s: audit %d saw total %d, want %d", b.name, audits, sum, want)
				return
			}
			audits++
		}
	}()
	wg.Wait()
	close(stop)
	<-auditDone
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if sum := sumAccounts(t, ctx, c, b.accounts); sum != want {
		t.Fatalf("%s: final total %d, want %d", b.name, sum, want)
	}
	t.Logf("%s: %d transfers committed, %d audits", b.name, committed.Load(), audits)
	return committed.Load()
}

// auditMulti reads every balance in one MULTI and adds them up.
func auditMulti(ctx context.Context, c *redis.Client, accounts []string) (int64, error) {
	cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, a := range accounts {
			p.Get(ctx, a)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("audit: %w", err)
	}
	var sum int64
	for _, cmd := range cmds {
		n, _ := cmd.(*redis.StringCmd).Int64()
		sum += n
	}
	return sum, nil
}

func sumAccounts(t *testing.T, ctx context.Context, c *redis.Client, accounts []string) int64 {
	t.Helper()
	var sum int64
	for _, a := range accounts {
		n, err := c.Get(ctx, a).Int64()
		if err != nil {
			t.Fatal(err)
		}
		sum += n
	}
	return sum
}

// runBank moves money between accounts on different shards with
// WATCH/GET/MULTI/SET/EXEC while an auditor reads every balance in one
// MULTI; the total must never change. It returns the number of committed
// transfers.
func runBank(t *testing.T, c *redis.Client, db int, accounts []string, workers, transfers int) int64 {
	transfer := func(ctx context.Context, rnd *rand.Rand, from, to string) (int64, error) {
		amount := int64(rnd.IntN(20) + 1)
		for {
			err := c.Watch(ctx, func(tx *redis.Tx) error {
				fb, err := tx.Get(ctx, from).Int64()
				if err != nil {
					return err
				}
				tb, err := tx.Get(ctx, to).Int64()
				if err != nil {
					return err
				}
				if fb < amount {
					return nil
				}
				_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Set(ctx, from, fb-amount, 0)
					p.Set(ctx, to, tb+amount, 0)
					return nil
				})
				return err
			}, from, to)
			if errors.Is(err, redis.TxFailedErr) {
				continue
			}
			if err != nil {
				return 0, err
			}
			return 1, nil
		}
	}
	audit := func(ctx context.Context, _ int) (int64, error) { return auditMulti(ctx, c, accounts) }
	return bank{accounts: accounts, workers: workers, transfers: transfers, stream: 1,
		transfer: transfer, audit: audit, name: fmt.Sprintf("db %d", db)}.run(t, c)
}

func TestBankTransfers(t *testing.T) {
	p := startProxy(t)
	accounts := accountsOnShards("acct", 8, 4)
	c := client(t, p.Addr)
	if n := runBank(t, c, 0, accounts, 8, 150); n == 0 {
		t.Fatal("no transfer committed")
	}
}

// TestBankTwoDatabases runs the bank in databases 0 and 3 at once with the
// same key names: both totals must hold.
func TestBankTwoDatabases(t *testing.T) {
	p := startProxy(t)
	accounts := accountsOnShards("acct", 6, 4)
	var wg sync.WaitGroup
	for _, db := range []int{0, 3} {
		c := client(t, p.Addr, func(o *redis.Options) { o.DB = db })
		wg.Add(1)
		go func(db int, c *redis.Client) {
			defer wg.Done()
			t.Run(fmt.Sprintf("db%d", db), func(t *testing.T) { runBank(t, c, db, accounts, 4, 100) })
		}(db, c)
	}
	wg.Wait()
}

// TestConcurrentIncrInMulti: increments inside MULTI across shards; the
// final sum equals the acknowledged increments.
func TestConcurrentIncrInMulti(t *testing.T) {
	p := startProxy(t)
	c := client(t, p.Addr)
	ctx := ctxT(t)
	keys := accountsOnShards("ctr", 4, 4)
	var acked atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				a, b := keys[(w+i)%len(keys)], keys[(w+i+1)%len(keys)]
				_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Incr(ctx, a)
					p.IncrBy(ctx, b, 2)
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				acked.Add(3)
			}
		}(w)
	}
	wg.Wait()
	var sum int64
	for _, k := range keys {
		n, err := c.Get(ctx, k).Int64()
		if err != nil {
			t.Fatal(err)
		}
		sum += n
	}
	if sum != acked.Load() {
		t.Fatalf("sum %d, acknowledged %d", sum, acked.Load())
	}
}

// TestBankWithWholeDatabaseCommands: whole-database commands (which quiesce
// every shard) interleave with cross-shard transfers without deadlock, and
// see a consistent database: DBSIZE and KEYS always count every account,
// and the total holds.
func TestBankWithWholeDatabaseCommands(t *testing.T) {
	p := startProxy(t)
	accounts := accountsOnShards("acct", 8, 4)
	c := client(t, p.Addr)
	ctx := ctxT(t)
	other := client(t, p.Addr, func(o *redis.Options) { o.DB = 5 })
	for _, a := range accounts {
		// Created before the checks start; runBank sets the same balance.
		if err := c.Set(ctx, a, 100, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		defer close(errs)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var err error
			switch i % 4 {
			case 0:
				var n int64
				if n, err = c.DBSize(ctx).Result(); err == nil && n != int64(len(accounts)) {
					err = fmt.Errorf("DBSIZE %d during transfers, want %d", n, len(accounts))
				}
			case 1:
				var keys []string
				if keys, err = c.Keys(ctx, "acct:*").Result(); err == nil && len(keys) != len(accounts) {
					err = fmt.Errorf("KEYS saw %d accounts", len(keys))
				}
			case 2:
				err = other.Set(ctx, "x", i, 0).Err()
			case 3:
				err = other.FlushDB(ctx).Err()
			}
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	runBank(t, c, 0, accounts, 6, 100)
	close(stop)
	for err := range errs {
		t.Fatal(err)
	}
}
