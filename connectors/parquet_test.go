package connectors

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/flint-engine/flint/connectors/fs"
)

// Test table: 50 rows, row groups of 10. Row i:
//
//	id     int64        i
//	name   string       fmt.Sprintf("n%02d", i), NULL when i%7 == 3
//	price  decimal(15,2) i.25 (unscaled i*100+25)
//	d      date32       18000+i
//	ts     timestamp ns UTC  (1.6e15 + i*1e6) µs + 999 ns
//	flag   bool         i%2 == 0
//	f      float64      i/2, NULL when i >= 40
//	small  int32        i-25
//	u      uint32       3*i
const pqRows, pqGroup = 50, 10

var pqFileSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "price", Type: &arrow.Decimal128Type{Precision: 15, Scale: 2}},
	{Name: "d", Type: arrow.FixedWidthTypes.Date32},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}},
	{Name: "flag", Type: arrow.FixedWidthTypes.Boolean},
	{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "small", Type: arrow.PrimitiveTypes.Int32},
	{Name: "u", Type: arrow.PrimitiveTypes.Uint32},
}, nil)

func tsMicros(i int) int64 { return 1_600_000_000_000_000 + int64(i)*1_000_000 }

// expectedRow is the engine-typed value of every column of row i (nil = NULL).
func expectedRow(i int) []any {
	var name, f any
	if i%7 != 3 {
		name = fmt.Sprintf("n%02d", i)
	}
	if i < 40 {
		f = float64(i) / 2
	}
	return []any{int64(i), name, decimal128.FromI64(int64(i)*100 + 25), arrow.Date32(18000 + i),
		arrow.Timestamp(tsMicros(i)), i%2 == 0, f, int32(i - 25), int64(3 * i)}
}

func writeTestParquet(t testing.TB, path string, decimalAsInt bool) {
	t.Helper()
	mem := memory.NewGoAllocator()
	b := array.NewRecordBuilder(mem, pqFileSchema)
	defer b.Release()
	for i := 0; i < pqRows; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if i%7 == 3 {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("n%02d", i))
		}
		b.Field(2).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(i)*100 + 25))
		b.Field(3).(*array.Date32Builder).Append(arrow.Date32(18000 + i))
		b.Field(4).(*array.TimestampBuilder).Append(arrow.Timestamp(tsMicros(i)*1000 + 999))
		b.Field(5).(*array.BooleanBuilder).Append(i%2 == 0)
		if i >= 40 {
			b.Field(6).AppendNull()
		} else {
			b.Field(6).(*array.Float64Builder).Append(float64(i) / 2)
		}
		b.Field(7).(*array.Int32Builder).Append(int32(i - 25))
		b.Field(8).(*array.Uint32Builder).Append(uint32(3 * i))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	writeParquet(t, path, rec, pqGroup, decimalAsInt)
}

func writeParquet(t testing.TB, path string, rec arrow.RecordBatch, group int64, decimalAsInt bool) {
	t.Helper()
	writeParquetWith(t, path, rec, parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(group), parquet.WithStats(true),
		parquet.WithStoreDecimalAsInteger(decimalAsInt), parquet.WithDictionaryDefault(true)), pqarrow.DefaultWriterProps())
}

// writeParquetWith writes rec as one Parquet file at path.
func writeParquetWith(t testing.TB, path string, rec arrow.RecordBatch, props *parquet.WriterProperties, aprops pqarrow.ArrowWriterProperties) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(rec.Schema(), f, props, aprops)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// valueAt extracts a Go value from arr for comparisons in tests only.
func valueAt(arr arrow.Array, i int) any {
	if arr.IsNull(i) {
		return nil
	}
	switch a := arr.(type) {
	case *array.Int64:
		return a.Value(i)
	case *array.Int32:
		return a.Value(i)
	case *array.Int16:
		return a.Value(i)
	case *array.Int8:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.Float32:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	case *array.Boolean:
		return a.Value(i)
	case *array.Decimal128:
		return a.Value(i)
	case *array.Decimal64: // compared as the same value in 128 bits
		return decimal128.FromI64(int64(a.Value(i)))
	case *array.Date32:
		return a.Value(i)
	case *array.Timestamp:
		return a.Value(i)
	}
	return fmt.Sprintf("unsupported %s", arr.DataType())
}

func rowsOf(recs []arrow.RecordBatch) [][]any {
	var out [][]any
	for _, r := range recs {
		for i := 0; i < int(r.NumRows()); i++ {
			row := make([]any, r.NumCols())
			for c := range row {
				row[c] = valueAt(r.Column(c), i)
			}
			out = append(out, row)
		}
	}
	return out
}

