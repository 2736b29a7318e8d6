package exec

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// heldSource is an exchange source as the executor builds it: a
// BatchSource holding the only references to its batches from the start.
func heldSource(t *testing.T, mem memory.Allocator, seed uint64) Operator {
	t.Helper()
	bs := hatBuild(t, mem, aggTestSchema(), aggTestRows(seed, 40), 8)
	src := NewBatchSource(aggTestSchema(), bs)
	batchReleaseAll(bs)
	return src
}

// TestCloseReleasesUnopenedInputs: operators close their inputs also when
// their own Open failed (a cancelled hash join build under an aggregate)
// or never ran (a parent's Open failed first), so inputs that hold data
// from their construction give it back.
func TestCloseReleasesUnopenedInputs(t *testing.T) {
	spec := HashJoinSpec{Type: JoinInner, LeftKeys: []int{0}, RightKeys: []int{0}, LeftOut: []int{0}, RightOut: []int{2}}
	tree := func(t *testing.T, mem memory.Allocator) Operator {
		join, err := NewHashJoin(heldSource(t, mem, 1), heldSource(t, mem, 2), spec)
		if err != nil {
			t.Fatal(err)
		}
		agg, err := NewHashAggregate(join, []int{0}, []AggSpec{{Func: AggCountStar, Arg: -1}}, AggSingle)
		if err != nil {
			t.Fatal(err)
		}
		return agg
	}
	t.Run("open cancelled", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		ctx, cancel := context.WithCancel(WithAllocator(context.Background(), mem))
		cancel()
		op := tree(t, mem)
		if err := op.Open(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Open: %v, want context.Canceled", err)
		}
		op.Close()
	})
	t.Run("never opened", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		tree(t, mem).Close()
	})
	t.Run("broadcast probe never opened", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		ctx := WithAllocator(context.Background(), mem)
		table, err := BuildJoinTable(ctx, heldSource(t, mem, 2), spec)
		if err != nil {
			t.Fatal(err)
		}
		defer table.Release()
		probe, err := NewHashJoinProbe(heldSource(t, mem, 1), table, spec)
		if err != nil {
			t.Fatal(err)
		}
		probe.Close()
	})
}

// colExpr is column i of its batch, as an Expr.
type colExpr struct {
	i  int
	dt arrow.DataType
}

func (c colExpr) DataType() arrow.DataType { return c.dt }
func (c colExpr) String() string           { return fmt.Sprintf("#%d", c.i) }
func (c colExpr) Eval(_ context.Context, b arrow.RecordBatch) (arrow.Array, error) {
	a := b.Column(c.i)
	a.Retain()
	return a, nil
}

// TestOperatorsFailWhenCancelled: every operator whose context ends —
// before it opens, or after its first batch — fails with the context's
// error instead of ending its stream early, and releases everything
// once closed. A silent end of stream would pass a cancelled query off
// as a short one.
func TestOperatorsFailWhenCancelled(t *testing.T) {
	schema := aggTestSchema()
	keys := []SortKey{{Col: 0}, {Col: 2}}
	spec := HashJoinSpec{Type: JoinInner, LeftKeys: []int{0}, RightKeys: []int{0}, LeftOut: []int{0}, RightOut: []int{2}}
	ops := []struct {
		name string
		make func(t *testing.T, mem memory.Allocator) Operator
	}{
		{"batch source", func(t *testing.T, mem memory.Allocator) Operator { return heldSource(t, mem, 1) }},
		{"filter", func(t *testing.T, mem memory.Allocator) Operator {
			return NewFilter(heldSource(t, mem, 1), colExpr{6, schema.Field(6).Type})
		}},
		{"project", func(t *testing.T, mem memory.Allocator) Operator {
			return NewProject(heldSource(t, mem, 1), []Expr{colExpr{0, schema.Field(0).Type}}, []string{"g1"})
		}},
		{"hash aggregate", func(t *testing.T, mem memory.Allocator) Operator {
			op, err := NewHashAggregate(heldSource(t, mem, 1), []int{0, 2}, []AggSpec{{Func: AggCountStar, Arg: -1}}, AggSingle)
			if err != nil {
				t.Fatal(err)
			}
			return op
		}},
		{"hash join", func(t *testing.T, mem memory.Allocator) Operator {
			op, err := NewHashJoin(heldSource(t, mem, 1), heldSource(t, mem, 2), spec)
			if err != nil {
				t.Fatal(err)
			}
			return op
		}},
		{"nested loop join", func(t *testing.T, mem memory.Allocator) Operator {
			op, err := NewNestedLoopJoin(heldSource(t, mem, 1), heldSource(t, mem, 2), NLJoinSpec{Type: JoinInner})
			if err != nil {
				t.Fatal(err)
			}
			return op
		}},
		{"sort", func(t *testing.T, mem memory.Allocator) Operator { return NewSort(heldSource(t, mem, 1), keys) }},
		{"top-N", func(t *testing.T, mem memory.Allocator) Operator { return NewTopN(heldSource(t, mem, 1), keys, 30) }},
		{"merge", func(t *testing.T, mem memory.Allocator) Operator {
			return NewMergeSorted([]Operator{NewSort(heldSource(t, mem, 1), keys), NewSort(heldSource(t, mem, 2), keys)}, keys)
		}},
		{"limit", func(t *testing.T, mem memory.Allocator) Operator { return NewLimit(heldSource(t, mem, 1), 2, 30) }},
		{"union", func(t *testing.T, mem memory.Allocator) Operator {
			op, err := NewUnion(heldSource(t, mem, 1), heldSource(t, mem, 2))
			if err != nil {
				t.Fatal(err)
			}
			return op
		}},
		{"window", func(t *testing.T, mem memory.Allocator) Operator {
			op, err := NewWindow(heldSource(t, mem, 1), []WindowSpec{{Func: WinRowNumber, Arg: -1, PartitionBy: []int{0}, OrderBy: []SortKey{{Col: 2}}}})
			if err != nil {
				t.Fatal(err)
			}
			return op
		}},
	}
	for _, o := range ops {
		for _, after := range []int{0, 1} {
			t.Run(fmt.Sprintf("%s/cancelled after %d", o.name, after), func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				ctx, cancel := context.WithCancel(WithBatchSize(WithAllocator(context.Background(), mem), 4))
				defer cancel()
				op := o.make(t, mem)
				defer op.Close()
				if after == 0 {
					cancel()
				}
				err := op.Open(ctx)
				for n := 0; err == nil; n++ {
					if n == after {
						cancel()
					}
					var b arrow.RecordBatch
					if b, err = op.Next(ctx); b != nil {
						b.Release()
						if n >= after {
							t.Fatalf("a batch after the cancel (batch %d)", n)
						}
					} else if err == nil {
						t.Fatalf("the stream ended after %d batches without an error although its context ended", n)
					}
				}
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("error %v, want context.Canceled", err)
				}
			})
		}
	}
}
