package exec

import (
	"context"
	"fmt"
	"math/rand"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestTakeBatch(t *testing.T) {
	schema := sortTestSchema()
	r := rand.New(rand.NewSource(5))
	rows := sortTestRows(r, 50)
	tests := []struct {
		name string
		idx  []int32
	}{
		{"empty", nil},
		{"identity", func() []int32 {
			var x []int32
			for i := range 50 {
				x = append(x, int32(i))
			}
			return x
		}()},
		{"reverse with repeats", []int32{49, 0, 0, 7, 7, 7, 13, 1}},
		{"negative is null", []int32{-1, 3, -1, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			ctx := WithAllocator(context.Background(), mem)
			bs := sotBuild(t, mem, schema, rows, 64)
			// Take from a slice too, to exercise array offsets.
			sl := bs[0].NewSlice(5, 45)
			defer sl.Release()
			defer batchReleaseAll(bs)
			for _, src := range []struct {
				b    arrow.RecordBatch
				rows [][]any
			}{{bs[0], rows}, {sl, rows[5:45]}} {
				var idx []int32
				var want [][]any
				for _, ix := range tc.idx {
					if int(ix) >= len(src.rows) {
						continue
					}
					idx = append(idx, ix)
					if ix < 0 {
						want = append(want, make([]any, len(schema.Fields())))
					} else {
						want = append(want, src.rows[ix])
					}
				}
				out, err := TakeBatch(ctx, src.b, idx)
				if err != nil {
					t.Fatal(err)
				}
				sotEqualRows(t, sotRows([]arrow.RecordBatch{out}), want)
				out.Release()
			}
			if _, err := TakeBatch(ctx, bs[0], []int32{50}); err == nil {
				t.Fatal("out-of-range index accepted")
			}
		})
	}
}

func TestConcatAndSlice(t *testing.T) {
	schema := sortTestSchema()
	rows := sortTestRows(rand.New(rand.NewSource(6)), 37)
	for _, bs := range sortTestBatchSizes {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		batches := sotBuild(t, mem, schema, rows, bs)
		cat, err := ConcatBatches(mem, schema, batches)
		if err != nil {
			t.Fatal(err)
		}
		batchReleaseAll(batches)
		sotEqualRows(t, sotRows([]arrow.RecordBatch{cat}), rows)
		parts := SliceBatches(cat, 5)
		for _, p := range parts {
			if p.NumRows() > 5 {
				t.Fatalf("slice of %d rows", p.NumRows())
			}
		}
		sotEqualRows(t, sotRows(parts), rows)
		batchReleaseAll(parts)
		cat.Release()
		empty, err := ConcatBatches(mem, schema, nil)
		if err != nil || empty.NumRows() != 0 || empty.NumCols() != 6 {
			t.Fatalf("empty concat: %v %v", empty, err)
		}
		empty.Release()
		mem.AssertSize(t, 0)
	}
}

func TestLimit(t *testing.T) {
	schema := sortTestSchema()
	rows := sortTestRows(rand.New(rand.NewSource(7)), 40)
	tests := []struct{ offset, count int64 }{
		{0, -1}, {0, 0}, {0, 1}, {0, 40}, {0, 100}, {3, 5}, {15, 17}, {39, 10}, {40, 1}, {100, -1}, {7, -1},
	}
	for _, tc := range tests {
		for _, bs := range sortTestBatchSizes {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			lo := min(int64(len(rows)), tc.offset)
			hi := int64(len(rows))
			if tc.count >= 0 {
				hi = min(hi, lo+tc.count)
			}
			want := rows[lo:hi]
			src := &sotCountingOp{Operator: sotSource(t, mem, schema, rows, bs)}
			got := sotRun(t, NewLimit(src, tc.offset, tc.count), mem, bs, false)
			sotEqualRows(t, got, want)
			// Limit must stop pulling once satisfied: it reads exactly the
			// batches holding rows < offset+count, never the end marker.
			if tc.count >= 0 && tc.offset+tc.count < int64(len(rows)) {
				wantNexts := int((tc.offset + tc.count + int64(bs) - 1) / int64(bs))
				if tc.count == 0 {
					wantNexts = 0
				}
				if src.nexts != wantNexts {
					t.Errorf("offset %d count %d bs %d: %d input Next calls, want %d", tc.offset, tc.count, bs, src.nexts, wantNexts)
				}
			}
			mem.AssertSize(t, 0)
		}
	}
}

func TestUnion(t *testing.T) {
	schema := sortTestSchema()
	r := rand.New(rand.NewSource(8))
	a, b := sortTestRows(r, 9), sortTestRows(r, 4)
	fields := schema.Fields()
	fields[0].Nullable = false
	schemaNN := arrow.NewSchema(fields, nil)
	for _, bs := range sortTestBatchSizes {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		var bNN [][]any
		for _, row := range b {
			row = append([]any(nil), row...)
			row[0] = int64(1)
			bNN = append(bNN, row)
		}
		u, err := NewUnion(sotSource(t, mem, schemaNN, bNN, bs), sotSource(t, mem, schema, nil, bs), sotSource(t, mem, schema, a, bs))
		if err != nil {
			t.Fatal(err)
		}
		if !u.Schema().Field(0).Nullable {
			t.Fatal("union output must be nullable when any input is")
		}
		got := sotRun(t, u, mem, bs, false)
		sotEqualRows(t, got, append(append([][]any{}, bNN...), a...))
		mem.AssertSize(t, 0)
	}
	other := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int32}}, nil)
	if _, err := NewUnion(NewBatchSource(schema, nil), NewBatchSource(other, nil)); err == nil {
		t.Fatal("union accepted mismatched schemas")
	}
}

