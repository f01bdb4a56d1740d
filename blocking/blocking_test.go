package blocking

import (
	"slices"
	"testing"
)

func woken(w *Waiter) bool {
	select {
	case <-w.Wake():
		return true
	default:
		return false
	}
}

// TestSignalWakesTheFirstPopper: a signal wakes the first waiter of the
// key only; served, it passes the signal to the next, in order.
func TestSignalWakesTheFirstPopper(t *testing.T) {
	r := New()
	k := Key{0, "q"}
	a := r.Block(1, []Key{k}, false)
	b := r.Block(2, []Key{k}, false)
	c := r.Block(3, []Key{k}, false)
	if r.Blocked() != 3 {
		t.Fatalf("Blocked %d", r.Blocked())
	}
	r.Signal(0, []byte("q"))
	r.Signal(0, []byte("q")) // coalesced while a has not looked
	if !woken(a) || woken(b) || woken(c) {
		t.Fatal("a signal must wake the first waiter only")
	}
	taken, reason := a.Take(nil)
	if !slices.Equal(taken, []int{0}) || reason != None {
		t.Fatalf("Take: %v %v", taken, reason)
	}
	a.Done(true, taken)
	if !woken(b) || woken(c) {
		t.Fatal("a served waiter passes the signal to the next one")
	}
	taken, _ = b.Take(nil)
	// b found nothing: it keeps its place, and nobody else is woken.
	if len(taken) != 1 || woken(c) {
		t.Fatal("b's turn")
	}
	r.Signal(0, []byte("q"))
	if !woken(b) || woken(c) {
		t.Fatal("b is still first")
	}
	// b leaves (timeout) with a signal it did not take: c gets it.
	b.Done(false, nil)
	if !woken(c) {
		t.Fatal("an untaken signal passes on")
	}
	c.Done(false, nil)
	if r.Blocked() != 0 || len(r.queues) != 0 || len(r.byID) != 0 {
		t.Fatalf("left behind: %d %v %v", r.Blocked(), r.queues, r.byID)
	}
}

// TestStreamReadersAllWake: every stream reader of a key wakes, and the
// first popper too.
func TestStreamReadersAllWake(t *testing.T) {
	r := New()
	k := Key{1, "s"}
	x := r.Block(1, []Key{k}, true)
	y := r.Block(2, []Key{k}, true)
	p := r.Block(3, []Key{k}, false)
	q := r.Block(4, []Key{k}, false)
	r.Signal(0, []byte("s")) // another database
	if woken(x) || woken(y) || woken(p) {
		t.Fatal("a signal in db 0 woke db 1's waiters")
	}
	r.Signal(1, []byte("s"))
	if !woken(x) || !woken(y) || !woken(p) || woken(q) {
		t.Fatal("stream readers and the first popper wake")
	}
	for _, w := range []*Waiter{x, y, p, q} {
		w.Done(false, nil)
	}
}

// TestSeveralKeys: a waiter on several keys takes the ones signalled;
// its place on each key is its own.
func TestSeveralKeys(t *testing.T) {
	r := New()
	k1, k2 := Key{0, "k1"}, Key{0, "k2"}
	first := r.Block(1, []Key{k1}, false)
	both := r.Block(2, []Key{k1, k2}, false)
	r.Signal(0, []byte("k2"))
	if woken(first) || !woken(both) {
		t.Fatal("k2's first waiter is both")
	}
	if taken, _ := both.Take(nil); !slices.Equal(taken, []int{1}) {
		t.Fatalf("taken %v", taken)
	}
	r.Signal(0, []byte("k1"))
	if !woken(first) || woken(both) {
		t.Fatal("k1's first waiter is first")
	}
	// Poll: both is first on k2, not on k1.
	if !both.Poll() {
		t.Fatal("Poll")
	}
	if taken, _ := both.Take(nil); !slices.Equal(taken, []int{1}) {
		t.Fatalf("polled %v", taken)
	}
	first.Done(false, nil)
	both.Done(false, nil)
}

// TestUnblock: CLIENT UNBLOCK wakes the waiter once, with its reason.
func TestUnblock(t *testing.T) {
	r := New()
	w := r.Block(7, []Key{{0, "q"}}, false)
	if r.Unblock(8, Timeout) {
		t.Fatal("client 8 is not blocked")
	}
	if !r.IsBlocked(7) || !r.Unblock(7, Error) || r.Unblock(7, Timeout) {
		t.Fatal("Unblock")
	}
	if !woken(w) {
		t.Fatal("not woken")
	}
	if _, reason := w.Take(nil); reason != Error {
		t.Fatalf("reason %v", reason)
	}
	w.Done(false, nil)
	w.Done(false, nil) // twice is harmless
	if r.IsBlocked(7) || r.Blocked() != 0 {
		t.Fatal("still blocked")
	}
}
