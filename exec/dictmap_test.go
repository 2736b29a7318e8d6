package exec_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/exec/expr"
)

// mappedRow is a row of NewDictDecodeMapped's output: the id, s (skipped:
// always NULL), t and u decoded, and the two mapped predicates.
type mappedRow struct{ id, s, t, u, ms, mt string }

func showBool(p *bool) string {
	if p == nil {
		return "NULL"
	}
	return fmt.Sprint(*p)
}

// TestDictDecodeMapped computes predicates of s and of t per dictionary
// entry and gathers them by index: every row gets what the predicate gives
// on its value (NULL indices and NULL entries included), over new, copied
// and dense dictionaries, whole and sliced batches, with and without a
// condition; s, read by its map only, is not decoded, t still is.
func TestDictDecodeMapped(t *testing.T) {
	for _, p := range dictPreds {
		for _, odd := range []bool{false, true} {
			for _, slice := range []int{0, 2} {
				t.Run(fmt.Sprintf("%s/odd=%v/slice%d", p.name, odd, slice), func(t *testing.T) {
					mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
					defer mem.AssertSize(t, 0)
					ctx := exec.WithAllocator(context.Background(), mem)
					var recs []arrow.RecordBatch
					var want []mappedRow
					for _, b := range dictTestBatches() {
						for i, r := range b.rows() {
							if odd && b.ids[i]%2 == 0 {
								continue
							}
							want = append(want, mappedRow{r.id, "NULL", r.t, r.u, showBool(p.ref(b.s.row(i))), showBool(p.ref(b.t.row(i)))})
						}
						recs = appendBatch(recs, b, mem, slice)
					}
					defer func() {
						for _, r := range recs {
							r.Release()
						}
					}()
					one := expr.Col(0, arrow.BinaryTypes.String, "x")
					ms, err := p.build(one)
					if err != nil {
						t.Fatal(err)
					}
					mt, _ := p.build(one)
					var cond exec.Expr
					seen := 0
					if odd {
						cond = idCond{keep: func(id int64) *bool { return bp(id%2 == 1) }, seen: &seen}
					}
					src := &filterTestSource{schema: dictFilterSchema, batches: recs}
					op, err := exec.NewDictDecodeMapped(src, cond, []int{1, 2},
						[]exec.DictMap{{Col: 1, Expr: ms, Name: "ms"}, {Col: 2, Expr: mt, Name: "mt"}}, []int{1})
					if err != nil {
						t.Fatal(err)
					}
					if got := op.Schema().NumFields(); got != 6 {
						t.Fatalf("%d output columns, want 6", got)
					}
					out, err := exec.CollectAll(ctx, op)
					if err != nil {
						t.Fatal(err)
					}
					var got []mappedRow
					for _, b := range out {
						str := func(c, i int) string {
							a := b.Column(c).(*array.String)
							if a.IsNull(i) {
								return "NULL"
							}
							return a.Value(i)
						}
						boolean := func(c, i int) string {
							a := b.Column(c).(*array.Boolean)
							if a.IsNull(i) {
								return "NULL"
							}
							return fmt.Sprint(a.Value(i))
						}
						for i := range int(b.NumRows()) {
							got = append(got, mappedRow{fmt.Sprint(b.Column(0).(*array.Int64).Value(i)), str(1, i), str(2, i), str(3, i), boolean(4, i), boolean(5, i)})
						}
						b.Release()
					}
					if len(got) != len(want) {
						t.Fatalf("%d rows, want %d", len(got), len(want))
					}
					for i := range got {
						if got[i] != want[i] {
							t.Fatalf("row %d: %+v, want %+v", i, got[i], want[i])
						}
					}
					if !src.closed {
						t.Error("input not closed")
					}
				})
			}
		}
	}
}

// TestDictDecodeMappedFailingEntry: a cast that fails on a dictionary
// entry no row references is evaluated on the rows instead, and succeeds;
// one that fails on a row's value is an error.
func TestDictDecodeMappedFailingEntry(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := exec.WithAllocator(context.Background(), mem)
	values := []*string{sp("7"), sp("apple"), sp("12"), nil}
	run := func(idx []int32) ([]string, error) {
		b := dictTestBatch{ids: make([]int64, len(idx)), s: dictCol{values: values, idx: idx},
			t: dictCol{values: values, idx: idx}, u: make([]*string, len(idx))}
		rec := b.build(mem)
		src := &filterTestSource{schema: dictFilterSchema, batches: []arrow.RecordBatch{rec}}
		cast, err := expr.Cast(expr.Col(0, arrow.BinaryTypes.String, "x"), arrow.PrimitiveTypes.Int64)
		if err != nil {
			t.Fatal(err)
		}
		op, err := exec.NewDictDecodeMapped(src, nil, []int{1, 2}, []exec.DictMap{{Col: 1, Expr: cast, Name: "n"}}, []int{1})
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.CollectAll(ctx, op)
		rec.Release()
		if err != nil {
			return nil, err
		}
		var got []string
		for _, b := range out {
			a := b.Column(4).(*array.Int64)
			for i := range a.Len() {
				if a.IsNull(i) {
					got = append(got, "NULL")
				} else {
					got = append(got, fmt.Sprint(a.Value(i)))
				}
			}
			b.Release()
		}
		return got, nil
	}
	got, err := run([]int32{0, 2, 0, -1, 3})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[7 12 7 NULL NULL]" {
		t.Fatalf("got %v", got)
	}
	if _, err := run([]int32{0, 1}); err == nil {
		t.Fatal("a row of 'apple' cast to BIGINT: no error")
	}
}
