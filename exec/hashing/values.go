package hashing

import (
	"fmt"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// I128 is the in-memory layout of an Arrow Decimal128 value: two's
// complement, low word first (identical to decimal128.Num's layout).
type I128 struct {
	Lo uint64
	Hi int64
}

// Add returns a+b (wrapping at 128 bits).
func (a I128) Add(b I128) I128 {
	lo, c := bits.Add64(a.Lo, b.Lo, 0)
	return I128{lo, a.Hi + b.Hi + int64(c)}
}

// Less reports a < b as signed 128-bit integers.
func (a I128) Less(b I128) bool {
	return a.Hi < b.Hi || (a.Hi == b.Hi && a.Lo < b.Lo)
}

// Float64 converts a to float64 (no scaling).
func (a I128) Float64() float64 {
	if (a.Hi == 0 && a.Lo < 1<<63) || (a.Hi == -1 && a.Lo >= 1<<63) {
		return float64(int64(a.Lo))
	}
	if a.Hi < 0 {
		n := I128{^a.Lo, ^a.Hi}.Add(I128{1, 0})
		return -(float64(uint64(n.Hi))*18446744073709551616.0 + float64(n.Lo))
	}
	return float64(uint64(a.Hi))*18446744073709551616.0 + float64(a.Lo)
}

// FixedValues returns the values of a fixed-width array (any physical
// layout whose element is T, e.g. int64 for Int64/Timestamp, I128 for
// Decimal128), honouring the array offset. No copy is made.
func FixedValues[T any](arr arrow.Array) []T {
	d := arr.Data()
	bufs := d.Buffers()
	if len(bufs) < 2 || bufs[1] == nil || d.Len() == 0 {
		return nil
	}
	b := bufs[1].Bytes()
	var zero T
	n := len(b) / int(unsafe.Sizeof(zero))
	all := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
	return all[d.Offset() : d.Offset()+d.Len()]
}

// Validity gives fast access to an array's null bitmap.
type Validity struct {
	bits []byte
	off  int
}

// ValidityOf returns the validity of arr; ok is false when arr has no nulls
// (every row valid).
func ValidityOf(arr arrow.Array) (v Validity, ok bool) {
	if arr.NullN() == 0 {
		return Validity{}, false
	}
	if arr.DataType().ID() == arrow.NULL {
		return Validity{bits: nil}, true
	}
	return Validity{bits: arr.NullBitmapBytes(), off: arr.Data().Offset()}, true
}

// Valid reports whether row i is non-null.
func (v Validity) Valid(i int) bool {
	if v.bits == nil {
		return false
	}
	j := v.off + i
	return v.bits[j>>3]&(1<<(uint(j)&7)) != 0
}

// BoolValues unpacks a Boolean array's values (nulls read as false).
func BoolValues(arr *array.Boolean, out []bool) []bool {
	n := arr.Len()
	if cap(out) < n {
		out = make([]bool, n)
	}
	out = out[:n]
	d := arr.Data()
	b := d.Buffers()[1].Bytes()
	off := d.Offset()
	for i := range out {
		j := off + i
		out[i] = b[j>>3]&(1<<(uint(j)&7)) != 0
	}
	return out
}

func newBitmap(mem memory.Allocator, valid []bool) (*memory.Buffer, int) {
	nulls := 0
	for _, v := range valid {
		if !v {
			nulls++
		}
	}
	if nulls == 0 {
		return nil, 0
	}
	buf := memory.NewResizableBuffer(mem)
	buf.Resize((len(valid) + 7) / 8)
	b := buf.Bytes()
	clear(b)
	for i, v := range valid {
		if v {
			b[i>>3] |= 1 << (uint(i) & 7)
		}
	}
	return buf, nulls
}

func makeArray(dt arrow.DataType, n int, bufs []*memory.Buffer, nulls int) arrow.Array {
	data := array.NewData(dt, n, bufs, nil, nulls, 0)
	arr := array.MakeFromData(data)
	data.Release()
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	return arr
}

// NewFixedArray builds an array of type dt (whose physical element is T)
// from vals; valid (nil = all valid) marks non-null rows.
func NewFixedArray[T any](mem memory.Allocator, dt arrow.DataType, vals []T, valid []bool) arrow.Array {
	var zero T
	size := int(unsafe.Sizeof(zero))
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(len(vals) * size)
	if len(vals) > 0 {
		dst := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(buf.Bytes()))), len(vals))
		copy(dst, vals)
	}
	nb, nulls := newBitmap(mem, valid)
	return makeArray(dt, len(vals), []*memory.Buffer{nb, buf}, nulls)
}

// NewBoolArray builds a Boolean array from vals and valid (nil = all valid).
func NewBoolArray(mem memory.Allocator, vals []bool, valid []bool) arrow.Array {
	buf := memory.NewResizableBuffer(mem)
	buf.Resize((len(vals) + 7) / 8)
	b := buf.Bytes()
	clear(b)
	for i, v := range vals {
		if v {
			b[i>>3] |= 1 << (uint(i) & 7)
		}
	}
	nb, nulls := newBitmap(mem, valid)
	return makeArray(arrow.FixedWidthTypes.Boolean, len(vals), []*memory.Buffer{nb, buf}, nulls)
}

// NewStringArray builds a String or Binary array (int32 offsets) from
// Go strings; valid (nil = all valid) marks non-null rows.
func NewStringArray(mem memory.Allocator, dt arrow.DataType, vals []string, valid []bool) (arrow.Array, error) {
	total := 0
	for _, s := range vals {
		total += len(s)
	}
	if total > 1<<31-1 {
		return nil, fmt.Errorf("hashing: string column too large (%d bytes)", total)
	}
	ob := memory.NewResizableBuffer(mem)
	ob.Resize((len(vals) + 1) * 4)
	offs := unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(ob.Bytes()))), len(vals)+1)
	db := memory.NewResizableBuffer(mem)
	db.Resize(total)
	data := db.Bytes()
	pos := 0
	for i, s := range vals {
		offs[i] = int32(pos)
		pos += copy(data[pos:], s)
	}
	offs[len(vals)] = int32(pos)
	nb, nulls := newBitmap(mem, valid)
	return makeArray(dt, len(vals), []*memory.Buffer{nb, ob, db}, nulls), nil
}

// StringData returns the int32 offsets (offset-adjusted, len n+1) and data
// buffer of a String or Binary array.
func StringData(arr arrow.Array) (offs []int32, data []byte) {
	d := arr.Data()
	bufs := d.Buffers()
	if d.Len() == 0 || bufs[1] == nil || bufs[1].Len() < 4*(d.Offset()+d.Len()+1) {
		// No offsets (e.g. an all-NULL array built without buffers): every
		// value is empty.
		return make([]int32, d.Len()+1), nil
	}
	ob := bufs[1].Bytes()
	all := unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(ob))), len(ob)/4)
	offs = all[d.Offset() : d.Offset()+d.Len()+1]
	if bufs[2] != nil {
		data = bufs[2].Bytes()
	}
	return offs, data
}

// Uint32Array wraps vals (no copy) as an arrow Uint32 array that does not
// own its memory; vals must outlive the array. Used for internal group-id
// columns.
func Uint32Array(vals []uint32) arrow.Array {
	var b []byte
	if len(vals) > 0 {
		b = unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(vals))), len(vals)*4)
	}
	buf := memory.NewBufferBytes(b)
	data := array.NewData(arrow.PrimitiveTypes.Uint32, len(vals), []*memory.Buffer{nil, buf}, nil, 0, 0)
	arr := array.MakeFromData(data)
	data.Release()
	return arr
}
