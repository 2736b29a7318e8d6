package flint_test

import (
	"context"
	"testing"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/internal/progress"
)

// TestProgressLocalQuery: a local query with a shuffle reports every
// stage and task it runs, and the rows of its result.
func TestProgressLocalQuery(t *testing.T) {
	ctx := context.Background()
	s, err := flint.NewSession(ctx, flint.WithSlots(2), flint.WithPartitions(3))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RegisterTable(ctx, "people", "csv", "testdata/cli/people.csv", nil); err != nil {
		t.Fatal(err)
	}
	tr := progress.NewTracker()
	pctx := flint.WithProgress(ctx, tr)
	// people.csv has 5 rows: a scan stage, then the aggregate after the
	// shuffle, which gives one row.
	n, err := s.SQL(pctx, "SELECT count(*) FROM people").Count(pctx)
	if err != nil || n != 1 {
		t.Fatalf("Count = %d, %v; want 1 row", n, err)
	}
	got := tr.Snapshot()
	if got.Stages < 2 || got.StagesDone != got.Stages || got.Tasks == 0 || got.TasksDone != got.Tasks {
		t.Errorf("progress %+v: want every stage (at least 2) and task done", got)
	}
	if got.Rows == 0 || got.Bytes == 0 {
		t.Errorf("progress %+v: no rows or bytes", got)
	}
}
