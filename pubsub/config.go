package pubsub

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Config is the hub's limits and hooks.
type Config struct {
	// HardLimit, in bytes, cuts a subscriber off as soon as the output
	// queued for it (messages and replies not yet written to its socket)
	// reaches it. 0 means no hard limit.
	HardLimit int64
	// SoftLimit, in bytes, cuts a subscriber off once its queued output has
	// stayed at or above it for longer than SoftFor. 0 means no soft limit.
	SoftLimit int64
	SoftFor   time.Duration
	// Now is the clock SoftFor is measured with; nil means time.Now.
	Now func() time.Time
	// Logger records the subscribers cut off; nil means slog.Default().
	Logger *slog.Logger
	// Forward, when set, receives every message published here, in the
	// hub's order, so that a cluster layer can pass it to the other
	// proxies (which deliver it with Hub.Deliver). It runs inside the
	// hub's critical section and must only queue the message.
	Forward func(kind Kind, channel, message []byte)
	// AfterWrite, for tests, runs in a subscriber's writer after each
	// write with the bytes still queued; nil in production.
	AfterWrite func(queued int64)
}

// DefaultConfig is Redis's client-output-buffer-limit for the pubsub class
// ("pubsub 32mb 8mb 60"): a subscriber may fall a burst behind, but one
// that keeps 8 MiB waiting for a minute, or 32 MiB at any moment, is
// dropped rather than allowed to grow the proxy's memory without bound.
func DefaultConfig() Config {
	return Config{HardLimit: 32 << 20, SoftLimit: 8 << 20, SoftFor: 60 * time.Second}
}

func (c *Config) validate() error {
	if c.HardLimit < 0 || c.SoftLimit < 0 || c.SoftFor < 0 {
		return errors.New("pubsub: output limits must not be negative")
	}
	return nil
}

// ParseLimit reads the three values of a Redis client-output-buffer-limit
// class, "<hard> <soft> <soft seconds>", with Redis's memory units (32mb,
// 1gb, 512k...), into c's limits.
func ParseLimit(s string, c *Config) error {
	f := strings.Fields(s)
	if len(f) != 3 {
		return fmt.Errorf("output limit %q: want <hard> <soft> <seconds>", s)
	}
	hard, err := parseMemory(f[0])
	if err != nil {
		return err
	}
	soft, err := parseMemory(f[1])
	if err != nil {
		return err
	}
	secs, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || secs < 0 || secs > 1<<31 {
		return fmt.Errorf("output limit %q: bad seconds %q", s, f[2])
	}
	c.HardLimit, c.SoftLimit, c.SoftFor = hard, soft, time.Duration(secs)*time.Second
	return nil
}

// FormatLimit writes c's limits as CONFIG GET client-output-buffer-limit
// shows a class: bytes and seconds.
func FormatLimit(c Config) string {
	return strconv.FormatInt(c.HardLimit, 10) + " " + strconv.FormatInt(c.SoftLimit, 10) + " " +
		strconv.FormatInt(int64(c.SoftFor/time.Second), 10)
}

// parseMemory reads a size as Redis's memtoull: k/m/g are powers of 1000,
// kb/mb/gb powers of 1024, in any case.
func parseMemory(s string) (int64, error) {
	low := strings.ToLower(s)
	mul := int64(1)
	for _, u := range []struct {
		suffix string
		mul    int64
	}{{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1e3}, {"m", 1e6}, {"g", 1e9}, {"b", 1}} {
		if strings.HasSuffix(low, u.suffix) {
			low, mul = strings.TrimSuffix(low, u.suffix), u.mul
			break
		}
	}
	n, err := strconv.ParseInt(low, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mul {
		return 0, fmt.Errorf("bad memory size %q", s)
	}
	return n * mul, nil
}
