package connectors

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const csvSample = "id,name,price,day,at,ok,score\n" +
	"1,alice,10.50,2024-01-31,2024-01-31 10:00:00,true,1.5\n" +
	"2,\"bob, jr\",3.00,2024-02-29,2024-02-29T23:59:59.123456,false,2\n" +
	"3,,,,,,\n" +
	"-4,\"say \"\"hi\"\"\",-0.25,1970-01-01,1970-01-01 00:00:00Z,TRUE,-3e2\r\n" +
	"\n" +
	"5,\"multi\nline\",7,2000-03-01,2000-03-01 12:30,False,0\n" +
	"6,\"\",100.10,1969-12-31,1969-12-31 23:59:59.5,true,\n"

func csvExpected() [][]any {
	d := func(v int64) decimal128.Num { return decimal128.FromI64(v) }
	us := func(days, sec, micro int64) arrow.Timestamp {
		return arrow.Timestamp(days*86_400_000_000 + sec*1_000_000 + micro)
	}
	return [][]any{
		{int64(1), "alice", d(1050), arrow.Date32(19753), us(19753, 36000, 0), true, 1.5},
		{int64(2), "bob, jr", d(300), arrow.Date32(19782), us(19782, 86399, 123456), false, 2.0},
		{int64(3), nil, nil, nil, nil, nil, nil},
		{int64(-4), `say "hi"`, d(-25), arrow.Date32(0), us(0, 0, 0), true, -300.0},
		{int64(5), "multi\nline", d(700), arrow.Date32(11017), us(11017, 45000, 0), false, 0.0},
		{int64(6), "", d(10010), arrow.Date32(-1), us(-1, 86399, 500000), true, nil},
	}
}

func TestCSVInferAndRead(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "s.csv", csvSample)
	wantTypes := []arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String,
		&arrow.Decimal64Type{Precision: 18, Scale: 2}, arrow.FixedWidthTypes.Date32, engineTimestamp,
		arrow.FixedWidthTypes.Boolean, arrow.PrimitiveTypes.Float64}
	for _, batch := range []int{1, 2, 3, 16, 1024} {
		t.Run(fmt.Sprint(batch), func(t *testing.T) {
			ctx := checkedCtx(t)
			src, err := Open(ctx, CSV, path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, f := range src.Schema().Fields() {
				if !arrow.TypeEqual(f.Type, wantTypes[i]) {
					t.Errorf("column %s: %s, want %s", f.Name, f.Type, wantTypes[i])
				}
			}
			recs := readAll(t, ctx, src, nil, batch, 1)
			defer release(recs)
			if got, want := rowsOf(recs), csvExpected(); !reflect.DeepEqual(got, want) {
				t.Fatalf("got\n%v\nwant\n%v", got, want)
			}
			// projection, reordered and duplicated
			recs2 := readAll(t, ctx, src, []int{6, 1, 1}, batch, 1)
			defer release(recs2)
			for i, row := range rowsOf(recs2) {
				want := csvExpected()[i]
				if !reflect.DeepEqual(row, []any{want[6], want[1], want[1]}) {
					t.Fatalf("projected row %d: %v", i, row)
				}
			}
		})
	}
}