func TestParquetReadAllBatchSizes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.parquet")
	writeTestParquet(t, path, false)
	wantTypes := []arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String,
		&arrow.Decimal64Type{Precision: 15, Scale: 2}, arrow.FixedWidthTypes.Date32, engineTimestamp,
		arrow.FixedWidthTypes.Boolean, arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64}
	for _, batch := range []int{1, 2, 3, 16, 1024} {
		for _, target := range []int{1, 4} {
			t.Run(fmt.Sprintf("batch=%d/target=%d", batch, target), func(t *testing.T) {
				ctx := checkedCtx(t)
				src, err := Open(ctx, Parquet, path, nil)
				if err != nil {
					t.Fatal(err)
				}
				for i, f := range src.Schema().Fields() {
					if !arrow.TypeEqual(f.Type, wantTypes[i]) {
						t.Errorf("column %s: type %s, want %s", f.Name, f.Type, wantTypes[i])
					}
				}
				if st := src.Stats(); st.RowCount != pqRows || st.TotalBytes <= 0 {
					t.Errorf("stats %+v", st)
				}
				recs := readAll(t, ctx, src, nil, batch, target)
				defer release(recs)
				got := rowsOf(recs)
				if len(got) != pqRows {
					t.Fatalf("got %d rows, want %d", len(got), pqRows)
				}
				for i := range got {
					if want := expectedRow(i); !reflect.DeepEqual(got[i], want) {
						t.Fatalf("row %d:\n got %v\nwant %v", i, got[i], want)
					}
				}
			})
		}
	}
}

func TestParquetProjection(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.parquet")
	writeTestParquet(t, path, true)
	cases := []struct {
		name string
		cols []int
	}{
		{"reorder", []int{3, 0, 6}},
		{"duplicate", []int{1, 1, 2}},
		{"single", []int{8}},
		{"none", []int{}},
	}
	for _, tc := range cases {
		for _, batch := range []int{1, 3, 1024} {
			t.Run(fmt.Sprintf("%s/batch=%d", tc.name, batch), func(t *testing.T) {
				ctx := checkedCtx(t)
				src, err := Open(ctx, Parquet, path, nil)
				if err != nil {
					t.Fatal(err)
				}
				recs := readAll(t, ctx, src, tc.cols, batch, 2)
				defer release(recs)
				n := 0
				for _, r := range recs {
					if int(r.NumCols()) != len(tc.cols) {
						t.Fatalf("batch has %d columns, want %d", r.NumCols(), len(tc.cols))
					}
					for j, c := range tc.cols {
						if r.Schema().Field(j).Name != src.Schema().Field(c).Name {
							t.Fatalf("column %d named %s", j, r.Schema().Field(j).Name)
						}
					}
					n += int(r.NumRows())
				}
				if n != pqRows {
					t.Fatalf("got %d rows", n)
				}
				for i, row := range rowsOf(recs) {
					full := expectedRow(i)
					for j, c := range tc.cols {
						if !reflect.DeepEqual(row[j], full[c]) {
							t.Fatalf("row %d col %d: got %v want %v", i, c, row[j], full[c])
						}
					}
				}
			})
		}
	}
}

func dec(v int64) decimal128.Num { return decimal128.FromI64(v) }

