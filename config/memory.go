package config

import (
	"errors"
	"strconv"
	"strings"

	"github.com/schemaproxy/schemaproxy/keyspace"
)

// Memory is the maxmemory settings, as Redis names and bounds them. They
// can be given at start and changed with CONFIG SET.
type Memory struct {
	// Maxmemory is the limit in bytes on what the store's keys and values
	// take (its own accounting); 0: none.
	Maxmemory int64
	Policy    keyspace.MemoryPolicy
}

// MemorySettings are the names CONFIG GET and CONFIG SET know for Memory,
// in Redis's words.
var MemorySettings = []string{"maxmemory", "maxmemory-policy", "maxmemory-samples", "lfu-log-factor", "lfu-decay-time"}

// Errors whose text is Redis's reason in a CONFIG SET failure.
var (
	ErrMemoryValue = errors.New("argument must be a memory value")
	errNotInteger  = errors.New("argument couldn't be parsed into an integer")
	// Redis lists the policies in this order.
	errPolicy = errors.New("argument(s) must be one of the following: volatile-lru, volatile-lfu, " +
		"volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction")
	// ErrUnknownSetting is Set's answer for a name it does not know.
	ErrUnknownSetting = errors.New("unknown setting")
)

// ParseMemory reads a byte count with Redis's units (memtoull): b, k (1000),
// kb (1024), m, mb, g, gb, in any case.
func ParseMemory(s string) (int64, error) {
	num := strings.TrimRight(strings.ToLower(s), "bkmg")
	unit := strings.ToLower(s[len(num):])
	mul := int64(1)
	switch unit {
	case "", "b":
	case "k":
		mul = 1000
	case "kb":
		mul = 1024
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1024 * 1024
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1024 * 1024 * 1024
	default:
		return 0, ErrMemoryValue
	}
	n, err := strconv.ParseUint(num, 10, 63)
	if err != nil || num == "" || int64(n) > (1<<63-1)/mul {
		return 0, ErrMemoryValue
	}
	return int64(n) * mul, nil
}

func boundedInt(v string, lo, hi int) (int, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, errNotInteger
	}
	if n < int64(lo) || n > int64(hi) {
		return 0, errors.New("argument must be between " + strconv.Itoa(lo) + " and " + strconv.Itoa(hi) + " inclusive")
	}
	return int(n), nil
}

// Set changes one setting by name (lower case); the error's text is
// Redis's reason, or ErrUnknownSetting.
func (m *Memory) Set(name, value string) error {
	switch name {
	case "maxmemory":
		n, err := ParseMemory(value)
		if err != nil {
			return err
		}
		m.Maxmemory = n
	case "maxmemory-policy":
		p, ok := keyspace.ParsePolicy(value)
		if !ok {
			return errPolicy
		}
		m.Policy.Policy = p
	case "maxmemory-samples":
		n, err := boundedInt(value, 1, 1<<31-1)
		if err != nil {
			return err
		}
		m.Policy.Samples = n
	case "lfu-log-factor":
		n, err := boundedInt(value, 0, 1<<31-1)
		if err != nil {
			return err
		}
		m.Policy.LFULogFactor = n
	case "lfu-decay-time":
		n, err := boundedInt(value, 0, 1<<31-1)
		if err != nil {
			return err
		}
		m.Policy.LFUDecayTime = n
	default:
		return ErrUnknownSetting
	}
	return nil
}

// Get is a setting's value as CONFIG GET shows it.
func (m *Memory) Get(name string) string {
	switch name {
	case "maxmemory":
		return strconv.FormatInt(m.Maxmemory, 10)
	case "maxmemory-policy":
		return m.Policy.Policy.String()
	case "maxmemory-samples":
		return strconv.Itoa(m.Policy.Samples)
	case "lfu-log-factor":
		return strconv.Itoa(m.Policy.LFULogFactor)
	case "lfu-decay-time":
		return strconv.Itoa(m.Policy.LFUDecayTime)
	}
	return ""
}

// Memory is the maxmemory settings (checked by Validate).
func (c *Config) Memory() Memory {
	m := Memory{Policy: keyspace.DefaultMemoryPolicy()}
	for _, s := range []struct{ name, v string }{
		{"maxmemory", c.Maxmemory}, {"maxmemory-policy", c.MaxmemoryPolicy},
		{"maxmemory-samples", strconv.Itoa(c.MaxmemorySamples)},
		{"lfu-log-factor", strconv.Itoa(c.LFULogFactor)}, {"lfu-decay-time", strconv.Itoa(c.LFUDecayTime)},
	} {
		_ = m.Set(s.name, s.v)
	}
	return m
}

func (c *Config) validateMemory() error {
	var errs []error
	m := Memory{}
	for _, s := range []struct{ name, v string }{
		{"maxmemory", c.Maxmemory}, {"maxmemory-policy", c.MaxmemoryPolicy},
		{"maxmemory-samples", strconv.Itoa(c.MaxmemorySamples)},
		{"lfu-log-factor", strconv.Itoa(c.LFULogFactor)}, {"lfu-decay-time", strconv.Itoa(c.LFUDecayTime)},
	} {
		if err := m.Set(s.name, s.v); err != nil {
			errs = append(errs, errors.New(s.name+": "+err.Error()))
		}
	}
	return errors.Join(errs...)
}
