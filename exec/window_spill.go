package exec

import (
	"context"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/spill"
)

// The window operator's external path: the input sorted by the partition
// columns common to every spec streams out of an extSort and is cut at
// boundaries of those columns into groups of whole partitions of about a
// batch, each evaluated like the whole input of the in-memory path.

// winRowBytes estimates the Go heap evaluating one row takes beyond its
// data: a permutation and its sort, the partition and peer bounds, frames
// and per-spec results.
func winRowBytes(specs int) int64 { return 64 + 20*int64(specs) }

// winPending is a sorted batch waiting for its partitions to end, with the
// bytes reserved for it.
type winPending struct {
	b    arrow.RecordBatch
	cost int64
}

// planExternal finds the columns every spec partitions by and, when there
// are some, the external sort's keys.
func (w *windowOp) planExternal() {
	if len(w.specs) == 0 {
		return
	}
	first := &w.specs[0]
	var common []int
	for _, p := range first.PartitionBy {
		shared := !slices.Contains(common, p) // PARTITION BY a, a
		for _, s := range w.specs[1:] {
			shared = shared && slices.Contains(s.PartitionBy, p)
		}
		if shared {
			common = append(common, p)
		}
	}
	if len(common) == 0 {
		return
	}
	for _, p := range common {
		w.pkeys = append(w.pkeys, SortKey{Col: p})
	}
	w.sortKeys = slices.Clone(w.pkeys)
	for _, p := range first.PartitionBy {
		if !slices.ContainsFunc(w.sortKeys, func(k SortKey) bool { return k.Col == p }) {
			w.sortKeys = append(w.sortKeys, SortKey{Col: p})
		}
	}
	w.sortKeys = append(w.sortKeys, first.OrderBy...)
	// A spec with the first's partition columns (as a set) and order keys
	// is evaluated over the sorted group as it is.
	sameSet := func(a, b []int) bool {
		for _, x := range a {
			if !slices.Contains(b, x) {
				return false
			}
		}
		for _, x := range b {
			if !slices.Contains(a, x) {
				return false
			}
		}
		return true
	}
	w.sortedOK = make([]bool, len(w.specs))
	for i, s := range w.specs {
		w.sortedOK[i] = sameSet(s.PartitionBy, first.PartitionBy) && slices.Equal(s.OrderBy, first.OrderBy)
		// Other specs sort each group themselves; rows they tie on must
		// keep input order, as in memory: the sort carries row numbers.
		w.seqCol = w.seqCol || !w.sortedOK[i]
	}
}

// sortSchema is the external sort's schema: the input's plus, when a spec
// needs it, the row number column.
func (w *windowOp) sortSchema() *arrow.Schema {
	in := w.input.Schema()
	if !w.seqCol {
		return in
	}
	md := in.Metadata()
	return arrow.NewSchema(append(in.Fields(), arrow.Field{Name: "window_row", Type: arrow.PrimitiveTypes.Int64}), &md)
}

// withSeq appends the row number column to b (released).
func (w *windowOp) withSeq(ctx context.Context, schema *arrow.Schema, b arrow.RecordBatch) arrow.RecordBatch {
	if !w.seqCol {
		return b
	}
	n := int(b.NumRows())
	buf := memory.NewResizableBuffer(Allocator(ctx))
	buf.Resize(8 * n)
	seq := arrow.Int64Traits.CastFromBytes(buf.Bytes())
	for i := range seq {
		seq[i] = w.seq + int64(i)
	}
	w.seq += int64(n)
	data := array.NewData(arrow.PrimitiveTypes.Int64, n, []*memory.Buffer{nil, buf}, nil, 0, 0)
	buf.Release()
	col := array.MakeFromData(data)
	data.Release()
	out := array.NewRecordBatch(schema, append(b.Columns()[:len(b.Columns()):len(b.Columns())], col), b.NumRows())
	col.Release()
	b.Release()
	return out
}

// holdBytes is what buffering b reserves: the batch, its copy in the
// concatenated input, the evaluation's per-row memory and the results that
// copy argument values.
func (w *windowOp) holdBytes(b arrow.RecordBatch) int64 {
	n := 2*spill.BatchBytes(b) + winRowBytes(len(w.specs))*b.NumRows()
	for _, s := range w.specs {
		switch s.Func {
		case WinLag, WinLead, WinFirstValue, WinLastValue, WinNthValue, WinMin, WinMax:
			n += spill.DataBytes(b.Column(s.Arg).Data())
		}
	}
	return n
}

