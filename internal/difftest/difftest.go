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
//
// Several clients (Pub/Sub): a line may start with "N> " (N from 1 to 9) to
// send its command on client N of the group, 1 being the connection the
// runner was given and the others opened for the group (Dialer) and closed
// at its end; "N<" alone (optionally followed by a mode) reads one more
// reply of client N without sending anything: a message, or the second
// confirmation of SUBSCRIBE a b.
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
	// Client is the connection the case runs on: 0 or 1 is the main one.
	Client int
	// Read means: send nothing, read Client's next reply.
	Read bool
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
		client, read := 0, false
		if len(text) >= 2 && text[0] >= '1' && text[0] <= '9' && (text[1] == '>' || text[1] == '<') {
			client, read = int(text[0]-'0'), text[1] == '<'
			text = strings.TrimSpace(text[2:])
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
		if read != (len(args) == 0) {
			return nil, fmt.Errorf("%s:%d: a read (N<) takes no command, a send (N>) needs one", filepath.Base(path), line)
		}
		cur = append(cur, Case{Pos: fmt.Sprintf("%s:%d", filepath.Base(path), line), Args: args, Mode: mode,
			Client: client, Read: read})
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

// Reader is a Server whose next reply can be read without sending a
// command (a corpus's "1<").
type Reader interface {
	ReadReply() ([]byte, error)
}

// Dialer is a Server that opens further connections to itself, for
// corpus lines of clients 2 to 9.
type Dialer interface {
	Dial() (Client, error)
}

// Client is a further connection of a group, closed at the group's end.
type Client interface {
	Server
	Reader
	Close() error
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
		sides := [2]*side{{main: want}, {main: got}}
		for _, c := range g {
			var replies [2][]byte
			for i, sd := range sides {
				r, err := sd.do(c)
				if err != nil {
					for _, sd := range sides {
						sd.close()
					}
					t.Fatalf("%s: %q: %s: %v", c.Pos, c.Args, [2]string{"reference server", "server under test"}[i], err)
				}
				replies[i] = r
			}
			n++
			if !Equal(c.Mode, replies[0], replies[1]) {
				what := strings.Join(quoteAll(c.Args), " ")
				if c.Read {
					what = fmt.Sprintf("(read client %d)", c.Client)
				}
				t.Errorf("%s: %s\n  redis: %q\n  got:   %q", c.Pos, what, replies[0], replies[1])
			}
		}
		for _, sd := range sides {
			sd.close()
		}
	}
	return n
}

// side is one server's connections during a group.
type side struct {
	main  Server
	extra map[int]Client
}

func (sd *side) do(c Case) ([]byte, error) {
	var conn Server = sd.main
	if c.Client > 1 {
		cl := sd.extra[c.Client]
		if cl == nil {
			d, ok := sd.main.(Dialer)
			if !ok {
				return nil, fmt.Errorf("client %d: the server cannot open more connections", c.Client)
			}
			var err error
			if cl, err = d.Dial(); err != nil {
				return nil, err
			}
			if sd.extra == nil {
				sd.extra = map[int]Client{}
			}
			sd.extra[c.Client] = cl
		}
		conn = cl
	}
	if !c.Read {
		return conn.Do(c.Args...)
	}
	rd, ok := conn.(Reader)
	if !ok {
		return nil, fmt.Errorf("client %d cannot read without sending", c.Client)
	}
	return rd.ReadReply()
}

func (sd *side) close() {
	for _, cl := range sd.extra {
		cl.Close()
	}
	sd.extra = nil
}

func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strconv.Quote(a)
	}
	return out
}
