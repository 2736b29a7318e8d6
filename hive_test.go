package flint_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/internal/hivetest"
)

const sampleOrders = "testdata/tpch/sf-sample/orders.parquet"

// hivePairs are queries over Hive-partitioned copies of orders (prio:
// o_orderpriority=…/ folders, the files without that column; ym:
// year=…/month=…/ folders over complete rows) and the same questions asked
// of the original file, whose answer is the expected one.
var hivePairs = []struct{ name, part, base string }{
	{"group by partition column",
		"SELECT o_orderpriority, count(*), sum(o_totalprice), min(o_orderdate), max(o_comment) FROM prio GROUP BY o_orderpriority ORDER BY 1",
		"SELECT o_orderpriority, count(*), sum(o_totalprice), min(o_orderdate), max(o_comment) FROM orders GROUP BY o_orderpriority ORDER BY 1"},
	{"equality",
		"SELECT count(*), sum(o_totalprice), avg(o_custkey) FROM prio WHERE o_orderpriority = '1-URGENT'",
		"SELECT count(*), sum(o_totalprice), avg(o_custkey) FROM orders WHERE o_orderpriority = '1-URGENT'"},
	{"in list and a file column",
		"SELECT o_orderkey, o_orderpriority, o_totalprice FROM prio WHERE o_orderpriority IN ('2-HIGH', '5-LOW') AND o_custkey < 40 ORDER BY o_orderkey",
		"SELECT o_orderkey, o_orderpriority, o_totalprice FROM orders WHERE o_orderpriority IN ('2-HIGH', '5-LOW') AND o_custkey < 40 ORDER BY o_orderkey"},
	{"range on text",
		"SELECT o_orderpriority, count(*) FROM prio WHERE o_orderpriority >= '3' GROUP BY 1 ORDER BY 1",
		"SELECT o_orderpriority, count(*) FROM orders WHERE o_orderpriority >= '3' GROUP BY 1 ORDER BY 1"},
	{"partition column only",
		"SELECT DISTINCT o_orderpriority FROM prio ORDER BY 1",
		"SELECT DISTINCT o_orderpriority FROM orders ORDER BY 1"},
	{"join",
		"SELECT c_mktsegment, count(*) FROM prio JOIN customer ON c_custkey = o_custkey WHERE o_orderpriority = '4-NOT SPECIFIED' GROUP BY 1 ORDER BY 1",
		"SELECT c_mktsegment, count(*) FROM orders JOIN customer ON c_custkey = o_custkey WHERE o_orderpriority = '4-NOT SPECIFIED' GROUP BY 1 ORDER BY 1"},
	{"year",
		"SELECT count(*), sum(o_totalprice) FROM ym WHERE year = 1995",
		"SELECT count(*), sum(o_totalprice) FROM orders WHERE o_orderdate >= DATE '1995-01-01' AND o_orderdate < DATE '1996-01-01'"},
	{"year in, month range",
		"SELECT year, month, count(*), sum(o_totalprice) FROM ym WHERE year IN (1993, 1997) AND month <= 2 GROUP BY year, month ORDER BY 1, 2",
		"SELECT year(o_orderdate), month(o_orderdate), count(*), sum(o_totalprice) FROM orders WHERE year(o_orderdate) IN (1993, 1997) AND month(o_orderdate) <= 2 GROUP BY 1, 2 ORDER BY 1, 2"},
	{"rows of some months",
		"SELECT o_orderkey, o_orderdate, year, month FROM ym WHERE year = 1996 AND month BETWEEN 3 AND 5 AND o_custkey < 100 ORDER BY o_orderkey",
		"SELECT o_orderkey, o_orderdate, year(o_orderdate), month(o_orderdate) FROM orders WHERE o_orderdate >= DATE '1996-03-01' AND o_orderdate < DATE '1996-06-01' AND o_custkey < 100 ORDER BY o_orderkey"},
	{"nothing survives",
		"SELECT count(*) FROM ym WHERE year > 2000",
		"SELECT count(*) FROM orders WHERE o_orderdate > DATE '2000-12-31'"},
}

