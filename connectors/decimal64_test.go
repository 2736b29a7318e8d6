package connectors

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
)

func TestEngineDecimal(t *testing.T) {
	for _, c := range []struct {
		in   arrow.DataType
		want arrow.DataType
	}{
		{&arrow.Decimal32Type{Precision: 9, Scale: 2}, &arrow.Decimal64Type{Precision: 9, Scale: 2}},
		{&arrow.Decimal64Type{Precision: 18, Scale: 4}, &arrow.Decimal64Type{Precision: 18, Scale: 4}},
		{&arrow.Decimal128Type{Precision: 15, Scale: 2}, &arrow.Decimal64Type{Precision: 15, Scale: 2}},
		{&arrow.Decimal128Type{Precision: 19, Scale: 2}, &arrow.Decimal128Type{Precision: 19, Scale: 2}},
		{&arrow.Decimal256Type{Precision: 10, Scale: 0}, &arrow.Decimal64Type{Precision: 10, Scale: 0}},
		{&arrow.Decimal256Type{Precision: 38, Scale: 0}, &arrow.Decimal128Type{Precision: 38, Scale: 0}},
	} {
		got, err := engineType(c.in)
		if err != nil || !arrow.TypeEqual(got, c.want) {
			t.Errorf("engineType(%s) = %v, %v; want %s", c.in, got, err, c.want)
		}
	}
}

// Every decimal width converts to the engine's decimal, and a value beyond
// the declared precision is an error, not a wrapped number.
func TestDecimalToEngine(t *testing.T) {
	ctx := checkedCtx(t)
	mem := compute.GetAllocator(ctx)
	build := func(dt arrow.DataType, vals []int64, valid []bool) arrow.Array {
		b := array.NewBuilder(mem, dt)
		defer b.Release()
		for i, v := range vals {
			if !valid[i] {
				b.AppendNull()
				continue
			}
			switch b := b.(type) {
			case *array.Decimal32Builder:
				b.Append(decimal.Decimal32(v))
			case *array.Decimal64Builder:
				b.Append(decimal.Decimal64(v))
			case *array.Decimal128Builder:
				b.Append(decimal128.FromI64(v))
			case *array.Decimal256Builder:
				b.Append(decimal256.FromI64(v))
			}
		}
		return b.NewArray()
	}
	vals, valid := []int64{-12345, 0, 99999, 7}, []bool{true, true, true, false}
	for _, from := range []arrow.DataType{
		&arrow.Decimal32Type{Precision: 5, Scale: 2}, &arrow.Decimal64Type{Precision: 5, Scale: 2},
		&arrow.Decimal128Type{Precision: 5, Scale: 2}, &arrow.Decimal256Type{Precision: 5, Scale: 2},
	} {
		for _, slice := range []bool{false, true} {
			a := build(from, vals, valid)
			want := "[-123.45 0 999.99 (null)]"
			if slice {
				s := array.NewSlice(a, 1, 4)
				a.Release()
				a, want = s, "[0 999.99 (null)]"
			}
			et, _ := engineType(from)
			got, err := toEngine(ctx, a, et) // consumes a
			if err != nil {
				t.Fatalf("%s: %v", from, err)
			}
			if !arrow.TypeEqual(got.DataType(), &arrow.Decimal64Type{Precision: 5, Scale: 2}) || decStrings(got) != want {
				t.Errorf("%s (slice %v) -> %s %s, want %s", from, slice, got.DataType(), decStrings(got), want)
			}
			got.Release()
		}
		// 100000 does not fit DECIMAL(5,2) (999.99 max): an error, even
		// though it fits 64 bits; the same value under a NULL is ignored.
		// (An engine-typed column passes through unchecked, as ever.)
		et, _ := engineType(from)
		if arrow.TypeEqual(et, from) {
			continue
		}
		a := build(from, []int64{1, 100000}, []bool{true, true})
		if got, err := toEngine(ctx, a, et); err == nil {
			t.Errorf("%s: out-of-precision value converted to %s", from, decStrings(got))
			got.Release()
		}
		a = build(from, []int64{1, 100000}, []bool{true, false})
		got, err := toEngine(ctx, a, et)
		if err != nil {
			t.Errorf("%s: NULL over a bad value: %v", from, err)
		} else {
			got.Release()
		}
	}
	// Decimal64 to a wider engine decimal (a declared schema wider than the
	// file).
	a := build(&arrow.Decimal64Type{Precision: 5, Scale: 2}, vals, valid)
	got, err := toEngine(ctx, a, &arrow.Decimal128Type{Precision: 20, Scale: 2})
	if err != nil || decStrings(got) != "[-123.45 0 999.99 (null)]" {
		t.Errorf("to Decimal128: %v %v", err, got)
	}
	if got != nil {
		got.Release()
	}
}

