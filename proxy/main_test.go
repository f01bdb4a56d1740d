package proxy

import (
	"testing"

	"go.uber.org/goleak"
)

// Every goroutine a test starts (connections, subscribers' writers, the
// store's background work) must be gone once the servers are closed.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
