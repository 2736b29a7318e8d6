package connectors

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// engineTimestamp is the engine's only timestamp type.
var engineTimestamp = &arrow.TimestampType{Unit: arrow.Microsecond}

// engineDecimal is the engine's DECIMAL(p, s) (types.Decimal, which
// connectors does not import): a Decimal64 for p <= 18, else a Decimal128.
func engineDecimal(p, s int32) arrow.DataType {
	if p <= 18 {
		return &arrow.Decimal64Type{Precision: p, Scale: s}
	}
	return &arrow.Decimal128Type{Precision: p, Scale: s}
}

// engineType maps a type a file decoder produces to the type the engine
// uses (see doc.go). Nested types are passed through unchanged.
func engineType(dt arrow.DataType) (arrow.DataType, error) {
	switch t := dt.(type) {
	case *arrow.Uint8Type:
		return arrow.PrimitiveTypes.Int16, nil
	case *arrow.Uint16Type:
		return arrow.PrimitiveTypes.Int32, nil
	case *arrow.Uint32Type, *arrow.Uint64Type:
		return arrow.PrimitiveTypes.Int64, nil
	case *arrow.Float16Type:
		return arrow.PrimitiveTypes.Float32, nil
	case *arrow.Decimal32Type, *arrow.Decimal64Type, *arrow.Decimal128Type:
		d := t.(arrow.DecimalType)
		return engineDecimal(d.GetPrecision(), d.GetScale()), nil
	case *arrow.Decimal256Type:
		if t.Precision > 38 {
			return nil, fmt.Errorf("type %s: decimal precision above 38 is not supported", dt)
		}
		return engineDecimal(t.Precision, t.Scale), nil
	case *arrow.TimestampType:
		return engineTimestamp, nil
	case *arrow.Date64Type:
		return arrow.FixedWidthTypes.Date32, nil
	case *arrow.LargeStringType, *arrow.StringViewType:
		return arrow.BinaryTypes.String, nil
	case *arrow.DictionaryType:
		return engineType(t.ValueType)
	}
	return dt, nil
}

// toEngine converts arr to the engine type want (as returned by
// engineType), consuming arr. Timestamps are truncated towards negative
// infinity when the unit is finer than µs.
func toEngine(ctx context.Context, arr arrow.Array, want arrow.DataType) (arrow.Array, error) {
	if arrow.TypeEqual(arr.DataType(), want) {
		return arr, nil
	}
	defer arr.Release()
	if d, ok := arr.(interface{ Dictionary() arrow.Array }); ok && arr.DataType().ID() == arrow.DICTIONARY {
		_ = d
		dense, err := compute.CastArray(ctx, arr, compute.UnsafeCastOptions(arr.DataType().(*arrow.DictionaryType).ValueType))
		if err != nil {
			return nil, err
		}
		return toEngine(ctx, dense, want)
	}
	if want.ID() == arrow.DECIMAL64 || arr.DataType().ID() == arrow.DECIMAL64 {
		// Arrow's compute has no Decimal64 casts.
		return decimalToEngine(ctx, arr, want)
	}
	opts := compute.SafeCastOptions(want)
	if arr.DataType().ID() == arrow.TIMESTAMP {
		opts = compute.UnsafeCastOptions(want)
	}
	return compute.CastArray(ctx, arr, opts)
}

// intsToDecimal64 turns the Int64 (shared, no copy) or Int32 (widened)
// unscaled values of a decimal stored as integers into a Decimal64 of type
// want, consuming arr.
func intsToDecimal64(mem memory.Allocator, arr arrow.Array, want arrow.DataType) (arrow.Array, error) {
	defer arr.Release()
	d := arr.Data()
	bufs := d.Buffers()
	switch arr.DataType().ID() {
	case arrow.INT64:
		nd := array.NewData(want, d.Len(), bufs, nil, d.NullN(), d.Offset())
		defer nd.Release()
		return array.MakeFromData(nd), nil
	case arrow.INT32:
		vals := arr.(*array.Int32).Int32Values()
		buf := memory.NewResizableBuffer(mem)
		defer buf.Release()
		buf.Resize(len(vals) * 8)
		out := arrow.Int64Traits.CastFromBytes(buf.Bytes())[:len(vals)]
		for i, v := range vals {
			out[i] = int64(v)
		}
		validity := bufs[0]
		if validity != nil && d.Offset() != 0 {
			validity = memory.NewResizableBuffer(mem)
			validity.Resize(int(bitutil.BytesForBits(int64(d.Len()))))
			bitutil.CopyBitmap(bufs[0].Bytes(), d.Offset(), d.Len(), validity.Bytes(), 0)
			defer validity.Release()
		}
		nd := array.NewData(want, d.Len(), []*memory.Buffer{validity, buf}, nil, d.NullN(), 0)
		defer nd.Release()
		return array.MakeFromData(nd), nil
	}
	return nil, fmt.Errorf("decoded %s, expected integers", arr.DataType())
}

