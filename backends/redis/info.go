package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Info is the shard's part of INFO backends: its address, whether its
// connections are up, and how well requests were coalesced (units per
// write).
func (s *Shard) Info() [2]string {
	var units, writes, dials int64
	up := 0
	for _, m := range s.muxes {
		units += m.units.Load()
		writes += m.writes.Load()
		dials += m.dials.Load()
		m.mu.Lock()
		if m.cur != nil && m.cur.failed() == nil {
			up++
		}
		m.mu.Unlock()
	}
	return [2]string{"backend" + strconv.Itoa(s.index),
		fmt.Sprintf("addr=%s,connections=%d,requests=%d,writes=%d,dials=%d", s.addr, up, units, writes, dials)}
}

// KeyCounts are a database's user keys on one shard, metadata left out.
type KeyCounts struct {
	Keys, Expires int64
}

// Keyspace counts the user keys of every database that has keys, as INFO
// keyspace reports them: the backend's counts less its metadata keys
// (versions and records; none of them expires but the fence).
func (s *Shard) Keyspace(ctx context.Context) (map[int]KeyCounts, error) {
	out := map[int]KeyCounts{}
	var r [][]byte
	err := s.with(ctx, 2, 0, func(c *conn) (err error) {
		r, err = c.do(ctx, [][]byte{[]byte("INFO"), []byte("keyspace")})
		return err
	})
	if err != nil {
		return nil, err
	}
	v, err := parseValue(r[0])
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(v.Str), "\r\n") {
		name, fields, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(name, "db") {
			continue
		}
		db, err := strconv.Atoi(name[2:])
		if err != nil || db >= s.databases {
			continue
		}
		var kc KeyCounts
		for _, f := range strings.Split(fields, ",") {
			k, val, _ := strings.Cut(f, "=")
			n, _ := strconv.ParseInt(val, 10, 64)
			switch k {
			case "keys":
				kc.Keys = n
			case "expires":
				kc.Expires = n
			}
		}
		err = s.with(ctx, 2, db, func(c *conn) (err error) {
			kc.Keys, err = s.userKeys(ctx, c)
			return err
		})
		if err != nil {
			return nil, err
		}
		if kc.Keys > 0 {
			out[db] = kc
		}
	}
	return out, nil
}
