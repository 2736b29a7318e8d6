package exec

import (
	"context"
	"fmt"
	"math"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ConcatBatches concatenates batches (all of schema) into one batch owned by
// the caller. With a single input batch that batch is retained and returned;
// with none, an empty batch is returned.
func ConcatBatches(mem memory.Allocator, schema *arrow.Schema, batches []arrow.RecordBatch) (arrow.RecordBatch, error) {
	switch len(batches) {
	case 0:
		cols := make([]arrow.Array, schema.NumFields())
		for i, f := range schema.Fields() {
			cols[i] = array.MakeArrayOfNull(mem, f.Type, 0)
		}
		return batchNewOwned(schema, cols, 0), nil
	case 1:
		if int(batches[0].NumCols()) != schema.NumFields() {
			return nil, fmt.Errorf("concat batches: batch has %d columns, schema has %d", batches[0].NumCols(), schema.NumFields())
		}
		batches[0].Retain()
		return batches[0], nil
	}
	var rows int64
	for bi, b := range batches {
		if int(b.NumCols()) != schema.NumFields() {
			return nil, fmt.Errorf("concat batches: batch %d has %d columns, schema has %d", bi, b.NumCols(), schema.NumFields())
		}
		rows += b.NumRows()
	}
	cols := make([]arrow.Array, schema.NumFields())
	parts := make([]arrow.Array, len(batches))
	for c := range cols {
		for bi, b := range batches {
			parts[bi] = b.Column(c)
		}
		arr, err := array.Concatenate(parts, mem)
		if err != nil {
			batchReleaseAll(cols[:c])
			return nil, fmt.Errorf("concat batches: column %d (%s): %w", c, schema.Field(c).Name, err)
		}
		cols[c] = arr
	}
	return batchNewOwned(schema, cols, rows), nil
}

// TakeBatch gathers the rows of batch named by indices into a new batch
// owned by the caller (allocated from Allocator(ctx)). A negative index
// yields an all-null row, which outer joins and lag/lead use. Fixed-width,
// boolean, string and binary columns use typed gathers; other types fall
// back to arrow's compute.Take.
func TakeBatch(ctx context.Context, batch arrow.RecordBatch, indices []int32) (arrow.RecordBatch, error) {
	mem := Allocator(ctx)
	n := batch.NumRows()
	for i, ix := range indices {
		if int64(ix) >= n {
			return nil, fmt.Errorf("take batch: index %d at position %d out of range [0,%d)", ix, i, n)
		}
	}
	cols := make([]arrow.Array, batch.NumCols())
	for c := range cols {
		arr, err := batchTakeArray(ctx, mem, batch.Column(c), indices)
		if err != nil {
			batchReleaseAll(cols[:c])
			return nil, fmt.Errorf("take batch: column %d (%s): %w", c, batch.ColumnName(c), err)
		}
		cols[c] = arr
	}
	return batchNewOwned(batch.Schema(), cols, int64(len(indices))), nil
}

// SliceBatches cuts batch into zero-copy slices of at most size rows. Each
// returned batch is owned by the caller; batch itself is not released.
func SliceBatches(batch arrow.RecordBatch, size int) []arrow.RecordBatch {
	if size <= 0 {
		size = DefaultBatchSize
	}
	n := batch.NumRows()
	out := make([]arrow.RecordBatch, 0, (n+int64(size)-1)/int64(size))
	for lo := int64(0); lo < n; lo += int64(size) {
		out = append(out, batch.NewSlice(lo, min(n, lo+int64(size))))
	}
	return out
}

// CollectAll opens op, drains it and closes it, returning every batch it
// produced (caller releases them). On error nothing is returned and all
// collected batches are released.
func CollectAll(ctx context.Context, op Operator) (out []arrow.RecordBatch, err error) {
	defer func() {
		if cerr := op.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			batchReleaseAll(out)
			out = nil
		}
	}()
	if err = op.Open(ctx); err != nil {
		return nil, err
	}
	for {
		b, nerr := op.Next(ctx)
		if nerr != nil {
			return out, nerr
		}
		if b == nil {
			return out, nil
		}
		out = append(out, b)
	}
}

// batchNewOwned builds a batch from cols and drops the caller's references
// to cols, so the batch is their only owner.
func batchNewOwned(schema *arrow.Schema, cols []arrow.Array, rows int64) arrow.RecordBatch {
	b := array.NewRecordBatch(schema, cols, rows)
	for _, c := range cols {
		c.Release()
	}
	return b
}