func TestParquetPruning(t *testing.T) {
	all := []int{0, 1, 2, 3, 4}
	cases := []struct {
		name  string
		preds []Predicate
		want  []int // surviving row groups
	}{
		{"none", nil, all},
		{"id>=35", []Predicate{{0, ">=", int64(35)}}, []int{3, 4}},
		{"id<10", []Predicate{{0, "<", int64(10)}}, []int{0}},
		{"id<=10", []Predicate{{0, "<=", int64(10)}}, []int{0, 1}},
		{"id=25", []Predicate{{0, "=", int64(25)}}, []int{2}},
		{"id>49", []Predicate{{0, ">", int64(49)}}, nil},
		{"id<>5", []Predicate{{0, "<>", int64(5)}}, all},
		{"id range", []Predicate{{0, ">=", int64(20)}, {0, "<", int64(30)}}, []int{2}},
		{"id wrong type", []Predicate{{0, "=", "x"}}, all},
		{"price>=30.25", []Predicate{{2, ">=", dec(3025)}}, []int{3, 4}},
		{"price<10.25", []Predicate{{2, "<", dec(1025)}}, []int{0}},
		{"price=int 5", []Predicate{{2, "=", int64(5)}}, []int{0}}, // 5.00 lies within rg 0 min/max
		{"price=int 50", []Predicate{{2, "=", int64(50)}}, nil},
		{"price float no prune", []Predicate{{2, "<", 1.0}}, all},
		{"date", []Predicate{{3, "=", arrow.Date32(18015)}}, []int{1}},
		{"ts>", []Predicate{{4, ">", arrow.Timestamp(tsMicros(44))}}, []int{4}},
		{"ts<=", []Predicate{{4, "<=", arrow.Timestamp(tsMicros(9))}}, []int{0}},
		{"name=", []Predicate{{1, "=", "n15"}}, []int{1}},
		{"name<", []Predicate{{1, "<", "n10"}}, []int{0}},
		{"flag", []Predicate{{5, "=", true}}, all},
		{"f isnotnull", []Predicate{{6, "isnotnull", nil}}, []int{0, 1, 2, 3}},
		{"f isnull", []Predicate{{6, "isnull", nil}}, []int{4}},
		{"f>100", []Predicate{{6, ">", 100.0}}, nil},
		{"f<1", []Predicate{{6, "<", 1.0}}, []int{0}},
		{"f=int", []Predicate{{6, "=", int64(10)}}, []int{2}}, // f = 10 at i = 20
		{"name isnull", []Predicate{{1, "isnull", nil}}, all},
		{"id isnull", []Predicate{{0, "isnull", nil}}, nil},
		{"small>=0", []Predicate{{7, ">=", int64(0)}}, []int{2, 3, 4}},
		{"u<=29", []Predicate{{8, "<=", int64(29)}}, []int{0}},
		{"unknown op", []Predicate{{0, "like", int64(1)}}, all},
	}
	for _, asInt := range []bool{false, true} {
		dir := t.TempDir()
		path := filepath.Join(dir, "t.parquet")
		writeTestParquet(t, path, asInt)
		for _, tc := range cases {
			t.Run(fmt.Sprintf("decimalAsInt=%v/%s", asInt, tc.name), func(t *testing.T) {
				ctx := checkedCtx(t)
				src, err := Open(ctx, Parquet, path, nil)
				if err != nil {
					t.Fatal(err)
				}
				splits, err := src.Splits(ctx, tc.preds, 100)
				if err != nil {
					t.Fatal(err)
				}
				var got []int
				var rows int64
				for _, sp := range splits {
					got = append(got, sp.RowGroups...)
					rows += sp.Rows
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("row groups %v, want %v", got, tc.want)
				}
				if rows != int64(len(tc.want)*pqGroup) {
					t.Fatalf("split rows %d", rows)
				}
				// The surviving splits read exactly their rows.
				n := 0
				for _, sp := range splits {
					recs, err := readSplit(t, ctx, src, sp, []int{0}, 7)
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range recs {
						ids := r.Column(0).(*array.Int64).Int64Values()
						for _, id := range ids {
							if int(id)/pqGroup != got[n/pqGroup] {
								t.Fatalf("read id %d from unexpected row group", id)
							}
							n++
						}
					}
					release(recs)
				}
				if n != len(tc.want)*pqGroup {
					t.Fatalf("read %d rows", n)
				}
			})
		}
	}
}

func TestParquetSplitGrouping(t *testing.T) {
	ctx := checkedCtx(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "t.parquet")
	writeTestParquet(t, path, false)
	src, err := Open(ctx, Parquet, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ target, splits int }{{1, 4}, {2, 5}, {100, 5}} {
		// At most 4*target splits, one row group each while there are
		// enough splits for that.
		sp, err := src.Splits(ctx, nil, tc.target)
		if err != nil {
			t.Fatal(err)
		}
		if len(sp) != tc.splits {
			t.Errorf("target %d: %d splits, want %d", tc.target, len(sp), tc.splits)
		}
	}
	// 50 row groups of 1 row, target 2 -> 8 splits of 6 or 7 row groups,
	// in order.
	mem := memory.NewGoAllocator()
	b := array.NewInt64Builder(mem)
	for i := 0; i < 50; i++ {
		b.Append(int64(i))
	}
	arr := b.NewArray()
	b.Release()
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil), []arrow.Array{arr}, 50)
	arr.Release()
	many := filepath.Join(dir, "many.parquet")
	writeParquet(t, many, rec, 1, false)
	rec.Release()
	src, err = Open(ctx, Parquet, many, nil)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := src.Splits(ctx, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(sp) != 8 {
		t.Fatalf("got %d splits, want 8: %+v", len(sp), sp)
	}
	next := 0
	for _, s := range sp {
		if n := len(s.RowGroups); n != 6 && n != 7 || s.Rows != int64(n) {
			t.Fatalf("split %+v: want 6 or 7 row groups of 1 row", s)
		}
		for _, rg := range s.RowGroups {
			if rg != next {
				t.Fatalf("split %+v: row group %d, want %d", s, rg, next)
			}
			next++
		}
	}
	if next != 50 {
		t.Fatalf("splits cover %d row groups, want 50", next)
	}
	recs := readAll(t, ctx, src, nil, 4, 2)
	defer release(recs)
	for i, row := range rowsOf(recs) {
		if row[0] != int64(i) {
			t.Fatalf("row %d = %v", i, row[0])
		}
	}
}

