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
