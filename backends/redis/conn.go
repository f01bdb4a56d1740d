package redis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// conn is one connection to a backend, speaking RESP2 or RESP3 as the
// clients it serves do, so that replies pass through byte for byte.
type conn struct {
	c   net.Conn
	rd  *resp.Reader
	out []byte
	db  int // the database SELECTed, -1 unknown
}

// pool keeps idle connections of one protocol.
type pool struct {
	opts  *goredis.Options
	proto int
	// runID is told the server's run_id by every new connection.
	runID func(string)
	mu    sync.Mutex // guards idle
	idle  []*conn
}

// maxIdle is how many idle connections a pool keeps: as many as the
// requests in flight at once, so that a burst does not dial (and load the
// scripts) again and again.
const maxIdle = 256

func (p *pool) get(ctx context.Context) (*conn, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	return p.dial(ctx)
}

// put returns a healthy connection; a broken one is closed instead, with
// every idle one: when one fails the server has often gone (restarted),
// and the others would fail in turn, one request each.
func (p *pool) put(c *conn, broken bool) {
	if broken {
		c.c.Close()
		p.close()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) >= maxIdle {
		c.c.Close()
		return
	}
	p.idle = append(p.idle, c)
}

func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.idle {
		c.c.Close()
	}
	p.idle = nil
}

func (p *pool) dial(ctx context.Context) (*conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", p.opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("backend %s: %w", p.opts.Addr, err)
	}
	c := &conn{c: nc, rd: resp.NewReader(nc), db: 0}
	hello := [][]byte{[]byte("HELLO"), []byte(fmt.Sprint(p.proto))}
	if p.opts.Password != "" {
		user := p.opts.Username
		if user == "" {
			user = "default"
		}
		hello = append(hello, []byte("AUTH"), []byte(user), []byte(p.opts.Password))
	}
	cmds := [][][]byte{hello, {[]byte("INFO"), []byte("server")}}
	for _, s := range allScripts {
		cmds = append(cmds, [][]byte{[]byte("SCRIPT"), []byte("LOAD"), []byte(s)})
	}
	replies, err := c.do(ctx, cmds...)
	for i := 0; err == nil && i < len(replies); i++ {
		if len(replies[i]) > 0 && replies[i][0] == '-' {
			err = errors.New(string(replies[i][1 : len(replies[i])-2]))
		}
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("backend %s: HELLO and SCRIPT LOAD: %w", p.opts.Addr, err)
	}
	if p.runID != nil {
		if _, rest, ok := bytes.Cut(replies[1], []byte("run_id:")); ok {
			if id, _, ok := bytes.Cut(rest, []byte("\r\n")); ok {
				p.runID(string(id))
			}
		}
	}
	return c, nil
}

// do sends cmds in one write and returns their raw replies (copies).
func (c *conn) do(ctx context.Context, cmds ...[][]byte) ([][]byte, error) {
	c.out = c.out[:0]
	for _, cmd := range cmds {
		c.out = resp.AppendCommand(c.out, cmd...)
	}
	return c.send(ctx, len(cmds))
}

// send writes what is in out and reads n replies.
func (c *conn) send(ctx context.Context, n int) ([][]byte, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(30 * time.Second)
	}
	_ = c.c.SetDeadline(deadline)
	if _, err := c.c.Write(c.out); err != nil {
		return nil, err
	}
	replies := make([][]byte, n)
	for i := range replies {
		raw, err := c.rd.ReadRaw()
		if err != nil {
			return nil, err
		}
		replies[i] = append([]byte(nil), raw...)
	}
	for _, r := range replies {
		if bytes.HasPrefix(r, noScript) || bytes.Contains(r, noScriptInExec) {
			// Someone flushed the scripts by hand: what this pipeline did
			// past the failed script is not known to be safe.
			return nil, errScriptsFlushed
		}
	}
	return replies, nil
}

var (
	noScript          = []byte("-NOSCRIPT")
	noScriptInExec    = []byte("\r\n-NOSCRIPT")
	errScriptsFlushed = errors.New("the backend's scripts were flushed (SCRIPT FLUSH run on it?): the outcome of the last request is unknown")
)
