package keyspace

import (
	"bytes"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/schemaproxy/schemaproxy/internal/testutil"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pat, s string
		nocase bool
		want   bool
	}{
		{"", "", false, true},
		{"", "a", false, false},
		{"a", "", false, false},
		{"*", "", false, false}, // Redis never matches an empty string...
		{"**", "", false, false},
		{"a*", "a", false, true}, // ...but trailing stars match nothing
		{"*", "anything", false, true},
		{"h?llo", "hello", false, true},
		{"h?llo", "hllo", false, false},
		{"h*llo", "hllo", false, true},
		{"h*llo", "heeeello", false, true},
		{"h[ae]llo", "hello", false, true},
		{"h[ae]llo", "hillo", false, false},
		{"h[^e]llo", "hallo", false, true},
		{"h[^e]llo", "hello", false, false},
		{"h[a-b]llo", "hbllo", false, true},
		{"h[b-a]llo", "hallo", false, true}, // reversed range
		{"h[a-b]llo", "hcllo", false, false},
		{"a*b*c", "aXXbYYc", false, true},
		{"a*b*c", "aXXbYY", false, false},
		{"*a", "ba", false, true},
		{"*a", "ab", false, false},
		{"a*", "a", false, true},
		{"a**", "a", false, true},
		{"a*?", "a", false, false},
		{`\*`, "*", false, true},
		{`\*`, "a", false, false},
		{`\`, `\`, false, true}, // a lone trailing backslash is literal
		{`a\`, `a\`, false, true},
		{`[\]]`, "]", false, true},
		{`[\`, `\`, false, true},   // escape needs a following byte
		{"[abc", "c", false, true}, // unterminated set
		{"[abc", "cd", false, false},
		{"[", "a", false, false},
		{"[^", "a", false, true},
		{"[]", "a", false, false},
		{"[]a]", "]", false, false}, // "[]" is an empty set, then "a]"
		{"[]a]", "xa]", false, false},
		{"[^]a]", "xa]", false, true},
		{"[a-]", "-", false, false}, // "a-]" is a range a..]
		{"[a-]", "]", false, true},
		{"[-a]", "-", false, true},
		{"HELLO", "hello", true, true},
		{"HELLO", "hello", false, false},
		{"[A-C]", "b", true, true},
		{"[B]", "b", true, true},
		{`[\B]`, "b", true, false}, // escaped set member stays case-sensitive
		{"?", "\xff", false, true},
		{"[\x80-\xff]", "\x90", false, true},
		{"[a-\xff]", "b", false, false},                         // signed char: range is \xff..a
		{"[a-\xff]", "\x00", false, true},                       // ... which holds \x00
		{"[a-\xff]", "\xff", false, true},                       // ... and \xff
		{"a\x00b", "a\x00b", false, true},                       // NUL is an ordinary byte
		{"[\x00]", "\x00", false, true},                         // also in a set
		{"*\x00", "abc\x00", false, true},                       // and after a star
		{"a*\x00*b", "a1\x002b", false, true},                   // nested stars
		{"a*\x00*b", "a12b", false, false},                      // no NUL in the string
		{"*a*a*a*a*a*b", strings.Repeat("a", 40), false, false}, // must not blow up
	}
	for _, tt := range tests {
		if got := globMatch([]byte(tt.pat), []byte(tt.s), tt.nocase); got != tt.want {
			t.Errorf("globMatch(%q, %q, %v) = %v, want %v", tt.pat, tt.s, tt.nocase, got, tt.want)
		}
	}
}

// TestGlobNesting checks Redis's limit of 1000 nested stars.
func TestGlobNesting(t *testing.T) {
	s := []byte(strings.Repeat("a", 1100))
	if !globMatch([]byte(strings.Repeat("*a", 1000)), s, false) {
		t.Error("1000 nested stars should match")
	}
	if globMatch([]byte(strings.Repeat("*a", 1001)), s, false) {
		t.Error("1001 nested stars should fail as in Redis")
	}
}

// TestGlobLinear guards the complexity: patterns that made naive glob
// matchers exponential must finish fast.
func TestGlobLinear(t *testing.T) {
	s := []byte(strings.Repeat("a", 5000))
	pat := []byte(strings.Repeat("a*", 500) + "b")
	start := time.Now()
	if globMatch(pat, s, false) {
		t.Fatal("unexpected match")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
}

// globNaive is the definition of glob matching without Redis's shortcuts,
// for comparison on small inputs (where nesting never reaches 1000).
func globNaive(pat, str []byte, nocase bool) bool {
	if len(str) == 0 {
		// stringmatchlen's loop never starts on an empty string.
		return len(pat) == 0
	}
	return globNaiveRec(pat, str, nocase)
}

func globNaiveRec(pat, str []byte, nocase bool) bool {
	if len(pat) == 0 {
		return len(str) == 0
	}
	if pat[0] == '*' {
		for i := 0; i <= len(str); i++ {
			if globNaiveRec(pat[1:], str[i:], nocase) {
				return true
			}
		}
		return false
	}
	if len(str) == 0 {
		return false
	}
	// One token that consumes exactly one byte: reuse the real matcher on
	// the token alone, which is not recursive for star-free input.
	n := tokenLen(pat)
	if !globMatch(pat[:n], str[:1], nocase) {
		return false
	}
	return globNaiveRec(pat[n:], str[1:], nocase)
}

// tokenLen is the length of the first (non-star) token of pat.
func tokenLen(pat []byte) int {
	switch pat[0] {
	case '\\':
		if len(pat) >= 2 {
			return 2
		}
		return 1
	case '[':
		p := 1
		if p < len(pat) && pat[p] == '^' {
			p++
		}
		for {
			switch {
			case p < len(pat) && pat[p] == '\\' && len(pat)-p >= 2:
				p += 2
			case p < len(pat) && pat[p] == ']':
				return p + 1
			case p >= len(pat):
				return len(pat)
			case len(pat)-p >= 3 && pat[p+1] == '-':
				p += 3
			default:
				p++
			}
		}
	}
	return 1
}

var globAlphabet = []byte("ab*?[]^-\\A\x00\xff")

func randGlobBytes(r *rand.Rand, max int) []byte {
	b := make([]byte, r.IntN(max+1))
	for i := range b {
		b[i] = globAlphabet[r.IntN(len(globAlphabet))]
	}
	return b
}

// TestGlobModel compares globMatch with the naive definition.
func TestGlobModel(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 7))
	for i := 0; i < 200000; i++ {
		pat, s := randGlobBytes(r, 8), randGlobBytes(r, 6)
		nocase := r.IntN(2) == 0
		if got, want := globMatch(pat, s, nocase), globNaive(pat, s, nocase); got != want {
			t.Fatalf("globMatch(%q, %q, %v) = %v, naive %v", pat, s, nocase, got, want)
		}
	}
}

func FuzzGlobMatch(f *testing.F) {
	f.Add([]byte("h[a-z]*o"), []byte("hello"), false)
	f.Add([]byte("[^\\]-a]*\\"), []byte("x\\"), true)
	f.Add([]byte("*a*a*a*a*b"), []byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), false)
	f.Fuzz(func(t *testing.T, pat, s []byte, nocase bool) {
		got := globMatch(pat, s, nocase)
		if len(pat) <= 12 && len(s) <= 12 {
			if want := globNaive(pat, s, nocase); got != want {
				t.Fatalf("globMatch(%q, %q, %v) = %v, naive %v", pat, s, nocase, got, want)
			}
		}
	})
}

// TestGlobRedis compares globMatch with KEYS on a real redis-server, for
// random keys and patterns over an alphabet of glob syntax and edge bytes.
func TestGlobRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("no redis-server")
	}
	srv := testutil.StartRedis(t)
	c, err := testutil.Dial(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 11))
	keys := map[string]bool{}
	for len(keys) < 300 {
		k := randGlobBytes(r, 6)
		keys[string(k)] = true
		if _, err := c.DoBytes([]byte("SET"), k, []byte("1")); err != nil {
			t.Fatal(err)
		}
	}
	check := func(pat []byte) {
		raw, err := c.DoBytes([]byte("KEYS"), pat)
		if err != nil {
			t.Fatal(err)
		}
		v, _, err := resp.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, e := range v.Elems {
			got[string(e.Str)] = true
		}
		for k := range keys {
			if m := keyMatch(pat, []byte(k)); m != got[k] {
				t.Fatalf("pattern %q key %q: redis %v, globMatch %v", pat, k, got[k], m)
			}
		}
	}
	check([]byte("*"))
	check([]byte("**"))
	for i := 0; i < 3000; i++ {
		check(randGlobBytes(r, 7))
	}
	// The nesting limit.
	long := bytes.Repeat([]byte("a"), 1100)
	if _, err := c.DoBytes([]byte("SET"), long, []byte("1")); err != nil {
		t.Fatal(err)
	}
	keys[string(long)] = true
	check(bytes.Repeat([]byte("*a"), 1000))
	check(bytes.Repeat([]byte("*a"), 1001))
}
