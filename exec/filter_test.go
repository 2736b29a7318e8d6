package exec_test

import (
	"context"
	"fmt"
	"math/rand"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/exec/expr"
	"github.com/flint-engine/flint/types"
	"go.uber.org/goleak"
)

// filterTestSource yields pre-built batches (retaining them per Next).
type filterTestSource struct {
	schema  *arrow.Schema
	batches []arrow.RecordBatch
	pos     int
	opened  bool
	closed  bool
}

func (s *filterTestSource) Schema() *arrow.Schema      { return s.schema }
func (s *filterTestSource) Open(context.Context) error { s.opened = true; return nil }
func (s *filterTestSource) Close() error               { s.closed = true; return nil }
func (s *filterTestSource) Next(context.Context) (arrow.RecordBatch, error) {
	if s.pos >= len(s.batches) {
		return nil, nil
	}
	b := s.batches[s.pos]
	s.pos++
	b.Retain()
	return b, nil
}

type filterRow struct {
	k   *int64
	s   *string
	d   *int64
	b   *bool
	day *int32
}

var filterSchema = arrow.NewSchema([]arrow.Field{
	{Name: "k", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "d", Type: types.Decimal(15, 2), Nullable: true},
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
}, nil)

func filterRandRows(r *rand.Rand, n int) []filterRow {
	rows := make([]filterRow, n)
	for i := range rows {
		if r.Intn(6) > 0 {
			v := int64(r.Intn(10))
			rows[i].k = &v
		}
		if r.Intn(6) > 0 {
			v := fmt.Sprint("s", r.Intn(100))
			rows[i].s = &v
		}
		if r.Intn(6) > 0 {
			v := int64(r.Intn(1000) - 500)
			rows[i].d = &v
		}
		if r.Intn(6) > 0 {
			v := r.Intn(2) == 0
			rows[i].b = &v
		}
		if r.Intn(6) > 0 {
			v := int32(r.Intn(3000))
			rows[i].day = &v
		}
	}
	return rows
}

// filterBuild builds batches of size bs from rows, each column sliced at
// offset 1 (one junk row in front) to exercise array offsets.
func filterBuild(mem memory.Allocator, rows []filterRow, bs int) []arrow.RecordBatch {
	var out []arrow.RecordBatch
	for start := 0; start < len(rows); start += bs {
		part := rows[start:min(start+bs, len(rows))]
		rb := array.NewRecordBuilder(mem, filterSchema)
		junk := filterRow{}
		for _, row := range append([]filterRow{junk}, part...) {
			kb := rb.Field(0).(*array.Int64Builder)
			if row.k != nil {
				kb.Append(*row.k)
			} else {
				kb.AppendNull()
			}
			sb := rb.Field(1).(*array.StringBuilder)
			if row.s != nil {
				sb.Append(*row.s)
			} else {
				sb.AppendNull()
			}
			switch db := rb.Field(2).(type) {
			case *array.Decimal64Builder:
				if row.d != nil {
					db.Append(decimal.Decimal64(*row.d))
				} else {
					db.AppendNull()
				}
			case *array.Decimal128Builder:
				if row.d != nil {
					db.Append(decimal128.FromI64(*row.d))
				} else {
					db.AppendNull()
				}
			}
			bb := rb.Field(3).(*array.BooleanBuilder)
			if row.b != nil {
				bb.Append(*row.b)
			} else {
				bb.AppendNull()
			}
			tb := rb.Field(4).(*array.Date32Builder)
			if row.day != nil {
				tb.Append(arrow.Date32(*row.day))
			} else {
				tb.AppendNull()
			}
		}
		full := rb.NewRecordBatch()
		rb.Release()
		out = append(out, full.NewSlice(1, full.NumRows()))
		full.Release()
	}
	return out
}

func filterRowString(b arrow.RecordBatch, i int) string {
	s := ""
	for c := 0; c < int(b.NumCols()); c++ {
		col := b.Column(c)
		if col.IsNull(i) {
			s += "NULL|"
			continue
		}
		if dc, ok := col.(*array.Decimal128); ok {
			s += dc.Value(i).ToString(2) + "|"
			continue
		}
		if dc, ok := col.(*array.Decimal64); ok {
			s += dc.Value(i).ToString(2) + "|"
			continue
		}
		s += col.ValueStr(i) + "|"
	}
	return s
}

// filterDecAt is the unscaled value of row i of a decimal column that
// fits 64 bits.
func filterDecAt(a arrow.Array, i int) int64 {
	if d, ok := a.(*array.Decimal64); ok {
		return int64(d.Value(i))
	}
	return int64(a.(*array.Decimal128).Value(i).LowBits())
}

func filterWantString(r filterRow) string {
	s := ""
	if r.k != nil {
		s += fmt.Sprint(*r.k) + "|"
	} else {
		s += "NULL|"
	}
	if r.s != nil {
		s += *r.s + "|"
	} else {
		s += "NULL|"
	}
	if r.d != nil {
		s += decimal128.FromI64(*r.d).ToString(2) + "|"
	} else {
		s += "NULL|"
	}
	if r.b != nil {
		s += fmt.Sprint(*r.b) + "|"
	} else {
		s += "NULL|"
	}
	if r.day != nil {
		s += arrow.Date32(*r.day).FormattedString() + "|"
	} else {
		s += "NULL|"
	}
	return s
}

