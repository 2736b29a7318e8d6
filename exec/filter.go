package exec

import (
	"context"
	"fmt"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// filterOp keeps the rows of its input for which the predicate is TRUE.
type filterOp struct {
	input Operator
	pred  Expr
	sel   []int32 // reused selection vector
}

var _ Operator = (*filterOp)(nil)

// NewFilter returns an operator that keeps rows where pred is TRUE (NULL
// and FALSE drop the row). Batches whose rows all pass are forwarded
// untouched; batches with no passing row are skipped, so Next never
// returns an empty batch.
func NewFilter(input Operator, pred Expr) Operator {
	return &filterOp{input: input, pred: pred}
}

func (f *filterOp) Schema() *arrow.Schema          { return f.input.Schema() }
func (f *filterOp) Open(ctx context.Context) error { return f.input.Open(ctx) }
func (f *filterOp) Close() error                   { return f.input.Close() }

func (f *filterOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		b, err := f.input.Next(ctx)
		if err != nil || b == nil {
			return nil, err
		}
		out, err := f.apply(ctx, b)
		if err != nil {
			return nil, err
		}
		if out != nil {
			return out, nil
		}
	}
}

// apply filters one batch and takes ownership of b. It returns nil when no
// row passes.
func (f *filterOp) apply(ctx context.Context, b arrow.RecordBatch) (arrow.RecordBatch, error) {
	n := int(b.NumRows())
	if n == 0 {
		b.Release()
		return nil, nil
	}
	mask, err := f.pred.Eval(ctx, b)
	if err != nil {
		b.Release()
		return nil, fmt.Errorf("filter %s: %w", f.pred, err)
	}
	defer mask.Release()
	if mask.DataType().ID() == arrow.NULL {
		b.Release()
		return nil, nil
	}
	if mask.DataType().ID() != arrow.BOOL || mask.Len() != n {
		b.Release()
		return nil, fmt.Errorf("filter %s: predicate must give %d BOOLEAN rows, got %d of %s", f.pred, n, mask.Len(), mask.DataType())
	}
	sel := filterSelection(mask, f.sel[:0])
	f.sel = sel
	switch len(sel) {
	case 0:
		b.Release()
		return nil, nil
	case n:
		return b, nil
	}
	defer b.Release()
	mem := Allocator(ctx)
	cols := make([]arrow.Array, b.NumCols())
	for i := range cols {
		c, err := filterTake(ctx, mem, b.Column(i), sel, mask)
		if err != nil {
			for _, p := range cols[:i] {
				p.Release()
			}
			return nil, fmt.Errorf("filter column %s: %w", b.ColumnName(i), err)
		}
		cols[i] = c
	}
	out := array.NewRecordBatch(b.Schema(), cols, int64(len(sel)))
	for _, c := range cols {
		c.Release()
	}
	return out, nil
}

// filterSelection appends the indices of TRUE, non-NULL rows of mask,
// scanning 64 rows at a time.
func filterSelection(mask arrow.Array, sel []int32) []int32 {
	n := mask.Len()
	off := mask.Data().Offset()
	vals := mask.Data().Buffers()[1].Bytes()
	var valid []byte
	if mask.NullN() > 0 {
		valid = mask.NullBitmapBytes()
	}
	words := make([]uint64, 1)
	wb := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), 8)
	var vw []uint64
	var vwb []byte
	if valid != nil {
		vw = make([]uint64, 1)
		vwb = unsafe.Slice((*byte)(unsafe.Pointer(&vw[0])), 8)
	}
	for base := 0; base < n; base += 64 {
		m := min(64, n-base)
		words[0] = 0
		bitutil.CopyBitmap(vals, off+base, m, wb, 0)
		w := words[0]
		if valid != nil {
			vw[0] = 0
			bitutil.CopyBitmap(valid, off+base, m, vwb, 0)
			w &= vw[0]
		}
		for w != 0 {
			t := bits.TrailingZeros64(w)
			sel = append(sel, int32(base+t))
			w &= w - 1
		}
	}
	return sel
}

func filterAs[T any](b []byte) []T {
	if len(b) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/int(unsafe.Sizeof(z)))
}

