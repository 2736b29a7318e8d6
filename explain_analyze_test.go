package flint_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/tpch"
)

// TestExplainAnalyze: EXPLAIN ANALYZE runs the query and shows, per
// operator, the rows it returned and its time, peak memory and bytes
// spilled where it holds data; with a pool of 1 MiB the exchanges spill,
// and the work dir is empty afterwards.
func TestExplainAnalyze(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	work := t.TempDir()
	s, err := flint.NewSession(ctx, flint.WithSlots(2), flint.WithAllocator(mem),
		flint.WithOperatorMemory(1<<20), flint.WithWorkDir(work))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, table := range []string{"lineitem", "orders", "customer"} {
		if err := s.RegisterTable(ctx, table, "parquet", "testdata/tpch/sf-sample/"+table+".parquet", nil); err != nil {
			t.Fatal(err)
		}
	}
	explain := func(sql string) string {
		got, err := s.SQL(ctx, "EXPLAIN ANALYZE "+sql).Collect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var text strings.Builder
		for _, b := range got {
			col := b.Column(0).(*array.String)
			for i := range col.Len() {
				text.WriteString(col.Value(i) + "\n")
			}
			b.Release()
		}
		return text.String()
	}
	out := explain(tpch.Query(3))
	for _, want := range []string{
		`(?m)^== Physical plan \(analyzed\) ==$`,
		`(?m)^  TopN 10 .*\[rows=\d+ batches=\d+ time=\S+ tasks=\d+`,
		`(?m)Scan parquet lineitem .*\[rows=[1-9]\d* `,
		`(?m)HashAggregate\(\w+\).*\[rows=[1-9]`,
		`(?m)HashJoin Inner partitioned .*\[rows=[1-9]`,
		`(?m)^rows: 10  wall: \S+  memory pool: peak \S+ \S+ of 1.0 MiB  spilled: \S+ \S+ by operators, \S+ \S+ of exchanges$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("EXPLAIN ANALYZE output does not match %s:\n%s", want, out)
		}
	}
	// A shuffle of every comment outgrows the exchanges' share.
	out = explain("SELECT l_comment, count(*) FROM lineitem GROUP BY l_comment ORDER BY 2 DESC, 1 LIMIT 3")
	if want := `(?m)^rows: 3 .* spilled: \S+ \S+ by operators, [1-9][0-9.]* \S+ of exchanges$`; !regexp.MustCompile(want).MatchString(out) {
		t.Errorf("EXPLAIN ANALYZE output does not match %s:\n%s", want, out)
	}
	if left, _ := os.ReadDir(work); len(left) > 0 {
		t.Errorf("files left in the work dir: %v", left)
	}
}