// decimalToEngine converts a decimal array of any width to the engine
// decimal want of the same scale (engineType keeps the scale), checking
// that every value fits want's precision. It does not consume arr.
func decimalToEngine(ctx context.Context, arr arrow.Array, want arrow.DataType) (arrow.Array, error) {
	from, ok := arr.DataType().(arrow.DecimalType)
	to, ok2 := want.(arrow.DecimalType)
	if !ok || !ok2 || from.GetScale() != to.GetScale() {
		return nil, fmt.Errorf("no conversion from %s to %s", arr.DataType(), want)
	}
	if arr.DataType().ID() == arrow.DECIMAL256 {
		// Through Decimal128 (range-checked by compute).
		mid, err := compute.CastArray(ctx, arr, compute.SafeCastOptions(&arrow.Decimal128Type{Precision: 38, Scale: from.GetScale()}))
		if err != nil {
			return nil, err
		}
		defer mid.Release()
		return decimalToEngine(ctx, mid, want)
	}
	n := arr.Len()
	mem := compute.GetAllocator(ctx)
	p := to.GetPrecision()
	bad := func(i int) error {
		return fmt.Errorf("value %s does not fit %s", arr.ValueStr(i), want)
	}
	if want.ID() == arrow.DECIMAL128 { // from Decimal32/64: widen
		b := array.NewDecimal128Builder(mem, want.(*arrow.Decimal128Type))
		defer b.Release()
		b.Reserve(n)
		for i := range n {
			if arr.IsNull(i) {
				b.UnsafeAppendBoolToBitmap(false)
				continue
			}
			var v int64
			switch a := arr.(type) {
			case *array.Decimal32:
				v = int64(a.Value(i))
			case *array.Decimal64:
				v = int64(a.Value(i))
			}
			d := decimal128.FromI64(v)
			if !d.FitsInPrecision(p) {
				return nil, bad(i)
			}
			b.UnsafeAppend(d)
		}
		return b.NewArray(), nil
	}
	lim := int64(1)
	for range p {
		lim *= 10
	}
	buf := memory.NewResizableBuffer(mem)
	defer buf.Release()
	buf.Resize(n * 8)
	out := arrow.Int64Traits.CastFromBytes(buf.Bytes())[:n]
	switch a := arr.(type) {
	case *array.Decimal32:
		for i, v := range a.Values() {
			out[i] = int64(v)
		}
	case *array.Decimal64:
		for i, v := range a.Values() {
			out[i] = int64(v)
		}
	case *array.Decimal128:
		for i, v := range a.Values() {
			lo := int64(v.LowBits())
			if v.HighBits() != lo>>63 {
				lo = lim // out of range: caught below unless NULL
			}
			out[i] = lo
		}
	default:
		return nil, fmt.Errorf("no conversion from %s to %s", arr.DataType(), want)
	}
	hasNulls := arr.NullN() > 0
	for i, v := range out {
		if (v >= lim || v <= -lim) && (!hasNulls || arr.IsValid(i)) {
			return nil, bad(i)
		}
	}
	var validity *memory.Buffer
	if hasNulls {
		src := arr.Data()
		if src.Offset() == 0 && src.Buffers()[0] != nil {
			validity = src.Buffers()[0]
			validity.Retain()
		} else {
			validity = memory.NewResizableBuffer(mem)
			validity.Resize(int(bitutil.BytesForBits(int64(n))))
			vb := validity.Bytes()
			clear(vb)
			for i := range n {
				if arr.IsValid(i) {
					bitutil.SetBit(vb, i)
				}
			}
		}
		defer validity.Release()
	}
	d := array.NewData(want, n, []*memory.Buffer{validity, buf}, nil, arr.NullN(), 0)
	defer d.Release()
	return array.MakeFromData(d), nil
}
