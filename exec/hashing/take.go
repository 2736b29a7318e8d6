package hashing

import (
	"context"
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Take gathers arr[idx[k]] for every k into a new array; idx[k] < 0 yields
// NULL. Fixed-width, boolean and string/binary columns use typed loops;
// other types fall back to arrow's compute.Take.
func Take(mem memory.Allocator, arr arrow.Array, idx []int32) (arrow.Array, error) {
	n := len(idx)
	srcValid, srcHasNulls := ValidityOf(arr)
	needValid := srcHasNulls
	if !needValid {
		for _, i := range idx {
			if i < 0 {
				needValid = true
				break
			}
		}
	}
	if arr.DataType().ID() == arrow.NULL {
		return array.MakeArrayOfNull(mem, arr.DataType(), n), nil
	}
	var nb *memory.Buffer
	nulls := 0
	if needValid {
		nb = memory.NewResizableBuffer(mem)
		nb.Resize((n + 7) / 8)
		b := nb.Bytes()
		clear(b)
		for k, i := range idx {
			if i >= 0 && (!srcHasNulls || srcValid.Valid(int(i))) {
				b[k>>3] |= 1 << (uint(k) & 7)
			} else {
				nulls++
			}
		}
		if nulls == 0 {
			nb.Release()
			nb = nil
		}
	}
	dt := arr.DataType()
	var vb *memory.Buffer
	switch kindOf(dt) {
	case kInt8, kUint8:
		vb = takeFixed[uint8](mem, arr, idx)
	case kInt16, kUint16:
		vb = takeFixed[uint16](mem, arr, idx)
	case kInt32, kUint32, kFloat32:
		vb = takeFixed[uint32](mem, arr, idx)
	case kInt64, kUint64, kFloat64, kDec64:
		vb = takeFixed[uint64](mem, arr, idx)
	case kDec128:
		vb = takeFixed[I128](mem, arr, idx)
	case kBool:
		vb = memory.NewResizableBuffer(mem)
		vb.Resize((n + 7) / 8)
		b := vb.Bytes()
		clear(b)
		for k, i := range idx {
			if i >= 0 && boolAt(arr, int(i)) {
				b[k>>3] |= 1 << (uint(k) & 7)
			}
		}
	case kString:
		offs, data := StringData(arr)
		total := 0
		for _, i := range idx {
			if i >= 0 {
				total += int(offs[i+1] - offs[i])
			}
		}
		if total > 1<<31-1 {
			if nb != nil {
				nb.Release()
			}
			return nil, fmt.Errorf("hashing: take of %d string bytes exceeds int32 offsets", total)
		}
		ob := memory.NewResizableBuffer(mem)
		ob.Resize((n + 1) * 4)
		o := unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(ob.Bytes()))), n+1)
		db := memory.NewResizableBuffer(mem)
		db.Resize(total)
		d := db.Bytes()
		pos := int32(0)
		for k, i := range idx {
			o[k] = pos
			if i >= 0 {
				pos += int32(copy(d[pos:], data[offs[i]:offs[i+1]]))
			}
		}
		o[n] = pos
		return makeArray(dt, n, []*memory.Buffer{nb, ob, db}, nulls), nil
	default:
		if nb != nil {
			nb.Release()
		}
		return takeFallback(mem, arr, idx)
	}
	return makeArray(dt, n, []*memory.Buffer{nb, vb}, nulls), nil
}

func takeFixed[T any](mem memory.Allocator, arr arrow.Array, idx []int32) *memory.Buffer {
	var zero T
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(len(idx) * int(unsafe.Sizeof(zero)))
	if len(idx) == 0 {
		return buf
	}
	dst := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(buf.Bytes()))), len(idx))
	src := FixedValues[T](arr)
	for k, i := range idx {
		if i >= 0 && int(i) < len(src) {
			dst[k] = src[i]
		} else {
			dst[k] = zero
		}
	}
	return buf
}

func takeFallback(mem memory.Allocator, arr arrow.Array, idx []int32) (arrow.Array, error) {
	valid := make([]bool, len(idx))
	vals := make([]int32, len(idx))
	for k, i := range idx {
		valid[k] = i >= 0
		if i >= 0 {
			vals[k] = i
		}
	}
	ia := NewFixedArray(mem, arrow.PrimitiveTypes.Int32, vals, valid)
	defer ia.Release()
	ctx := compute.WithAllocator(context.Background(), mem)
	out, err := compute.TakeArray(ctx, arr, ia)
	if err != nil {
		return nil, fmt.Errorf("hashing: take %s: %w", arr.DataType(), err)
	}
	return out, nil
}
