package proxy

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/schemaproxy/schemaproxy/backends/memory"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/txn"
)

// benchServer serves the embedded store (no persistence) on a loopback
// port for the duration of b.
func benchServer(b *testing.B) string {
	b.Helper()
	exec := keyspace.NewExecutor(command.Default)
	st, err := memory.Open(memory.Options{Shards: 4, Databases: 16}, exec)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	coord := txn.New(txn.Config{Shards: st.Shards(), Exec: exec, Databases: 16,
		Now: func() int64 { return time.Now().UnixMilli() }})
	srv := New(Config{Databases: 16, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, coord)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// BenchmarkPipelinedGet measures the server's cost (and allocations) per
// GET in pipelines of 16, the client side allocating nothing.
func BenchmarkPipelinedGet(b *testing.B) { benchPipeline(b, "GET") }

// BenchmarkPipelinedSet is the same for SET.
func BenchmarkPipelinedSet(b *testing.B) { benchPipeline(b, "SET") }

func benchPipeline(b *testing.B, cmd string) {
	addr := benchServer(b)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var req []byte
	for i := 0; i < 16; i++ {
		if cmd == "GET" {
			req = append(req, "*2\r\n$3\r\nGET\r\n$8\r\nkey:none\r\n"...)
		} else {
			req = append(req, "*3\r\n$3\r\nSET\r\n$8\r\nkey:0001\r\n$5\r\nvalue\r\n"...)
		}
	}
	buf := make([]byte, 64<<10)
	roundTrip := func() {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		got := 0
		for got < 16 {
			n, err := c.Read(buf)
			if err != nil {
				b.Fatal(err)
			}
			// Every reply here is one line: "+OK" or "$-1" (key never set).
			got += bytes.Count(buf[:n], []byte("\r\n"))
		}
	}
	roundTrip()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += 16 {
		roundTrip()
	}
}
