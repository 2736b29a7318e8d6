package resultcmp

import (
	"math/big"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestFormatValue(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	big1, _ := new(big.Int).SetString("-123456789012345678901234567", 10) // beyond int64
	day := arrow.Date32(daysSinceEpoch(1998, 12, 1))

	build := func(t *testing.T, dt arrow.DataType, fill func(array.Builder)) arrow.Array {
		b := array.NewBuilder(mem, dt)
		defer b.Release()
		fill(b)
		return b.NewArray()
	}
	cases := []struct {
		name string
		dt   arrow.DataType
		fill func(array.Builder)
		want []string
	}{
		{"int64", arrow.PrimitiveTypes.Int64, func(b array.Builder) {
			b.(*array.Int64Builder).AppendValues([]int64{0, -7, 9223372036854775807}, nil)
			b.AppendNull()
		}, []string{"0", "-7", "9223372036854775807", ""}},
		{"int32", arrow.PrimitiveTypes.Int32, func(b array.Builder) {
			b.(*array.Int32Builder).AppendValues([]int32{-2147483648, 42}, nil)
		}, []string{"-2147483648", "42"}},
		{"uint8", arrow.PrimitiveTypes.Uint8, func(b array.Builder) {
			b.(*array.Uint8Builder).Append(255)
		}, []string{"255"}},
		{"float64", arrow.PrimitiveTypes.Float64, func(b array.Builder) {
			b.(*array.Float64Builder).AppendValues([]float64{0.1, 25.575154611454693, 1e21, -0.5}, nil)
		}, []string{"0.1", "25.575154611454693", "1e+21", "-0.5"}},
		{"float32", arrow.PrimitiveTypes.Float32, func(b array.Builder) {
			b.(*array.Float32Builder).Append(0.1)
		}, []string{"0.1"}},
		{"decimal128(15,2)", &arrow.Decimal128Type{Precision: 15, Scale: 2}, func(b array.Builder) {
			db := b.(*array.Decimal128Builder)
			for _, v := range []int64{1230, -5, 0, 5, 100, -123456789} {
				db.Append(decimal128.FromI64(v))
			}
			db.AppendNull()
		}, []string{"12.30", "-0.05", "0.00", "0.05", "1.00", "-1234567.89", ""}},
		{"decimal128(38,4) big", &arrow.Decimal128Type{Precision: 38, Scale: 4}, func(b array.Builder) {
			b.(*array.Decimal128Builder).Append(decimal128.FromBigInt(big1))
		}, []string{"-12345678901234567890123.4567"}},
		{"decimal128(10,0)", &arrow.Decimal128Type{Precision: 10, Scale: 0}, func(b array.Builder) {
			b.(*array.Decimal128Builder).Append(decimal128.FromI64(-42))
		}, []string{"-42"}},
		{"decimal256(40,3)", &arrow.Decimal256Type{Precision: 40, Scale: 3}, func(b array.Builder) {
			b.(*array.Decimal256Builder).Append(decimal256.FromI64(-1))
		}, []string{"-0.001"}},
		{"decimal64(12,2)", &arrow.Decimal64Type{Precision: 12, Scale: 2}, func(b array.Builder) {
			b.(*array.Decimal64Builder).Append(decimal.Decimal64(-10001))
		}, []string{"-100.01"}},
		{"decimal32(5,1)", &arrow.Decimal32Type{Precision: 5, Scale: 1}, func(b array.Builder) {
			b.(*array.Decimal32Builder).Append(decimal.Decimal32(7))
		}, []string{"0.7"}},
		{"date32", arrow.FixedWidthTypes.Date32, func(b array.Builder) {
			b.(*array.Date32Builder).AppendValues([]arrow.Date32{day, 0, -1}, nil)
			b.AppendNull()
		}, []string{"1998-12-01", "1970-01-01", "1969-12-31", ""}},
		{"timestamp(us)", &arrow.TimestampType{Unit: arrow.Microsecond}, func(b array.Builder) {
			ts := time.Date(1995, 3, 15, 10, 20, 30, 123000, time.UTC)
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(ts.UnixMicro()))
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(time.Date(1995, 3, 15, 0, 0, 0, 0, time.UTC).UnixMicro()))
		}, []string{"1995-03-15 10:20:30.000123", "1995-03-15 00:00:00"}},
		{"bool", arrow.FixedWidthTypes.Boolean, func(b array.Builder) {
			b.(*array.BooleanBuilder).AppendValues([]bool{true, false}, nil)
			b.AppendNull()
		}, []string{"true", "false", ""}},
		{"string", arrow.BinaryTypes.String, func(b array.Builder) {
			b.(*array.StringBuilder).AppendValues([]string{"BRAZIL", "a,\"b\"", ""}, nil)
			b.AppendNull()
		}, []string{"BRAZIL", "a,\"b\"", "", ""}},
		{"dictionary", &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, func(b array.Builder) {
			db := b.(*array.BinaryDictionaryBuilder)
			for _, s := range []string{"MAIL", "SHIP", "MAIL"} {
				if err := db.AppendString(s); err != nil {
					panic(err)
				}
			}
		}, []string{"MAIL", "SHIP", "MAIL"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			arr := build(t, tc.dt, tc.fill)
			defer arr.Release()
			if arr.Len() != len(tc.want) {
				t.Fatalf("built %d values, want %d", arr.Len(), len(tc.want))
			}
			for i, w := range tc.want {
				if got := FormatValue(arr, i); got != w {
					t.Errorf("value %d: got %q, want %q", i, got, w)
				}
			}
		})
	}
}

// daysSinceEpoch is an independent reference: count days with time.Time.
func daysSinceEpoch(y int, m time.Month, d int) int {
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Sub(time.Unix(0, 0).UTC()).Hours() / 24)
}
