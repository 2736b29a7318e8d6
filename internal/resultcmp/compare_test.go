package resultcmp

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// makeBatches builds batches of at most batchSize rows from rows of Go
// values (nil = NULL). Decimal values are given as unscaled int64.
func makeBatches(t *testing.T, mem memory.Allocator, schema *arrow.Schema, rows [][]any, batchSize int) []arrow.RecordBatch {
	t.Helper()
	rb := array.NewRecordBuilder(mem, schema)
	defer rb.Release()
	var out []arrow.RecordBatch
	for r, row := range rows {
		for c, v := range row {
			b := rb.Field(c)
			if v == nil {
				b.AppendNull()
				continue
			}
			switch b := b.(type) {
			case *array.StringBuilder:
				b.Append(v.(string))
			case *array.Int64Builder:
				b.Append(v.(int64))
			case *array.Float64Builder:
				b.Append(v.(float64))
			case *array.Decimal128Builder:
				b.Append(decimal128.FromI64(v.(int64)))
			case *array.Date32Builder:
				b.Append(arrow.Date32(v.(int)))
			default:
				t.Fatalf("unsupported builder %T", b)
			}
		}
		if (r+1)%batchSize == 0 || r == len(rows)-1 {
			out = append(out, rb.NewRecordBatch())
		}
	}
	return out
}

func release(bs []arrow.RecordBatch) {
	for _, b := range bs {
		b.Release()
	}
}

var (
	money  = &arrow.Decimal128Type{Precision: 15, Scale: 2}
	avgDec = &arrow.Decimal128Type{Precision: 18, Scale: 6}
	q1like = arrow.NewSchema([]arrow.Field{
		{Name: "flag", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "sum_qty", Type: money, Nullable: true},
		{Name: "avg_qty", Type: avgDec, Nullable: true},
		{Name: "avg_price", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "cnt", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	}, nil)
)

// The expected CSV as DuckDB writes it: avg as DOUBLE, sums as DECIMAL.
const q1likeCSV = `flag,sum_qty,avg_qty,avg_price,cnt,day
A,380456.00,25.575154611454693,35785.70930693735,14876,1998-09-02
"N,""x""",8971.00,25.778735632183906,35588.50968390804,348,1995-06-17
R,,,,0,
`

// q1likeRows is the matching result as Flint might produce it: avg as
// DECIMAL(18,6), rounded; avg_price as a double summed in another order.
func q1likeRows() [][]any {
	return [][]any{
		{"A", int64(38045600), int64(25575155), 35785.709306937354, int64(14876), 10471},
		{"N,\"x\"", int64(897100), int64(25778736), 35588.50968390804, int64(348), 9298},
		{"R", nil, nil, nil, int64(0), nil},
	}
}

func TestCompareCSVMatches(t *testing.T) {
	for _, ordered := range []bool{true, false} {
		for _, bs := range []int{1, 2, 3, 16, 1024} {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			got := makeBatches(t, mem, q1like, q1likeRows(), bs)
			if err := CompareCSV(strings.NewReader(q1likeCSV), got, Options{Ordered: ordered, CheckNames: true}); err != nil {
				t.Errorf("ordered=%v batch=%d: unexpected mismatch: %v", ordered, bs, err)
			}
			release(got)
			mem.AssertSize(t, 0)
		}
	}
}

func TestCompareCSVDetectsDifferences(t *testing.T) {
	cases := []struct {
		name    string
		mutate  func([][]any) [][]any
		opts    Options
		wantErr []string // substrings of the error
	}{
		{"wrong integer", func(r [][]any) [][]any { r[1][4] = int64(349); return r }, Options{Ordered: true},
			[]string{"row 2 column 5 (cnt)", `expected "348"`, `got "349"`}},
		{"wrong decimal", func(r [][]any) [][]any { r[0][1] = int64(38045500); return r }, Options{Ordered: true},
			[]string{"row 1 column 2 (sum_qty)", `"380456.00"`, `"380455.00"`}},
		{"decimal beyond its last digit", func(r [][]any) [][]any { r[0][2] = int64(25575200); return r }, Options{Ordered: true},
			[]string{"row 1 column 3 (avg_qty)", "tolerance"}},
		{"wrong double", func(r [][]any) [][]any { r[0][3] = 35785.7094; return r }, Options{Ordered: true},
			[]string{"row 1 column 4 (avg_price)"}},
		{"wrong string", func(r [][]any) [][]any { r[0][0] = "B"; return r }, Options{Ordered: true},
			[]string{"row 1 column 1 (flag)", `expected "A"`, `got "B"`}},
		{"wrong date", func(r [][]any) [][]any { r[0][5] = 10472; return r }, Options{Ordered: true},
			[]string{"row 1 column 6 (day)", `"1998-09-02"`, `"1998-09-03"`}},
		{"value instead of NULL", func(r [][]any) [][]any { r[2][1] = int64(0); return r }, Options{Ordered: true},
			[]string{"row 3 column 2 (sum_qty)", "expected NULL", `got "0.00"`}},
		{"NULL instead of value", func(r [][]any) [][]any { r[2][4] = nil; return r }, Options{Ordered: true},
			[]string{"row 3 column 5 (cnt)", `expected "0"`, "got NULL"}},
		{"missing row", func(r [][]any) [][]any { return r[:2] }, Options{Ordered: true},
			[]string{"row count: expected 3, got 2", "first missing row 3"}},
		{"extra row", func(r [][]any) [][]any { return append(r, r[0]) }, Options{Ordered: true},
			[]string{"row count: expected 3, got 4", "first extra row 4"}},
		{"missing row unordered", func(r [][]any) [][]any { return r[1:] }, Options{},
			[]string{"row count: expected 3, got 2"}},
		{"wrong order", func(r [][]any) [][]any { r[0], r[2] = r[2], r[0]; return r }, Options{Ordered: true},
			[]string{"multiset but not in order", "row 1"}},
		{"duplicate instead of distinct row, unordered", func(r [][]any) [][]any { r[2] = r[0]; return r }, Options{},
			[]string{"rows sorted"}},
	}
	for _, tc := range cases {
		for _, bs := range []int{1, 3, 1024} {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			got := makeBatches(t, mem, q1like, tc.mutate(q1likeRows()), bs)
			err := CompareCSV(strings.NewReader(q1likeCSV), got, tc.opts)
			release(got)
			mem.AssertSize(t, 0)
			if err == nil {
				t.Errorf("%s (batch %d): comparison passed, want failure", tc.name, bs)
				continue
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s (batch %d): error %q does not mention %q", tc.name, bs, err, w)
				}
			}
		}
	}
}

