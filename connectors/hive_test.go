package connectors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/connectors/fs"
)

// countingFS is the local filesystem under the scheme "counted://" that
// records every path it is asked to open, stat or list, so tests can
// check what a scan touched.
type countingFS struct {
	mu    sync.Mutex
	calls []string // "op path", path without the scheme
}

const countedScheme = "counted://"

var counted = &countingFS{}

func init() { fs.Register("counted", counted) }

func (c *countingFS) record(op, p string) string {
	local := strings.TrimPrefix(p, countedScheme)
	c.mu.Lock()
	c.calls = append(c.calls, op+" "+local)
	c.mu.Unlock()
	return local
}

func (c *countingFS) reset() {
	c.mu.Lock()
	c.calls = nil
	c.mu.Unlock()
}

// touched returns the recorded calls whose path contains sub.
func (c *countingFS) touched(sub string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, call := range c.calls {
		if strings.Contains(call, sub) {
			out = append(out, call)
		}
	}
	return out
}

func addScheme(fi fs.FileInfo) fs.FileInfo {
	fi.Path = countedScheme + fi.Path
	return fi
}

type countedFile struct {
	fs.File
	name string
}

func (f countedFile) Name() string { return f.name }

func (c *countingFS) Open(ctx context.Context, p string) (fs.File, error) {
	f, err := fs.Local{}.Open(ctx, c.record("open", p))
	if err != nil {
		return nil, err
	}
	return countedFile{f, p}, nil
}

func (c *countingFS) Stat(ctx context.Context, p string) (fs.FileInfo, error) {
	fi, err := fs.Local{}.Stat(ctx, c.record("stat", p))
	return addScheme(fi), err
}

func (c *countingFS) List(ctx context.Context, dir string) ([]fs.FileInfo, error) {
	out, err := fs.Local{}.List(ctx, c.record("list", dir))
	for i := range out {
		out[i] = addScheme(out[i])
	}
	return out, err
}

func (c *countingFS) ListDir(ctx context.Context, dir string) ([]fs.FileInfo, error) {
	out, err := fs.Local{}.ListDir(ctx, c.record("listdir", dir))
	for i := range out {
		out[i] = addScheme(out[i])
	}
	return out, err
}

// buildRecord makes a batch of schema sc from rows of Go values (nil is
// NULL).
func buildRecord(t testing.TB, sc *arrow.Schema, rows [][]any) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(memory.NewGoAllocator(), sc)
	defer b.Release()
	for _, row := range rows {
		for c, v := range row {
			fb := b.Field(c)
			if v == nil {
				fb.AppendNull()
				continue
			}
			switch fb := fb.(type) {
			case *array.Int64Builder:
				fb.Append(int64(v.(int)))
			case *array.Int32Builder:
				fb.Append(int32(v.(int)))
			case *array.Float64Builder:
				fb.Append(v.(float64))
			case *array.StringBuilder:
				fb.Append(v.(string))
			default:
				t.Fatalf("buildRecord: unsupported builder %T", fb)
			}
		}
	}
	return b.NewRecordBatch()
}

func writeRows(t testing.TB, path string, sc *arrow.Schema, rows [][]any) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	rec := buildRecord(t, sc, rows)
	defer rec.Release()
	writeParquet(t, path, rec, 2, false)
}

var idName = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// hiveDir writes the partitioned test table: ids 0-4 under year=2023/month=1,
// 5-9 under year=2023/month=2, 10-14 under year=2024/month=1 and 15-19
// under year=NULL/month=3, plus files every reader must skip.
func hiveDir(t *testing.T) string {
	dir := t.TempDir()
	parts := []struct {
		folder string
		first  int
	}{
		{"year=2023/month=1", 0}, {"year=2023/month=2", 5}, {"year=2024/month=1", 10},
		{"year=" + HiveDefaultPartition + "/month=3", 15},
	}
	for _, p := range parts {
		var rows [][]any
		for i := p.first; i < p.first+5; i++ {
			rows = append(rows, []any{i, fmt.Sprintf("n%d", i)})
		}
		writeRows(t, filepath.Join(dir, p.folder, "part-0.parquet"), idName, rows)
	}
	// Hidden files and folders, and an empty Hadoop marker.
	writeRows(t, filepath.Join(dir, "year=2024", "_temporary", "month=9", "x.parquet"), idName, [][]any{{99, "tmp"}})
	writeRows(t, filepath.Join(dir, "year=2024", "month=1", ".part-1.parquet"), idName, [][]any{{98, "hidden"}})
	// Markers that are not Flint manifests: Hadoop's empty one, and the
	// JSON of the S3A committer.
	os.WriteFile(filepath.Join(dir, "_SUCCESS"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "year=2023", "_SUCCESS"), []byte(`{"name": "org.apache.hadoop.fs.s3a.commit.files.SuccessData/1", "filenames": ["/x.parquet"]}`), 0o644)
	return dir
}

