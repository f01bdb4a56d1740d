package gcpace

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	cfg := Config{Fraction: 0.25, Floor: 64 << 20, ScanFactor: 2, Max: 100}
	for _, tc := range []struct {
		live, scan uint64
		want       int
	}{
		{0, 0, 100},
		{1 << 20, 0, 100},           // floor 64 MiB over 1 MiB: capped
		{64 << 20, 0, 100},          // floor equals live
		{128 << 20, 0, 50},          // floor is half of live
		{256 << 20, 0, 25},          // the fraction and the floor meet
		{4 << 30, 0, 25},            // the fraction
		{1 << 40, 0, 25},            // no overflow
		{(64 << 20) * 100, 0, 25},   // large
		{(64 << 20) * 3 / 2, 0, 66}, // between
		{(64 << 20) * 10, 0, 25},    // fraction wins over floor
		{1 << 30, 256 << 20, 50},    // twice the scannable heap wins
		{1 << 30, 1 << 30, 100},     // all of it scannable: capped
		{1 << 30, 2 << 30, 100},     // a scannable figure above live is live
		{1 << 30, 64 << 20, 25},     // little to scan: the fraction
	} {
		if got := cfg.Percent(tc.live, tc.scan); got != tc.want {
			t.Errorf("Percent(%d, %d) = %d, want %d", tc.live, tc.scan, got, tc.want)
		}
	}
}

// TestPacerFollowsTheLiveHeap grows the live heap past the floor and
// checks the pacer lowers GOGC after a collection, then raises it again
// once the heap is freed.
func TestPacerFollowsTheLiveHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	p := Start(Config{Fraction: 0.25, Floor: 8 << 20, Max: 100})
	defer p.Stop()
	waitPercent := func(cond func(int) bool) int {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			runtime.GC()
			if pct := p.Percent(); cond(pct) {
				return pct
			}
			runtime.Gosched()
		}
		t.Fatalf("GOGC stayed %d", p.Percent())
		return 0
	}
	live := make([][]byte, 0, 64)
	for range 64 {
		live = append(live, make([]byte, 1<<20)) // 64 MiB live: 8 MiB floor is an eighth
	}
	if pct := waitPercent(func(pct int) bool { return pct <= 26 }); pct < 1 {
		t.Fatalf("GOGC %d", pct)
	}
	runtime.KeepAlive(live)
	live = nil
	waitPercent(func(pct int) bool { return pct == 100 })
	p.Stop()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC after Stop = %d, want 100", got)
	}
}

// TestIdleRelease: a program that stops allocating gets its free heap
// returned once, and again only after it allocated and went idle again.
func TestIdleRelease(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	releases := make(chan struct{}, 16)
	p := Start(Config{Fraction: 0.25, Floor: 8 << 20, Max: 100, Idle: 50 * time.Millisecond, IdleBytes: 64 << 20,
		onRelease: func() { releases <- struct{}{} }})
	defer p.Stop()
	wait := func(what string) {
		t.Helper()
		select {
		case <-releases:
		case <-time.After(10 * time.Second):
			t.Fatalf("no release %s", what)
		}
	}
	wait("after the start")
	// Without allocation, no second release comes: one per idle spell.
	select {
	case <-releases:
		t.Fatal("released twice in one idle spell")
	case <-time.After(300 * time.Millisecond):
	}
	// Allocate well past IdleBytes per second for a while: a new spell.
	var sink [][]byte
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) {
		sink = append(sink, make([]byte, 1<<20))
		if len(sink) > 16 {
			sink = sink[:0]
		}
	}
	runtime.KeepAlive(sink)
	wait("after allocating and going idle again")
}