func TestCompareCSVShape(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	oneCol := arrow.NewSchema([]arrow.Field{{Name: "avg_yearly", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, nil)
	bigInt := arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)
	cases := []struct {
		name    string
		csv     string
		schema  *arrow.Schema
		rows    [][]any
		opts    Options
		wantErr string // "" = must match
	}{
		// A one-column NULL row is an empty line; it must not be skipped.
		{"single NULL row", "avg_yearly\n\n", oneCol, [][]any{{nil}}, Options{Ordered: true}, ""},
		{"single NULL row vs no rows", "avg_yearly\n\n", oneCol, nil, Options{Ordered: true}, "row count: expected 1, got 0"},
		{"single NULL row vs value", "avg_yearly\n\n", oneCol, [][]any{{1.5}}, Options{Ordered: true}, "expected NULL"},
		{"no rows, no batches", "avg_yearly\n", oneCol, nil, Options{Ordered: true}, ""},
		{"no final newline", "avg_yearly\n2.5", oneCol, [][]any{{2.5}}, Options{Ordered: true}, ""},
		{"column count", "a,b\n1,2\n", oneCol, [][]any{{1.0}}, Options{Ordered: true}, "column count: expected 2"},
		{"names checked", "other\n1\n", oneCol, [][]any{{1.0}}, Options{Ordered: true, CheckNames: true}, `name: expected "other"`},
		{"names ignored", "other\n1\n", oneCol, [][]any{{1.0}}, Options{Ordered: true}, ""},
		{"integers are exact beyond 2^53", "n\n9007199254740993\n", bigInt, [][]any{{int64(9007199254740992)}}, Options{Ordered: true}, "row 1 column 1"},
		{"integer vs decimal text", "n\n42.00\n", bigInt, [][]any{{int64(42)}}, Options{Ordered: true}, ""},
		{"absolute tolerance", "avg_yearly\n0.001\n", oneCol, [][]any{{0.002}}, Options{Ordered: true, AbsTol: 0.01}, ""},
		{"relative tolerance", "avg_yearly\n1000\n", oneCol, [][]any{{1000.5}}, Options{Ordered: true, RelTol: 1e-3}, ""},
		{"bad csv", "avg_yearly\n\"open\n", oneCol, [][]any{{1.0}}, Options{Ordered: true}, "unterminated"},
		{"ragged csv", "a\n1,2\n", oneCol, [][]any{{1.0}}, Options{Ordered: true}, "2 fields, header has 1"},
		{"empty csv", "", oneCol, nil, Options{Ordered: true}, "empty input"},
		{"not a number", "avg_yearly\nabc\n", oneCol, [][]any{{1.0}}, Options{Ordered: true}, "expected value is not a number"},
	}
	for _, tc := range cases {
		var got []arrow.RecordBatch
		if len(tc.rows) > 0 {
			got = makeBatches(t, mem, tc.schema, tc.rows, 2)
		}
		err := CompareCSV(strings.NewReader(tc.csv), got, tc.opts)
		release(got)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tc.name, err)
		case tc.wantErr != "" && err == nil:
			t.Errorf("%s: passed, want error containing %q", tc.name, tc.wantErr)
		case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
			t.Errorf("%s: error %q does not contain %q", tc.name, err, tc.wantErr)
		}
	}
}

func TestReadCSVQuoting(t *testing.T) {
	header, rows, err := readCSV(strings.NewReader("a,b\r\n\"x,\"\"y\"\"\nz\",\n,2\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"x,\"y\"\nz", ""}, {"", "2"}}
	if len(header) != 2 || header[0] != "a" || header[1] != "b" {
		t.Fatalf("header %q", header)
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %q, want %q", rows, want)
	}
	for i := range want {
		for j := range want[i] {
			if rows[i][j] != want[i][j] {
				t.Errorf("row %d field %d: %q, want %q", i, j, rows[i][j], want[i][j])
			}
		}
	}
}
