package expr

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/types"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// dec is a decimal value in tests: unscaled integer.
type dec int64

// buildArray builds an array of type dt from Go values (nil = NULL).
// Ints are int64 for all integer, DATE32 (days) and TIMESTAMP types;
// decimals take dec (unscaled) values.
func buildArray(t testing.TB, mem memory.Allocator, dt arrow.DataType, vals []any) arrow.Array {
	t.Helper()
	b := array.NewBuilder(mem, dt)
	defer b.Release()
	for _, v := range vals {
		if v == nil {
			b.AppendNull()
			continue
		}
		switch bb := b.(type) {
		case *array.Int8Builder:
			bb.Append(int8(v.(int64)))
		case *array.Int16Builder:
			bb.Append(int16(v.(int64)))
		case *array.Int32Builder:
			bb.Append(int32(v.(int64)))
		case *array.Int64Builder:
			bb.Append(v.(int64))
		case *array.Float32Builder:
			bb.Append(float32(v.(float64)))
		case *array.Float64Builder:
			bb.Append(v.(float64))
		case *array.BooleanBuilder:
			bb.Append(v.(bool))
		case *array.StringBuilder:
			bb.Append(v.(string))
		case *array.Date32Builder:
			bb.Append(arrow.Date32(v.(int64)))
		case *array.TimestampBuilder:
			bb.Append(arrow.Timestamp(v.(int64)))
		case *array.Decimal64Builder:
			switch x := v.(type) {
			case dec:
				bb.Append(decimal.Decimal64(x))
			case decimal128.Num:
				bb.Append(decimal.Decimal64(int64(x.LowBits())))
			}
		case *array.Decimal128Builder:
			switch x := v.(type) {
			case dec:
				bb.Append(decimal128.FromI64(int64(x)))
			case decimal128.Num:
				bb.Append(x)
			}
		case *array.MonthDayNanoIntervalBuilder:
			bb.Append(v.(arrow.MonthDayNanoInterval))
		default:
			t.Fatalf("buildArray: unsupported type %s", dt)
		}
	}
	return b.NewArray()
}

// toAny reads an array back into Go values (nil = NULL), in buildArray's
// conventions.
func toAny(t testing.TB, a arrow.Array) []any {
	t.Helper()
	out := make([]any, a.Len())
	for i := range out {
		if a.IsNull(i) || a.DataType().ID() == arrow.NULL {
			continue
		}
		switch v := a.(type) {
		case *array.Int8:
			out[i] = int64(v.Value(i))
		case *array.Int16:
			out[i] = int64(v.Value(i))
		case *array.Int32:
			out[i] = int64(v.Value(i))
		case *array.Int64:
			out[i] = v.Value(i)
		case *array.Float32:
			out[i] = float64(v.Value(i))
		case *array.Float64:
			out[i] = v.Value(i)
		case *array.Boolean:
			out[i] = v.Value(i)
		case *array.String:
			out[i] = v.Value(i)
		case *array.Date32:
			out[i] = int64(v.Value(i))
		case *array.Timestamp:
			out[i] = int64(v.Value(i))
		case *array.Decimal64:
			out[i] = dec(v.Value(i))
		case *array.Decimal128:
			x := v.Value(i)
			if fits64(x) {
				out[i] = dec(int64(x.LowBits()))
			} else {
				out[i] = x
			}
		case *array.MonthDayNanoInterval:
			out[i] = v.Value(i)
		default:
			t.Fatalf("toAny: unsupported type %s", a.DataType())
		}
	}
	return out
}

// mkBatch builds a batch of the given columns; each column is sliced by
// offset rows (the builder gets offset leading junk rows) to exercise
// non-zero array offsets.
type colSpec struct {
	typ  arrow.DataType
	vals []any
}

func mkBatch(t testing.TB, mem memory.Allocator, offset int, cols ...colSpec) arrow.RecordBatch {
	t.Helper()
	fields := make([]arrow.Field, len(cols))
	arrs := make([]arrow.Array, len(cols))
	n := -1
	for i, c := range cols {
		fields[i] = arrow.Field{Name: fmt.Sprintf("c%d", i), Type: c.typ, Nullable: true}
		vals := c.vals
		if offset > 0 {
			junk := make([]any, offset)
			for j := range junk {
				junk[j] = vals[j%len(vals)]
			}
			vals = append(junk, vals...)
		}
		full := buildArray(t, mem, c.typ, vals)
		arrs[i] = array.NewSlice(full, int64(offset), int64(len(vals)))
		full.Release()
		n = len(c.vals)
	}
	if n < 0 {
		n = 1
	}
	rb := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rb
}

// evalAny evaluates e over batch and returns the values.
func evalAny(t testing.TB, mem memory.Allocator, e exec.Expr, rb arrow.RecordBatch) ([]any, error) {
	t.Helper()
	ctx := exec.WithAllocator(context.Background(), mem)
	a, err := e.Eval(ctx, rb)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	if a.Len() != int(rb.NumRows()) {
		t.Fatalf("%s: got %d rows, want %d", e, a.Len(), rb.NumRows())
	}
	if !arrow.TypeEqual(a.DataType(), e.DataType()) {
		t.Fatalf("%s: result type %s, DataType() says %s", e, a.DataType(), e.DataType())
	}
	if v, ok := a.(interface{ ValidateFull() error }); ok {
		if err := v.ValidateFull(); err != nil {
			t.Fatalf("%s: invalid array: %v", e, err)
		}
	}
	if a.Data().Buffers()[0] == nil && a.NullN() != 0 && a.DataType().ID() != arrow.NULL {
		t.Fatalf("%s: null count %d without a bitmap", e, a.NullN())
	}
	return toAny(t, a), nil
}

func mustEqual(t testing.TB, what string, got, want []any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d rows, want %d", what, len(got), len(want))
	}
	for i := range got {
		if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
			t.Fatalf("%s: row %d: got %v, want %v\n got: %v\nwant: %v", what, i, got[i], want[i], got, want)
		}
	}
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func newMem(t *testing.T) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

var (
	tI64  = types.Int64
	tI32  = types.Int32
	tF64  = types.Float64
	tStr  = types.String
	tBool = types.Boolean
	tDate = types.Date32
	tTS   = types.Timestamp
	tIv   = types.Interval
)
