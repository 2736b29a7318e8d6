package exec

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flint-engine/flint/types"
)

// Test helpers shared by the sort, window, limit, union and NLJ tests.
// Values travel as Go values: int64 (Int64/Int32), string, int64 unscaled
// (Decimal64, Decimal128), int32 days (Date32), float64, bool; nil is NULL.

var sortTestBatchSizes = []int{1, 2, 3, 16, 1024}

// sortTestDec is the type of column d: the engine's DECIMAL(15,2), a
// Decimal64; TestSortWindowDecimal128 reruns the tests with a
// Decimal128(15,2).
var sortTestDec = types.Decimal(15, 2)

func TestSortWindowDecimal128(t *testing.T) {
	old := sortTestDec
	sortTestDec = types.Decimal128(15, 2)
	defer func() { sortTestDec = old }()
	t.Run("sort", TestSort)
	t.Run("topn", TestTopN)
	t.Run("merge", TestMergeSorted)
	t.Run("window", TestWindow)
}

func sortTestSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "d", Type: sortTestDec, Nullable: true},
		{Name: "dt", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	}, nil)
}

// sortTestRows makes n random rows for sortTestSchema with few distinct
// values (many ties) and ~15% nulls.
func sortTestRows(r *rand.Rand, n int) [][]any {
	rows := make([][]any, n)
	words := []string{"", "a", "ab", "abc", "abcdefgh", "abcdefghi", "abcdefgz", "b", "zz", "é"}
	for i := range rows {
		row := []any{
			int64(r.Intn(7) - 3),
			words[r.Intn(len(words))],
			int64(r.Intn(9)-4) * 125,
			int32(r.Intn(5) + 19000),
			[]float64{-1.5, 0, 2.25, math.Inf(1), math.NaN(), 3}[r.Intn(6)],
			r.Intn(2) == 0,
		}
		for c := range row {
			if r.Intn(100) < 15 {
				row[c] = nil
			}
		}
		rows[i] = row
	}
	return rows
}

// sotBuild builds batches of at most size rows from rows.
func sotBuild(t testing.TB, mem memory.Allocator, schema *arrow.Schema, rows [][]any, size int) []arrow.RecordBatch {
	t.Helper()
	var out []arrow.RecordBatch
	for lo := 0; lo < len(rows); lo += size {
		hi := min(len(rows), lo+size)
		b := array.NewRecordBuilder(mem, schema)
		for _, row := range rows[lo:hi] {
			for c, v := range row {
				sotAppend(t, b.Field(c), v)
			}
		}
		out = append(out, b.NewRecordBatch())
		b.Release()
	}
	return out
}

func sotAppend(t testing.TB, fb array.Builder, v any) {
	if v == nil {
		fb.AppendNull()
		return
	}
	switch b := fb.(type) {
	case *array.Int64Builder:
		b.Append(v.(int64))
	case *array.Int32Builder:
		b.Append(int32(v.(int64)))
	case *array.StringBuilder:
		b.Append(v.(string))
	case *array.Decimal128Builder:
		b.Append(decimal128.FromI64(v.(int64)))
	case *array.Decimal64Builder:
		b.Append(decimal.Decimal64(v.(int64)))
	case *array.Date32Builder:
		b.Append(arrow.Date32(v.(int32)))
	case *array.Float64Builder:
		b.Append(v.(float64))
	case *array.BooleanBuilder:
		b.Append(v.(bool))
	default:
		t.Fatalf("sotAppend: unsupported builder %T", fb)
	}
}

// sotVal reads arr[i] as a test Go value.
func sotVal(arr arrow.Array, i int) any {
	if arr.IsNull(i) {
		return nil
	}
	switch a := arr.(type) {
	case *array.Int64:
		return a.Value(i)
	case *array.Int32:
		return int64(a.Value(i))
	case *array.String:
		return a.Value(i)
	case *array.Decimal128:
		v := a.Value(i)
		if !v.FitsInPrecision(18) {
			return fmt.Sprintf("dec(%s)", v.BigInt())
		}
		return int64(v.LowBits())
	case *array.Decimal64:
		return int64(a.Value(i))
	case *array.Date32:
		return int32(a.Value(i))
	case *array.Float64:
		return a.Value(i)
	case *array.Boolean:
		return a.Value(i)
	}
	return fmt.Sprintf("<%s>", arr.DataType())
}

