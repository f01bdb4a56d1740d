package redis

import (
	"bytes"
	"context"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/schemaproxy/schemaproxy/internal/testutil"
)

// TestVersionRef: the fast path's versions go where the scripts look for
// them: versionRef (Go) and vref (Lua) agree, binary keys included.
func TestVersionRef(t *testing.T) {
	p := testutil.StartRedis(t)
	c := goredis.NewClient(&goredis.Options{Addr: p.Addr})
	defer c.Close()
	ctx := context.Background()
	script := luaVref + "local h, f = vref(KEYS[1]) return {h, f}"
	for _, key := range []string{"", "k", "user:1000", "\x00\xff binary \r\n", string(bytes.Repeat([]byte("long"), 300))} {
		got, err := c.Eval(ctx, script, []string{key}).StringSlice()
		if err != nil {
			t.Fatal(err)
		}
		suffix, field := versionRef([]byte(key))
		if len(got) != 2 || got[0] != "__sp:v:"+string(suffix) || got[1] != string(field) {
			t.Errorf("key %q: Lua puts its version at %q, Go at %q %q", key, got, suffix, field)
		}
	}
}
