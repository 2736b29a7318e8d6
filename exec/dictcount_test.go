package exec_test

import (
	"context"
	"fmt"
	"maps"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/exec"
)

// TestDictCategoryCounts counts the values of s and t over new, copied
// and dense dictionaries, whole and sliced batches, with and without a
// condition (NULL rows of the condition not counted): the counts are
// those of the rows' values, NULLs left out, entries no row uses absent.
func TestDictCategoryCounts(t *testing.T) {
	for _, odd := range []bool{false, true} {
		for _, slice := range []int{0, 2} {
			t.Run(fmt.Sprintf("odd=%v/slice%d", odd, slice), func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				ctx := exec.WithAllocator(context.Background(), mem)
				want := []map[string]int64{{}, {}}
				var recs []arrow.RecordBatch
				for _, b := range dictTestBatches() {
					for i, id := range b.ids {
						if odd && id%2 == 0 {
							continue
						}
						for k, v := range []*string{b.s.row(i), b.t.row(i)} {
							if v != nil {
								want[k][*v]++
							}
						}
					}
					recs = appendBatch(recs, b, mem, slice)
				}
				defer func() {
					for _, r := range recs {
						r.Release()
					}
				}()
				var cond exec.Expr
				seen := 0
				if odd {
					cond = idCond{keep: func(id int64) *bool { return bp(id%2 == 1) }, seen: &seen}
				}
				out := arrow.NewSchema([]arrow.Field{{Name: "s_counts", Type: arrow.BinaryTypes.Binary, Nullable: true},
					{Name: "t_counts", Type: arrow.BinaryTypes.Binary, Nullable: true}}, nil)
				src := &filterTestSource{schema: dictFilterSchema, batches: recs}
				op, err := exec.NewDictCategoryCounts(src, cond, []int{1, 2}, out)
				if err != nil {
					t.Fatal(err)
				}
				res, err := exec.CollectAll(ctx, op)
				if err != nil {
					t.Fatal(err)
				}
				defer func() {
					for _, r := range res {
						r.Release()
					}
				}()
				if len(res) != 1 || res[0].NumRows() != 1 {
					t.Fatalf("%d batches, want one row", len(res))
				}
				for k := range 2 {
					got := map[string]int64{}
					a := res[0].Column(k).(*array.Binary)
					if err := exec.DecodeCategoryCounts(a.Value(0), func(v string, n int64) { got[v] += n }); err != nil {
						t.Fatal(err)
					}
					if !maps.Equal(got, want[k]) {
						t.Errorf("column %d: counts %v, want %v", k, got, want[k])
					}
				}
				if !src.closed {
					t.Error("input not closed")
				}
			})
		}
	}
}
