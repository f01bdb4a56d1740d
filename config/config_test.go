package config

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "sp.conf")
	if err := os.WriteFile(file, []byte("# comment\nshards 8\ndatabases 4\nappendfsync always\nlisten 127.0.0.1:7000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SCHEMAPROXY_DATABASES": "9", "SCHEMAPROXY_DATA_DIR": "/tmp/x"}
	getenv := func(k string) string { return env[k] }
	cases := []struct {
		name  string
		args  []string
		check func(c Config) bool
	}{
		{"defaults", nil, func(c Config) bool {
			return c.Listen == "127.0.0.1:6379" && c.Shards == 4 && c.Databases == 16 && c.AppendFsync == "everysec"
		}},
		{"file", []string{"--config", file}, func(c Config) bool { return c.Shards == 8 && c.Listen == "127.0.0.1:7000" }},
		{"env beats file", []string{"--config", file}, func(c Config) bool { return c.Databases == 9 && c.DataDir == "/tmp/x" }},
		{"flag beats env", []string{"--config", file, "--databases", "2"}, func(c Config) bool { return c.Databases == 2 }},
	}
	for _, c := range cases {
		ge := getenv
		if c.name == "defaults" {
			ge = func(string) string { return "" }
		}
		cfg, err := Load(c.args, ge, io.Discard)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !c.check(cfg) {
			t.Errorf("%s: %+v", c.name, cfg)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.conf")
	if err := os.WriteFile(bad, []byte("nosuch 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	none := func(string) string { return "" }
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--shards", "x"}, "not a number"},
		{[]string{"--shards", "0"}, "shards"},
		{[]string{"--appendfsync", "sometimes"}, "appendfsync"},
		{[]string{"--log-level", "loud"}, "log-level"},
		{[]string{"--config", bad}, "unknown setting"},
		{[]string{"--config", filepath.Join(dir, "missing")}, "config file"},
		{[]string{"extra"}, "unexpected argument"},
	}
	for _, c := range cases {
		_, err := Load(c.args, none, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one mentioning %q", c.args, err, c.want)
		}
	}
}

// TestBackends: --backend repeats, the environment gives a comma-separated
// list, the file one line each, and the later source replaces the list.
func TestBackends(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/sp.conf"
	if err := os.WriteFile(file, []byte("backend redis://a:1\nbackend redis://b:2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		args []string
		env  map[string]string
		want []string
		safe bool
	}{
		{args: []string{"--config", file}, want: []string{"redis://a:1", "redis://b:2"}, safe: true},
		{args: []string{"--config", file}, env: map[string]string{"SCHEMAPROXY_BACKEND": "redis://c:3, redis://d:4"},
			want: []string{"redis://c:3", "redis://d:4"}, safe: true},
		{args: []string{"--config", file, "--backend", "redis://e:5", "--backend", "rediss://f:6", "--unsafe-backends"},
			want: []string{"redis://e:5", "rediss://f:6"}},
		{args: nil, env: map[string]string{"SCHEMAPROXY_UNSAFE_BACKENDS": "true"}},
	}
	for i, c := range cases {
		cfg, err := Load(c.args, env(c.env), io.Discard)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !slices.Equal(cfg.Backends, c.want) || cfg.UnsafeBackends == c.safe {
			t.Errorf("case %d: backends %q unsafe %v", i, cfg.Backends, cfg.UnsafeBackends)
		}
	}
}

// TestPubSubLimit: Redis's pubsub class by default, Redis's syntax to
// change it, refused when malformed.
func TestPubSubLimit(t *testing.T) {
	none := func(string) string { return "" }
	cfg, err := Load(nil, none, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if ps := cfg.PubSub(); ps.HardLimit != 32<<20 || ps.SoftLimit != 8<<20 || ps.SoftFor.Seconds() != 60 {
		t.Fatalf("default %+v", ps)
	}
	cfg, err = Load([]string{"--pubsub-output-limit", "1mb 512kb 5"}, none, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if ps := cfg.PubSub(); ps.HardLimit != 1<<20 || ps.SoftLimit != 512<<10 || ps.SoftFor.Seconds() != 5 {
		t.Fatalf("set %+v", ps)
	}
	if _, err := Load([]string{"--pubsub-output-limit", "lots"}, none, io.Discard); err == nil || !strings.Contains(err.Error(), "pubsub-output-limit") {
		t.Fatalf("a malformed limit: %v", err)
	}
}

// TestSlots: --slots, SCHEMAPROXY_SLOTS and the file's slots line give the
// ranges per shard; the even split when none; refused in one line when
// they do not cover the slots once or name another number of shards.
func TestSlots(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "sp.conf")
	if err := os.WriteFile(file, []byte("backend redis://a:1\nbackend redis://b:2\nslots 0-99,200-16383 100-199\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	two := []string{"--backend", "redis://a:1", "--backend", "redis://b:2"}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		// shard of slots 0, 100, 199, 200, 16383; or the error
		want    [5]int
		wantErr string
	}{
		{name: "even, backends", args: two, want: [5]int{0, 0, 0, 0, 1}},
		{name: "even, embedded", args: []string{"--shards", "3"}, want: [5]int{0, 0, 0, 0, 2}},
		{name: "flag", args: append([]string{"--slots", "0-99,200-16383;100-199"}, two...), want: [5]int{0, 1, 1, 0, 0}},
		{name: "file", args: []string{"--config", file}, want: [5]int{0, 1, 1, 0, 0}},
		{name: "env beats file", args: []string{"--config", file}, env: map[string]string{"SCHEMAPROXY_SLOTS": "0-100;101-16383"},
			want: [5]int{0, 0, 1, 1, 1}},
		{name: "flag beats env", args: []string{"--config", file, "--slots", "0-16382;16383"},
			env: map[string]string{"SCHEMAPROXY_SLOTS": "0-100;101-16383"}, want: [5]int{0, 0, 0, 0, 1}},
		{name: "embedded shards", args: []string{"--shards", "2", "--slots", "16000-16383;0-15999"}, want: [5]int{1, 1, 1, 1, 0}},
		{name: "too few", args: append([]string{"--slots", "0-16383"}, two...), wantErr: "slots: ranges for 1 shards, but 2 backends"},
		{name: "too many", args: []string{"--shards", "2", "--slots", "0-1;2-3;4-16383"}, wantErr: "slots: ranges for 3 shards, but 2 embedded shards"},
		{name: "gap", args: append([]string{"--slots", "0-99;101-16383"}, two...), wantErr: "slots: slots 100 belong to no shard"},
		{name: "overlap", args: append([]string{"--slots", "0-100;100-16383"}, two...), wantErr: "slots: slot 100 is given to shard 0 and to shard 1"},
		{name: "syntax", args: append([]string{"--slots", "0-99;100-x"}, two...), wantErr: `slots: shard 1: "100-x": "x" is not a slot (0-16383)`},
		{name: "empty", args: append([]string{"--slots", ";"}, two...), wantErr: "slots: no slot ranges"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Load(c.args, func(k string) string { return c.env[k] }, io.Discard)
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m, err := cfg.SlotMap()
			if err != nil {
				t.Fatal(err)
			}
			var got [5]int
			for i, s := range []uint16{0, 100, 199, 200, 16383} {
				got[i] = m.ShardOfSlot(s)
			}
			if got != c.want {
				t.Fatalf("shards of slots 0, 100, 199, 200, 16383: %v, want %v", got, c.want)
			}
		})
	}
}
