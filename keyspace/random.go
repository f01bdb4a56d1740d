package keyspace

import (
	"math"
	"math/rand/v2"
)

// The count forms of HRANDFIELD, SRANDMEMBER and ZRANDMEMBER, which share
// Redis's argument checks and drawing strategy (*RandomWithCount).

// randCountArg parses the count (argument 2): any integer whose negation
// fits.
func (c *Ctx) randCountArg() (int64, bool) {
	l, ok := c.intArg(2)
	if !ok {
		return 0, false
	}
	if l == math.MinInt64 {
		c.W.Error(ErrRandCountRange)
		return 0, false
	}
	return l, true
}

// randWithArg parses the optional word (WITHVALUES, WITHSCORES) after count
// l. With it the reply has 2*|l| entries, which must not overflow.
func (c *Ctx) randWithArg(l int64, word string) (with, ok bool) {
	switch {
	case len(c.Args) > 4 || (len(c.Args) == 4 && !optIs(c.Args[3], word)):
		c.W.Error(ErrSyntax)
		return false, false
	case len(c.Args) == 4:
		if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
			c.W.Error(ErrValueRange)
			return false, false
		}
		return true, true
	}
	return false, true
}

// randMode is how the members of a reply are drawn.
type randMode int

const (
	randRepeat   randMode = iota // independent draws, repeats allowed
	randAll                      // the whole collection
	randDistinct                 // distinct members (pickDistinct)
)

// randPlan returns how to answer count l (not 0) from a collection of size
// members (size > 0), and the reply's length: a negative count, or 1,
// draws |l| times; a count of at least size is everything.
func randPlan(l int64, size int) (randMode, int) {
	switch {
	case l < 0 || l == 1:
		if l < 0 {
			l = -l
		}
		return randRepeat, int(l)
	case l >= int64(size):
		return randAll, size
	}
	return randDistinct, int(l)
}

// pickDistinct chooses k distinct members uniformly out of size (k < size),
// as Redis does: close to all of them, a partial shuffle of all (whose
// order all fixes); otherwise draws until k are distinct.
func pickDistinct[T comparable](rnd *rand.Rand, k, size int, all func() []T, draw func() T) []T {
	if k*3 > size {
		return partialShuffle(rnd, all(), k)
	}
	out := make([]T, 0, k)
	seen := make(map[T]struct{}, k)
	for len(out) < k {
		x := draw()
		if _, dup := seen[x]; !dup {
			seen[x] = struct{}{}
			out = append(out, x)
		}
	}
	return out
}

// partialShuffle moves k uniformly chosen elements of xs to its front, in
// random order, and returns them.
func partialShuffle[T any](rnd *rand.Rand, xs []T, k int) []T {
	for i := 0; i < k; i++ {
		j := i + rnd.IntN(len(xs)-i)
		xs[i], xs[j] = xs[j], xs[i]
	}
	return xs[:k]
}