func TestParquetMultiFileAndGlob(t *testing.T) {
	ctx := checkedCtx(t)
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	writeTestParquet(t, filepath.Join(dir, "b.parquet"), false)
	writeTestParquet(t, filepath.Join(sub, "a.parquet"), true)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "_SUCCESS"), nil, 0o644)

	src, err := Open(ctx, Parquet, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{dir + "/b.parquet", dir + "/sub/a.parquet"}
	if !reflect.DeepEqual(src.Files(), want) {
		t.Fatalf("files %v", src.Files())
	}
	if src.Stats().RowCount != 2*pqRows {
		t.Fatalf("rows %d", src.Stats().RowCount)
	}
	recs := readAll(t, ctx, src, []int{0}, 1024, 4)
	n := 0
	for _, r := range recs {
		n += int(r.NumRows())
	}
	release(recs)
	if n != 2*pqRows {
		t.Fatalf("read %d rows", n)
	}
	src, err = Open(ctx, Parquet, dir+"/*.parquet", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(src.Files(), want[:1]) {
		t.Fatalf("glob files %v", src.Files())
	}
	if _, err := Open(ctx, Parquet, dir+"/*.nope", nil); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("glob without match: %v", err)
	}
}

func TestParquetSchemaConflict(t *testing.T) {
	ctx := checkedCtx(t)
	dir := t.TempDir()
	writeTestParquet(t, filepath.Join(dir, "a.parquet"), false)
	mem := memory.NewGoAllocator()
	fields := append([]arrow.Field(nil), pqFileSchema.Fields()...)
	fields[0].Type = arrow.BinaryTypes.String // id as string
	sc := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	for i := range fields {
		b.Field(i).AppendNull()
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	writeParquet(t, filepath.Join(dir, "b.parquet"), rec, 10, false)
	_, err := Open(ctx, Parquet, dir, nil)
	if err == nil {
		t.Fatal("expected a schema conflict")
	}
	for _, s := range []string{"b.parquet", `"id"`, "utf8", "int64"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %s", err, s)
		}
	}
}

