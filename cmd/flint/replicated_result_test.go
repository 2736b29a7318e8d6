package main

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flint-engine/flint/internal/resultcmp"
)

// TestDriverGroupLargeResult: a job whose result is too large to
// replicate succeeds, and its leader is SIGKILLed before the client has
// read the result. The orchestrator's retry — flint submit --wait with
// the same idempotency key — finds the job and prints all of its result,
// which the new leader fetched again from the executors: lineitem's keys
// as arrow-go's Parquet reader reads them.
func TestDriverGroupLargeResult(t *testing.T) {
	c := startGroup(t)
	const query = "SELECT l_orderkey, l_linenumber FROM lineitem"
	args := []string{"submit", "--driver", c.Addr(), "--tables", tpchData, "--idempotency-key", "large-result", "-e", query}
	id := strings.TrimSpace(mustRun(t, args...))
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(mustRun(t, "status", "--driver", c.Addr(), id), "succeeded") {
		if time.Now().After(deadline) {
			t.Fatalf("job %s has not succeeded within a minute", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
	lead := leaderOf(t, c.Addr())
	for _, p := range c.Drivers() {
		if p.Addr == lead.Address {
			p.Kill()
		}
	}
	killed := time.Now()
	out := mustRun(t, append(args, "--wait")...)
	t.Logf("the result read %s after the leader was killed", time.Since(killed).Round(time.Millisecond))
	gotID, result, _ := strings.Cut(out, "\n")
	if gotID != id {
		t.Fatalf("the retry ran job %s, not %s", gotID, id)
	}
	got := strings.Split(strings.TrimSpace(result), "\n")[1:] // the header
	sort.Strings(got)

	tbl, err := resultcmp.ReadParquet(tpchData + "/lineitem.parquet")
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	var want []string
	tr := array.NewTableReader(tbl, 8192)
	defer tr.Release()
	for tr.Next() {
		b := tr.RecordBatch()
		s := b.Schema()
		ok := s.FieldIndices("l_orderkey")[0]
		ln := s.FieldIndices("l_linenumber")[0]
		for r := 0; r < int(b.NumRows()); r++ {
			want = append(want, fmt.Sprintf("%s,%s", b.Column(ok).ValueStr(r), b.Column(ln).ValueStr(r)))
		}
	}
	sort.Strings(want)
	if len(want) < 30000 {
		t.Fatalf("lineitem has %d rows: too few to pass the replicated result's limit", len(want))
	}
	t.Logf("lineitem: %d rows", len(want))
	if !slices.Equal(got, want) {
		t.Fatalf("the result after the leader change has %d rows, lineitem %d", len(got), len(want))
	}
	// The new leader fetched it from the executors.
	fetched := regexp.MustCompile(`msg="result fetched again from the executors" job=` + regexp.QuoteMeta(id))
	found := false
	for _, p := range c.Drivers() {
		found = found || fetched.MatchString(p.Output())
	}
	if !found {
		t.Error("no driver logged fetching the result again")
	}
}
