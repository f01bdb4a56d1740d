package tests

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/schemaproxy/schemaproxy/internal/check"
)

// txnTransferOnce moves amount from one account to another in one
// interactive transaction that branches on the balance it read.
func txnTransferOnce(ctx context.Context, conn *redis.Conn, from, to string, amount int64) (moved bool, err error) {
	if err := conn.Do(ctx, "TXN", "BEGIN").Err(); err != nil {
		return false, err
	}
	defer func() {
		if err != nil && !isConflict(err) {
			// Leave the connection out of the transaction for the next.
			conn.Do(ctx, "TXN", "ABORT")
		}
	}()
	fb, err := conn.Do(ctx, "GET", from).Int64()
	if err != nil {
		return false, fmt.Errorf("GET %s: %w", from, err)
	}
	tb, err := conn.Do(ctx, "GET", to).Int64()
	if err != nil {
		return false, fmt.Errorf("GET %s: %w", to, err)
	}
	if fb < amount {
		return false, conn.Do(ctx, "TXN", "ABORT").Err()
	}
	if err := conn.Do(ctx, "SET", from, fb-amount).Err(); err != nil {
		return false, err
	}
	if err := conn.Do(ctx, "SET", to, tb+amount).Err(); err != nil {
		return false, err
	}
	return true, conn.Do(ctx, "TXN", "COMMIT").Err()
}

// txnAuditOnce sums every balance in one interactive transaction; the sum
// counts only if it commits.
func txnAuditOnce(ctx context.Context, conn *redis.Conn, accounts []string) (int64, error) {
	if err := conn.Do(ctx, "TXN", "BEGIN").Err(); err != nil {
		return 0, err
	}
	var sum int64
	for _, a := range accounts {
		n, err := conn.Do(ctx, "GET", a).Int64()
		if err != nil {
			conn.Do(ctx, "TXN", "ABORT")
			return 0, fmt.Errorf("GET %s: %w", a, err)
		}
		sum += n
	}
	return sum, conn.Do(ctx, "TXN", "COMMIT").Err()
}

// runTXNBank moves money with TXN BEGIN/GET/GET/SET/SET/COMMIT, run again
// on CONFLICT, while an auditor sums every balance in a TXN of its own
// (again on CONFLICT): the total of every audit that committed, and the
// final one, must hold.
func runTXNBank(t *testing.T, c *redis.Client, accounts []string, workers, transfers int) {
	var conflicts, audits, torn atomic.Int64
	transfer := func(ctx context.Context, rnd *rand.Rand, from, to string) (int64, error) {
		amount := int64(rnd.IntN(20) + 1)
		conn := c.Conn()
		defer conn.Close()
		for {
			moved, err := txnTransferOnce(ctx, conn, from, to, amount)
			if isConflict(err) {
				conflicts.Add(1)
				continue
			}
			if err != nil || !moved {
				return 0, err
			}
			return 1, nil
		}
	}
	auditConn := c.Conn()
	defer auditConn.Close()
	want := int64(100 * len(accounts)) // bank.run's initial balances
	audit := func(ctx context.Context, _ int) (int64, error) {
		for {
			sum, err := txnAuditOnce(ctx, auditConn, accounts)
			if isConflict(err) {
				if sum != want {
					// Read across a transfer: what CONFLICT is for.
					torn.Add(1)
				}
				continue
			}
			if err == nil {
				audits.Add(1)
			}
			return sum, err
		}
	}
	n := bank{accounts: accounts, workers: workers, transfers: transfers, stream: 3,
		transfer: transfer, audit: audit, name: "TXN"}.run(t, c)
	t.Logf("TXN bank: %d transfers committed, %d conflicts, %d audits committed, %d torn audits refused at commit",
		n, conflicts.Load(), audits.Load(), torn.Load())
	if n == 0 || audits.Load() == 0 {
		t.Fatalf("%d transfers and %d audits committed: the check checked nothing", n, audits.Load())
	}
}

