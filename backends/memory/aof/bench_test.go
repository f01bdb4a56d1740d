package aof

import (
	"context"
	"fmt"
	"runtime"
	"testing"
)

// BenchmarkAppendWait measures Append+Wait of 100-byte records with one
// writer and with 50 concurrent ones (group commit), on the test's temp
// directory's file system.
func BenchmarkAppendWait(b *testing.B) {
	for _, p := range []Policy{Always, EverySec, No} {
		for _, writers := range []int{1, 50} {
			b.Run(fmt.Sprintf("%v/writers=%d", p, writers), func(b *testing.B) {
				l, err := Open(Options{Dir: b.TempDir(), Name: "bench", Policy: p})
				if err != nil {
					b.Fatal(err)
				}
				nop := func([]byte) error { return nil }
				if err := l.Load(nil, nop); err != nil {
					b.Fatal(err)
				}
				defer l.Close()
				r := make([]byte, 100)
				ctx := context.Background()
				b.SetBytes(int64(len(r)))
				b.ReportAllocs()
				if writers == 1 {
					for b.Loop() {
						if err := l.Wait(ctx, l.Append(r)); err != nil {
							b.Fatal(err)
						}
					}
					return
				}
				procs := runtime.GOMAXPROCS(0)
				b.SetParallelism((writers + procs - 1) / procs) // RunParallel starts parallelism*GOMAXPROCS goroutines
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := l.Wait(ctx, l.Append(r)); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