func TestParquetBadInput(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.parquet")
	writeTestParquet(t, good, false)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badMagic := append([]byte(nil), data...)
	copy(badMagic[len(badMagic)-4:], "XXXX")
	corruptFooter := append([]byte(nil), data...)
	for i := len(corruptFooter) - 200; i < len(corruptFooter)-8; i++ {
		corruptFooter[i] ^= 0x5a
	}
	cases := []struct{ name, path string }{
		{"missing", filepath.Join(dir, "nope.parquet")},
		{"empty", write("empty.parquet", nil)},
		{"truncated", write("trunc.parquet", data[:len(data)/2])},
		{"bad magic", write("magic.parquet", badMagic)},
		{"corrupt footer", write("footer.parquet", corruptFooter)},
		{"text", write("text.parquet", []byte("hello, world, this is not parquet at all"))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := checkedCtx(t)
			_, err := Open(ctx, Parquet, tc.path, nil)
			if err == nil {
				t.Fatal("expected an error")
			}
			if !strings.Contains(err.Error(), filepath.Base(tc.path)) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
	// Corrupt data pages (footer intact): reading must fail or succeed, never panic.
	pages := append([]byte(nil), data...)
	for i := 100; i < len(pages)/2; i += 7 {
		pages[i] ^= 0xff
	}
	p := write("pages.parquet", pages)
	ctx := checkedCtx(t)
	src, err := Open(ctx, Parquet, p, nil)
	if err != nil {
		return
	}
	splits, _ := src.Splits(ctx, nil, 4)
	for _, sp := range splits {
		recs, err := readSplit(t, ctx, src, sp, nil, 16)
		if err == nil {
			release(recs)
		} else if !strings.Contains(err.Error(), "pages.parquet") {
			t.Errorf("error %q does not name the file", err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, tc := range []struct {
		format Format
		opts   map[string]string
		want   string
	}{
		{"xml", nil, "unknown format"},
		{CSV, map[string]string{"bogus": "1"}, "unknown option"},
		{CSV, map[string]string{"header": "maybe"}, "header"},
		{CSV, map[string]string{"delimiter": "ab"}, "delimiter"},
		{CSV, map[string]string{"schema": "a FOO"}, "unsupported type"},
		{CSV, map[string]string{"infer_rows": "-1"}, "infer_rows"},
		{Parquet, map[string]string{"schema": "a INT"}, "not supported for parquet"},
	} {
		os.WriteFile(filepath.Join(dir, "x."+string(tc.format)), []byte("a\n1\n"), 0o644)
		_, err := Open(ctx, tc.format, filepath.Join(dir, "x."+string(tc.format)), tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: error %v, want %q", tc.format, tc.opts, err, tc.want)
		}
	}
}

// TestParquetConcurrentSplits reads all splits of one Source from several
// goroutines at once (run with -race).
func TestParquetConcurrentSplits(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.parquet")
	writeTestParquet(t, path, false)
	ctx := checkedCtx(t)
	src, err := Open(ctx, Parquet, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	splits, err := src.Splits(ctx, []Predicate{{0, ">=", int64(10)}}, 8)
	if err != nil {
		t.Fatal(err)
	}
	sums := make([]int64, len(splits))
	errs := make(chan error, len(splits))
	var wg sync.WaitGroup
	for i, sp := range splits {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rr, err := src.Open(ctx, sp, []int{0, 2}, 3)
			if err != nil {
				errs <- err
				return
			}
			defer rr.Close()
			for {
				rec, err := rr.Next(ctx)
				if err != nil {
					errs <- err
					return
				}
				if rec == nil {
					return
				}
				for _, v := range rec.Column(0).(*array.Int64).Int64Values() {
					sums[i] += v
				}
				rec.Release()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var total int64
	for _, s := range sums {
		total += s
	}
	if want := int64((10 + 49) * 40 / 2); total != want {
		t.Fatalf("sum of ids %d, want %d", total, want)
	}
}

// TestParquetRowRangeSplits cuts row groups into row ranges when there are
// fewer row groups than requested splits; together the ranges read every
// row once, in order.
func TestParquetRowRangeSplits(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.parquet")
	writeTestParquet(t, path, false)
	for _, tc := range []struct {
		minRows, target int
		preds           []Predicate
		splits          int
	}{
		{3, 10, nil, 10}, // 5 groups x 2 ranges of 5 rows
		{3, 20, nil, 15}, // 4 wanted per group, at most 10/3 = 3: rows 4,4,2
		{4, 20, nil, 10}, // at most 10/4 = 2 ranges per group
		{3, 12, []Predicate{{0, ">=", int64(40)}}, 3},   // 1 surviving group x 3 ranges
		{100, 12, []Predicate{{0, ">=", int64(40)}}, 1}, // groups smaller than min_split_rows stay whole
	} {
		for _, batch := range []int{1, 3, 1024} {
			ctx := checkedCtx(t)
			src, err := Open(ctx, Parquet, path, map[string]string{"min_split_rows": fmt.Sprint(tc.minRows)})
			if err != nil {
				t.Fatal(err)
			}
			splits, err := src.Splits(ctx, tc.preds, tc.target)
			if err != nil {
				t.Fatal(err)
			}
			if len(splits) != tc.splits {
				t.Fatalf("%+v: %d splits, want %d: %+v", tc, len(splits), tc.splits, splits)
			}
			var got [][]any
			var rows int64
			for _, sp := range splits {
				recs, err := readSplit(t, ctx, src, sp, []int{1, 0, 6, 2}, batch)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, rowsOf(recs)...)
				release(recs)
				rows += sp.Rows
			}
			first := 0
			if tc.preds != nil {
				first = 40
			}
			if len(got) != pqRows-first || rows != int64(len(got)) {
				t.Fatalf("%+v batch %d: read %d rows, splits say %d", tc, batch, len(got), rows)
			}
			for i, row := range got {
				full := expectedRow(first + i)
				if want := []any{full[1], full[0], full[6], full[2]}; !reflect.DeepEqual(row, want) {
					t.Fatalf("%+v batch %d: row %d = %v, want %v", tc, batch, i, row, want)
				}
			}
		}
	}
	ctx := checkedCtx(t)
	src, _ := Open(ctx, Parquet, path, nil)
	if _, err := src.Open(ctx, Split{Path: path, RowGroups: []int{0}, Offset: 11, Length: 1}, nil, 4); err == nil {
		t.Fatal("row offset past the row group must fail")
	}
}
