package connectors

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// TestParquetTypeConversion writes non-engine Arrow types (restored on read
// from the stored Arrow schema) and checks they arrive as engine types.
func TestParquetTypeConversion(t *testing.T) {
	mem := memory.NewGoAllocator()
	dictType := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "ls", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "dict", Type: dictType, Nullable: true},
		{Name: "u64", Type: arrow.PrimitiveTypes.Uint64},
		{Name: "u8", Type: arrow.PrimitiveTypes.Uint8},
		{Name: "ms", Type: &arrow.TimestampType{Unit: arrow.Millisecond}},
	}, nil)
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	b.Field(0).(*array.LargeStringBuilder).AppendValues([]string{"a", "", "ccc"}, []bool{true, false, true})
	db := b.Field(1).(*array.BinaryDictionaryBuilder)
	db.AppendString("x")
	db.AppendNull()
	db.AppendString("x")
	b.Field(2).(*array.Uint64Builder).AppendValues([]uint64{0, 7, 1 << 40}, nil)
	b.Field(3).(*array.Uint8Builder).AppendValues([]uint8{0, 200, 255}, nil)
	b.Field(4).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{-1, 0, 1500}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	path := filepath.Join(t.TempDir(), "types.parquet")
	write := func(rec arrow.RecordBatch) {
		writeParquetWith(t, path, rec, parquet.NewWriterProperties(), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	}
	write(rec)
	ctx := checkedCtx(t)
	src, err := Open(ctx, Parquet, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, f := range src.Schema().Fields() {
		types = append(types, f.Type.String())
	}
	if got := strings.Join(types, " "); got != "utf8 utf8 int64 int16 timestamp[us]" {
		t.Fatalf("types %s", got)
	}
	for _, batch := range []int{1, 2, 1024} {
		recs := readAll(t, ctx, src, nil, batch, 1)
		got := rowsOf(recs)
		release(recs)
		want := [][]any{
			{"a", "x", int64(0), int16(0), arrow.Timestamp(-1000)},
			{nil, nil, int64(7), int16(200), arrow.Timestamp(0)},
			{"ccc", "x", int64(1 << 40), int16(255), arrow.Timestamp(1_500_000)},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("batch %d: got %v", batch, got)
		}
	}

	// A uint64 above MaxInt64 cannot be delivered: error naming the column.
	ub := array.NewUint64Builder(mem)
	ub.Append(1 << 63)
	arr := ub.NewArray()
	ub.Release()
	big := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "huge", Type: arrow.PrimitiveTypes.Uint64}}, nil), []arrow.Array{arr}, 1)
	arr.Release()
	defer big.Release()
	write(big)
	src, err = Open(ctx, Parquet, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = readSplit(t, ctx, src, Split{Path: path, Length: -1}, nil, 10)
	if err == nil || !strings.Contains(err.Error(), `"huge"`) || !strings.Contains(err.Error(), "types.parquet") {
		t.Fatalf("error %v", err)
	}
}

// TestParquetNested reads struct and list columns next to flat ones and
// checks predicates on nested columns never prune.
func TestParquetNested(t *testing.T) {
	mem := memory.NewGoAllocator()
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true}), Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
		{Name: "k", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	sb := b.Field(0).(*array.StructBuilder)
	lb := b.Field(1).(*array.ListBuilder)
	for i := 0; i < 5; i++ {
		sb.Append(true)
		sb.FieldBuilder(0).(*array.Int64Builder).Append(int64(i))
		sb.FieldBuilder(1).(*array.StringBuilder).Append(strings.Repeat("z", i))
		if i == 2 {
			lb.AppendNull()
		} else {
			lb.Append(true)
			for j := 0; j < i; j++ {
				lb.ValueBuilder().(*array.Int32Builder).Append(int32(j))
			}
		}
		b.Field(2).(*array.Int64Builder).Append(int64(10 * i))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	path := filepath.Join(t.TempDir(), "nested.parquet")
	writeParquet(t, path, rec, 2, false)
	ctx := checkedCtx(t)
	src, err := Open(ctx, Parquet, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	splits, err := src.Splits(ctx, []Predicate{{Column: 0, Op: "=", Value: int64(100)}, {Column: 1, Op: "isnull", Value: nil}}, 10)
	if err != nil || len(splits) != 3 {
		t.Fatalf("splits %v, %v", splits, err)
	}
	for _, batch := range []int{1, 3, 1024} {
		recs := readAll(t, ctx, src, []int{2, 1, 0}, batch, 10)
		var got []string
		for _, r := range recs {
			for i := 0; i < int(r.NumRows()); i++ {
				got = append(got, r.Column(0).ValueStr(i)+" "+r.Column(1).ValueStr(i)+" "+r.Column(2).ValueStr(i))
			}
		}
		release(recs)
		want := []string{`0 [] {"a":0,"b":""}`, `10 [0] {"a":1,"b":"z"}`, `20 (null) {"a":2,"b":"zz"}`,
			`30 [0,1,2] {"a":3,"b":"zzz"}`, `40 [0,1,2,3] {"a":4,"b":"zzzz"}`}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("batch %d: got %q", batch, got)
		}
	}
}
