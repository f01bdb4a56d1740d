package aof

import "testing"

func TestParsePolicy(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Policy
		ok   bool
	}{
		{"always", Always, true},
		{"everysec", EverySec, true},
		{"no", No, true},
		{"EverySec", EverySec, true},
		{"", 0, false},
		{"sometimes", 0, false},
	} {
		got, err := ParsePolicy(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParsePolicy(%q) = %v, %v", tc.in, got, err)
		}
		if tc.ok && got.String() != map[Policy]string{Always: "always", EverySec: "everysec", No: "no"}[got] {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
	if s := Policy(7).String(); s != "Policy(7)" {
		t.Errorf("Policy(7).String() = %q", s)
	}
}
