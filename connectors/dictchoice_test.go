package connectors

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// TestDictionaryChoice: the Parquet writer judges each column by its first
// batch. A key (order keys in runs of four, or all distinct strings) is
// written PLAIN from the start; a column of few values (a line number, a
// ship mode) keeps its dictionary, strings dictionary-encoded by the
// writer itself, nulls included. A batch that brings a new string begins
// a row group, so that every chunk's pages stay dictionary-encoded. The
// file reads back as it was written (strings as strings), and a file of
// no batch is still a valid Parquet file.
func TestDictionaryChoice(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "orderkey", Type: arrow.PrimitiveTypes.Int64},
		{Name: "linenumber", Type: arrow.PrimitiveTypes.Int32},
		{Name: "mode", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "comment", Type: arrow.BinaryTypes.String},
	}, nil)
	modes := []string{"AIR", "MAIL", "SHIP", "TRUCK", "RAIL", "FOB", "REG AIR", "NEW MODE"}
	batch := func(from, n, nmodes int) arrow.RecordBatch {
		b := array.NewRecordBuilder(mem, schema)
		defer b.Release()
		for i := from; i < from+n; i++ {
			b.Field(0).(*array.Int64Builder).Append(int64(i/4 + 1))
			b.Field(1).(*array.Int32Builder).Append(int32(i%4 + 1))
			if i%13 == 0 {
				b.Field(2).AppendNull()
			} else {
				b.Field(2).(*array.StringBuilder).Append(modes[i*7919%nmodes])
			}
			b.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("comment %d", i))
		}
		return b.NewRecordBatch()
	}
	recs := []arrow.RecordBatch{batch(0, 20000, 7), batch(20000, 5000, 8)}
	defer recs[0].Release()
	defer recs[1].Release()
	ctx := compute.WithAllocator(context.Background(), mem)
	var buf bytes.Buffer
	writeParquetFile(t, ctx, schema, &buf, recs, nil)
	r, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if r.NumRowGroups() != 2 {
		t.Fatalf("%d row groups, want 2 (the new mode begins one)", r.NumRowGroups())
	}
	for g := range r.NumRowGroups() {
		rg := r.MetaData().RowGroup(g)
		for i, want := range []bool{false, true, true, false} {
			cc, err := rg.ColumnChunk(i)
			if err != nil {
				t.Fatal(err)
			}
			dict, plain := false, false
			for _, e := range cc.EncodingStats() {
				if strings.HasPrefix(e.PageType.String(), "DATA_PAGE") {
					dict = dict || e.Encoding == parquet.Encodings.RLEDict || e.Encoding == parquet.Encodings.PlainDict
					plain = plain || e.Encoding == parquet.Encodings.Plain
				}
			}
			if dict != want || plain == want {
				t.Errorf("row group %d column %s: dictionary pages %v, plain pages %v; want dictionary %v", g, schema.Field(i).Name, dict, plain, want)
			}
		}
	}
	tbl, err := pqarrow.ReadTable(ctx, bytes.NewReader(buf.Bytes()), nil, pqarrow.ArrowReadProperties{}, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	for i, f := range tbl.Schema().Fields() {
		if want := schema.Field(i); f.Name != want.Name || !arrow.TypeEqual(f.Type, want.Type) {
			t.Fatalf("read back column %d as %s %s, want %s %s", i, f.Name, f.Type, want.Name, want.Type)
		}
	}
	for i := range schema.NumFields() {
		got, err := array.Concatenate(tbl.Column(i).Data().Chunks(), mem)
		if err != nil {
			t.Fatal(err)
		}
		want, err := array.Concatenate([]arrow.Array{recs[0].Column(i), recs[1].Column(i)}, mem)
		if err != nil {
			t.Fatal(err)
		}
		if !array.Equal(got, want) {
			t.Errorf("column %s reads back different", schema.Field(i).Name)
		}
		got.Release()
		want.Release()
	}
	// No batch at all.
	buf.Reset()
	writeParquetFile(t, ctx, schema, &buf, nil, nil)
	r, err = file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if r.NumRows() != 0 || r.MetaData().Schema.NumColumns() != 4 {
		t.Fatalf("empty file: %d rows, %d columns", r.NumRows(), r.MetaData().Schema.NumColumns())
	}
}

// TestDictionaryOutgrown: a string column whose first batch holds a few
// values and whose later batches hold ever new ones outgrows the
// dictionary; the writer goes on with a dictionary per batch (PLAIN pages)
// and the file reads back as written.
func TestDictionaryOutgrown(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	ctx := compute.WithAllocator(context.Background(), mem)
	schema := arrow.NewSchema([]arrow.Field{{Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	var recs []arrow.RecordBatch
	for k := range 4 {
		b := array.NewStringBuilder(mem)
		for i := range 20000 {
			if k == 0 {
				b.Append([]string{"a", "b", "c"}[i%3])
			} else {
				b.Append(fmt.Sprintf("value number %08d", k*20000+i))
			}
		}
		a := b.NewArray()
		recs = append(recs, array.NewRecordBatch(schema, []arrow.Array{a}, 20000))
		a.Release()
		b.Release()
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	var buf bytes.Buffer
	writeParquetFile(t, ctx, schema, &buf, recs, func(pw *parquetWriter) {
		if pw.dicts == nil || pw.dicts[0] == nil || !pw.dicts[0].local {
			t.Fatal("the outgrown column did not go to a dictionary per batch")
		}
	})
	tbl, err := pqarrow.ReadTable(ctx, bytes.NewReader(buf.Bytes()), nil, pqarrow.ArrowReadProperties{}, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	got, err := array.Concatenate(tbl.Column(0).Data().Chunks(), mem)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	cols := make([]arrow.Array, len(recs))
	for i, r := range recs {
		cols[i] = r.Column(0)
	}
	want, err := array.Concatenate(cols, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer want.Release()
	if !array.Equal(got, want) {
		t.Fatal("column reads back different")
	}
}

// writeParquetFile writes recs as a Parquet file into buf with the default
// options, calling check (when not nil) on the writer before it closes.
func writeParquetFile(t *testing.T, ctx context.Context, schema *arrow.Schema, buf *bytes.Buffer, recs []arrow.RecordBatch, check func(*parquetWriter)) {
	t.Helper()
	o, err := ParseWriteOptions(Parquet, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewBatchWriter(ctx, schema, buf, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if check != nil {
		check(w.(*parquetWriter))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