// TestTXNBank: the bank on the embedded store, accounts on every shard.
func TestTXNBank(t *testing.T) {
	p := startProxy(t)
	c := client(t, p.Addr)
	runTXNBank(t, c, accountsOnShards("tbank", 8, 4), 6, 120)
}

// TestTXNBankRedisBackends: the bank over three redis-servers.
func TestTXNBankRedisBackends(t *testing.T) {
	_, urls := startBackends(t, 3)
	p := startProxy(t, backendArgs(urls)...)
	c := client(t, p.Addr)
	runTXNBank(t, c, accountsOnShards("tbank", 6, 3), 4, 60)
}

// laTXN runs ops as one interactive transaction on conn and returns them
// with the values read; a CONFLICT comes back as errConflictTxn.
func laTXN(ctx context.Context, conn *redis.Conn, ops []check.Op) ([]check.Op, error) {
	if err := conn.Do(ctx, "TXN", "BEGIN").Err(); err != nil {
		return nil, err
	}
	out := make([]check.Op, len(ops))
	copy(out, ops)
	for i, o := range ops {
		if o.Kind == check.Append {
			if err := conn.Do(ctx, "RPUSH", o.Key, o.Value).Err(); err != nil {
				conn.Do(ctx, "TXN", "ABORT")
				return nil, err
			}
			continue
		}
		strs, err := conn.Do(ctx, "LRANGE", o.Key, 0, -1).StringSlice()
		if err != nil {
			conn.Do(ctx, "TXN", "ABORT")
			return nil, err
		}
		vals := make([]int, len(strs))
		for j, s := range strs {
			if vals[j], err = strconv.Atoi(s); err != nil {
				conn.Do(ctx, "TXN", "ABORT")
				return nil, fmt.Errorf("LRANGE %s returned %q: %w", o.Key, s, err)
			}
		}
		out[i].Values = vals
	}
	return out, conn.Do(ctx, "TXN", "COMMIT").Err()
}

// runTXN records ops run through laTXN: a CONFLICT wrote nothing (Fail),
// any other error may have committed (Unknown).
func (h *laHistory) runTXN(ctx context.Context, conn *redis.Conn, process int, ops []check.Op) error {
	inv := h.now()
	got, err := laTXN(ctx, conn, ops)
	comp := h.now()
	tx := check.Txn{Process: process, Ops: ops, Invoke: inv, Complete: comp, Outcome: check.OK}
	switch {
	case err == nil:
		tx.Ops = got
	case isConflict(err):
		tx.Outcome = check.Fail
		err = nil
	default:
		tx.Outcome = check.Unknown
	}
	h.add(tx)
	return err
}

// TestTXNListAppend runs random list-append transactions, each a TXN of
// reads and appends over keys on every shard, run once (a CONFLICT is a
// failed transaction), and checks the history for strict
// serializability.
func TestTXNListAppend(t *testing.T) {
	const workers, perWorker = 8, 300
	seed := laSeed(t)
	p := startProxy(t)
	ctx := ctxT(t)
	ks := newLAKeySpace("tla", workers*perWorker)
	h := newLAHistory()
	var wg sync.WaitGroup
	var failed atomic.Int64
	for w := 0; w < workers; w++ {
		c := client(t, p.Addr, func(o *redis.Options) { o.PoolSize = 1 })
		conn := c.Conn()
		t.Cleanup(func() { conn.Close() })
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := 0; i < perWorker; i++ {
				if err := h.runTXN(ctx, conn, w, h.randomOps(rnd, ks)); err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	for _, tx := range h.txns {
		if tx.Outcome == check.Fail {
			failed.Add(1)
		}
	}
	h.finalRead(t, ctx, client(t, p.Addr), ks.used())
	res := h.verify(t)
	t.Logf("%d transactions, %d of them CONFLICT", len(h.txns)-1, failed.Load())
	if failed.Load() == int64(len(h.txns)-1) || res == nil {
		t.Fatal("no transaction committed")
	}
}