func writeHiveOrders(t *testing.T) (prio, ym string) {
	t.Helper()
	dir := t.TempDir()
	prio, ym = filepath.Join(dir, "prio"), filepath.Join(dir, "ym")
	folders, err := hivetest.Write(sampleOrders, prio, hivetest.ByString("o_orderpriority"), []string{"o_orderpriority"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(folders) != 5 {
		t.Fatalf("priority folders %v", folders)
	}
	if _, err := hivetest.Write(sampleOrders, ym, hivetest.ByYearMonth("o_orderdate"), nil, 1); err != nil {
		t.Fatal(err)
	}
	return prio, ym
}

func TestHivePartitionedTables(t *testing.T) {
	prio, ym := writeHiveOrders(t)
	for _, bs := range []int{7, 8192} {
		t.Run(fmt.Sprintf("batch%d", bs), func(t *testing.T) {
			ctx := context.Background()
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			s, err := flint.NewSession(ctx, flint.WithSlots(2), flint.WithBatchSize(bs), flint.WithAllocator(mem))
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				s.Close()
				mem.AssertSize(t, 0)
			}()
			for name, loc := range map[string]string{"orders": sampleOrders, "customer": "testdata/tpch/sf-sample/customer.parquet"} {
				if err := s.RegisterTable(ctx, name, "parquet", loc, nil); err != nil {
					t.Fatal(err)
				}
			}
			// No format given: inferred by listing the partition folders.
			if _, _, err := s.SQL(ctx, fmt.Sprintf("CREATE EXTERNAL TABLE prio LOCATION '%s'", prio)).CollectWithSchema(ctx); err != nil {
				t.Fatal(err)
			}
			if err := s.RegisterTable(ctx, "ym", "", ym+"/", nil); err != nil {
				t.Fatal(err)
			}
			names, _ := collect(t, ctx, s.SQL(ctx, "SELECT * FROM prio LIMIT 1"))
			if got := strings.Join(names, ","); !strings.HasSuffix(got, ",o_comment,o_orderpriority") {
				t.Errorf("prio columns %s: the partition column must come after the file columns", got)
			}
			names, _ = collect(t, ctx, s.SQL(ctx, "SELECT * FROM ym LIMIT 1"))
			if got := strings.Join(names, ","); !strings.HasSuffix(got, ",o_comment,year,month") {
				t.Errorf("ym columns %s", got)
			}
			for _, p := range hivePairs {
				t.Run(p.name, func(t *testing.T) {
					_, want := collect(t, ctx, s.SQL(ctx, p.base))
					_, got := collect(t, ctx, s.SQL(ctx, p.part))
					if len(want) == 0 {
						t.Fatal("the reference query returned nothing")
					}
					g, w := strings.Join(rowsText(got), "\n"), strings.Join(rowsText(want), "\n")
					if g != w {
						t.Errorf("partitioned:\n%s\noriginal file:\n%s", g, w)
					}
				})
			}
		})
	}
}

// TestHivePartitioningOption: OPTIONS ('hive_partitioning' 'false') reads
// the same files with no partition column.
func TestHivePartitioningOption(t *testing.T) {
	prio, _ := writeHiveOrders(t)
	ctx := context.Background()
	s, err := flint.NewSession(ctx, flint.WithSlots(2))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	q := fmt.Sprintf("CREATE EXTERNAL TABLE raw STORED AS PARQUET LOCATION '%s' OPTIONS ('hive_partitioning' 'false')", prio)
	if _, _, err := s.SQL(ctx, q).CollectWithSchema(ctx); err != nil {
		t.Fatal(err)
	}
	_, rows := collect(t, ctx, s.SQL(ctx, "SELECT count(*) FROM raw"))
	if got := rowsText(rows); len(got) != 1 || got[0] != "15000" {
		t.Errorf("count %v, want 15000", got)
	}
	if _, _, err := s.SQL(ctx, "SELECT o_orderpriority FROM raw").CollectWithSchema(ctx); err == nil {
		t.Error("o_orderpriority must not exist with hive_partitioning 'false'")
	}
}

// TestHivePrunedEstimates: a scan's row estimate is the row count of the
// files its partition filters leave (from their Parquet footers), with no
// selectivity guess for those filters. It is observed through the join's
// broadcast decision: the build side is broadcast exactly when its
// estimate is at most the threshold, so with the threshold at the true
// row count T it must be, and at T-1 it must not.
func TestHivePrunedEstimates(t *testing.T) {
	_, ym := writeHiveOrders(t)
	ctx := context.Background()
	for _, tc := range []struct{ filter, base string }{
		{"year = 1995", "o_orderdate >= DATE '1995-01-01' AND o_orderdate < DATE '1996-01-01'"},
		{"year >= 1998", "o_orderdate >= DATE '1998-01-01'"},
		{"year IN (1992, 1996) AND month = 2", "year(o_orderdate) IN (1992, 1996) AND month(o_orderdate) = 2"},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			explain := func(threshold float64) string {
				s, err := flint.NewSession(ctx, flint.WithSlots(2), flint.WithBroadcastThreshold(threshold))
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				for name, loc := range map[string]string{"ym": ym, "orders": sampleOrders, "lineitem": "testdata/tpch/sf-sample/lineitem.parquet"} {
					if err := s.RegisterTable(ctx, name, "", loc, nil); err != nil {
						t.Fatal(err)
					}
				}
				_, rows := collect(t, ctx, s.SQL(ctx, "SELECT count(*) FROM orders WHERE "+tc.base))
				if threshold < 0 {
					return rows[0][0]
				}
				_, rows = collect(t, ctx, s.SQL(ctx, "EXPLAIN SELECT count(*) FROM lineitem JOIN ym ON l_orderkey = o_orderkey WHERE "+tc.filter))
				var b strings.Builder
				for _, r := range rows {
					b.WriteString(strings.Join(r, " ") + "\n")
				}
				plan := b.String()
				return plan[strings.Index(plan, "== Physical plan =="):]
			}
			var truth float64
			fmt.Sscan(explain(-1), &truth)
			if truth < 2 {
				t.Fatalf("true row count %v", truth)
			}
			if p := explain(truth); !strings.Contains(p, "broadcast") {
				t.Errorf("threshold %v (the true rows): the partitioned side is not broadcast, so its estimate is above the truth:\n%s", truth, p)
			}
			if p := explain(truth - 1); strings.Contains(p, "broadcast") {
				t.Errorf("threshold %v: the partitioned side is broadcast, so its estimate is below the truth:\n%s", truth-1, p)
			}
		})
	}
}