// scanRows reads every split of src for preds and returns the rows of
// columns cols, sorted by their text.
func scanRows(t *testing.T, ctx context.Context, src Source, preds []Predicate, cols []int) []string {
	t.Helper()
	splits, err := src.Splits(ctx, preds, 3)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, sp := range splits {
		recs, err := readSplit(t, ctx, src, sp, cols, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rowsOf(recs) {
			out = append(out, fmt.Sprint(row...))
		}
		release(recs)
	}
	sort.Strings(out)
	return out
}

func wantRows(ids []int, f func(i int) string) []string {
	var out []string
	for _, i := range ids {
		out = append(out, f(i))
	}
	sort.Strings(out)
	return out
}

func idRange(lo, hi int) []int {
	var out []int
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

func TestHivePartitionsParquet(t *testing.T) {
	ctx := checkedCtx(t)
	dir := hiveDir(t)
	loc := countedScheme + dir
	src, err := Open(ctx, Parquet, loc, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "id: int64, name: utf8, year: int64, month: int64"
	if got := schemaText(src.Schema()); got != want {
		t.Fatalf("schema %s, want %s", got, want)
	}
	if n := src.Stats().RowCount; n != 20 {
		t.Errorf("row count %d, want 20", n)
	}
	if len(src.Files()) != 4 {
		t.Errorf("files %v", src.Files())
	}
	yearOf := func(i int) any {
		switch {
		case i < 10:
			return int64(2023)
		case i < 15:
			return int64(2024)
		}
		return nil
	}
	monthOf := func(i int) int64 { return []int64{1, 2, 1, 3}[i/5] }
	row := func(i int) string { return fmt.Sprint(int64(i), fmt.Sprintf("n%d", i), yearOf(i), monthOf(i)) }
	if got, want := scanRows(t, ctx, src, nil, nil), wantRows(idRange(0, 20), row); !reflect.DeepEqual(got, want) {
		t.Fatalf("all rows:\n got %v\nwant %v", got, want)
	}
	// Projections mixing file and partition columns, partition columns
	// alone, and repeated columns.
	if got, want := scanRows(t, ctx, src, nil, []int{3, 0}), wantRows(idRange(0, 20), func(i int) string { return fmt.Sprint(monthOf(i), int64(i)) }); !reflect.DeepEqual(got, want) {
		t.Errorf("month, id:\n got %v\nwant %v", got, want)
	}
	if got, want := scanRows(t, ctx, src, nil, []int{2, 2}), wantRows(idRange(0, 20), func(i int) string { return fmt.Sprint(yearOf(i), yearOf(i)) }); !reflect.DeepEqual(got, want) {
		t.Errorf("year, year:\n got %v\nwant %v", got, want)
	}

	year, month, id := 2, 3, 0
	cases := []struct {
		name    string
		preds   []Predicate
		ids     []int
		skipped []string // folders no call may touch
	}{
		{"year=2023", []Predicate{{Column: year, Op: "=", Value: int64(2023)}}, idRange(0, 10), []string{"year=2024", HiveDefaultPartition}},
		{"year in", []Predicate{{Column: year, Op: "in", Value: int64(2024)}, {Column: year, Op: "in", Value: int64(2030)}}, idRange(10, 15), []string{"year=2023", HiveDefaultPartition}},
		{"year>=2024", []Predicate{{Column: year, Op: ">=", Value: int64(2024)}}, idRange(10, 15), []string{"year=2023", HiveDefaultPartition}},
		{"year<>2023", []Predicate{{Column: year, Op: "<>", Value: int64(2023)}}, idRange(10, 15), []string{"year=2023", HiveDefaultPartition}},
		{"year isnull", []Predicate{{Column: year, Op: "isnull"}}, idRange(15, 20), []string{"year=2023", "year=2024"}},
		{"year isnotnull", []Predicate{{Column: year, Op: "isnotnull"}}, idRange(0, 15), []string{HiveDefaultPartition}},
		{"month=1", []Predicate{{Column: month, Op: "=", Value: int64(1)}}, append(idRange(0, 5), idRange(10, 15)...), []string{"month=2", "month=3"}},
		{"year and month", []Predicate{{Column: year, Op: "<", Value: int64(2024)}, {Column: month, Op: ">", Value: int64(1)}}, idRange(5, 10), []string{"month=1", "year=2024", HiveDefaultPartition}},
		// A constant of another type cannot be compared, but NULL years
		// still fail every comparison.
		{"wrong type", []Predicate{{Column: year, Op: "=", Value: "2023"}}, idRange(0, 15), []string{HiveDefaultPartition}},
		{"file column", []Predicate{{Column: id, Op: ">=", Value: int64(12)}}, idRange(12, 20), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			counted.reset()
			got := scanRows(t, ctx, src, tc.preds, []int{0})
			if want := wantRows(tc.ids, func(i int) string { return fmt.Sprint(int64(i)) }); !reflect.DeepEqual(got, want) {
				t.Errorf("ids %v, want %v", got, want)
			}
			for _, f := range tc.skipped {
				if calls := counted.touched(f); len(calls) > 0 {
					t.Errorf("pruned folder %s was touched: %v", f, calls)
				}
			}
		})
	}
	// Hidden entries are never listed into.
	counted.reset()
	scanRows(t, ctx, src, nil, []int{0})
	if calls := counted.touched("_temporary"); len(calls) > 0 {
		t.Errorf("hidden folder listed: %v", calls)
	}
	if len(counted.touched("listdir "+dir+"/year=2024/month=1")) == 0 || len(counted.touched("open "+dir+"/year=2024/month=1/part-0.parquet")) == 0 {
		t.Errorf("the counting FS missed the reads of a full scan: %v", counted.touched(""))
	}
	// Row groups of 2: the file-column predicate still prunes inside files.
	splits, err := src.Splits(ctx, []Predicate{{Column: id, Op: ">=", Value: int64(18)}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	var rows int64
	for _, sp := range splits {
		rows += sp.Rows
	}
	if rows != 3 {
		t.Errorf("id>=18 keeps %d rows of row groups, want 3 ({17, 18} and {19})", rows)
	}
}

func schemaText(sc *arrow.Schema) string {
	var parts []string
	for _, f := range sc.Fields() {
		parts = append(parts, f.Name+": "+f.Type.String())
	}
	return strings.Join(parts, ", ")
}

// TestHiveRelisting: each Splits lists the location again, so files and
// partitions written after Open are read, and a folder value that does
// not fit the column's type is an error naming it.
func TestHiveRelisting(t *testing.T) {
	ctx := checkedCtx(t)
	dir := hiveDir(t)
	src, err := Open(ctx, Parquet, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	writeRows(t, filepath.Join(dir, "year=2025", "month=7", "new.parquet"), idName, [][]any{{100, "new"}})
	got := scanRows(t, ctx, src, []Predicate{{Column: 2, Op: "=", Value: int64(2025)}}, nil)
	if want := []string{fmt.Sprint(int64(100), "new", int64(2025), int64(7))}; !reflect.DeepEqual(got, want) {
		t.Fatalf("new partition: %v, want %v", got, want)
	}
	writeRows(t, filepath.Join(dir, "year=later", "month=1", "bad.parquet"), idName, [][]any{{1, "x"}})
	_, err = src.Splits(ctx, []Predicate{{Column: 2, Op: "=", Value: int64(2025)}}, 1)
	if err == nil || !strings.Contains(err.Error(), "year=later") || !strings.Contains(err.Error(), "BIGINT") {
		t.Errorf("bad folder value: %v", err)
	}
	// Without a predicate on year the folder is listed, and reading it fails
	// naming the folder too.
	splits, err := src.Splits(ctx, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	var failed error
	for _, sp := range splits {
		if recs, err := readSplit(t, ctx, src, sp, []int{2}, 8); err != nil {
			failed = err
		} else {
			release(recs)
		}
	}
	if failed == nil || !strings.Contains(failed.Error(), "year=later") {
		t.Errorf("reading a bad folder value: %v", failed)
	}
}

func TestHiveTypesAndFormats(t *testing.T) {
	ctx := checkedCtx(t)
	dir := t.TempDir()
	write := func(rel, data string) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// dt: dates; region: escaped text; code: integers and text -> VARCHAR.
	write("csv/dt=2024-01-02/region=EU%2FWest/code=7/a.csv", "x\n1\n2\n")
	write("csv/dt=2024-02-29/region=US/code=A1/b.csv", "x\n3\n")
	write("csv/dt="+HiveDefaultPartition+"/region=/code=8/c.csv", "x\n4\n")
	write("json/dt=2024-01-02/region=EU%2FWest/code=7/a.json", `{"x": 1}`+"\n"+`{"x": 2}`+"\n")
	write("json/dt=2024-02-29/region=US/code=A1/b.ndjson", `{"x": 3}`+"\n")
	write("json/dt="+HiveDefaultPartition+"/region=/code=8/c.json", `{"x": 4}`+"\n")
	for _, f := range []Format{CSV, JSON} {
		t.Run(string(f), func(t *testing.T) {
			src, err := Open(ctx, f, filepath.Join(dir, string(f)), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := schemaText(src.Schema()), "x: int64, dt: date32, region: utf8, code: utf8"; got != want {
				t.Fatalf("schema %s, want %s", got, want)
			}
			got := scanRows(t, ctx, src, nil, nil)
			want := []string{
				fmt.Sprint(int64(1), arrow.Date32(19724), "EU/West", "7"),
				fmt.Sprint(int64(2), arrow.Date32(19724), "EU/West", "7"),
				fmt.Sprint(int64(3), arrow.Date32(19782), "US", "A1"),
				fmt.Sprint(int64(4), nil, nil, "8"),
			}
			sort.Strings(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("rows:\n got %v\nwant %v", got, want)
			}
			got = scanRows(t, ctx, src, []Predicate{{Column: 1, Op: ">", Value: arrow.Date32(19724)}}, []int{0})
			if want := []string{fmt.Sprint(int64(3))}; !reflect.DeepEqual(got, want) {
				t.Errorf("dt > 2024-01-02: %v, want %v", got, want)
			}
			got = scanRows(t, ctx, src, []Predicate{{Column: 2, Op: "=", Value: "EU/West"}}, []int{0})
			if want := []string{fmt.Sprint(int64(1)), fmt.Sprint(int64(2))}; !reflect.DeepEqual(got, want) {
				t.Errorf("region = 'EU/West': %v, want %v", got, want)
			}
			got = scanRows(t, ctx, src, []Predicate{{Column: 2, Op: "isnull"}}, []int{0, 3})
			if want := []string{fmt.Sprint(int64(4), "8")}; !reflect.DeepEqual(got, want) {
				t.Errorf("region IS NULL: %v, want %v", got, want)
			}
			// Partition columns alone: the file is still read for its rows.
			got = scanRows(t, ctx, src, nil, []int{3})
			if want := []string{"7", "7", "8", "A1"}; !reflect.DeepEqual(got, want) {
				t.Errorf("code alone: %v, want %v", got, want)
			}
		})
	}
}

// TestHiveFileColumnOverlap: a file column named like a partition key
// keeps its place but takes the folder's type and value.
func TestHiveFileColumnOverlap(t *testing.T) {
	ctx := checkedCtx(t)
	dir := t.TempDir()
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "Year", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	writeRows(t, filepath.Join(dir, "year=2023", "a.parquet"), sc, [][]any{{"stale", 1}})
	src, err := Open(ctx, Parquet, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := schemaText(src.Schema()), "Year: int64, id: int64"; got != want {
		t.Fatalf("schema %s, want %s", got, want)
	}
	if got, want := scanRows(t, ctx, src, nil, nil), []string{fmt.Sprint(int64(2023), int64(1))}; !reflect.DeepEqual(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
}

func TestHivePartitioningOff(t *testing.T) {
	ctx := checkedCtx(t)
	dir := hiveDir(t)
	src, err := Open(ctx, Parquet, dir, map[string]string{"hive_partitioning": "false"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := schemaText(src.Schema()), "id: int64, name: utf8"; got != want {
		t.Fatalf("schema %s, want %s", got, want)
	}
	if got := scanRows(t, ctx, src, nil, []int{0}); len(got) != 20 {
		t.Errorf("read %d rows, want 20", len(got))
	}
	if _, err := Open(ctx, Parquet, dir, map[string]string{"hive_partitioning": "maybe"}); err == nil || !strings.Contains(err.Error(), "hive_partitioning") {
		t.Errorf("bad option value: %v", err)
	}
}

func TestHiveInconsistentKeys(t *testing.T) {
	ctx := checkedCtx(t)
	dir := t.TempDir()
	writeRows(t, filepath.Join(dir, "year=2023", "a.parquet"), idName, [][]any{{1, "a"}})
	writeRows(t, filepath.Join(dir, "region=EU", "b.parquet"), idName, [][]any{{2, "b"}})
	_, err := Open(ctx, Parquet, dir, nil)
	if err == nil || !strings.Contains(err.Error(), "partition keys") || !strings.Contains(err.Error(), "hive_partitioning") {
		t.Fatalf("mixed keys: %v", err)
	}
	// A glob below the keys sees only one layout.
	src, err := Open(ctx, Parquet, dir+"/year=*/*.parquet", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := schemaText(src.Schema()), "id: int64, name: utf8, year: int64"; got != want {
		t.Errorf("glob schema %s, want %s", got, want)
	}
}

// TestHiveManifest: a directory with a Flint _SUCCESS manifest yields
// exactly the files it lists; partition column types come from it.
func TestHiveManifest(t *testing.T) {
	ctx := checkedCtx(t)
	dir := t.TempDir()
	writeRows(t, filepath.Join(dir, "code=1", "part-a.parquet"), idName, [][]any{{1, "a"}})
	writeRows(t, filepath.Join(dir, "code=2", "part-b.parquet"), idName, [][]any{{2, "b"}})
	writeRows(t, filepath.Join(dir, "code=2", "part-failed-attempt.parquet"), idName, [][]any{{3, "junk"}})
	writeRows(t, filepath.Join(dir, "code=3", "part-uncommitted.parquet"), idName, [][]any{{4, "junk"}})
	var files []ManifestFile
	for _, rel := range []string{"code=1/part-a.parquet", "code=2/part-b.parquet"} {
		st, err := os.Stat(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, ManifestFile{Path: rel, Rows: 1, Bytes: st.Size()})
	}
	m := Manifest{Version: ManifestVersion, Format: Parquet, Files: files, Rows: 2,
		PartitionBy: []PartitionColumn{{Name: "code", Type: "INTEGER"}}}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestName), data, 0o644); err != nil {
		t.Fatal(err)
	}
	loc := countedScheme + dir
	src, err := Open(ctx, Parquet, loc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := schemaText(src.Schema()), "id: int64, name: utf8, code: int32"; got != want {
		t.Fatalf("schema %s, want %s", got, want)
	}
	if got, want := scanRows(t, ctx, src, nil, nil), []string{fmt.Sprint(int64(1), "a", int32(1)), fmt.Sprint(int64(2), "b", int32(2))}; !reflect.DeepEqual(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
	counted.reset()
	if got, want := scanRows(t, ctx, src, []Predicate{{Column: 2, Op: "=", Value: int64(2)}}, []int{0}), []string{fmt.Sprint(int64(2))}; !reflect.DeepEqual(got, want) {
		t.Errorf("code = 2: %v, want %v", got, want)
	}
	if calls := counted.touched("listdir " + dir + "/code="); len(calls) > 0 {
		t.Errorf("folders below a manifest were listed: %v", calls)
	}
	if calls := counted.touched("code=1"); len(calls) > 0 {
		t.Errorf("pruned partition touched: %v", calls)
	}
	// A Flint manifest this reader does not understand is an error, not
	// a reason to read every file.
	if err := os.WriteFile(filepath.Join(dir, ManifestName), []byte(`{"version": 99, "format": "parquet", "files": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, Parquet, dir, nil); err == nil || !strings.Contains(err.Error(), ManifestName) || !strings.Contains(err.Error(), "version 99") {
		t.Errorf("unreadable manifest: %v", err)
	}
}

func TestSchemaMerge(t *testing.T) {
	ctx := checkedCtx(t)
	dir := t.TempDir()
	a := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int32},
		{Name: "x", Type: arrow.BinaryTypes.String},
	}, nil)
	b := arrow.NewSchema([]arrow.Field{
		{Name: "y", Type: arrow.PrimitiveTypes.Float64},
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	writeRows(t, filepath.Join(dir, "a.parquet"), a, [][]any{{1, "one"}, {2, "two"}, {3, "three"}})
	writeRows(t, filepath.Join(dir, "b.parquet"), b, [][]any{{1.5, 1 << 40}, {2.5, 5}})
	src, err := Open(ctx, Parquet, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := schemaText(src.Schema()), "id: int64, x: utf8, y: float64"; got != want {
		t.Fatalf("schema %s, want %s", got, want)
	}
	for _, f := range src.Schema().Fields() {
		if !f.Nullable && f.Name != "id" {
			t.Errorf("column %s missing from a file must be nullable", f.Name)
		}
	}
	want := []string{
		fmt.Sprint(int64(1), "one", nil), fmt.Sprint(int64(2), "two", nil), fmt.Sprint(int64(3), "three", nil),
		fmt.Sprint(int64(1<<40), nil, 1.5), fmt.Sprint(int64(5), nil, 2.5),
	}
	sort.Strings(want)
	if got := scanRows(t, ctx, src, nil, nil); !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\n got %v\nwant %v", got, want)
	}
	// A predicate on a column a file lacks skips that file's row groups
	// (it is NULL there); IS NULL keeps them.
	for _, tc := range []struct {
		pred Predicate
		rows int64
	}{
		{Predicate{Column: 2, Op: ">", Value: 0.0}, 2},
		{Predicate{Column: 2, Op: "isnull"}, 3},
		{Predicate{Column: 1, Op: "in", Value: "two"}, 2}, // row groups of 2
		{Predicate{Column: 0, Op: "=", Value: int64(1 << 40)}, 2},
	} {
		splits, err := src.Splits(ctx, []Predicate{tc.pred}, 1)
		if err != nil {
			t.Fatal(err)
		}
		var rows int64
		for _, sp := range splits {
			rows += sp.Rows
		}
		if rows != tc.rows {
			t.Errorf("%+v keeps %d rows, want %d", tc.pred, rows, tc.rows)
		}
	}

	// A type that does not merge is an error naming the file, the column
	// and both types.
	c := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)
	writeRows(t, filepath.Join(dir, "c.parquet"), c, [][]any{{7}})
	_, err = Open(ctx, Parquet, dir, nil)
	if err == nil {
		t.Fatal("expected a schema conflict")
	}
	for _, s := range []string{"c.parquet", `column "x"`, "has type int64", "expected utf8", "a.parquet"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %s", err, s)
		}
	}
	// The same conflict in a file that appears after Open fails the query.
	os.Remove(filepath.Join(dir, "c.parquet"))
	src, err = Open(ctx, Parquet, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	writeRows(t, filepath.Join(dir, "c.parquet"), c, [][]any{{7}})
	if _, err := src.Splits(ctx, nil, 1); err == nil || !strings.Contains(err.Error(), "c.parquet") || !strings.Contains(err.Error(), "expected utf8") {
		t.Errorf("late conflicting file: %v", err)
	}
}

func TestDetectFormat(t *testing.T) {
	ctx := context.Background()
	dir := hiveDir(t)
	for _, loc := range []string{dir, dir + "/", dir + "/year=*/month=*/*", countedScheme + dir} {
		if f, err := DetectFormat(ctx, loc); err != nil || f != Parquet {
			t.Errorf("%s: %q, %v", loc, f, err)
		}
	}
	if f, err := DetectFormat(ctx, "x/y.csv.gz"); err != nil || f != CSV {
		t.Errorf("by name: %q, %v", f, err)
	}
	empty := t.TempDir()
	os.WriteFile(filepath.Join(empty, "notes.txt"), nil, 0o644)
	if _, err := DetectFormat(ctx, empty); err == nil || !strings.Contains(err.Error(), "cannot tell the format") {
		t.Errorf("no data files: %v", err)
	}
	if _, err := DetectFormat(ctx, filepath.Join(empty, "missing")); err == nil || errors.Is(err, fs.ErrNotExist) && !strings.Contains(err.Error(), "cannot tell") {
		t.Errorf("missing: %v", err)
	}
}

// TestReadPartitionedWrite reads back, as one table, a dataset that the
// writer (dataset_write.go) partitioned and committed with a manifest:
// escaped and NULL folder values, partition types from the manifest.
func TestReadPartitionedWrite(t *testing.T) {
	ctx := checkedCtx(t)
	b := writeBatch(t, ctx)
	defer b.Release()
	dir := t.TempDir()
	spec := testSpec(dir, Parquet)
	spec.PartitionBy = []PartitionColumn{{Name: "small", Type: "INTEGER"}, {Name: "NAME", Type: "VARCHAR"}}
	writeAndCommit(t, ctx, spec, b)
	src, err := Open(ctx, Parquet, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	order := []string{"id", "price", "day", "at", "ok", "score", "small", "name"}
	var names []string
	for _, f := range src.Schema().Fields() {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != strings.Join(order, ",") {
		t.Fatalf("columns %v, want %v", names, order)
	}
	if typ := src.Schema().Field(6).Type; typ.ID() != arrow.INT32 {
		t.Errorf("small is %s, want the manifest's INTEGER", typ)
	}
	cols := make([]arrow.Array, len(order))
	fields := make([]arrow.Field, len(order))
	for i, n := range order {
		j := b.Schema().FieldIndices(n)[0]
		cols[i], fields[i] = b.Column(j), b.Schema().Field(j)
	}
	orig := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, b.NumRows())
	defer orig.Release()
	want := rowStrings([]arrow.RecordBatch{orig})
	for i, r := range want {
		// An empty partition value is written as the NULL folder, as Hive
		// and Spark do, so it reads back as NULL.
		if strings.HasSuffix(r, "|") {
			want[i] = r + "NULL"
		}
	}
	got := readAll(t, ctx, src, nil, 4, 3)
	defer release(got)
	gotRows := rowStrings(got)
	sort.Strings(want)
	sort.Strings(gotRows)
	if !reflect.DeepEqual(gotRows, want) {
		t.Errorf("rows:\n got %q\nwant %q", gotRows, want)
	}
}

func TestPrunedRows(t *testing.T) {
	ctx := checkedCtx(t)
	src, err := Open(ctx, Parquet, hiveDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	rp := src.(RowPruner)
	if !rp.Partitioned() {
		t.Fatal("not partitioned")
	}
	for _, tc := range []struct {
		preds []Predicate
		rows  int64
		used  []bool
		ok    bool
	}{
		{[]Predicate{{Column: 2, Op: "=", Value: int64(2023)}, {Column: 0, Op: ">", Value: int64(3)}}, 10, []bool{true, false}, true},
		{[]Predicate{{Column: 2, Op: "isnull"}}, 5, []bool{true}, true},
		{[]Predicate{{Column: 3, Op: "in", Value: int64(1)}, {Column: 2, Op: "<", Value: int64(2024)}, {Column: 3, Op: "in", Value: int64(3)}}, 5, []bool{true, true, true}, true},
		{[]Predicate{{Column: 0, Op: "=", Value: int64(1)}}, 0, nil, false},
	} {
		rows, used, ok := rp.PrunedRows(tc.preds)
		if rows != tc.rows || ok != tc.ok || !reflect.DeepEqual(used, tc.used) {
			t.Errorf("%+v: %d %v %v, want %d %v %v", tc.preds, rows, used, ok, tc.rows, tc.used, tc.ok)
		}
	}
}