type batchReleaser interface{ Release() }

func batchReleaseAll[T batchReleaser](xs []T) {
	for _, x := range xs {
		if any(x) != nil {
			x.Release()
		}
	}
}

// batchRowRef names row r of source b in a multi-source gather.
type batchRowRef struct{ b, r int32 }

// batchTakeArray gathers arr[idx[i]] (idx < 0 gives null).
func batchTakeArray(ctx context.Context, mem memory.Allocator, arr arrow.Array, idx []int32) (arrow.Array, error) {
	data := arr.Data()
	n := len(idx)
	dt := arr.DataType()
	switch dt.ID() {
	case arrow.NULL:
		return array.NewNull(n), nil
	case arrow.BOOL:
		validity, nulls := batchTakeValidity(mem, arr, idx)
		values := batchNewBuffer(mem, int(bitutil.BytesForBits(int64(n))))
		vb := values.Bytes()
		var src []byte
		if b := data.Buffers()[1]; b != nil {
			src = b.Bytes()
		}
		off := data.Offset()
		for i, ix := range idx {
			if ix >= 0 && bitutil.BitIsSet(src, off+int(ix)) {
				bitutil.SetBit(vb, i)
			}
		}
		return batchMakeArray(dt, n, []*memory.Buffer{validity, values}, nulls), nil
	case arrow.STRING, arrow.BINARY:
		return batchTakeVarlen[int32](mem, arr, idx)
	case arrow.LARGE_STRING, arrow.LARGE_BINARY:
		return batchTakeVarlen[int64](mem, arr, idx)
	}
	fw, ok := dt.(arrow.FixedWidthDataType)
	if ok && dt.ID() != arrow.DICTIONARY && dt.ID() != arrow.EXTENSION && len(data.Buffers()) == 2 && fw.BitWidth()%8 == 0 {
		validity, nulls := batchTakeValidity(mem, arr, idx)
		width := fw.BitWidth() / 8
		values := batchNewBufferNoClear(mem, n*width)
		var src []byte
		if b := data.Buffers()[1]; b != nil {
			src = b.Bytes()[data.Offset()*width:]
		}
		dst := values.Bytes()
		switch width {
		case 1:
			batchGatherFixed(dst, src, idx)
		case 2:
			batchGatherFixed(batchAs[uint16](dst), batchAs[uint16](src), idx)
		case 4:
			batchGatherFixed(batchAs[uint32](dst), batchAs[uint32](src), idx)
		case 8:
			batchGatherFixed(batchAs[uint64](dst), batchAs[uint64](src), idx)
		case 16:
			batchGatherFixed(batchAs[[2]uint64](dst), batchAs[[2]uint64](src), idx)
		default:
			for i, ix := range idx {
				if ix >= 0 {
					copy(dst[i*width:(i+1)*width], src[int(ix)*width:])
				} else {
					clear(dst[i*width : (i+1)*width])
				}
			}
		}
		return batchMakeArray(dt, n, []*memory.Buffer{validity, values}, nulls), nil
	}
	// Generic fallback (nested and dictionary types).
	ib := array.NewInt32Builder(mem)
	defer ib.Release()
	ib.Reserve(n)
	for _, ix := range idx {
		if ix < 0 {
			ib.AppendNull()
		} else {
			ib.UnsafeAppend(ix)
		}
	}
	ia := ib.NewInt32Array()
	defer ia.Release()
	return compute.TakeArray(compute.WithAllocator(ctx, mem), arr, ia)
}

// batchGatherArrays gathers srcs[ref.b][ref.r] for every ref (ref.b < 0 gives
// null). All sources must have type dt.
func batchGatherArrays(ctx context.Context, mem memory.Allocator, dt arrow.DataType, srcs []arrow.Array, refs []batchRowRef) (arrow.Array, error) {
	if len(srcs) == 1 {
		idx := make([]int32, len(refs))
		for i, r := range refs {
			if r.b < 0 {
				idx[i] = -1
			} else {
				idx[i] = r.r
			}
		}
		return batchTakeArray(ctx, mem, srcs[0], idx)
	}
	// Concatenate then take: one typed gather regardless of source count.
	// Sources in merge/top-N are small (one batch each), so this is cheap.
	if len(srcs) == 0 {
		return array.MakeArrayOfNull(mem, dt, len(refs)), nil
	}
	starts := make([]int32, len(srcs))
	var total int32
	for i, s := range srcs {
		starts[i] = total
		total += int32(s.Len())
	}
	cat, err := array.Concatenate(srcs, mem)
	if err != nil {
		return nil, err
	}
	defer cat.Release()
	idx := make([]int32, len(refs))
	for i, r := range refs {
		if r.b < 0 {
			idx[i] = -1
		} else {
			idx[i] = starts[r.b] + r.r
		}
	}
	return batchTakeArray(ctx, mem, cat, idx)
}

