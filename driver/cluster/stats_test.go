package cluster_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/driver/cluster"
	"github.com/flint-engine/flint/internal/hivetest"
	"github.com/flint-engine/flint/plan"
	pb "github.com/flint-engine/flint/proto/flintpb"
)

// TestDriverPrunedEstimates: the driver plans with the row estimates of
// local mode, so a scan of a Hive-partitioned table is estimated at the
// rows of the files its partition filters leave. It shows in the join's
// broadcast decision (EXPLAIN jobs are planned by the driver): the build
// side is broadcast exactly when its estimate is at most the threshold,
// so with the threshold at the true row count T it must be, and at T-1
// it must not. T is counted from the Parquet footers of the files by
// arrow-go, not by Flint.
func TestDriverPrunedEstimates(t *testing.T) {
	ctx := context.Background()
	ym := filepath.Join(t.TempDir(), "ym")
	if _, err := hivetest.Write(filepath.Join(sampleDir, "orders.parquet"), ym, hivetest.ByYearMonth("o_orderdate"), nil, 1); err != nil {
		t.Fatal(err)
	}
	cat := tpchCatalog(t)
	src, err := connectors.Open(ctx, connectors.Parquet, ym, nil)
	if err != nil {
		t.Fatal(err)
	}
	cat["ym"] = &plan.TableSource{Name: "ym", Format: "parquet", Location: ym, Schema: src.Schema(), RowCount: src.Stats().RowCount}
	_, c := startDriver(t, cluster.Config{})

	for _, tc := range []struct {
		filter string
		in     func(year, month string) bool
	}{
		{"year = 1995", func(y, _ string) bool { return y == "1995" }},
		{"year IN (1992, 1996) AND month = 2", func(y, m string) bool { return (y == "1992" || y == "1996") && m == "2" }},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			truth := footerRows(t, ym, tc.in)
			if truth < 2 {
				t.Fatalf("true row count %d", truth)
			}
			explain := func(threshold float64) string {
				n, _ := bind(t, cat, "SELECT count(*) FROM lineitem JOIN ym ON l_orderkey = o_orderkey WHERE "+tc.filter)
				req := submitRequest(t, n)
				req.Explain = true
				req.Options = &pb.JobOptions{BroadcastRows: threshold}
				id := submit(ctx, t, c, req)
				_, got, err := results(ctx, c, id)
				if err != nil {
					t.Fatal(err)
				}
				defer release(got)
				text := strings.Join(stringColumn(got, 0), "\n")
				return text[strings.Index(text, "== Physical plan =="):]
			}
			if p := explain(float64(truth)); !strings.Contains(p, "broadcast") {
				t.Errorf("threshold %d (the true rows): the partitioned side is not broadcast, so its estimate is above the truth:\n%s", truth, p)
			}
			if p := explain(float64(truth - 1)); strings.Contains(p, "broadcast") {
				t.Errorf("threshold %d: the partitioned side is broadcast, so its estimate is below the truth:\n%s", truth-1, p)
			}
		})
	}

	t.Run("missing table", func(t *testing.T) {
		// A table that cannot be opened gets no estimate; the submit
		// succeeds and the job fails naming it, as before.
		gone := *cat["ym"]
		gone.Location = filepath.Join(t.TempDir(), "gone")
		cat := tpchCatalog(t)
		cat["ym"] = &gone
		n, _ := bind(t, cat, "SELECT count(*) FROM ym WHERE year = 1995")
		id := submit(ctx, t, c, submitRequest(t, n))
		_, st := watch(ctx, t, c, id)
		if st.GetState() != pb.JobState_JOB_STATE_FAILED || !strings.Contains(st.GetError(), "gone") {
			t.Errorf("job %s: %s %q; want failed naming the location", id, st.GetState(), st.GetError())
		}
	})
}

// footerRows sums the row counts in the Parquet footers of the files of
// dir's year=Y/month=M folders that keep says to keep.
func footerRows(t *testing.T, dir string, keep func(year, month string) bool) int64 {
	t.Helper()
	var rows int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".parquet") {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if len(parts) != 3 || !keep(strings.TrimPrefix(parts[0], "year="), strings.TrimPrefix(parts[1], "month=")) {
			return nil
		}
		r, err := file.OpenParquetFile(p, false)
		if err != nil {
			return err
		}
		defer r.Close()
		rows += r.NumRows()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
