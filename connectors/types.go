package connectors

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/compute"
)

// engineTimestamp is the engine's only timestamp type.
var engineTimestamp = &arrow.TimestampType{Unit: arrow.Microsecond}

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
	case *arrow.Decimal32Type:
		return &arrow.Decimal128Type{Precision: t.Precision, Scale: t.Scale}, nil
	case *arrow.Decimal64Type:
		return &arrow.Decimal128Type{Precision: t.Precision, Scale: t.Scale}, nil
	case *arrow.Decimal256Type:
		if t.Precision > 38 {
			return nil, fmt.Errorf("type %s: decimal precision above 38 is not supported", dt)
		}
		return &arrow.Decimal128Type{Precision: t.Precision, Scale: t.Scale}, nil
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
	opts := compute.SafeCastOptions(want)
	if arr.DataType().ID() == arrow.TIMESTAMP {
		opts = compute.UnsafeCastOptions(want)
	}
	return compute.CastArray(ctx, arr, opts)
}
