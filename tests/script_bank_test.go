package tests

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// transferDeclared moves ARGV[1] from KEYS[1] to KEYS[2] if KEYS[1] holds
// enough: it branches on what it read, which MULTI cannot.
var transferDeclared = redis.NewScript(`
local from = tonumber(redis.call('get', KEYS[1]))
local to = tonumber(redis.call('get', KEYS[2]))
local amount = tonumber(ARGV[1])
if from < amount then return 0 end
redis.call('set', KEYS[1], from - amount)
redis.call('set', KEYS[2], to + amount)
return 1
`)

// transferUndeclared reads and writes the destination account, ARGV[1],
// without declaring it as a key.
var transferUndeclared = redis.NewScript(`
local from = tonumber(redis.call('get', KEYS[1]))
local to = tonumber(redis.call('get', ARGV[1]))
local amount = tonumber(ARGV[2])
if from < amount then return 0 end
redis.call('set', KEYS[1], from - amount)
redis.call('set', ARGV[1], to + amount)
return 1
`)

// auditScript sums every account named in ARGV, read-only.
var auditScript = redis.NewScript(`#!lua flags=no-writes
local sum = 0
for _, k in ipairs(ARGV) do sum = sum + tonumber(redis.call('get', k)) end
return sum
`)

// runScriptBank moves money with one EVAL per transfer while an auditor
// sums every balance, alternately with MULTI and with a read-only script:
// the total must never change. It returns the committed transfers.
func runScriptBank(t *testing.T, c *redis.Client, accounts []string, workers, transfers int, undeclared bool) int64 {
	names := make([]any, len(accounts))
	for i, a := range accounts {
		names[i] = a
	}
	transfer := func(ctx context.Context, rnd *rand.Rand, from, to string) (int64, error) {
		amount := rnd.IntN(30) + 1
		if undeclared {
			return transferUndeclared.Run(ctx, c, []string{from}, to, amount).Int64()
		}
		return transferDeclared.Run(ctx, c, []string{from, to}, amount).Int64()
	}
	audit := func(ctx context.Context, i int) (int64, error) {
		if i%2 == 1 {
			return auditMulti(ctx, c, accounts)
		}
		n, err := auditScript.Run(ctx, c, nil, names...).Int64()
		if err != nil {
			return 0, fmt.Errorf("audit script: %w", err)
		}
		return n, nil
	}
	return bank{accounts: accounts, workers: workers, transfers: transfers, stream: 2,
		transfer: transfer, audit: audit, name: "scripts"}.run(t, c)
}

// TestScriptBankDeclared: transfers as one EVAL over accounts on different
// shards, declared as keys.
func TestScriptBankDeclared(t *testing.T) {
	p := startProxy(t)
	c := client(t, p.Addr)
	if n := runScriptBank(t, c, accountsOnShards("acct", 8, 4), 6, 150, false); n == 0 {
		t.Fatal("no transfer committed")
	}
}

// TestScriptBankUndeclared: the script reads and writes an account it did
// not declare, on another shard.
func TestScriptBankUndeclared(t *testing.T) {
	p := startProxy(t)
	c := client(t, p.Addr)
	if n := runScriptBank(t, c, accountsOnShards("acct", 8, 4), 6, 150, true); n == 0 {
		t.Fatal("no transfer committed")
	}
}

// pairScript moves money like transferDeclared and bumps two counters on
// other shards: after a crash, a script is in the log whole or not at all.
var pairScript = redis.NewScript(`
local from = tonumber(redis.call('get', KEYS[1]))
local to = tonumber(redis.call('get', KEYS[2]))
local amount = tonumber(ARGV[1])
if from >= amount then
  redis.call('set', KEYS[1], from - amount)
  redis.call('set', KEYS[2], to + amount)
end
redis.call('incr', KEYS[3])
redis.call('incr', KEYS[4])
return 1
`)

// TestScriptKill9: scripts run until the server is killed with SIGKILL;
// after a restart no script is half applied (money is conserved and each
// worker's two counters agree) and every acknowledged script is there.
func TestScriptKill9(t *testing.T) {
	p := startProxy(t, "--appendfsync", "always")
	ctx := ctxT(t)
	c := client(t, p.Addr)
	accounts := accountsOnShards("acct", 8, 4)
	const initial = 100
	for _, a := range accounts {
		if err := c.Set(ctx, a, initial, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	want := int64(initial * len(accounts))
	const workers = 4
	counters := make([][]string, workers)
	for w := range counters {
		counters[w] = accountsOnShards(fmt.Sprintf("seq%d", w), 2, 2)
	}
	acked := make([]atomic.Int64, workers)
	attempted := make([]atomic.Int64, workers)
	var total atomic.Int64
	var killed atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w), 3))
			for {
				from := accounts[rnd.IntN(len(accounts))]
				to := accounts[rnd.IntN(len(accounts))]
				if from == to {
					continue
				}
				attempted[w].Add(1)
				err := pairScript.Run(ctx, c, []string{from, to, counters[w][0], counters[w][1]}, rnd.IntN(30)+1).Err()
				if err != nil {
					if !killed.Load() {
						t.Errorf("worker %d before the kill: %v", w, err)
					}
					return
				}
				acked[w].Add(1)
				total.Add(1)
			}
		}(w)
	}
	deadline := time.Now().Add(time.Minute)
	for total.Load() < 1000 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling progress of the load
	}
	killed.Store(true)
	p.Kill()
	wg.Wait()
	if total.Load() < 1000 {
		t.Fatalf("only %d scripts ran before the deadline", total.Load())
	}

	q := startProxyIn(t, p.dataDir, "--appendfsync", "always")
	c2 := client(t, q.Addr)
	if sum := sumAccounts(t, ctx, c2, accounts); sum != want {
		t.Errorf("total after restart %d, want %d: a script was half applied", sum, want)
	}
	for w := 0; w < workers; w++ {
		a, err := c2.Get(ctx, counters[w][0]).Int64()
		if err != nil {
			t.Fatal(err)
		}
		b, err := c2.Get(ctx, counters[w][1]).Int64()
		if err != nil {
			t.Fatal(err)
		}
		if a != b {
			t.Errorf("worker %d: half a script survived: counters %d and %d", w, a, b)
		}
		if a < acked[w].Load() || a > attempted[w].Load() {
			t.Errorf("worker %d: counter %d, acknowledged %d, attempted %d", w, a, acked[w].Load(), attempted[w].Load())
		}
	}
}

// TestScriptBankRedisBackends: the same transfers through a proxy over
// four redis-servers, where a script runs on copies of its keys and
// commits like a guarded MULTI/EXEC (run again when a key it read
// changed): declared and undeclared accounts alike keep the total.
func TestScriptBankRedisBackends(t *testing.T) {
	_, urls := startBackends(t, 4)
	p := startProxy(t, backendArgs(urls)...)
	c := client(t, p.Addr)
	for _, undeclared := range []bool{false, true} {
		t.Run(fmt.Sprintf("undeclared=%v", undeclared), func(t *testing.T) {
			prefix := fmt.Sprintf("rb%v", undeclared)
			if n := runScriptBank(t, c, accountsOnShards(prefix, 8, 4), 6, 150, undeclared); n == 0 {
				t.Fatal("no transfer committed")
			}
		})
	}
}
