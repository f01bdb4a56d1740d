// Package difftest replays command corpora against two Redis-protocol
// servers (a real redis-server and the implementation under test) and
// requires the same replies.
//
// Corpus format: one command per line, arguments split on spaces, double
// quotes for arguments with spaces or escapes (\n \r \t \" \\ \xHH). A blank
// line ends a group; the runner resets both servers between groups. Lines
// starting with '#' are comments. A prefix chooses how replies compare:
//
//	~CMD ...   top-level array elements in any order (SMEMBERS)
//	~2 CMD ... pairs of top-level elements in any order (HGETALL)
//	?CMD ...   only the reply's type (and array length) must match
//	=CMD ...   exact (the default)
package difftest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// Mode is how two replies are compared.
type Mode int

// Comparison modes.
const (
	Exact Mode = iota
	Unordered
	UnorderedPairs
	TypeOnly
)

// Case is one command of a corpus.
type Case struct {
	Pos  string // file:line
	Args []string
	Mode Mode
}

// Group is a sequence of commands run on fresh servers.
type Group []Case

// ParseFile reads a corpus file.
func ParseFile(path string) ([]Group, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var groups []Group
	var cur Group
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(text, "#") {
			continue
		}
		if text == "" {
			if len(cur) > 0 {
				groups = append(groups, cur)
				cur = nil
			}
			continue
		}
		mode := Exact
		switch {
		case strings.HasPrefix(text, "~2 "):
			mode, text = UnorderedPairs, text[3:]
		case strings.HasPrefix(text, "~"):
			mode, text = Unordered, text[1:]
		case strings.HasPrefix(text, "?"):
			mode, text = TypeOnly, text[1:]
		case strings.HasPrefix(text, "="):
			text = text[1:]
		}
		args, err := SplitArgs(text)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", filepath.Base(path), line, err)
		}
		cur = append(cur, Case{Pos: fmt.Sprintf("%s:%d", filepath.Base(path), line), Args: args, Mode: mode})
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups, sc.Err()
}

// ParseDir reads every *.txt corpus file in dir.
func ParseDir(dir string) (map[string][]Group, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	out := map[string][]Group{}
	for _, f := range files {
		g, err := ParseFile(f)
		if err != nil {
			return nil, err
		}
		out[filepath.Base(f)] = g
	}
	return out, nil
}

// SplitArgs splits a line as redis-cli does.
func SplitArgs(s string) ([]string, error) {
	var args []string
	i := 0
	for {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i >= len(s) {
			return args, nil
		}
		var cur []byte
		if s[i] == '"' {
			i++
			for {
				if i >= len(s) {
					return nil, fmt.Errorf("unbalanced quotes")
				}
				ch := s[i]
				if ch == '"' {
					i++
					break
				}
				if ch == '\\' && i+1 < len(s) {
					i++
					switch s[i] {
					case 'n':
						ch = '\n'
					case 'r':
						ch = '\r'
					case 't':
						ch = '\t'
					case 'x':
						if i+2 < len(s) {
							v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
							if err == nil {
								ch = byte(v)
								i += 2
								break
							}
						}
						ch = 'x'
					default:
						ch = s[i]
					}
				}
				cur = append(cur, ch)
				i++
			}
			if i < len(s) && s[i] != ' ' {
				return nil, fmt.Errorf("closing quote must be followed by a space")
			}
		} else {
			for i < len(s) && s[i] != ' ' {
				cur = append(cur, s[i])
				i++
			}
		}
		args = append(args, string(cur))
	}
}

// Equal compares two raw replies under mode.
func Equal(mode Mode, want, got []byte) bool {
	if mode == Exact {
		return bytes.Equal(want, got)
	}
	a, _, err1 := resp.Parse(want)
	b, _, err2 := resp.Parse(got)
	if err1 != nil || err2 != nil {
		return false
	}
	switch mode {
	case TypeOnly:
		return a.Kind == b.Kind && a.Null == b.Null && len(a.Elems) == len(b.Elems)
	case Unordered, UnorderedPairs:
		if a.Kind != b.Kind || a.Null != b.Null || len(a.Elems) != len(b.Elems) {
			return bytes.Equal(want, got)
		}
		size := 1
		if mode == UnorderedPairs {
			size = 2
		}
		return sortedChunks(a.Elems, size) == sortedChunks(b.Elems, size)
	}
	return false
}

func sortedChunks(elems []resp.Value, size int) string {
	var parts []string
	for i := 0; i+size <= len(elems); i += size {
		var s []string
		for _, e := range elems[i : i+size] {
			s = append(s, e.String())
		}
		parts = append(parts, strings.Join(s, "\x00"))
	}
	sort.Strings(parts)
	return strings.Join(parts, "\x01")
}

// Server is one side of the comparison.
type Server interface {
	Do(args ...string) ([]byte, error)
}

// T is the part of testing.T the runner needs.
type T interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Run replays groups against want and got; reset is called before each
// group and must empty both servers. It reports every mismatch and returns
// the number of commands compared.
func Run(t T, groups []Group, want, got Server, reset func()) int {
	t.Helper()
	n := 0
	for _, g := range groups {
		reset()
		for _, c := range g {
			w, err := want.Do(c.Args...)
			if err != nil {
				t.Fatalf("%s: reference server: %v", c.Pos, err)
			}
			r, err := got.Do(c.Args...)
			if err != nil {
				t.Fatalf("%s: %q: server under test: %v", c.Pos, c.Args, err)
			}
			n++
			if !Equal(c.Mode, w, r) {
				t.Errorf("%s: %s\n  redis: %q\n  got:   %q", c.Pos, strings.Join(quoteAll(c.Args), " "), w, r)
			}
		}
	}
	return n
}

func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strconv.Quote(a)
	}
	return out
}