func TestFilter(t *testing.T) {
	defer goleak.VerifyNone(t)
	r := rand.New(rand.NewSource(7))
	rows := filterRandRows(r, 2500)
	five, _ := expr.Lit(int64(5), arrow.PrimitiveTypes.Int64)
	pred, err := expr.Compare(">", expr.Col(0, arrow.PrimitiveTypes.Int64, "k"), five)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, row := range rows {
		if row.k != nil && *row.k > 5 {
			want = append(want, filterWantString(row))
		}
	}
	for _, bs := range []int{1, 2, 3, 16, 1024} {
		t.Run(fmt.Sprint("batch=", bs), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			src := &filterTestSource{schema: filterSchema, batches: filterBuild(mem, rows, bs)}
			defer func() {
				for _, b := range src.batches {
					b.Release()
				}
			}()
			ctx := exec.WithAllocator(context.Background(), mem)
			op := exec.NewFilter(src, pred)
			if err := op.Open(ctx); err != nil {
				t.Fatal(err)
			}
			var got []string
			for {
				b, err := op.Next(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if b == nil {
					break
				}
				if b.NumRows() == 0 {
					t.Fatal("filter returned an empty batch")
				}
				for i := 0; i < int(b.NumRows()); i++ {
					got = append(got, filterRowString(b, i))
				}
				b.Release()
			}
			if err := op.Close(); err != nil || !src.closed {
				t.Fatalf("close: %v closed=%v", err, src.closed)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d rows, want %d", len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("row %d: got %s want %s", i, got[i], want[i])
				}
			}
		})
	}
}

func TestFilterPassThroughAndNullPredicate(t *testing.T) {
	defer goleak.VerifyNone(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewSource(3))
	batches := filterBuild(mem, filterRandRows(r, 10), 10)
	defer batches[0].Release()
	ctx := exec.WithAllocator(context.Background(), mem)
	// IS NULL OR IS NOT NULL is TRUE everywhere: the batch passes untouched.
	k := expr.Col(0, arrow.PrimitiveTypes.Int64, "k")
	all := expr.Or(expr.IsNull(k, false), expr.IsNull(k, true))
	op := exec.NewFilter(&filterTestSource{schema: filterSchema, batches: batches}, all)
	_ = op.Open(ctx)
	b, err := op.Next(ctx)
	if err != nil || b == nil {
		t.Fatal(err)
	}
	if b.Column(1) != batches[0].Column(1) {
		t.Error("all-pass batch was copied")
	}
	b.Release()
	if b, _ := op.Next(ctx); b != nil {
		t.Fatal("expected end of stream")
	}
	_ = op.Close()
	// A NULL predicate drops every row; the stream just ends.
	null, _ := expr.Lit(nil, arrow.FixedWidthTypes.Boolean)
	op = exec.NewFilter(&filterTestSource{schema: filterSchema, batches: batches}, null)
	_ = op.Open(ctx)
	if b, err := op.Next(ctx); b != nil || err != nil {
		t.Fatalf("NULL predicate: got %v, %v", b, err)
	}
	_ = op.Close()
	// A non-boolean predicate is an error, not a panic.
	op = exec.NewFilter(&filterTestSource{schema: filterSchema, batches: batches}, k)
	_ = op.Open(ctx)
	if _, err := op.Next(ctx); err == nil {
		t.Fatal("non-boolean predicate should fail")
	}
	_ = op.Close()
}

func TestProject(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, bs := range []int{1, 3, 1024} {
		t.Run(fmt.Sprint("batch=", bs), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			r := rand.New(rand.NewSource(int64(bs)))
			rows := filterRandRows(r, 1500)
			batches := filterBuild(mem, rows, bs)
			defer func() {
				for _, b := range batches {
					b.Release()
				}
			}()
			ctx := exec.WithAllocator(context.Background(), mem)
			d := types.Decimal(15, 2)
			s := expr.Col(1, arrow.BinaryTypes.String, "s")
			neg := expr.Neg(expr.Col(2, d, "d"))
			op := exec.NewProject(&filterTestSource{schema: filterSchema, batches: batches}, []exec.Expr{s, neg}, []string{"s", ""})
			if got := op.Schema().Field(1).Name; got != "(-d)" {
				t.Errorf("default name %q", got)
			}
			if err := op.Open(ctx); err != nil {
				t.Fatal(err)
			}
			i, bi := 0, 0
			for {
				b, err := op.Next(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if b == nil {
					break
				}
				if b.Column(0) != batches[bi].Column(1) {
					t.Fatal("column reference was copied")
				}
				bi++
				for j := 0; j < int(b.NumRows()); j++ {
					row := rows[i]
					i++
					dcol := b.Column(1)
					if (row.d == nil) != dcol.IsNull(j) || (row.d != nil && filterDecAt(dcol, j) != -*row.d) {
						t.Fatalf("row %d: -d got %v want %v", i, dcol.ValueStr(j), row.d)
					}
				}
				b.Release()
			}
			_ = op.Close()
			if i != len(rows) {
				t.Fatalf("got %d rows want %d", i, len(rows))
			}
		})
	}
}
