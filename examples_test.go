package flint_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"

	flint "github.com/flint-engine/flint"
)

// TestLateDeliveryExample runs examples/late-delivery's SQL steps as its
// README does (local mode, ${WORK} filled in) on the checked-in TPC-H
// sample, twice: every step is idempotent, so the second run leaves the
// same outputs and no duplicates. The example's Go program and the cluster
// path run the same statements (see its README).
func TestLateDeliveryExample(t *testing.T) {
	ctx := context.Background()
	work := t.TempDir()
	step := func(s *flint.Session, file string) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("examples/late-delivery/sql", file))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SQL(ctx, strings.ReplaceAll(string(b), "${WORK}", work)).Err(); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	count := func(s *flint.Session, q string) int64 {
		t.Helper()
		batches, err := s.SQL(ctx, q).Collect(ctx)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer batches[0].Release()
		return batches[0].Column(0).(*array.Int64).Value(0)
	}
	for run := 0; run < 2; run++ {
		s, err := flint.NewSession(ctx, flint.WithSlots(2), flint.WithPartitions(3), flint.WithModels(filepath.Join(work, "models")))
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range []string{"lineitem", "orders", "customer", "part", "supplier", "nation"} {
			if err := s.RegisterTable(ctx, tb, "parquet", filepath.Join("testdata/tpch/sf-sample", tb+".parquet"), nil); err != nil {
				t.Fatal(err)
			}
		}
		step(s, "01_etl.sql")
		if err := s.RegisterTable(ctx, "features", "parquet", filepath.Join(work, "features"), nil); err != nil {
			t.Fatal(err)
		}
		step(s, "02_train.sql")
		step(s, "03_evaluate.sql")
		step(s, "04_score.sql")
		lines := count(s, "SELECT count(*) FROM lineitem")
		if n := count(s, "SELECT count(*) FROM features"); n != lines {
			t.Errorf("run %d: %d feature rows for %d line items", run, n, lines)
		}
		scores := filepath.Join(work, "scores")
		if err := s.RegisterTable(ctx, "scores", "parquet", scores, nil); err != nil {
			t.Fatal(err)
		}
		if n := count(s, "SELECT count(*) FROM (SELECT DISTINCT l_orderkey, l_linenumber FROM scores)"); n != lines {
			t.Errorf("run %d: %d distinct scored line items for %d", run, n, lines)
		}
		if n := count(s, "SELECT count(*) FROM scores"); n != lines {
			t.Errorf("run %d: %d scores for %d line items (duplicates?)", run, n, lines)
		}
		if err := s.RegisterTable(ctx, "evaluation", "csv", filepath.Join(work, "evaluation"), nil); err != nil {
			t.Fatal(err)
		}
		if n := count(s, "SELECT count(*) FROM evaluation WHERE roc_auc > 0.9"); n != 1 {
			t.Errorf("run %d: the evaluation's AUC is not above 0.9", run)
		}
		s.Close()
	}
}
