package txn

import (
	"strings"
	"testing"
)

func TestPinXAddID(t *testing.T) {
	cases := []struct{ in, want string }{
		{"xadd s * f v", "xadd s 7-1 f v"},
		{"xadd s 5-* f v", "xadd s 7-1 f v"},
		{"xadd s 9-9 f v", "xadd s 9-9 f v"},
		{"XADD s NOMKSTREAM MAXLEN ~ 10 LIMIT 5 * f v", "XADD s NOMKSTREAM MAXLEN ~ 10 LIMIT 5 7-1 f v"},
		{"XADD s MINID = 3 * * v", "XADD s MINID = 3 7-1 * v"},
		{"XADD s MAXLEN 10 * f *", "XADD s MAXLEN 10 7-1 f *"},
	}
	for _, c := range cases {
		var args [][]byte
		for _, a := range strings.Fields(c.in) {
			args = append(args, []byte(a))
		}
		out := pinXAddID(args, []byte("7-1"))
		var got []string
		for _, a := range out {
			got = append(got, string(a))
		}
		if s := strings.Join(got, " "); s != c.want {
			t.Errorf("%s: %s, want %s", c.in, s, c.want)
		}
		var in []string
		for _, a := range args {
			in = append(in, string(a))
		}
		if s := strings.Join(in, " "); s != c.in {
			t.Errorf("%s: the arguments given became %s", c.in, s)
		}
	}
}
