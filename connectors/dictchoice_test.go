package connectors

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// TestDictionaryChoice: the Parquet writer judges each column by its first
// batch. A key (order keys in runs of four, or all distinct strings) is
// written PLAIN from the start; a column of few values (a line number, a
// ship mode) keeps its dictionary; and a file of no batch is still a
// valid Parquet file.
func TestDictionaryChoice(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "orderkey", Type: arrow.PrimitiveTypes.Int64},
		{Name: "linenumber", Type: arrow.PrimitiveTypes.Int32},
		{Name: "mode", Type: arrow.BinaryTypes.String},
		{Name: "comment", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	modes := []string{"AIR", "MAIL", "SHIP", "TRUCK", "RAIL", "FOB", "REG AIR"}
	for i := range 20000 {
		b.Field(0).(*array.Int64Builder).Append(int64(i/4 + 1))
		b.Field(1).(*array.Int32Builder).Append(int32(i%4 + 1))
		b.Field(2).(*array.StringBuilder).Append(modes[i*7919%len(modes)])
		b.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("comment %d", i))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	o, err := ParseWriteOptions(Parquet, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var buf bytes.Buffer
	w, err := NewBatchWriter(ctx, schema, &buf, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	rg := r.MetaData().RowGroup(0)
	for i, want := range []bool{false, true, true, false} {
		cc, err := rg.ColumnChunk(i)
		if err != nil {
			t.Fatal(err)
		}
		dict := false
		for _, e := range cc.Encodings() {
			dict = dict || e == parquet.Encodings.RLEDict || e == parquet.Encodings.PlainDict
		}
		if dict != want {
			t.Errorf("column %s: dictionary %v, want %v (encodings %v)", schema.Field(i).Name, dict, want, cc.Encodings())
		}
	}
	// No batch at all.
	buf.Reset()
	if w, err = NewBatchWriter(ctx, schema, &buf, o); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err = file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if r.NumRows() != 0 || r.MetaData().Schema.NumColumns() != 4 {
		t.Fatalf("empty file: %d rows, %d columns", r.NumRows(), r.MetaData().Schema.NumColumns())
	}
}