func TestCSVOptions(t *testing.T) {
	cases := []struct {
		name    string
		content string
		opts    map[string]string
		types   string
		want    [][]any
	}{
		{"no header, tab, NA null", "1\tx\nNA\ty\n", map[string]string{"header": "false", "delimiter": "tab", "null": "NA"},
			"column0:int64 column1:utf8", [][]any{{int64(1), "x"}, {nil, "y"}}},
		{"explicit schema", "a;b;c\n1;2.5;2020-01-02\n;;\n", map[string]string{"delimiter": ";", "schema": "a INT, b DECIMAL(10,3), c DATE"},
			"a:int32 b:decimal64(10, 3) c:date32", [][]any{{int32(1), decimal128.FromI64(2500), arrow.Date32(18263)}, {nil, nil, nil}}},
		{"schema without header", "7,x\n", map[string]string{"header": "false", "schema": "k BIGINT, v VARCHAR"},
			"k:int64 v:utf8", [][]any{{int64(7), "x"}}},
		{"decimal rounding", "v\n1.005\n-2.994\n", map[string]string{"schema": "v DECIMAL(5,2)"},
			"v:decimal64(5, 2)", [][]any{{decimal128.FromI64(101)}, {decimal128.FromI64(-299)}}},
		{"varying scale is double", "v\n1.5\n2.25\n", nil, "v:float64", [][]any{{1.5}, {2.25}}},
		{"int overflow is double", "v\n99999999999999999999\n", nil, "v:float64", [][]any{{1e20}}},
		{"duplicate names", "a,a,\n1,2,3\n", nil, "a:int64 a_1:int64 column2:int64", [][]any{{int64(1), int64(2), int64(3)}}},
		{"all null is string", "a,b\n,1\n", nil, "a:utf8 b:int64", [][]any{{nil, int64(1)}}},
		{"quote option", "a,b\n'x,y',2\n", map[string]string{"quote": "'"}, "a:utf8 b:int64", [][]any{{"x,y", int64(2)}}},
		{"bare quote kept", "a\nsa\"y\n", nil, "a:utf8", [][]any{{`sa"y`}}},
		{"byte order mark", "\xef\xbb\xbfid\n1\n", nil, "id:int64", [][]any{{int64(1)}}},
		{"no trailing newline", "a\n1", nil, "a:int64", [][]any{{int64(1)}}},
		{"header only", "a,b\n", nil, "a:utf8 b:utf8", nil},
		{"real and smallint", "a,b\n1.5,7\n", map[string]string{"schema": "a REAL, b SMALLINT"}, "a:float32 b:int16", [][]any{{float32(1.5), int16(7)}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := checkedCtx(t)
			path := writeFile(t, t.TempDir(), "x.csv", tc.content)
			src, err := Open(ctx, CSV, path, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, f := range src.Schema().Fields() {
				types = append(types, f.Name+":"+f.Type.String())
			}
			if got := strings.Join(types, " "); got != tc.types {
				t.Fatalf("schema %s, want %s", got, tc.types)
			}
			for _, batch := range []int{1, 3, 1024} {
				recs := readAll(t, ctx, src, nil, batch, 1)
				got := rowsOf(recs)
				release(recs)
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("batch %d: got %v, want %v", batch, got, tc.want)
				}
			}
		})
	}
}

