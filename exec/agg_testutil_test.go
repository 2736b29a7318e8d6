package exec

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Test helpers shared by the hash aggregate, hash join and partition tests.
// Rows are [][]any with int64, int32, float64, string, bool, hatDec
// (unscaled decimal) or arrow.Date32 values; nil is NULL.

type hatDec int64

// hatSource replays batches; it owns them and releases them in Close.
type hatSource struct {
	schema  *arrow.Schema
	batches []arrow.RecordBatch
	pos     int
	opens   int
}

func (s *hatSource) Schema() *arrow.Schema          { return s.schema }
func (s *hatSource) Open(ctx context.Context) error { s.pos = 0; s.opens++; return nil }
func (s *hatSource) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.pos >= len(s.batches) {
		return nil, nil
	}
	b := s.batches[s.pos]
	s.pos++
	b.Retain()
	return b, nil
}
func (s *hatSource) Close() error {
	for _, b := range s.batches {
		b.Release()
	}
	s.batches = nil
	return nil
}

// hatBuild turns rows into batches of size rows each.
func hatBuild(t testing.TB, mem memory.Allocator, schema *arrow.Schema, rows [][]any, size int) []arrow.RecordBatch {
	t.Helper()
	var out []arrow.RecordBatch
	for start := 0; start < len(rows); start += size {
		end := min(start+size, len(rows))
		rb := array.NewRecordBuilder(mem, schema)
		for _, row := range rows[start:end] {
			for c, v := range row {
				hatAppend(t, rb.Field(c), v)
			}
		}
		out = append(out, rb.NewRecordBatch())
		rb.Release()
	}
	return out
}

func hatAppend(t testing.TB, b array.Builder, v any) {
	if v == nil {
		b.AppendNull()
		return
	}
	switch b := b.(type) {
	case *array.Int64Builder:
		b.Append(v.(int64))
	case *array.Int32Builder:
		b.Append(v.(int32))
	case *array.Float64Builder:
		b.Append(v.(float64))
	case *array.StringBuilder:
		b.Append(v.(string))
	case *array.BooleanBuilder:
		b.Append(v.(bool))
	case *array.Decimal128Builder:
		b.Append(decimal128.FromI64(int64(v.(hatDec))))
	case *array.Decimal64Builder:
		b.Append(decimal.Decimal64(v.(hatDec)))
	case *array.Date32Builder:
		b.Append(v.(arrow.Date32))
	default:
		t.Fatalf("hatAppend: unsupported builder %T", b)
	}
}

func hatSrc(t testing.TB, mem memory.Allocator, schema *arrow.Schema, rows [][]any, size int) *hatSource {
	return &hatSource{schema: schema, batches: hatBuild(t, mem, schema, rows, size)}
}

func hatVal(t testing.TB, arr arrow.Array, i int) any {
	if arr.IsNull(i) {
		return nil
	}
	switch a := arr.(type) {
	case *array.Int64:
		return a.Value(i)
	case *array.Int32:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	case *array.Binary:
		return string(a.Value(i))
	case *array.Boolean:
		return a.Value(i)
	case *array.Decimal128:
		n := a.Value(i)
		if !n.FitsInPrecision(18) {
			t.Fatalf("decimal too large for test: %v", n)
		}
		return hatDec(int64(n.LowBits()))
	case *array.Decimal64:
		return hatDec(a.Value(i))
	case *array.Date32:
		return a.Value(i)
	}
	t.Fatalf("hatVal: unsupported array %T", arr)
	return nil
}

