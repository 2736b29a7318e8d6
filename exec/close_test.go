package exec

import (
	"context"
	"errors"
	"testing"

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
