package redis

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// Every request of every client to one backend, in one protocol, goes
// over one connection: requests are written back to back, many in one
// write when they come together, and their replies are read in order by
// one reader. A backend then reads and answers many requests per event
// loop turn (and per fsync of appendfsync always), as it does behind
// twemproxy, instead of one small request per connection per turn.
//
// A request is a unit the backend runs without interleaving another's
// commands: WATCH ... MULTI ... EXEC stays whole. Between units the
// connection is in database 0; a unit for another database starts with
// SELECT and ends with SELECT 0, so no unit depends on another.

// redialAfter is how long a backend that could not be dialled is taken to
// be down before the next request tries again.
const redialAfter = 250 * time.Millisecond

// replyTimeout bounds the wait for a reply: past it the backend is taken
// for lost and the connection dropped (every request on it fails).
const replyTimeout = 30 * time.Second

// mux is a shard's shared connection in one protocol, dialled on demand.
type mux struct {
	opts  *goredis.Options
	proto int
	// runID is told the server's run_id by every new connection.
	runID func(string)

	mu  sync.Mutex // guards cur
	cur *muxConn

	// For INFO backends: requests (units) sent, writes they went out in,
	// connections made.
	units, writes, dials atomic.Int64
	// dialMu makes requests that find no connection wait for one dial.
	dialMu sync.Mutex
	// dialErr is the last dial's failure, at dialFailed (under dialMu).
	dialErr    error
	dialFailed time.Time
}

// muxConn is one live connection of a mux.
type muxConn struct {
	m     *mux
	nc    net.Conn
	rd    *resp.Reader
	queue chan *call // requests written, in order, waiting for replies
	done  chan struct{}

	mu       sync.Mutex // guards out, spare, flushing and the queue's order
	out      []byte     // requests not yet written
	spare    []byte
	flushing bool // a request's goroutine is writing out

	// err is set once, when the connection fails. It takes no lock: the
	// reader may fail it while a request waits, under mu, for room in the
	// queue that only the reader makes.
	err      atomic.Pointer[error]
	failOnce sync.Once
}

// call is one request waiting for its replies.
type call struct {
	n       int
	buf     []byte // the replies, back to back
	ends    []int
	err     error
	replied chan struct{}
}

// conn is a request's view of its shard's connection: what database the
// request has selected, which the next unit starts with.
type conn struct {
	m  *mux
	db int
}

func (m *mux) get(ctx context.Context) (*muxConn, error) {
	m.mu.Lock()
	mc := m.cur
	m.mu.Unlock()
	if mc != nil && mc.failed() == nil {
		return mc, nil
	}
	m.dialMu.Lock()
	defer m.dialMu.Unlock()
	m.mu.Lock()
	mc = m.cur
	m.mu.Unlock()
	if mc != nil && mc.failed() == nil {
		return mc, nil // another request dialled meanwhile
	}
	// A backend that could not be reached a moment ago fails its requests
	// at once, rather than each waiting for a dial of its own in turn.
	if m.dialErr != nil && time.Since(m.dialFailed) < redialAfter {
		return nil, m.dialErr
	}
	mc, err := m.dial(ctx)
	if err != nil {
		if ctx.Err() == nil { // the backend's failure, not the request's
			m.dialErr, m.dialFailed = err, time.Now()
		}
		return nil, err
	}
	m.dialErr = nil
	m.mu.Lock()
	m.cur = mc
	m.mu.Unlock()
	return mc, nil
}

func (m *mux) close() {
	m.mu.Lock()
	mc := m.cur
	m.cur = nil
	m.mu.Unlock()
	if mc != nil {
		mc.fail(errors.New("backend connection closed"))
	}
}

