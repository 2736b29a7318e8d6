package exec

import (
	"context"
	"fmt"
	"math/rand"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// nljTestLess is the test condition "col L < col R" over int64 columns,
// NULL when either side is NULL.
type nljTestLess struct{ l, r int }

func (e nljTestLess) DataType() arrow.DataType { return arrow.FixedWidthTypes.Boolean }
func (e nljTestLess) String() string           { return fmt.Sprintf("#%d < #%d", e.l, e.r) }
func (e nljTestLess) Eval(ctx context.Context, b arrow.RecordBatch) (arrow.Array, error) {
	x, y := b.Column(e.l).(*array.Int64), b.Column(e.r).(*array.Int64)
	bb := array.NewBooleanBuilder(Allocator(ctx))
	defer bb.Release()
	for i := range int(b.NumRows()) {
		if x.IsNull(i) || y.IsNull(i) {
			bb.AppendNull()
		} else {
			bb.Append(x.Value(i) < y.Value(i))
		}
	}
	return bb.NewArray(), nil
}

func nljRef(left, right [][]any, typ JoinType, cond func(l, r []any) bool) [][]any {
	var out [][]any
	nullsL, nullsR := make([]any, 6), make([]any, 6)
	rMatched := make([]bool, len(right))
	for _, l := range left {
		matched := false
		for ri, r := range right {
			if cond != nil && !cond(l, r) {
				continue
			}
			matched = true
			rMatched[ri] = true
			if typ != JoinSemi && typ != JoinAnti {
				out = append(out, append(append([]any{}, l...), r...))
			}
		}
		switch {
		case (typ == JoinLeft || typ == JoinFull) && !matched:
			out = append(out, append(append([]any{}, l...), nullsR...))
		case typ == JoinSemi && matched, typ == JoinAnti && !matched:
			out = append(out, append([]any{}, l...))
		}
	}
	if typ == JoinRight || typ == JoinFull {
		for ri, r := range right {
			if !rMatched[ri] {
				out = append(out, append(append([]any{}, nullsL...), r...))
			}
		}
	}
	return out
}

func TestNestedLoopJoin(t *testing.T) {
	schema := sortTestSchema()
	r := rand.New(rand.NewSource(12))
	less := func(l, r []any) bool {
		return l[0] != nil && r[0] != nil && l[0].(int64) < r[0].(int64)
	}
	for _, sizes := range [][2]int{{0, 0}, {5, 0}, {0, 5}, {1, 1}, {13, 7}, {40, 30}} {
		left, right := sortTestRows(r, sizes[0]), sortTestRows(r, sizes[1])
		for _, typ := range []JoinType{JoinInner, JoinLeft, JoinRight, JoinFull, JoinSemi, JoinAnti} {
			for _, withCond := range []bool{true, false} {
				var cond Expr
				var refCond func(l, r []any) bool
				if withCond {
					cond, refCond = nljTestLess{0, 6}, less
				}
				want := nljRef(left, right, typ, refCond)
				for _, bs := range sortTestBatchSizes {
					t.Run(fmt.Sprintf("%s/cond=%v/%dx%d", typ, withCond, sizes[0], sizes[1]), func(t *testing.T) {
						mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
						defer mem.AssertSize(t, 0)
						op, err := NewNestedLoopJoin(sotSource(t, mem, schema, left, bs), sotSource(t, mem, schema, right, max(1, bs/2)), NLJoinSpec{Type: typ, Cond: cond})
						if err != nil {
							t.Fatal(err)
						}
						got := sotRun(t, op, mem, bs, true)
						sotEqualRows(t, got, want)
					})
				}
			}
		}
	}
}

func TestNestedLoopJoinErrors(t *testing.T) {
	schema := sortTestSchema()
	if _, err := NewNestedLoopJoin(NewBatchSource(schema, nil), NewBatchSource(schema, nil), NLJoinSpec{Type: JoinType(42)}); err == nil {
		t.Error("unknown join type accepted")
	}
}

// nljMarkRef is the mark of each left row, from the definition: pairs
// passing cond (nil: all) count; markCond (nil: TRUE) gives their value.
func nljMarkRef(left, right [][]any, cond func(l, r []any) bool, markCond func(l, r []any) any) [][]any {
	var out [][]any
	for _, l := range left {
		mark := any(false)
		for _, r := range right {
			if cond != nil && !cond(l, r) {
				continue
			}
			v := any(true)
			if markCond != nil {
				v = markCond(l, r)
			}
			if v == true {
				mark = true
				break
			}
			if v == nil {
				mark = nil
			}
		}
		out = append(out, append(append([]any{}, l...), mark))
	}
	return out
}

func TestNestedLoopJoinMark(t *testing.T) {
	schema := sortTestSchema()
	r := rand.New(rand.NewSource(13))
	less := func(l, r []any) bool {
		return l[0] != nil && r[0] != nil && l[0].(int64) < r[0].(int64)
	}
	// The mark compares the decimals (column 2; 6 + 2 on the right).
	eq := func(l, r []any) any {
		if l[2] == nil || r[2] == nil {
			return nil
		}
		return l[2].(int64) == r[2].(int64)
	}
	for _, sizes := range [][2]int{{0, 0}, {5, 0}, {0, 5}, {1, 1}, {13, 7}, {40, 30}} {
		left, right := sortTestRows(r, sizes[0]), sortTestRows(r, sizes[1])
		for _, withCond := range []bool{true, false} {
			for _, withMark := range []bool{true, false} {
				spec := NLJoinSpec{Type: JoinMark, MarkName: "m"}
				var refCond func(l, r []any) bool
				var refMark func(l, r []any) any
				if withCond {
					spec.Cond, refCond = nljTestLess{0, 6}, less
				}
				if withMark {
					spec.MarkCond, refMark = nljTestDecEq{2, 8}, eq
				}
				want := nljMarkRef(left, right, refCond, refMark)
				for _, bs := range sortTestBatchSizes {
					t.Run(fmt.Sprintf("cond=%v/mark=%v/%dx%d/bs%d", withCond, withMark, sizes[0], sizes[1], bs), func(t *testing.T) {
						mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
						defer mem.AssertSize(t, 0)
						op, err := NewNestedLoopJoin(sotSource(t, mem, schema, left, bs), sotSource(t, mem, schema, right, max(1, bs/2)), spec)
						if err != nil {
							t.Fatal(err)
						}
						if f := op.Schema().Field(schema.NumFields()); f.Name != "m" || f.Type.ID() != arrow.BOOL {
							t.Fatalf("mark field %s", f)
						}
						got := sotRun(t, op, mem, bs, true)
						sotEqualRows(t, got, want)
					})
				}
			}
		}
	}
	if _, err := NewNestedLoopJoin(NewBatchSource(schema, nil), NewBatchSource(schema, nil), NLJoinSpec{Type: JoinSemi, MarkCond: nljTestLess{0, 6}}); err == nil {
		t.Error("MarkCond on a semi join accepted")
	}
}

// nljTestDecEq is "col L = col R" over decimal columns (NULL if either is).
type nljTestDecEq struct{ l, r int }

func (e nljTestDecEq) DataType() arrow.DataType { return arrow.FixedWidthTypes.Boolean }
func (e nljTestDecEq) String() string           { return fmt.Sprintf("#%d = #%d", e.l, e.r) }
func (e nljTestDecEq) Eval(ctx context.Context, b arrow.RecordBatch) (arrow.Array, error) {
	x, y := b.Column(e.l), b.Column(e.r)
	bb := array.NewBooleanBuilder(Allocator(ctx))
	defer bb.Release()
	for i := range int(b.NumRows()) {
		if x.IsNull(i) || y.IsNull(i) {
			bb.AppendNull()
		} else {
			bb.Append(sotVal(x, i) == sotVal(y, i))
		}
	}
	return bb.NewArray(), nil
}