// batchGatherFixed sets dst[i] = src[idx[i]], zero for negative indices.
func batchGatherFixed[T any](dst, src []T, idx []int32) {
	dst = dst[:len(idx)]
	var zero T
	for i, ix := range idx {
		if ix >= 0 {
			dst[i] = src[ix]
		} else {
			dst[i] = zero
		}
	}
}

func batchAs[T any](b []byte) []T {
	var z T
	sz := int(unsafe.Sizeof(z))
	if len(b) < sz {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/sz)
}

// batchNewBuffer allocates n bytes, zeroed.
func batchNewBuffer(mem memory.Allocator, n int) *memory.Buffer {
	buf := batchNewBufferNoClear(mem, n)
	clear(buf.Bytes())
	return buf
}

// batchNewBufferNoClear allocates n bytes the caller will fully overwrite.
func batchNewBufferNoClear(mem memory.Allocator, n int) *memory.Buffer {
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(n)
	return buf
}

// batchTakeValidity builds the output validity bitmap of a gather, or nil
// when every output row is valid.
func batchTakeValidity(mem memory.Allocator, arr arrow.Array, idx []int32) (*memory.Buffer, int) {
	hasNulls := arr.NullN() > 0
	if !hasNulls {
		neg := false
		for _, ix := range idx {
			if ix < 0 {
				neg = true
				break
			}
		}
		if !neg {
			return nil, 0
		}
	}
	n := len(idx)
	buf := batchNewBuffer(mem, int(bitutil.BytesForBits(int64(n))))
	out := buf.Bytes()
	nulls := 0
	var src []byte
	if hasNulls {
		src = arr.NullBitmapBytes()
	}
	off := arr.Data().Offset()
	for i, ix := range idx {
		if ix < 0 || (src != nil && !bitutil.BitIsSet(src, off+int(ix))) {
			nulls++
			continue
		}
		bitutil.SetBit(out, i)
	}
	return buf, nulls
}

func batchMakeArray(dt arrow.DataType, n int, bufs []*memory.Buffer, nulls int) arrow.Array {
	data := array.NewData(dt, n, bufs, nil, nulls, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	arr := array.MakeFromData(data)
	data.Release()
	return arr
}

func batchTakeVarlen[O int32 | int64](mem memory.Allocator, arr arrow.Array, idx []int32) (arrow.Array, error) {
	data := arr.Data()
	n := len(idx)
	var offs []O
	if b := data.Buffers()[1]; b != nil && data.Len() > 0 {
		offs = batchAs[O](b.Bytes())[data.Offset() : data.Offset()+data.Len()+1]
	}
	var src []byte
	if b := data.Buffers()[2]; b != nil {
		src = b.Bytes()
	}
	validity, nulls := batchTakeValidity(mem, arr, idx)
	var total int
	for _, ix := range idx {
		if ix >= 0 {
			total += int(offs[ix+1] - offs[ix])
		}
	}
	var z O
	if unsafe.Sizeof(z) == 4 && total > math.MaxInt32 {
		return nil, fmt.Errorf("gather of %d rows needs %d string bytes, more than 32-bit offsets allow", n, total)
	}
	offBuf := batchNewBufferNoClear(mem, (n+1)*int(unsafe.Sizeof(z)))
	dataBuf := batchNewBufferNoClear(mem, total)
	dstOffs := batchAs[O](offBuf.Bytes())[:n+1]
	dst := dataBuf.Bytes()
	pos := O(0)
	for i, ix := range idx {
		dstOffs[i] = pos
		if ix >= 0 {
			s, e := offs[ix], offs[ix+1]
			pos += O(copy(dst[pos:], src[s:e]))
		}
	}
	dstOffs[n] = pos
	return batchMakeArray(arr.DataType(), n, []*memory.Buffer{validity, offBuf, dataBuf}, nulls), nil
}