// dial connects, says HELLO, reads the run_id and loads the scripts
// before the connection is shared.
func (m *mux) dial(ctx context.Context) (*muxConn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	var nc net.Conn
	var err error
	if m.opts.TLSConfig != nil {
		td := tls.Dialer{NetDialer: &d, Config: m.opts.TLSConfig}
		nc, err = td.DialContext(ctx, "tcp", m.opts.Addr)
	} else {
		nc, err = d.DialContext(ctx, "tcp", m.opts.Addr)
	}
	if err != nil {
		return nil, fmt.Errorf("backend %s: %w", m.opts.Addr, err)
	}
	hello := [][]byte{[]byte("HELLO"), []byte(strconv.Itoa(m.proto))}
	if m.opts.Password != "" {
		user := m.opts.Username
		if user == "" {
			user = "default"
		}
		hello = append(hello, []byte("AUTH"), []byte(user), []byte(m.opts.Password))
	}
	cmds := [][][]byte{hello, {[]byte("INFO"), []byte("server")}}
	for _, s := range allScripts {
		cmds = append(cmds, [][]byte{[]byte("SCRIPT"), []byte("LOAD"), []byte(s)})
	}
	var out []byte
	for _, c := range cmds {
		out = resp.AppendCommand(out, c...)
	}
	rd := resp.NewReader(nc)
	replies, err := func() ([][]byte, error) {
		_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
		defer nc.SetDeadline(time.Time{})
		if _, err := nc.Write(out); err != nil {
			return nil, err
		}
		var replies [][]byte
		for range cmds {
			raw, err := rd.ReadRaw()
			if err != nil {
				return nil, err
			}
			if len(raw) > 0 && raw[0] == '-' {
				return nil, errors.New(string(bytes.TrimSpace(raw[1:])))
			}
			replies = append(replies, append([]byte(nil), raw...))
		}
		return replies, nil
	}()
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("backend %s: HELLO and SCRIPT LOAD: %w", m.opts.Addr, err)
	}
	if m.runID != nil {
		if _, rest, ok := bytes.Cut(replies[1], []byte("run_id:")); ok {
			if id, _, ok := bytes.Cut(rest, []byte("\r\n")); ok {
				m.runID(string(id))
			}
		}
	}
	m.dials.Add(1)
	mc := &muxConn{m: m, nc: nc, rd: rd, queue: make(chan *call, 1<<14), done: make(chan struct{})}
	go mc.readLoop()
	return mc, nil
}

func (mc *muxConn) failed() error {
	if p := mc.err.Load(); p != nil {
		return *p
	}
	return nil
}

// fail closes the connection for good; the reader fails every request
// still waiting.
func (mc *muxConn) fail(err error) {
	mc.failOnce.Do(func() {
		mc.err.Store(&err)
		mc.nc.Close()
		close(mc.done)
	})
}

// send writes a unit of n commands (already encoded) and waits for its n
// replies.
func (mc *muxConn) send(ctx context.Context, encode func([]byte) []byte, n int) (*call, error) {
	cl, err := mc.queueUnit(encode, n)
	if err != nil {
		return nil, err
	}
	select {
	case <-cl.replied:
		return cl, cl.err
	case <-ctx.Done():
		// The replies are read and dropped when they come.
		return nil, ctx.Err()
	}
}

// queueUnit writes a unit of n commands (already encoded) without waiting
// for its replies, which the reader reads into the call returned.
func (mc *muxConn) queueUnit(encode func([]byte) []byte, n int) (*call, error) {
	cl := &call{n: n, replied: make(chan struct{})}
	mc.mu.Lock()
	if err := mc.failed(); err != nil {
		mc.mu.Unlock()
		return nil, err
	}
	mc.out = encode(mc.out)
	mc.m.units.Add(1)
	// Queued under the same lock as the bytes, so replies match requests.
	mc.queue <- cl
	flush := !mc.flushing
	mc.flushing = true
	mc.mu.Unlock()
	if flush {
		// Let the other runnable requests queue theirs first, to go out in
		// this write: with 50 clients at one request each, this halves
		// the writes (INFO backends), and the backend's reads with them.
		runtime.Gosched()
		mc.flush()
	}
	return cl, nil
}

// flush writes out what the requests queued, until nothing is left: the
// request that found no writer at work becomes it, so requests that come
// while it writes go out together in its next write.
func (mc *muxConn) flush() {
	for {
		mc.mu.Lock()
		if len(mc.out) == 0 || mc.failed() != nil {
			mc.flushing = false
			mc.mu.Unlock()
			return
		}
		out := mc.out
		mc.out = mc.spare[:0]
		mc.mu.Unlock()
		_ = mc.nc.SetWriteDeadline(time.Now().Add(replyTimeout))
		_, err := mc.nc.Write(out)
		mc.m.writes.Add(1)
		mc.mu.Lock()
		mc.spare = out[:0]
		mc.mu.Unlock()
		if err != nil {
			mc.fail(err)
		}
	}
}