// decStrings prints a decimal array exactly (arrow's Decimal64 String goes
// through a float).
func decStrings(a arrow.Array) string {
	parts := make([]string, a.Len())
	for i := range parts {
		switch x := a.(type) {
		case *array.Decimal64:
			if x.IsNull(i) {
				parts[i] = "(null)"
			} else {
				parts[i] = decimal128.FromI64(int64(x.Value(i))).ToString(x.DataType().(*arrow.Decimal64Type).Scale)
			}
		default:
			parts[i] = a.ValueStr(i)
			if a.IsNull(i) {
				parts[i] = "(null)"
			}
		}
		parts[i] = strings.TrimRight(strings.TrimRight(parts[i], "0"), ".")
		if parts[i] == "" || parts[i] == "-" {
			parts[i] += "0"
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// Decimal64 columns (and Decimal128 ones of either precision) are written
// by every format, partitioned by a Decimal64 column, and read back as the
// engine's decimal of their precision; Parquet stores DECIMAL(p <= 18) as
// INT32/INT64.
func TestWriteDecimalWidths(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: &arrow.Decimal64Type{Precision: 4, Scale: 1}, Nullable: true},
		{Name: "d64", Type: &arrow.Decimal64Type{Precision: 18, Scale: 3}, Nullable: true},
		{Name: "n128", Type: &arrow.Decimal128Type{Precision: 9, Scale: 2}, Nullable: true},
		{Name: "w", Type: &arrow.Decimal128Type{Precision: 30, Scale: 2}, Nullable: true},
	}, nil)
	rowsJSON := `[
{"k": "1.5", "d64": "999999999999999.999", "n128": "-1.25", "w": "1234567890123456789012345.67"},
{"k": "1.5", "d64": "-0.001", "n128": null, "w": "0"},
{"k": null, "d64": null, "n128": "9999999.99", "w": null},
{"k": "-2.0", "d64": "0", "n128": "0.01", "w": "-1"}
]`
	readSchema := "d64 DECIMAL(18,3), n128 DECIMAL(9,2), w DECIMAL(30,2)"
	for _, format := range []Format{Parquet, CSV, JSON} {
		t.Run(string(format), func(t *testing.T) {
			ctx := checkedCtx(t)
			mem := compute.GetAllocator(ctx)
			// Built as Decimal128, then the engine columns narrowed.
			wide := make([]arrow.Field, schema.NumFields())
			for i, f := range schema.Fields() {
				wide[i] = f
				if d, ok := f.Type.(*arrow.Decimal64Type); ok {
					wide[i].Type = &arrow.Decimal128Type{Precision: d.Precision, Scale: d.Scale}
				}
			}
			rec128, _, err := array.RecordFromJSON(mem, arrow.NewSchema(wide, nil), strings.NewReader(rowsJSON))
			if err != nil {
				t.Fatal(err)
			}
			cols := make([]arrow.Array, rec128.NumCols())
			for i, f := range schema.Fields() {
				c := rec128.Column(i)
				c.Retain()
				if cols[i], err = toEngine(ctx, c, f.Type); err != nil {
					t.Fatal(err)
				}
			}
			rec128.Release()
			b := array.NewRecordBatch(schema, cols, 4)
			for _, c := range cols {
				c.Release()
			}
			defer b.Release()
			dir := t.TempDir()
			spec := testSpec(dir, format)
			spec.PartitionBy = []PartitionColumn{{Name: "k", Type: "DECIMAL(4,1)"}}
			m := writeAndCommit(t, ctx, spec, b)
			var folders []string
			for _, f := range m.Files {
				folders = append(folders, f.Path[:strings.LastIndex(f.Path, "/")])
			}
			sort.Strings(folders)
			if want := []string{"k=-2.0", "k=1.5", "k=" + HiveDefaultPartition}; fmt.Sprint(folders) != fmt.Sprint(want) {
				t.Errorf("folders %q, want %q", folders, want)
			}
			ps, err := m.PartitionSchema()
			if err != nil || !arrow.TypeEqual(ps.Field(0).Type, &arrow.Decimal64Type{Precision: 4, Scale: 1}) {
				t.Errorf("partition schema %v %v", ps, err)
			}
			var opts map[string]string
			if format != Parquet {
				opts = map[string]string{"schema": readSchema}
			}
			got := map[string]string{}
			for _, f := range m.Files {
				p := filepath.Join(dir, f.Path)
				src, err := Open(ctx, format, p, opts)
				if err != nil {
					t.Fatal(err)
				}
				wantTypes := []arrow.DataType{schema.Field(1).Type, &arrow.Decimal64Type{Precision: 9, Scale: 2}, schema.Field(3).Type}
				for i, ft := range src.Schema().Fields() {
					if !arrow.TypeEqual(ft.Type, wantTypes[i]) {
						t.Errorf("%s column %s: %s, want %s", f.Path, ft.Name, ft.Type, wantTypes[i])
					}
				}
				recs := readAll(t, ctx, src, nil, 2, 1)
				var rows []string
				for _, r := range recs {
					for i := 0; i < int(r.NumRows()); i++ {
						var vals []string
						for c := 0; c < int(r.NumCols()); c++ {
							s := array.NewSlice(r.Column(c), int64(i), int64(i+1))
							vals = append(vals, decStrings(s))
							s.Release()
						}
						rows = append(rows, strings.Join(vals, ""))
					}
				}
				release(recs)
				got[f.Path[:strings.LastIndex(f.Path, "/")]] = strings.Join(rows, ";")
				if format == Parquet {
					checkParquetPhysical(t, p, map[string]parquet.Type{"d64": parquet.Types.Int64, "n128": parquet.Types.Int32, "w": parquet.Types.FixedLenByteArray})
				}
			}
			want := map[string]string{
				"k=1.5":                     "[999999999999999.999][-1.25][1234567890123456789012345.67];[-0.001][(null)][0]",
				"k=" + HiveDefaultPartition: "[(null)][9999999.99][(null)]",
				"k=-2.0":                    "[0][0.01][-1]",
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("read back %v\nwant %v", got, want)
			}
		})
	}
}

func checkParquetPhysical(t *testing.T, path string, want map[string]parquet.Type) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rdr, err := file.NewParquetReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	sc := rdr.MetaData().Schema
	for i := 0; i < sc.NumColumns(); i++ {
		c := sc.Column(i)
		if w, ok := want[c.Name()]; ok && c.PhysicalType() != w {
			t.Errorf("%s: column %s stored as %s, want %s", path, c.Name(), c.PhysicalType(), w)
		}
	}
}
