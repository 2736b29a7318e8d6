package planner_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/tpch"
)

// TestReuseExchangesQ15 proves physical.ReuseExchanges fires: Q15 reads its
// revenue view twice (for the rows and for their max), and the view's
// lineitem scan and aggregation must run as one stage read by both.
func TestReuseExchangesQ15(t *testing.T) {
	ctx := context.Background()
	s, err := flint.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range tpch.Tables {
		if err := s.RegisterTable(ctx, table, "parquet", filepath.Join("..", "testdata", "tpch", "sf-sample", table+".parquet"), nil); err != nil {
			t.Fatal(err)
		}
	}
	text, err := s.SQL(ctx, tpch.Query(15)).Explain()
	if err != nil {
		t.Fatal(err)
	}
	_, stages, ok := strings.Cut(text, "== Stages ==")
	if !ok {
		t.Fatalf("no stages in EXPLAIN:\n%s", text)
	}
	if n := strings.Count(stages, "Scan parquet lineitem"); n != 1 {
		t.Errorf("lineitem is scanned by %d stages, want 1:\n%s", n, stages)
	}
	if n := strings.Count(stages, "Read hash from stage 0"); n != 2 {
		t.Errorf("stage 0 is read %d times, want 2:\n%s", n, stages)
	}
}