// readLoop reads the replies of the queued requests, in order.
func (mc *muxConn) readLoop() {
	for {
		var cl *call
		select {
		case cl = <-mc.queue:
		case <-mc.done:
			mc.drain()
			return
		}
		_ = mc.nc.SetReadDeadline(time.Now().Add(replyTimeout))
		for i := 0; i < cl.n; i++ {
			raw, err := mc.rd.ReadRaw()
			if err != nil {
				mc.fail(err)
				cl.err = mc.failed()
				close(cl.replied)
				mc.drain()
				return
			}
			cl.buf = append(cl.buf, raw...)
			cl.ends = append(cl.ends, len(cl.buf))
		}
		close(cl.replied)
	}
}

// drain fails the requests queued on a failed connection. A request that
// checked the error before it was set may be queueing still: once drain
// holds the queue's lock, none is, and none will queue again.
func (mc *muxConn) drain() {
	err := mc.failed()
	failAll := func() {
		for {
			select {
			case cl := <-mc.queue:
				cl.err = err
				close(cl.replied)
			default:
				return
			}
		}
	}
	failAll() // makes room for a request blocked queueing, under the lock
	mc.mu.Lock()
	failAll()
	mc.mu.Unlock()
}

// do sends cmds as one unit and returns their replies. The unit starts in
// the database the request selected and leaves the connection in 0.
func (c *conn) do(ctx context.Context, cmds ...[][]byte) ([][]byte, error) {
	mc, err := c.m.get(ctx)
	if err != nil {
		return nil, err
	}
	prefix := c.db != 0
	suffix := prefix
	for _, cmd := range cmds {
		if len(cmd) == 2 && string(cmd[0]) == "SELECT" {
			suffix = true
		}
	}
	n := len(cmds)
	if prefix {
		n++
	}
	if suffix {
		n++
	}
	cl, err := mc.send(ctx, func(out []byte) []byte {
		if prefix {
			out = resp.AppendCommand(out, selectCmd(c.db)...)
		}
		for _, cmd := range cmds {
			out = resp.AppendCommand(out, cmd...)
		}
		if suffix {
			out = resp.AppendCommand(out, selectCmd(0)...)
		}
		return out
	}, n)
	if err != nil {
		return nil, fmt.Errorf("backend %s: %w", c.m.opts.Addr, err)
	}
	replies := make([][]byte, 0, n)
	start := 0
	for _, end := range cl.ends {
		replies = append(replies, cl.buf[start:end:end])
		start = end
	}
	if prefix {
		if replies[0][0] == '-' {
			return nil, fmt.Errorf("backend %s: SELECT %d: %s", c.m.opts.Addr, c.db, bytes.TrimSpace(replies[0]))
		}
		replies = replies[1:]
	}
	if suffix {
		replies = replies[:len(replies)-1]
	}
	for _, r := range replies {
		if bytes.HasPrefix(r, noScript) || bytes.Contains(r, noScriptInExec) {
			// Someone flushed the scripts by hand: what this unit did past
			// the failed script is not known to be safe.
			mc.fail(errScriptsFlushed)
			return nil, errScriptsFlushed
		}
	}
	return replies, nil
}

// post sends cmd, in database 0, without waiting for its reply: for
// requests whose outcome nobody needs (garbage collection). A connection
// that is down (or dialling) drops it.
func (c *conn) post(cmd [][]byte) {
	c.m.mu.Lock()
	mc := c.m.cur
	c.m.mu.Unlock()
	if mc == nil || mc.failed() != nil {
		return
	}
	_, _ = mc.queueUnit(func(out []byte) []byte { return resp.AppendCommand(out, cmd...) }, 1)
}

var (
	noScript          = []byte("-NOSCRIPT")
	noScriptInExec    = []byte("\r\n-NOSCRIPT")
	errScriptsFlushed = errors.New("the backend's scripts were flushed (SCRIPT FLUSH run on it?): the outcome of the last request is unknown")
)