// sotRows flattens batches into rows.
func sotRows(batches []arrow.RecordBatch) [][]any {
	var rows [][]any
	for _, b := range batches {
		for i := range int(b.NumRows()) {
			row := make([]any, b.NumCols())
			for c := range row {
				row[c] = sotVal(b.Column(c), i)
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// sotCmpVal is the reference value order: floats put NaN last, -0 == 0.
func sotCmpVal(a, b any) int {
	switch x := a.(type) {
	case int64:
		return cmp.Compare(x, b.(int64))
	case int32:
		return cmp.Compare(x, b.(int32))
	case string:
		return cmp.Compare(x, b.(string))
	case bool:
		y := b.(bool)
		if x == y {
			return 0
		}
		if !x {
			return -1
		}
		return 1
	case float64:
		y := b.(float64)
		xn, yn := math.IsNaN(x), math.IsNaN(y)
		switch {
		case xn && yn:
			return 0
		case xn:
			return 1
		case yn:
			return -1
		}
		return cmp.Compare(x, y)
	}
	panic(fmt.Sprintf("sotCmpVal %T", a))
}

// sotCmpRows is the reference multi-key row comparison.
func sotCmpRows(a, b []any, keys []SortKey) int {
	for _, k := range keys {
		x, y := a[k.Col], b[k.Col]
		var r int
		switch {
		case x == nil && y == nil:
			r = 0
		case x == nil:
			r = 1
			if k.NullsFirst {
				r = -1
			}
		case y == nil:
			r = -1
			if k.NullsFirst {
				r = 1
			}
		default:
			r = sotCmpVal(x, y)
			if k.Desc {
				r = -r
			}
		}
		if r != 0 {
			return r
		}
	}
	return 0
}

// sotEqualRows compares rows; floats compare NaN == NaN.
func sotEqualRows(t testing.TB, got, want [][]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	for i := range got {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("row %d: got %d columns, want %d", i, len(got[i]), len(want[i]))
		}
		for c := range got[i] {
			if !sotSameVal(got[i][c], want[i][c]) {
				t.Fatalf("row %d col %d: got %v (%T), want %v (%T)\ngot row  %v\nwant row %v", i, c, got[i][c], got[i][c], want[i][c], want[i][c], got[i], want[i])
			}
		}
	}
}

func sotSameVal(a, b any) bool {
	if x, ok := a.(float64); ok {
		y, ok := b.(float64)
		if !ok {
			return false
		}
		if math.IsNaN(x) || math.IsNaN(y) {
			return math.IsNaN(x) && math.IsNaN(y)
		}
		return x == y || math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(y))
	}
	return a == b
}

// sotRun drains op with batch size bs over a checked allocator and returns
// the rows; it checks every batch respects bs when strict is set.
func sotRun(t testing.TB, op Operator, mem memory.Allocator, bs int, strict bool) [][]any {
	t.Helper()
	ctx := WithBatchSize(WithAllocator(context.Background(), mem), bs)
	out, err := CollectAll(ctx, op)
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	defer batchReleaseAll(out)
	for _, b := range out {
		if strict && b.NumRows() > int64(bs) {
			t.Fatalf("batch of %d rows exceeds batch size %d", b.NumRows(), bs)
		}
		if !b.Schema().Equal(op.Schema()) {
			t.Fatalf("batch schema %s differs from operator schema %s", b.Schema(), op.Schema())
		}
	}
	return sotRows(out)
}

// sotSource builds a BatchSource over rows and drops the test's references.
//
// The batches are zero-copy slices of one larger batch that starts with
// padding rows, so every batch has a non-zero array offset and its string
// values do not start at byte 0 of the data buffer: operators that index
// buffers with absolute offsets are checked the way batches cut by
// SliceBatches, filters and joins exercise them.
func sotSource(t testing.TB, mem memory.Allocator, schema *arrow.Schema, rows [][]any, size int) Operator {
	pad := make([][]any, 3)
	for i := range pad {
		pad[i] = make([]any, schema.NumFields())
		for c, f := range schema.Fields() {
			if f.Type.ID() == arrow.STRING {
				pad[i][c] = "padding-value"
			}
		}
	}
	all := sotBuild(t, mem, schema, append(pad, rows...), len(pad)+len(rows))
	var bs []arrow.RecordBatch
	for lo := len(pad); lo < len(pad)+len(rows); lo += size {
		hi := min(len(pad)+len(rows), lo+size)
		bs = append(bs, all[0].NewSlice(int64(lo), int64(hi)))
	}
	batchReleaseAll(all)
	src := NewBatchSource(schema, bs)
	batchReleaseAll(bs)
	return src
}

// sotCountingOp counts Next calls on its input.
type sotCountingOp struct {
	Operator
	nexts int
}

func (c *sotCountingOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	c.nexts++
	return c.Operator.Next(ctx)
}
