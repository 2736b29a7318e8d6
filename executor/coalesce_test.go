package executor

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/exec"
)

// recordingWriter keeps what a coalescer writes.
type recordingWriter struct{ parts [][]arrow.RecordBatch }

func (w *recordingWriter) Write(_ context.Context, p int, b arrow.RecordBatch) error {
	w.parts[p] = append(w.parts[p], b)
	return nil
}
func (w *recordingWriter) Commit(context.Context) error { return nil }
func (w *recordingWriter) Abort()                       {}

// TestCoalescerWritesWholeBatches: small pieces are gathered into batches
// of exactly target rows (a piece split where it passes target), big
// pieces on an empty partition go as they are, the rest at the end; rows
// keep their order.
func TestCoalescerWritesWholeBatches(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := exec.WithAllocator(context.Background(), mem)
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)
	const target, parts = 100, 3
	w := &recordingWriter{parts: make([][]arrow.RecordBatch, parts)}
	co := coalescer{w: w, parts: make([]pending, parts), target: target, schema: schema}
	rng := rand.New(rand.NewPCG(1, 2))
	next := make([]int64, parts) // next value per partition
	for range 400 {
		p := rng.IntN(parts)
		n := 1 + rng.IntN(45)
		if rng.IntN(10) == 0 {
			n = 150 + rng.IntN(100) // big: written as is when nothing is pending
		}
		b := array.NewInt64Builder(mem)
		for range n {
			b.Append(next[p])
			next[p]++
		}
		col := b.NewArray()
		b.Release()
		rec := array.NewRecordBatch(schema, []arrow.Array{col}, int64(n))
		col.Release()
		if err := co.add(ctx, p, rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := co.flushAll(ctx); err != nil {
		t.Fatal(err)
	}
	for p, bs := range w.parts {
		var want int64
		for i, b := range bs {
			n := b.NumRows()
			last := i == len(bs)-1
			if n != target && n < 150 && !last {
				t.Errorf("partition %d batch %d: %d rows, want %d (or a big piece)", p, i, n, target)
			}
			for _, v := range b.Column(0).(*array.Int64).Int64Values() {
				if v != want {
					t.Fatalf("partition %d: value %d where %d was due", p, v, want)
				}
				want++
			}
			b.Release()
		}
		if want != next[p] {
			t.Errorf("partition %d: %d rows written, %d added", p, want, next[p])
		}
	}
}
