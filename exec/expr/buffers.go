package expr

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// fixedNative is the set of Go types stored in fixed-width Arrow buffers
// that the generic kernels handle.
type fixedNative interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// castSlice reinterprets b as a slice of T.
func castSlice[T any](b []byte) []T {
	if len(b) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/int(unsafe.Sizeof(z)))
}

// values returns the fixed-width values of a, honoring its offset.
func values[T any](a arrow.Array) []T {
	d := a.Data()
	bufs := d.Buffers()
	if len(bufs) < 2 || bufs[1] == nil {
		return nil
	}
	v := castSlice[T](bufs[1].Bytes())
	return v[d.Offset() : d.Offset()+d.Len()]
}

// bitsOf returns a's validity bitmap and its bit offset, or nil when a has
// no nulls.
func bitsOf(a arrow.Array) ([]byte, int) {
	if a.NullN() == 0 {
		return nil, 0
	}
	if b := a.NullBitmapBytes(); b != nil {
		return b, a.Data().Offset()
	}
	// The NULL type has no bitmap: every row is NULL.
	return make([]byte, bitutil.BytesForBits(int64(a.Len()))), 0
}

// boolBits returns a Boolean array's value bitmap and bit offset.
func boolBits(a arrow.Array) ([]byte, int) {
	b := a.Data().Buffers()[1]
	if b == nil {
		return nil, 0 // only for empty arrays
	}
	return b.Bytes(), a.Data().Offset()
}

// strData returns the offsets (len n+1, absolute) and the whole data buffer
// of a String array.
func strData(a arrow.Array) ([]int32, []byte) {
	if a.Len() == 0 {
		return []int32{0}, nil
	}
	s := a.(*array.String)
	var data []byte
	if b := a.Data().Buffers()[2]; b != nil {
		data = b.Bytes()
	}
	return s.ValueOffsets(), data
}

// allocFixed allocates a buffer of n values of T (not zeroed).
func allocFixed[T any](mem memory.Allocator, n int) (*memory.Buffer, []T) {
	var z T
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(n * int(unsafe.Sizeof(z)))
	return buf, castSlice[T](buf.Bytes())[:n]
}

// allocBits allocates a zeroed bitmap of n bits.
func allocBits(mem memory.Allocator, n int) (*memory.Buffer, []byte) {
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(int(bitutil.BytesForBits(int64(n))))
	b := buf.Bytes()
	clear(b)
	return buf, b
}

// allocSetBits allocates a bitmap of n bits all set.
func allocSetBits(mem memory.Allocator, n int) (*memory.Buffer, []byte) {
	buf, b := allocBits(mem, n)
	bitutil.SetBitsTo(b, 0, int64(n), true)
	return buf, b
}

// makeArray wraps buffers into an array of type dt and releases the
// caller's references to the buffers. nulls may be array.UnknownNullCount.
func makeArray(dt arrow.DataType, n int, nulls int, bufs ...*memory.Buffer) arrow.Array {
	if bufs[0] == nil {
		nulls = 0
	}
	d := array.NewData(dt, n, bufs, nil, nulls, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	a := array.MakeFromData(d)
	d.Release()
	return a
}

// andValidity returns the AND of the validity of the given arrays as a new
// bitmap (nil if none has nulls) plus its null count.
func andValidity(mem memory.Allocator, n int, arrs ...arrow.Array) (*memory.Buffer, []byte) {
	var out *memory.Buffer
	var ob []byte
	for _, a := range arrs {
		if a == nil {
			continue
		}
		b, off := bitsOf(a)
		if b == nil {
			continue
		}
		if out == nil {
			out, ob = allocBits(mem, n)
			bitutil.CopyBitmap(b, off, n, ob, 0)
			continue
		}
		bitutil.BitmapAnd(ob, b, 0, int64(off), ob, 0, int64(n))
	}
	return out, ob
}

func nullCount(valid []byte, n int) int {
	if valid == nil {
		return 0
	}
	return n - bitutil.CountSetBits(valid, 0, n)
}

// isValid reports whether row i is valid given a bitmap (nil = all valid).
func isValid(valid []byte, off, i int) bool {
	return valid == nil || bitutil.BitIsSet(valid, off+i)
}

// nullArray returns n NULLs of type dt.
func nullArray(mem memory.Allocator, dt arrow.DataType, n int) arrow.Array {
	return array.MakeArrayOfNull(mem, dt, n)
}

// b2u converts a bool to 0/1 without a branch.
func b2u(b bool) byte {
	var x byte
	if b {
		x = 1
	}
	return x
}

// strBuilder accumulates string output for a batch and turns it into an
// Arrow String array allocated from mem.
type strBuilder struct {
	offsets []int32
	data    []byte
}

func newStrBuilder(n, dataHint int) *strBuilder {
	s := &strBuilder{offsets: make([]int32, 1, n+1), data: make([]byte, 0, dataHint)}
	return s
}

func (s *strBuilder) appendBytes(b []byte) { s.data = append(s.data, b...); s.end() }
func (s *strBuilder) appendString(b string) {
	s.data = append(s.data, b...)
	s.end()
}
func (s *strBuilder) end() { s.offsets = append(s.offsets, int32(len(s.data))) }

func (s *strBuilder) finish(mem memory.Allocator, valid *memory.Buffer) arrow.Array {
	n := len(s.offsets) - 1
	ob, offs := allocFixed[int32](mem, n+1)
	copy(offs, s.offsets)
	db := memory.NewResizableBuffer(mem)
	db.Resize(len(s.data))
	copy(db.Bytes(), s.data)
	return makeArray(arrow.BinaryTypes.String, n, array.UnknownNullCount, valid, ob, db)
}

// unsafeBytes views a uint64 slice as bytes.
func unsafeBytes(w []uint64) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), len(w)*8)
}
