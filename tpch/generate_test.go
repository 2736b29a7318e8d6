package tpch

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

const sampleDir = "../testdata/tpch/sf-sample"

// readTable reads a whole Parquet file (small test files only).
func readTable(t *testing.T, mem memory.Allocator, path string) arrow.Table {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 4096}, mem)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// TestGenerateSampleMatchesReference generates SF0.01 and checks it against
// numbers published for the reference dbgen at SF0.01 (row counts, and
// TPC-H Q1's A/F group: sum_qty 380456, count 14876), the file layout, and
// the committed sample (byte for byte). A second run in the same process
// must produce identical files (dbgen state is reset between runs).
func TestGenerateSampleMatchesReference(t *testing.T) {
	if testing.Short() {
		t.Skip("builds dbgen's 300 MB text pool (~8 s)")
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	genMem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	if err := GenerateSample(compute.WithAllocator(context.Background(), genMem), dir); err != nil {
		t.Fatal(err)
	}
	genMem.AssertSize(t, 0)
	wantRows := map[string]int64{
		"nation": 25, "region": 5, "part": 2000, "supplier": 100, "partsupp": 8000,
		"customer": 1500, "orders": 15000, "lineitem": 60175,
	}
	for _, tb := range Tables {
		path := filepath.Join(dir, tb+".parquet")
		rdr, err := file.OpenParquetFile(path, false)
		if err != nil {
			t.Fatalf("%s: %v", tb, err)
		}
		if got := rdr.NumRows(); got != wantRows[tb] {
			t.Errorf("%s: %d rows, want %d", tb, got, wantRows[tb])
		}
		for rg := 0; rg < rdr.NumRowGroups(); rg++ {
			md := rdr.MetaData().RowGroup(rg)
			if md.NumRows() > RowGroupRows {
				t.Errorf("%s: row group %d has %d rows", tb, rg, md.NumRows())
			}
			for c := 0; c < md.NumColumns(); c++ {
				cc, err := md.ColumnChunk(c)
				if err != nil {
					t.Fatal(err)
				}
				if cc.Compression() != compress.Codecs.Snappy {
					t.Errorf("%s column %d: compression %v", tb, c, cc.Compression())
				}
				if ok, _ := cc.StatsSet(); !ok {
					t.Errorf("%s column %d: no statistics", tb, c)
				}
				// One data-page encoding per chunk keeps the footer
				// reproducible (see plainColumns).
				dataEncodings := 0
				for _, es := range cc.EncodingStats() {
					if es.PageType == 0 { // thrift PageType DATA_PAGE
						dataEncodings++
					}
				}
				if dataEncodings != 1 {
					t.Errorf("%s column %d: %d data page encodings, want 1", tb, c, dataEncodings)
				}
			}
		}
		rdr.Close()

		tbl := readTable(t, mem, path)
		es, _ := Schema(tb)
		want := fileSchema(es) // pqarrow reads the money columns as Decimal128
		if got := tbl.Schema(); got.NumFields() != want.NumFields() {
			t.Errorf("%s: read back %d columns, want %d", tb, got.NumFields(), want.NumFields())
		} else {
			for i, f := range got.Fields() { // field metadata (parquet field ids) aside
				w := want.Field(i)
				if f.Name != w.Name || !arrow.TypeEqual(f.Type, w.Type) || f.Nullable != w.Nullable {
					t.Errorf("%s: column %d read back as %v, want %v", tb, i, f, w)
				}
			}
		}
		tbl.Release()

		committed, err := os.ReadFile(filepath.Join(sampleDir, tb+".parquet"))
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(committed, fresh) {
			t.Errorf("%s: generated file differs from the committed %s (regenerate with go run ./tpch/cmd/tpchgen -sample)", tb, sampleDir)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != len(Tables) {
		t.Errorf("output dir has %d entries, want %d (temporary files left?)", len(entries), len(Tables))
	}

	// Published SF0.01 Q1 numbers for the A/F group.
	li := readTable(t, mem, filepath.Join(dir, "lineitem.parquet"))
	defer li.Release()
	tr := array.NewTableReader(li, 8192)
	defer tr.Release()
	cutoff := arrow.Date32FromTime(time.Date(1998, 9, 2, 0, 0, 0, 0, time.UTC))
	var qtyCents, count int64
	for tr.Next() {
		b := tr.RecordBatch()
		qty := b.Column(4).(*array.Decimal128)
		flag := b.Column(8).(*array.String)
		status := b.Column(9).(*array.String)
		ship := b.Column(10).(*array.Date32)
		for i := 0; i < int(b.NumRows()); i++ {
			if flag.Value(i) == "A" && status.Value(i) == "F" && ship.Value(i) <= cutoff {
				qtyCents += int64(qty.Value(i).LowBits())
				count++
			}
		}
	}
	if qtyCents != 38045600 || count != 14876 {
		t.Errorf("Q1 A/F: sum_qty %d.%02d count %d, want 380456.00 and 14876", qtyCents/100, qtyCents%100, count)
	}

	// Same process, second run: identical bytes.
	dir2 := t.TempDir()
	if err := GenerateScale(context.Background(), 0.01, dir2); err != nil {
		t.Fatal(err)
	}
	for _, tb := range Tables {
		a, _ := os.ReadFile(filepath.Join(dir, tb+".parquet"))
		b, _ := os.ReadFile(filepath.Join(dir2, tb+".parquet"))
		if !bytes.Equal(a, b) {
			t.Errorf("%s: second run in the same process differs", tb)
		}
	}
}

func TestGenerateRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	for _, sf := range []float64{0, -1, 1.5, 0.0001, 2.25} {
		if err := GenerateScale(ctx, sf, t.TempDir()); err == nil || !strings.Contains(err.Error(), "scale factor") {
			t.Errorf("GenerateScale(%v): error %v, want scale factor error", sf, err)
		}
	}
	if err := Generate(ctx, 0, t.TempDir()); err == nil {
		t.Error("Generate(0) succeeded")
	}
	// An output path below a regular file cannot be created.
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := GenerateScale(ctx, 0.01, filepath.Join(f, "sub")); err == nil {
		t.Error("generation below a regular file succeeded")
	}
}

func TestGenerateCancelledLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("may build dbgen's text pool")
	}
	for _, name := range []string{"before start", "during run"} {
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		if name == "before start" {
			cancel()
		} else {
			// The loaders poll ctx every 1024 rows; cancel from a loader's
			// view by cancelling right away in another goroutine.
			go cancel()
		}
		err := GenerateScale(ctx, 0.01, dir)
		cancel()
		if name == "before start" && err == nil {
			t.Fatalf("%s: no error", name)
		}
		if err != nil && !strings.Contains(err.Error(), "cancel") {
			t.Errorf("%s: error %v does not say cancelled", name, err)
		}
		entries, _ := os.ReadDir(dir)
		if err != nil && len(entries) != 0 {
			t.Errorf("%s: cancelled run left %d files", name, len(entries))
		}
	}
}
