package check

import (
	"encoding/json"
	"flag"
	"os"
	"testing"
	"time"
)

var historyFlag = flag.String("check.history", "", "a history saved as JSON (by tests/listappend_test.go) to check again")

// TestListAppendSavedHistory re-checks a history that an end-to-end test
// saved, so that a failure can be studied without rerunning the workload.
func TestListAppendSavedHistory(t *testing.T) {
	if *historyFlag == "" {
		t.Skip("no -check.history given")
	}
	b, err := os.ReadFile(*historyFlag)
	if err != nil {
		t.Fatal(err)
	}
	var h []Txn
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	res, err := Check(h)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("checked in %v", time.Since(begin))
	if !res.Valid() {
		t.Fatalf("%s", res)
	}
	t.Log(res.Summary())
}
