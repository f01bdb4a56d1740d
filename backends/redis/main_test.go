package redis

import (
	"testing"

	"go.uber.org/goleak"
)

// Every goroutine a test starts (shard background jobs, log flushers) must
// be stopped by the time it ends.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
