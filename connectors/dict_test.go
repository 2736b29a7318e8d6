package connectors

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

var dictTestSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "mode", Type: arrow.BinaryTypes.String, Nullable: true},    // 4 values and NULL
	{Name: "tag", Type: arrow.BinaryTypes.String, Nullable: true},     // 60 values
	{Name: "comment", Type: arrow.BinaryTypes.String, Nullable: true}, // unique, long
}, nil)

const (
	dictTestRows  = 2500
	dictTestGroup = 1000
)

// dictTestRow is row i of the dictionary test files (nil is NULL).
func dictTestRow(i int) []any {
	var mode any = []string{"AIR", "MAIL", "SHIP", "TRUCK"}[i%4]
	if i%7 == 3 {
		mode = nil
	}
	return []any{int64(i), mode, fmt.Sprintf("tag-%02d", (i*13)%60), fmt.Sprintf("comment number %06d, padded out to be long", i)}
}

// writeDictTest writes the rows [first, first+n) with the columns of sc
// (a prefix of dictTestSchema), row groups of dictTestGroup rows.
func writeDictTest(t *testing.T, path string, sc *arrow.Schema, first, n int, props ...parquet.WriterProperty) {
	t.Helper()
	b := array.NewRecordBuilder(memory.NewGoAllocator(), sc)
	defer b.Release()
	for i := first; i < first+n; i++ {
		for c, v := range dictTestRow(i)[:sc.NumFields()] {
			switch v := v.(type) {
			case nil:
				b.Field(c).AppendNull()
			case int64:
				b.Field(c).(*array.Int64Builder).Append(v)
			case string:
				b.Field(c).(*array.StringBuilder).Append(v)
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	props = append([]parquet.WriterProperty{parquet.WithMaxRowGroupLength(dictTestGroup), parquet.WithDictionaryDefault(true)}, props...)
	writeParquetWith(t, path, rec, parquet.NewWriterProperties(props...), pqarrow.DefaultWriterProps())
}

// plainDataPages returns, per row group, whether column col's chunk has
// PLAIN data pages.
func plainDataPages(t *testing.T, path string, col int) []bool {
	t.Helper()
	r, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []bool
	for rg := range r.NumRowGroups() {
		cc, err := r.MetaData().RowGroup(rg).ColumnChunk(col)
		if err != nil {
			t.Fatal(err)
		}
		plain := false
		for _, st := range cc.EncodingStats() {
			plain = plain || (st.PageType == pageData || st.PageType == pageDataV2) && st.Encoding == parquet.Encodings.Plain
		}
		out = append(out, plain)
	}
	return out
}

// dictValueAt is valueAt that also reads DictStringType arrays.
func dictValueAt(arr arrow.Array, i int) any {
	if d, ok := arr.(*array.Dictionary); ok {
		if d.IsNull(i) {
			return nil
		}
		return d.Dictionary().(*array.String).Value(int(d.Indices().(*array.Int32).Value(i)))
	}
	return valueAt(arr, i)
}

// readDict reads one split through OpenDict and returns its rows and the
// type of each column per batch ("dict" or the type name).
func readDict(t *testing.T, ctx context.Context, src Source, sp Split, cols []int, dict []bool, batch int) (rows [][]any, kinds []string) {
	t.Helper()
	rr, err := src.(DictOpener).OpenDict(ctx, sp, cols, dict, batch)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	for {
		rec, err := rr.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rec == nil {
			return rows, kinds
		}
		if rec.NumRows() > int64(batch) {
			t.Errorf("batch of %d rows exceeds batch size %d", rec.NumRows(), batch)
		}
		kind := ""
		for c := range int(rec.NumCols()) {
			dt := rec.Column(c).DataType()
			if !arrow.TypeEqual(rec.Schema().Field(c).Type, dt) {
				t.Fatalf("batch schema says %s for column %d, the column is %s", rec.Schema().Field(c).Type, c, dt)
			}
			if arrow.TypeEqual(dt, DictStringType) {
				kind += "dict "
			} else {
				kind += dt.String() + " "
			}
		}
		kinds = append(kinds, kind)
		for i := range int(rec.NumRows()) {
			row := make([]any, rec.NumCols())
			for c := range row {
				row[c] = dictValueAt(rec.Column(c), i)
			}
			rows = append(rows, row)
		}
		rec.Release()
	}
}

func uniq(xs []string) []string {
	set := map[string]bool{}
	for _, x := range xs {
		set[x] = true
	}
	var out []string
	for x := range set {
		out = append(out, x)
	}
	sort.Strings(out)
	return out
}

func TestParquetDictRead(t *testing.T) {
	dir := t.TempDir()
	plainPath := filepath.Join(dir, "dict.parquet")
	writeDictTest(t, plainPath, dictTestSchema, 0, dictTestRows)
	// A 300-byte dictionary limit: tag (60 values of 6 bytes) and comment
	// fall back to PLAIN pages after the first ones; mode fits.
	fallbackPath := filepath.Join(dir, "fallback.parquet")
	writeDictTest(t, fallbackPath, dictTestSchema, 0, dictTestRows,
		parquet.WithDictionaryPageSizeLimit(300), parquet.WithBatchSize(50), parquet.WithDataPageSize(100))
	for _, p := range []string{plainPath, fallbackPath} {
		if got := plainDataPages(t, p, 1); !reflect.DeepEqual(got, []bool{false, false, false}) {
			t.Fatalf("%s: mode has PLAIN data pages per row group: %v", p, got)
		}
	}
	if got := plainDataPages(t, plainPath, 2); !reflect.DeepEqual(got, []bool{false, false, false}) {
		t.Fatalf("tag has PLAIN data pages per row group: %v", got)
	}
	if got := plainDataPages(t, fallbackPath, 2); !reflect.DeepEqual(got, []bool{true, true, true}) {
		t.Fatalf("fallback file: tag has PLAIN data pages per row group %v, want all", got)
	}

	cols := []int{0, 1, 2, 3, 1}
	all := []bool{true, true, true, true, true}
	for _, tc := range []struct {
		name, path string
		target     int
		batch      int
		dict       []bool
		// kinds are the column types of every batch: id stays BIGINT
		// (not a string), comment's dictionaries are too large to pay off
		// (44 KB for 1000 rows).
		kinds []string
	}{
		{"dictionary", plainPath, 1, 100, all, []string{"int64 dict dict utf8 dict "}},
		{"dictionary remote", "remote://" + plainPath, 1, 100, all, []string{"int64 dict dict utf8 dict "}},
		{"dictionary row ranges", plainPath, 7, 64, all, []string{"int64 dict dict utf8 dict "}},
		{"dictionary batch 1", plainPath, 3, 1, all, []string{"int64 dict dict utf8 dict "}},
		// mode is also wanted dense: it is decoded once, dense.
		{"repeated column", plainPath, 1, 100, []bool{true, true, true, true, false}, []string{"int64 utf8 dict utf8 utf8 "}},
		{"fallback", fallbackPath, 1, 100, all, []string{"int64 dict utf8 utf8 dict "}},
		{"fallback remote", "remote://" + fallbackPath, 2, 100, all, []string{"int64 dict utf8 utf8 dict "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := checkedCtx(t)
			src, err := Open(ctx, Parquet, tc.path, map[string]string{"min_split_rows": "100"})
			if err != nil {
				t.Fatal(err)
			}
			splits, err := src.Splits(ctx, nil, tc.target)
			if err != nil {
				t.Fatal(err)
			}
			var got [][]any
			var kinds []string
			for _, sp := range splits {
				rows, k := readDict(t, ctx, src, sp, cols, tc.dict, tc.batch)
				got = append(got, rows...)
				kinds = append(kinds, k...)
			}
			if len(got) != dictTestRows {
				t.Fatalf("read %d rows, want %d", len(got), dictTestRows)
			}
			sort.Slice(got, func(i, j int) bool { return got[i][0].(int64) < got[j][0].(int64) })
			for i, row := range got {
				want := dictTestRow(i)
				want = append(want, want[1])
				if !reflect.DeepEqual(row, want) {
					t.Fatalf("row %d: got %v, want %v", i, row, want)
				}
			}
			if k := uniq(kinds); !reflect.DeepEqual(k, tc.kinds) {
				t.Errorf("column types %q, want %q", k, tc.kinds)
			}
		})
	}
}

// A batch never spans two row groups when it carries dictionaries.
func TestParquetDictBatchesInsideRowGroups(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dict.parquet")
	writeDictTest(t, path, dictTestSchema, 0, dictTestRows)
	ctx := checkedCtx(t)
	src, err := Open(ctx, Parquet, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := src.(DictOpener).OpenDict(ctx, Split{Path: path, Length: -1, Rows: -1}, []int{0, 1}, []bool{false, true}, 300)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	var sizes []int64
	for {
		rec, err := rr.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rec == nil {
			break
		}
		ids := rec.Column(0).(*array.Int64)
		if first, last := ids.Value(0), ids.Value(ids.Len()-1); first/dictTestGroup != last/dictTestGroup {
			t.Errorf("batch holds rows %d to %d", first, last)
		}
		sizes = append(sizes, rec.NumRows())
		rec.Release()
	}
	want := []int64{300, 300, 300, 100, 300, 300, 300, 100, 300, 200}
	if !reflect.DeepEqual(sizes, want) {
		t.Errorf("batch sizes %v, want %v", sizes, want)
	}
}

// Partition columns and columns a file lacks stay dense.
func TestParquetDictPartitionsAndMissingColumns(t *testing.T) {
	dir := t.TempDir()
	writeDictTest(t, filepath.Join(dir, "region=east", "a.parquet"), dictTestSchema, 0, 1200)
	// This file lacks tag and comment.
	writeDictTest(t, filepath.Join(dir, "region=west", "b.parquet"), arrow.NewSchema(dictTestSchema.Fields()[:2], nil), 1200, 800)
	ctx := checkedCtx(t)
	src, err := Open(ctx, Parquet, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := schemaText(src.Schema()); got != "id: int64, mode: utf8, tag: utf8, comment: utf8, region: utf8" {
		t.Fatalf("schema %s", got)
	}
	splits, err := src.Splits(ctx, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	cols := []int{4, 2, 0, 1}
	var got [][]any
	var kinds []string
	for _, sp := range splits {
		rows, k := readDict(t, ctx, src, sp, cols, []bool{true, true, false, true}, 128)
		got = append(got, rows...)
		kinds = append(kinds, k...)
	}
	sort.Slice(got, func(i, j int) bool { return got[i][2].(int64) < got[j][2].(int64) })
	if len(got) != 2000 {
		t.Fatalf("%d rows", len(got))
	}
	for i, row := range got {
		r := dictTestRow(i)
		want := []any{"east", r[2], r[0], r[1]}
		if i >= 1200 {
			want = []any{"west", nil, r[0], r[1]}
		}
		if !reflect.DeepEqual(row, want) {
			t.Fatalf("row %d: got %v, want %v", i, row, want)
		}
	}
	if k := uniq(kinds); !reflect.DeepEqual(k, []string{"utf8 dict int64 dict ", "utf8 utf8 int64 dict "}) {
		t.Errorf("column types %q", k)
	}
}

func TestParquetDictBadFlags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dict.parquet")
	writeDictTest(t, path, dictTestSchema, 0, 10)
	ctx := checkedCtx(t)
	src, err := Open(ctx, Parquet, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	sp := Split{Path: path, Length: -1, Rows: -1}
	if _, err := src.(DictOpener).OpenDict(ctx, sp, []int{0, 1}, []bool{true}, 10); err == nil {
		t.Error("one flag for two columns accepted")
	}
	if _, err := src.(DictOpener).OpenDict(ctx, sp, nil, nil, 10); err == nil {
		t.Error("nil columns accepted")
	}
	if _, err := src.(DictOpener).OpenDict(ctx, sp, []int{9}, []bool{true}, 10); err == nil {
		t.Error("column 9 accepted")
	}
}

func TestFullyDictEncoded(t *testing.T) {
	E := parquet.Encodings
	st := func(pt int, e parquet.Encoding) metadata.PageEncodingStats {
		s := metadata.PageEncodingStats{Encoding: e}
		switch pt { // the field's type is internal to arrow-go
		case pageData:
			s.PageType = pageData
		case pageDataV2:
			s.PageType = pageDataV2
		default:
			s.PageType = 2 // dictionary page
		}
		return s
	}
	for _, tc := range []struct {
		name    string
		hasDict bool
		encs    []parquet.Encoding
		stats   []metadata.PageEncodingStats
		want    bool
	}{
		{"v2 pages all dict", true, nil, []metadata.PageEncodingStats{st(2, E.Plain), st(pageData, E.RLEDict)}, true},
		{"v2 data pages", true, nil, []metadata.PageEncodingStats{st(2, E.Plain), st(pageDataV2, E.RLEDict)}, true},
		{"fell back to plain", true, nil, []metadata.PageEncodingStats{st(2, E.Plain), st(pageData, E.RLEDict), st(pageData, E.Plain)}, false},
		{"no dictionary page", false, nil, []metadata.PageEncodingStats{st(pageData, E.Plain)}, false},
		{"no data pages", true, nil, []metadata.PageEncodingStats{st(2, E.Plain)}, false},
		{"v1 encodings only", true, []parquet.Encoding{E.PlainDict, E.RLE, E.BitPacked}, nil, true},
		{"ambiguous PLAIN without stats", true, []parquet.Encoding{E.Plain, E.RLE, E.RLEDict}, nil, false},
		{"delta without stats", true, []parquet.Encoding{E.RLEDict, E.DeltaByteArray}, nil, false},
	} {
		if got := fullyDictEncoded(tc.hasDict, tc.encs, tc.stats); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDictPaysOff(t *testing.T) {
	for _, tc := range []struct {
		dictOff, dataOff, comp, uncomp int64
		batch                          int
		want                           bool
	}{
		{4, 104, 1000, 1000, 8192, true},              // 100 bytes
		{4, 4 + 64<<10, 1 << 20, 1 << 20, 8192, true}, // 64 KiB = 8 x 8192
		{4, 4 + 65<<10, 1 << 20, 1 << 20, 8192, false},
		{4, 4 + 10<<10, 1 << 20, 2 << 20, 8192, true}, // 20 KiB uncompressed
		{4, 4 + 10<<10, 1 << 20, 2 << 20, 1, false},   // floor is 16 KiB
		{4, 4 + 8<<10, 1 << 20, 2 << 20, 1, true},
		{0, 100, 1000, 1000, 8192, true}, // offsets unknown
	} {
		if got := dictPaysOff(tc.dictOff, tc.dataOff, tc.comp, tc.uncomp, tc.batch); got != tc.want {
			t.Errorf("%+v: got %v, want %v", tc, got, tc.want)
		}
	}
}