// hatRun drains op with batch size bs and returns its rows, checking batch
// sizes and schemas.
func hatRun(t testing.TB, op Operator, mem memory.Allocator, bs int) [][]any {
	t.Helper()
	ctx := WithBatchSize(WithAllocator(context.Background(), mem), bs)
	if err := op.Open(ctx); err != nil {
		t.Fatalf("open: %v", err)
	}
	var rows [][]any
	for {
		b, err := op.Next(ctx)
		if err != nil {
			op.Close()
			t.Fatalf("next: %v", err)
		}
		if b == nil {
			break
		}
		if b.NumRows() > int64(bs) {
			t.Errorf("batch of %d rows exceeds batch size %d", b.NumRows(), bs)
		}
		if !b.Schema().Equal(op.Schema()) {
			t.Errorf("batch schema %s differs from operator schema %s", b.Schema(), op.Schema())
		}
		rows = append(rows, hatRows(t, b)...)
		b.Release()
	}
	if err := op.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := op.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	return rows
}

func hatRowKey(row []any) string {
	var sb strings.Builder
	for _, v := range row {
		if f, ok := v.(float64); ok {
			fmt.Fprintf(&sb, "%.6g|", f)
			continue
		}
		fmt.Fprintf(&sb, "%T:%v|", v, v)
	}
	return sb.String()
}

// hatSameVal compares with a relative tolerance for floats.
func hatSameVal(a, b any) bool {
	fa, ok1 := a.(float64)
	fb, ok2 := b.(float64)
	if ok1 && ok2 {
		if fa == fb || (math.IsNaN(fa) && math.IsNaN(fb)) {
			return true
		}
		return math.Abs(fa-fb) <= 1e-9*math.Max(1, math.Max(math.Abs(fa), math.Abs(fb)))
	}
	return a == b
}

// hatEqualSets compares rows as multisets, ordering both by their first
// nkey columns (exact) and the rest.
func hatEqualSets(t testing.TB, got, want [][]any) {
	t.Helper()
	sortRows := func(rows [][]any) {
		keys := make([]string, len(rows))
		for i, r := range rows {
			keys[i] = hatRowKey(r)
		}
		sort.Sort(hatByKey{rows, keys})
	}
	sortRows(got)
	sortRows(want)
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d\ngot:  %v\nwant: %v", len(got), len(want), hatHead(got), hatHead(want))
	}
	for i := range got {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("row %d: got %v want %v", i, got[i], want[i])
		}
		for c := range got[i] {
			if !hatSameVal(got[i][c], want[i][c]) {
				t.Fatalf("row %d col %d: got %v want %v\n(got row %v, want row %v)", i, c, got[i][c], want[i][c], got[i], want[i])
			}
		}
	}
}

func hatHead(rows [][]any) [][]any {
	if len(rows) > 10 {
		return rows[:10]
	}
	return rows
}

type hatByKey struct {
	rows [][]any
	keys []string
}

func (b hatByKey) Len() int           { return len(b.rows) }
func (b hatByKey) Less(i, j int) bool { return b.keys[i] < b.keys[j] }
func (b hatByKey) Swap(i, j int) {
	b.rows[i], b.rows[j] = b.rows[j], b.rows[i]
	b.keys[i], b.keys[j] = b.keys[j], b.keys[i]
}

// hatSrcSliced builds one batch of all rows and serves zero-copy slices of
// size rows each, so operators see non-zero array offsets.
func hatSrcSliced(t testing.TB, mem memory.Allocator, schema *arrow.Schema, rows [][]any, size int) *hatSource {
	all := hatBuild(t, mem, schema, rows, max(1, len(rows)))
	src := &hatSource{schema: schema}
	for _, b := range all {
		for i := int64(0); i < b.NumRows(); i += int64(size) {
			src.batches = append(src.batches, b.NewSlice(i, min(i+int64(size), b.NumRows())))
		}
		b.Release()
	}
	return src
}

// hatRows is b's rows as Go values (hatVal).
func hatRows(t testing.TB, b arrow.RecordBatch) [][]any {
	rows := make([][]any, b.NumRows())
	for r := range rows {
		row := make([]any, b.NumCols())
		for c := range row {
			row[c] = hatVal(t, b.Column(c), r)
		}
		rows[r] = row
	}
	return rows
}