func TestBatchSourceReopen(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := sortTestSchema()
	rows := sortTestRows(rand.New(rand.NewSource(9)), 5)
	bs := sotBuild(t, mem, schema, rows, 2)
	src := NewBatchSource(schema, bs)
	batchReleaseAll(bs)
	ctx := context.Background()
	for range 2 {
		if err := src.Open(ctx); err != nil {
			t.Fatal(err)
		}
		var got []arrow.RecordBatch
		for {
			b, err := src.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if b == nil {
				break
			}
			got = append(got, b)
		}
		sotEqualRows(t, sotRows(got), rows)
		batchReleaseAll(got)
	}
	src.Close()
	src.Close()
}

// TestTakeArrayTypes covers gathers beyond the common test schema: large
// strings, 16-byte intervals and the compute.Take fallback (lists).
func TestTakeArrayTypes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := WithAllocator(context.Background(), mem)
	idx := []int32{2, -1, 0, 2}

	ls := array.NewLargeStringBuilder(mem)
	ls.AppendValues([]string{"x", "", "hello"}, []bool{true, false, true})
	lsa := ls.NewArray()
	ls.Release()
	iv := array.NewMonthDayNanoIntervalBuilder(mem)
	iv.AppendValues([]arrow.MonthDayNanoInterval{{Months: 1}, {Days: 2}, {Nanoseconds: 3}}, nil)
	iva := iv.NewArray()
	iv.Release()
	lb := array.NewListBuilder(mem, arrow.PrimitiveTypes.Int64)
	vb := lb.ValueBuilder().(*array.Int64Builder)
	lb.Append(true)
	vb.Append(1)
	lb.AppendNull()
	lb.Append(true)
	vb.AppendValues([]int64{5, 6}, nil)
	la := lb.NewArray()
	lb.Release()
	defer lsa.Release()
	defer iva.Release()
	defer la.Release()

	want := map[arrow.Array][]string{
		lsa: {"hello", "(null)", "x", "hello"},
		iva: {"{0 0 3}", "(null)", "{1 0 0}", "{0 0 3}"},
		la:  {"[5 6]", "(null)", "[1]", "[5 6]"},
	}
	for src, w := range want {
		got, err := batchTakeArray(ctx, mem, src, idx)
		if err != nil {
			t.Fatalf("%s: %v", src.DataType(), err)
		}
		for i := range w {
			s := "(null)"
			if got.IsValid(i) {
				s = fmt.Sprint(got.GetOneForMarshal(i))
				if l, ok := got.(*array.List); ok {
					s = fmt.Sprint(l.ListValues().(*array.Int64).Int64Values()[l.Offsets()[i]:l.Offsets()[i+1]])
				}
				if m, ok := got.(*array.MonthDayNanoInterval); ok {
					s = fmt.Sprint(m.Value(i))
				}
			}
			if s != w[i] {
				t.Errorf("%s row %d: got %s want %s", src.DataType(), i, s, w[i])
			}
		}
		got.Release()
	}
}
