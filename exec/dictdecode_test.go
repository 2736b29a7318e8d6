package exec_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/exec"
)

// idCond is a condition on the id column (column 0) given by keep: nil
// for NULL. It fails if the batch's dictionary columns were decoded
// before it ran (it must see them as they arrive).
type idCond struct {
	keep func(id int64) *bool
	seen *int // dictionary columns seen
}

func (c idCond) DataType() arrow.DataType { return arrow.FixedWidthTypes.Boolean }
func (c idCond) String() string           { return "idCond" }
func (c idCond) Eval(ctx context.Context, b arrow.RecordBatch) (arrow.Array, error) {
	for _, col := range b.Columns() {
		if col.DataType().ID() == arrow.DICTIONARY {
			*c.seen++
		}
	}
	bb := array.NewBooleanBuilder(exec.Allocator(ctx))
	defer bb.Release()
	for _, id := range b.Column(0).(*array.Int64).Int64Values() {
		if v := c.keep(id); v == nil {
			bb.AppendNull()
		} else {
			bb.Append(*v)
		}
	}
	return bb.NewArray(), nil
}

// appendBatch appends b's batch to recs, cut into batches of slice rows
// (indices with non-zero offsets) when slice > 0.
func appendBatch(recs []arrow.RecordBatch, b dictTestBatch, mem memory.Allocator, slice int) []arrow.RecordBatch {
	rec := b.build(mem)
	if slice == 0 {
		return append(recs, rec)
	}
	recs = append(recs, exec.SliceBatches(rec, slice)...)
	rec.Release()
	return recs
}

// TestDictDecode filters by a condition on a non-dictionary column and
// decodes the dictionary columns of the kept rows: the rows equal a
// filter over the dense rows, for conditions keeping some, every, no
// row or NULL, over whole and sliced batches; with no condition every
// row comes out decoded.
func TestDictDecode(t *testing.T) {
	conds := map[string]func(int64) *bool{
		"none":    nil,
		"odd":     func(id int64) *bool { return bp(id%2 == 1) },
		"all":     func(int64) *bool { return bp(true) },
		"nothing": func(int64) *bool { return bp(false) },
		"null3": func(id int64) *bool {
			if id%3 == 0 {
				return nil
			}
			return bp(id > 4)
		},
	}
	for name, keep := range conds {
		for _, slice := range []int{0, 2} {
			t.Run(fmt.Sprintf("%s/slice%d", name, slice), func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				ctx := exec.WithAllocator(context.Background(), mem)
				var recs []arrow.RecordBatch
				var want []dictRow
				for _, b := range dictTestBatches() {
					for i, r := range b.rows() {
						if keep == nil {
							want = append(want, r)
						} else if v := keep(b.ids[i]); v != nil && *v {
							want = append(want, r)
						}
					}
					recs = appendBatch(recs, b, mem, slice)
				}
				defer func() {
					for _, r := range recs {
						r.Release()
					}
				}()
				seen := 0
				var cond exec.Expr
				if keep != nil {
					cond = idCond{keep: keep, seen: &seen}
				}
				src := &filterTestSource{schema: dictFilterSchema, batches: recs}
				op, err := exec.NewDictDecode(src, cond, []int{1, 2})
				if err != nil {
					t.Fatal(err)
				}
				out, err := exec.CollectAll(ctx, op)
				if err != nil {
					t.Fatal(err)
				}
				var got []dictRow
				for _, b := range out {
					if !b.Schema().Equal(dictFilterSchema) {
						t.Fatalf("output schema %s, want %s", b.Schema(), dictFilterSchema)
					}
					str := func(c, i int) string {
						a := b.Column(c).(*array.String)
						if a.IsNull(i) {
							return "NULL"
						}
						return a.Value(i)
					}
					for i := range int(b.NumRows()) {
						got = append(got, dictRow{fmt.Sprint(b.Column(0).(*array.Int64).Value(i)), str(1, i), str(2, i), str(3, i)})
					}
					b.Release()
				}
				sameRows(t, got, want)
				if keep != nil && seen == 0 {
					t.Error("the condition never saw a dictionary column: it ran after decoding")
				}
				if !src.closed {
					t.Error("input not closed")
				}
			})
		}
	}
}

// A condition that is not BOOLEAN is refused.
func TestDictDecodeBadCondition(t *testing.T) {
	_, err := exec.NewDictDecode(&filterTestSource{schema: dictFilterSchema}, col(1), []int{1, 2})
	if err == nil || !strings.Contains(err.Error(), "want BOOLEAN") {
		t.Fatalf("err = %v", err)
	}
}