func filterGather[T any](mem memory.Allocator, a arrow.Array, sel []int32) *memory.Buffer {
	d := a.Data()
	src := filterAs[T](d.Buffers()[1].Bytes())[d.Offset():]
	var z T
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(len(sel) * int(unsafe.Sizeof(z)))
	dst := filterAs[T](buf.Bytes())[:len(sel)]
	for i, j := range sel {
		dst[i] = src[j]
	}
	return buf
}

// filterGatherBits gathers bits of bitmap (at bit offset off) for sel.
func filterGatherBits(mem memory.Allocator, bm []byte, off int, sel []int32) *memory.Buffer {
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(int(bitutil.BytesForBits(int64(len(sel)))))
	out := buf.Bytes()
	clear(out)
	for i, j := range sel {
		p := off + int(j)
		out[i>>3] |= (bm[p>>3] >> (p & 7) & 1) << (i & 7)
	}
	return buf
}

// filterTake returns the rows sel of a (fast typed paths; arrow compute
// for other types).
func filterTake(ctx context.Context, mem memory.Allocator, a arrow.Array, sel []int32, mask arrow.Array) (arrow.Array, error) {
	n := len(sel)
	if a.DataType().ID() == arrow.NULL {
		// An untyped NULL column (SELECT NULL ...) has no buffers.
		return array.MakeArrayOfNull(mem, a.DataType(), n), nil
	}
	var valid *memory.Buffer
	nulls := 0
	if a.NullN() > 0 {
		valid = filterGatherBits(mem, a.NullBitmapBytes(), a.Data().Offset(), sel)
		nulls = array.UnknownNullCount
	}
	mk := func(bufs ...*memory.Buffer) arrow.Array {
		d := array.NewData(a.DataType(), n, bufs, nil, nulls, 0)
		for _, b := range bufs {
			if b != nil {
				b.Release()
			}
		}
		out := array.MakeFromData(d)
		d.Release()
		return out
	}
	switch a.DataType().ID() {
	case arrow.INT8, arrow.UINT8:
		return mk(valid, filterGather[uint8](mem, a, sel)), nil
	case arrow.INT16, arrow.UINT16, arrow.FLOAT16:
		return mk(valid, filterGather[uint16](mem, a, sel)), nil
	case arrow.INT32, arrow.UINT32, arrow.FLOAT32, arrow.DATE32, arrow.TIME32:
		return mk(valid, filterGather[uint32](mem, a, sel)), nil
	case arrow.INT64, arrow.UINT64, arrow.FLOAT64, arrow.DATE64, arrow.TIMESTAMP, arrow.TIME64, arrow.DURATION, arrow.DECIMAL64:
		return mk(valid, filterGather[uint64](mem, a, sel)), nil
	case arrow.DECIMAL128, arrow.INTERVAL_MONTH_DAY_NANO:
		return mk(valid, filterGather[decimal128.Num](mem, a, sel)), nil
	case arrow.BOOL:
		return mk(valid, filterGatherBits(mem, a.Data().Buffers()[1].Bytes(), a.Data().Offset(), sel)), nil
	case arrow.STRING, arrow.BINARY:
		d := a.Data()
		offs := filterAs[int32](d.Buffers()[1].Bytes())[d.Offset():]
		var data []byte
		if d.Buffers()[2] != nil {
			data = d.Buffers()[2].Bytes()
		}
		total := 0
		for _, j := range sel {
			total += int(offs[j+1] - offs[j])
		}
		ob := memory.NewResizableBuffer(mem)
		ob.Resize((n + 1) * 4)
		no := filterAs[int32](ob.Bytes())[:n+1]
		db := memory.NewResizableBuffer(mem)
		db.Resize(total)
		nd := db.Bytes()
		pos := int32(0)
		no[0] = 0
		for i, j := range sel {
			pos += int32(copy(nd[pos:], data[offs[j]:offs[j+1]]))
			no[i+1] = pos
		}
		return mk(valid, ob, db), nil
	case arrow.NULL:
		if valid != nil {
			valid.Release()
		}
		return array.MakeArrayOfNull(mem, a.DataType(), n), nil
	}
	if valid != nil {
		valid.Release()
	}
	// Other types (nested, large strings...): arrow compute, NULL drops.
	res, err := compute.FilterArray(compute.WithAllocator(ctx, mem), a, mask, *compute.DefaultFilterOptions())
	if err != nil {
		return nil, err
	}
	return res, nil
}