func TestCSVErrors(t *testing.T) {
	cases := []struct {
		name, content string
		opts          map[string]string
		want          []string // substrings of the error from Open or reading
	}{
		{"ragged", "a,b\n1,2\n3\n", nil, []string{"x.csv", "line 3", "expected 2 fields, found 1"}},
		{"ragged long", "a,b\n1,2\n3,4,5\n", nil, []string{"line 3", "found 3"}},
		{"bad int", "a,b\n1,2\nx,4\n", map[string]string{"infer_rows": "1"}, []string{"x.csv", "line 3", "column 1 (a)", `"x"`, "BIGINT"}},
		{"bad date", "d\n2020-02-30\n", map[string]string{"schema": "d DATE"}, []string{"line 2", "DATE"}},
		{"decimal too wide", "v\n123.4\n", map[string]string{"schema": "v DECIMAL(3,1)"}, []string{"line 2", "decimal(3, 1)"}},
		{"tinyint overflow", "v\n300\n", map[string]string{"schema": "v TINYINT"}, []string{"TINYINT"}},
		{"invalid utf8", "s\nok\nbad\xff\n", nil, []string{"line 3", "invalid UTF-8"}},
		{"unterminated quote", "a\n\"abc\n", nil, []string{"unterminated quoted field"}},
		{"junk after quote", "a,b\n\"x\"y,1\n", nil, []string{"line 2", "after closing quote"}},
		{"empty file", "", nil, []string{"x.csv", "empty"}},
		{"schema vs header", "a,b\n1,2\n", map[string]string{"schema": "a INT"}, []string{"header has 2 columns"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := checkedCtx(t)
			path := writeFile(t, t.TempDir(), "x.csv", tc.content)
			src, err := Open(ctx, CSV, path, tc.opts)
			if err == nil {
				splits, _ := src.Splits(ctx, nil, 1)
				for _, sp := range splits {
					var recs = []arrow.RecordBatch(nil)
					recs, err = readSplit(t, ctx, src, sp, nil, 1024)
					release(recs)
					if err != nil {
						break
					}
				}
			}
			if err == nil {
				t.Fatal("expected an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestCSVByteRangeSplits checks that byte-range splits, for many split
// sizes, together read every record exactly once.
func TestCSVByteRangeSplits(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("k,v\n")
	const n = 200
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "%d,%s\n", i, strings.Repeat("x", i%13))
		if i%50 == 0 {
			sb.WriteString("\n") // empty lines are skipped
		}
	}
	path := writeFile(t, t.TempDir(), "big.csv", sb.String())
	for _, split := range []int{1, 2, 3, 7, 16, 100, 1000, 100000} {
		t.Run(fmt.Sprint(split), func(t *testing.T) {
			ctx := checkedCtx(t)
			src, err := Open(ctx, CSV, path, map[string]string{"min_split_bytes": fmt.Sprint(split)})
			if err != nil {
				t.Fatal(err)
			}
			splits, err := src.Splits(ctx, nil, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if split < 100 && len(splits) < 10 {
				t.Errorf("only %d splits", len(splits))
			}
			var keys []int64
			for _, sp := range splits {
				recs, err := readSplit(t, ctx, src, sp, []int{0}, 3)
				if err != nil {
					t.Fatal(err)
				}
				for _, row := range rowsOf(recs) {
					keys = append(keys, row[0].(int64))
				}
				release(recs)
			}
			if len(keys) != n {
				t.Fatalf("read %d records, want %d", len(keys), n)
			}
			for i, k := range keys {
				if k != int64(i) {
					t.Fatalf("record %d has key %d", i, k)
				}
			}
		})
	}
}

func TestCSVCompressed(t *testing.T) {
	dir := t.TempDir()
	content := "a,b\n1,x\n2,\n3,z\n"
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write([]byte(content))
	gw.Close()
	zw, _ := zstd.NewWriter(&zs)
	zw.Write([]byte(content))
	zw.Close()
	writeFile(t, dir, "a.csv.gz", gz.String())
	writeFile(t, dir, "b.csv.zst", zs.String())
	ctx := checkedCtx(t)
	src, err := Open(ctx, CSV, dir, map[string]string{"min_split_bytes": "1"})
	if err != nil {
		t.Fatal(err)
	}
	splits, _ := src.Splits(ctx, nil, 8)
	if len(splits) != 2 {
		t.Fatalf("compressed files must not be split: %+v", splits)
	}
	recs := readAll(t, ctx, src, nil, 2, 8)
	defer release(recs)
	want := [][]any{{int64(1), "x"}, {int64(2), nil}, {int64(3), "z"}}
	if got := rowsOf(recs); !reflect.DeepEqual(got, append(want, want...)) {
		t.Fatalf("got %v", got)
	}
	// Corrupt gzip names the file.
	bad := writeFile(t, t.TempDir(), "c.csv.gz", gz.String()[:len(gz.String())/2])
	src, err = Open(ctx, CSV, bad, nil)
	if err == nil {
		_, err = readSplit(t, ctx, src, Split{Path: bad, Length: -1}, nil, 10)
	}
	if err == nil || !strings.Contains(err.Error(), "c.csv.gz") {
		t.Fatalf("error %v", err)
	}
}

func TestCSVMultiFileHeaders(t *testing.T) {
	ctx := checkedCtx(t)
	dir := t.TempDir()
	writeFile(t, dir, "1.csv", "a,b\n1,2\n")
	writeFile(t, dir, "2.csv", "a,b\n3,4\n")
	src, err := Open(ctx, CSV, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, ctx, src, nil, 16, 1)
	got := rowsOf(recs)
	release(recs)
	if want := [][]any{{int64(1), int64(2)}, {int64(3), int64(4)}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v", got)
	}
	writeFile(t, dir, "3.csv", "b,a\n5,6\n")
	writeFile(t, dir, "4.csv", "a\n5\n")
	src, err = Open(ctx, CSV, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, want string }{{"3.csv", `header column 1 is "b"`}, {"4.csv", "expected 2 fields, found 1"}} {
		_, err = readSplit(t, ctx, src, Split{Path: filepath.Join(dir, tc.file), Length: -1}, nil, 16)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.file) {
			t.Errorf("%s: error %v", tc.file, err)
		}
	}
}

func TestCSVRowEstimate(t *testing.T) {
	ctx := checkedCtx(t)
	dir := t.TempDir()
	var sb strings.Builder
	sb.WriteString("a\n")
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&sb, "%03d\n", i) // 4 bytes per record
	}
	path := writeFile(t, dir, "e.csv", sb.String())
	src, err := Open(ctx, CSV, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := src.Stats().RowCount; n != 100 {
		t.Errorf("fully sampled: %d rows, want exactly 100", n)
	}
	src, err = Open(ctx, CSV, path, map[string]string{"infer_rows": "10"})
	if err != nil {
		t.Fatal(err)
	}
	// 10 records in the first 2+40 bytes of 402: about 95.
	if n := src.Stats().RowCount; n < 90 || n > 110 {
		t.Errorf("estimate %d, want about 100", n)
	}
	jpath := writeFile(t, dir, "e.json", strings.Repeat("{\"a\": 1}\n", 50))
	src, err = Open(ctx, JSON, jpath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := src.Stats().RowCount; n != 50 {
		t.Errorf("json: %d rows, want 50", n)
	}
}