// startExternal hands the buffered batches (owned from now on) and the
// rest of the input to an external sort.
func (w *windowOp) startExternal(ctx context.Context, buf []arrow.RecordBatch) error {
	schema := w.sortSchema()
	w.ext = newExtSort(ctx, "window", schema, w.sortKeys, w.res)
	w.res.Shrink(w.held)
	w.held = 0
	// Groups of about a batch are evaluated while the final merge reads.
	for _, b := range buf {
		w.ext.headroom = max(w.ext.headroom, w.holdBytes(b))
	}
	for i, b := range buf {
		if err := w.ext.push(ctx, w.withSeq(ctx, schema, b)); err != nil {
			batchReleaseAll(buf[i+1:])
			return err
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := w.input.Next(ctx)
		if err != nil {
			return err
		}
		if b == nil {
			break
		}
		w.ext.headroom = max(w.ext.headroom, w.holdBytes(b))
		if err := w.ext.push(ctx, w.withSeq(ctx, schema, b)); err != nil {
			return err
		}
	}
	return w.ext.finish(ctx)
}

// nextGroup reads the sorted stream up to a partition boundary at least
// half a batch past the last one and evaluates the whole partitions before
// it into w.out.
func (w *windowOp) nextGroup(ctx context.Context) error {
	// The previous group's output has been handed out.
	w.res.Shrink(w.held)
	w.held = 0
	// Cuts fall at the last partition start of a batch: aiming at half a
	// batch makes most groups one batch.
	target := int64(max(1, BatchSize(ctx)/2))
	for {
		b, err := w.ext.next(ctx)
		if err != nil {
			return err
		}
		if b == nil {
			w.extDone = true
			group := w.pend
			w.pend, w.pendRows = nil, 0
			return w.evalGroup(ctx, group)
		}
		cost := w.holdBytes(b)
		if err := w.res.TryGrow(cost); err != nil {
			b.Release()
			return fmt.Errorf("window: %d sorted rows of unfinished partitions do not fit in memory: %w", w.pendRows+b.NumRows(), err)
		}
		cut := w.lastPartitionStart(b)
		if cut < 0 || w.pendRows+int64(cut) < target {
			w.pend = append(w.pend, winPending{b, cost})
			w.pendRows += b.NumRows()
			continue
		}
		group := w.pend
		if cut == 0 {
			w.pend, w.pendRows = []winPending{{b, cost}}, b.NumRows()
			return w.evalGroup(ctx, group)
		}
		// b goes with the group; its rows after the cut are copied, so
		// b's buffers are not kept alive by them.
		w.pend, w.pendRows = nil, 0
		if cut < int(b.NumRows()) {
			idx := make([]int32, int(b.NumRows())-cut)
			for i := range idx {
				idx[i] = int32(cut + i)
			}
			tail, err := TakeBatch(ctx, b, idx)
			if err == nil {
				tcost := w.holdBytes(tail)
				if err = w.res.TryGrow(tcost); err != nil {
					tail.Release()
				} else {
					w.pend, w.pendRows = []winPending{{tail, tcost}}, tail.NumRows()
				}
			}
			if err != nil {
				b.Release()
				for _, p := range group {
					p.b.Release()
					w.res.Shrink(p.cost)
				}
				w.res.Shrink(cost)
				return fmt.Errorf("window: %w", err)
			}
		}
		group = append(group, winPending{b.NewSlice(0, int64(cut)), cost})
		b.Release()
		return w.evalGroup(ctx, group)
	}
}

// lastPartitionStart is the last row of b that starts a partition (of the
// common columns) after the pending rows, -1 when none does.
func (w *windowOp) lastPartitionStart(b arrow.RecordBatch) int {
	c := sortMakeRowCmp(b, b, w.pkeys)
	for i := int(b.NumRows()) - 1; i > 0; i-- {
		if c.compare(i-1, i) != 0 {
			return i
		}
	}
	if len(w.pend) > 0 {
		last := w.pend[len(w.pend)-1].b
		if sortMakeRowCmp(last, b, w.pkeys).compare(int(last.NumRows())-1, 0) != 0 {
			return 0
		}
	}
	return -1
}

// evalGroup evaluates whole partitions; their reservation covers the output
// until it is handed out.
func (w *windowOp) evalGroup(ctx context.Context, group []winPending) error {
	if len(group) == 0 {
		return nil
	}
	batches := make([]arrow.RecordBatch, len(group))
	for i, p := range group {
		batches[i] = p.b
		w.held += p.cost
	}
	in, err := ConcatBatches(Allocator(ctx), w.ext.schema, batches)
	batchReleaseAll(batches)
	if err != nil {
		return fmt.Errorf("window: %w", err)
	}
	defer in.Release()
	full, err := w.evaluate(ctx, in, true)
	if err != nil {
		return err
	}
	w.out = SliceBatches(full, BatchSize(ctx))
	full.Release()
	return nil
}
