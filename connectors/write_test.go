package connectors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"

	"github.com/flint-engine/flint/connectors/fs"
)

// writeSchema has every engine type a dataset can hold.
var writeSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "price", Type: &arrow.Decimal64Type{Precision: 15, Scale: 2}, Nullable: true},
	{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
	{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "small", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
}, nil)

// writeRowsJSON are the rows of writeSchema the tests write, as JSON.
const writeRowsJSON = `[
{"id": 1, "name": "alice", "price": "10.50", "day": "2024-01-31", "at": "2024-01-31 10:00:00", "ok": true, "score": 1.5, "small": 7},
{"id": 2, "name": "bob, \"jr\"", "price": "3.00", "day": "2024-02-29", "at": "2024-02-29 23:59:59.123456", "ok": false, "score": -2, "small": 7},
{"id": 3, "name": "", "price": null, "day": null, "at": null, "ok": null, "score": null, "small": null},
{"id": 4, "name": null, "price": "-0.01", "day": "1970-01-01", "at": "1969-12-31 23:59:59.5", "ok": true, "score": 1e-7, "small": -1},
{"id": 5, "name": "a/b=c%d", "price": "123456789012.34", "day": "2000-02-29", "at": "2000-01-01 00:00:00.000001", "ok": false, "score": 12345678.25, "small": 0},
{"id": 6, "name": "line\nbreak", "price": "0.00", "day": "1999-12-31", "at": "2038-01-19 03:14:08", "ok": true, "score": 0.1, "small": 1}
]`

func writeBatch(t *testing.T, ctx context.Context) arrow.RecordBatch {
	t.Helper()
	rec, _, err := array.RecordFromJSON(compute.GetAllocator(ctx), writeSchema, strings.NewReader(writeRowsJSON))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// rowStrings renders each row of batches as "v1|v2|...", NULL for null.
func rowStrings(batches []arrow.RecordBatch) []string {
	var out []string
	for _, b := range batches {
		for r := 0; r < int(b.NumRows()); r++ {
			parts := make([]string, b.NumCols())
			for c := range parts {
				col := b.Column(c)
				if col.IsNull(r) {
					parts[c] = "NULL"
				} else {
					parts[c] = col.ValueStr(r)
				}
			}
			out = append(out, strings.Join(parts, "|"))
		}
	}
	return out
}

func testSpec(dir string, format Format) WriteSpec {
	return WriteSpec{Format: format, Location: dir, Mode: ModeError, WriteID: NewWriteID()}
}

// writeAndCommit writes batches as task 0 attempt 0 and commits.
func writeAndCommit(t *testing.T, ctx context.Context, spec WriteSpec, batches ...arrow.RecordBatch) *Manifest {
	t.Helper()
	job, err := BeginWrite(ctx, spec, "test-job")
	if err != nil {
		t.Fatal(err)
	}
	tw, err := NewTaskWriter(spec, batches[0].Schema(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if err := tw.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	files, err := tw.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := job.Commit(ctx, [][]WrittenFile{files})
	if err != nil {
		t.Fatal(err)
	}
	if job.CleanupErr != nil {
		t.Fatal(job.CleanupErr)
	}
	return m
}

// readDataset reads the files a manifest lists, in order, with opts.
func readDataset(t *testing.T, ctx context.Context, dir string, m *Manifest, opts map[string]string) []arrow.RecordBatch {
	t.Helper()
	var out []arrow.RecordBatch
	for _, p := range m.Paths(dir) {
		src, err := Open(ctx, m.Format, p, opts)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, readAll(t, ctx, src, nil, 4, 1)...)
	}
	return out
}

func TestWriteFormatsRoundTrip(t *testing.T) {
	want := []string{ // as ValueStr prints them
		"1|alice|10.5|2024-01-31|2024-01-31T10:00:00|true|1.5|7",
		`2|bob, "jr"|3|2024-02-29|2024-02-29T23:59:59.123456|false|-2|7`,
		"3||NULL|NULL|NULL|NULL|NULL|NULL",
		"4|NULL|-0.01|1970-01-01|1969-12-31T23:59:59.5|true|1e-07|-1",
		"5|a/b=c%d|123456789012.34|2000-02-29|2000-01-01T00:00:00.000001|false|1.234567825e+07|0",
		"6|line\nbreak|0|1999-12-31|2038-01-19T03:14:08|true|0.1|1",
	}
	schemaOpt := "id BIGINT, name VARCHAR, price DECIMAL(15,2), day DATE, at TIMESTAMP, ok BOOLEAN, score DOUBLE, small INTEGER"
	for _, tc := range []struct {
		format Format
		opts   map[string]string
		read   map[string]string
	}{
		{Parquet, nil, nil},
		{Parquet, map[string]string{"compression": "zstd", "row_group_size": "2"}, nil},
		{CSV, nil, map[string]string{"schema": schemaOpt}},
		{CSV, map[string]string{"delimiter": "|", "compression": "gzip", "null": "NA"}, map[string]string{"schema": schemaOpt, "delimiter": "|", "null": "NA"}},
		{JSON, nil, map[string]string{"schema": schemaOpt}},
		{JSON, map[string]string{"compression": "zstd"}, map[string]string{"schema": schemaOpt}},
	} {
		t.Run(fmt.Sprintf("%s%v", tc.format, tc.opts), func(t *testing.T) {
			ctx := checkedCtx(t)
			b := writeBatch(t, ctx)
			defer b.Release()
			dir := t.TempDir()
			spec := testSpec(dir, tc.format)
			spec.Options = tc.opts
			// Two batches: a file spans several writes.
			b1, b2 := b.NewSlice(0, 2), b.NewSlice(2, b.NumRows())
			defer b1.Release()
			defer b2.Release()
			m := writeAndCommit(t, ctx, spec, b1, b2)
			if len(m.Files) != 1 || m.Rows != 6 || m.Files[0].Rows != 6 || m.Format != tc.format {
				t.Fatalf("manifest %+v", m)
			}
			st, err := os.Stat(filepath.Join(dir, m.Files[0].Path))
			if err != nil || st.Size() != m.Files[0].Bytes {
				t.Fatalf("file %s: %v, size %d, manifest says %d", m.Files[0].Path, err, st.Size(), m.Files[0].Bytes)
			}
			got := readDataset(t, ctx, dir, m, tc.read)
			defer release(got)
			if rs := rowStrings(got); !reflect.DeepEqual(rs, want) {
				t.Errorf("read back:\n%s\nwant:\n%s", strings.Join(rs, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestCSVHeaderAndInference: a CSV written with defaults reads back with
// schema inference (header names, NULL vs empty string).
func TestCSVHeaderAndInference(t *testing.T) {
	ctx := checkedCtx(t)
	b := writeBatch(t, ctx)
	defer b.Release()
	dir := t.TempDir()
	m := writeAndCommit(t, ctx, testSpec(dir, CSV), b)
	data, err := os.ReadFile(filepath.Join(dir, m.Files[0].Path))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	if lines[0] != "id,name,price,day,at,ok,score,small" || lines[3] != `3,"",,,,,,` {
		t.Errorf("csv text:\n%s", data)
	}
}

func TestPartitionedWrite(t *testing.T) {
	ctx := checkedCtx(t)
	b := writeBatch(t, ctx)
	defer b.Release()
	dir := t.TempDir()
	spec := testSpec(dir, Parquet)
	spec.PartitionBy = []PartitionColumn{{Name: "small", Type: "INTEGER"}, {Name: "NAME", Type: "VARCHAR"}}
	m := writeAndCommit(t, ctx, spec, b)
	var folders []string
	rows := map[string]int64{}
	for _, f := range m.Files {
		folder := f.Path[:strings.LastIndex(f.Path, "/")]
		folders = append(folders, folder)
		rows[folder] = f.Rows
	}
	sort.Strings(folders)
	wantFolders := []string{
		"small=-1/name=" + HiveDefaultPartition,
		"small=0/name=a%2Fb%3Dc%25d",
		"small=1/name=line%0Abreak",
		"small=7/name=alice",
		"small=7/name=bob, %22jr%22",
		"small=" + HiveDefaultPartition + "/name=" + HiveDefaultPartition,
	}
	sort.Strings(wantFolders)
	if !reflect.DeepEqual(folders, wantFolders) {
		t.Fatalf("folders %q, want %q", folders, wantFolders)
	}
	if UnescapePartitionValue("a%2Fb%3Dc%25d") != "a/b=c%d" || UnescapePartitionValue("x%2") != "x%2" {
		t.Error("unescape")
	}
	ps, err := m.PartitionSchema()
	if err != nil || ps.NumFields() != 2 || ps.Field(0).Type.ID() != arrow.INT32 || ps.Field(1).Name != "small" && ps.Field(1).Name != "NAME" {
		t.Errorf("partition schema %v, %v", ps, err)
	}
	// The files hold the other columns only.
	p := filepath.Join(dir, "small=7", "name=alice")
	src, err := Open(ctx, Parquet, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range src.Schema().Fields() {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "id,price,day,at,ok,score" {
		t.Errorf("file columns %v", names)
	}
	got := readAll(t, ctx, src, nil, 8, 1)
	defer release(got)
	if rs := rowStrings(got); len(rs) != 1 || !strings.HasPrefix(rs[0], "1|10.5|2024-01-31|") {
		t.Errorf("small=7/name=alice holds %q", rs)
	}
}

// TestMaxOpenFiles: with one file open at a time, a partition seen again
// gets a second file, and no row is lost.
func TestMaxOpenFiles(t *testing.T) {
	ctx := checkedCtx(t)
	b := writeBatch(t, ctx)
	defer b.Release()
	dir := t.TempDir()
	spec := testSpec(dir, JSON)
	spec.Options = map[string]string{"max_open_files": "1"}
	spec.PartitionBy = []PartitionColumn{{Name: "ok", Type: "BOOLEAN"}}
	var rows []arrow.RecordBatch
	for r := range b.NumRows() {
		rows = append(rows, b.NewSlice(r, r+1))
	}
	defer release(rows)
	m := writeAndCommit(t, ctx, spec, rows...)
	var total int64
	for _, f := range m.Files {
		total += f.Rows
	}
	// Row by row, ok is true, false, NULL, true, false, true: with one
	// file open at a time, every change finishes a file.
	if total != 6 || len(m.Files) != 6 {
		t.Errorf("%d files, %d rows: %+v", len(m.Files), total, m.Files)
	}
}

// listAll lists every regular file below dir, hidden ones included.
func listAll(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func manifestPaths(m *Manifest) []string {
	var out []string
	for _, f := range m.Files {
		out = append(out, f.Path)
	}
	sort.Strings(out)
	return out
}

// TestCommitOneAttemptPerTask: attempts that failed mid-file, finished a
// file then failed, or succeeded twice leave files; the commit keeps one
// attempt per task and the directory ends up holding exactly the
// manifest's files.
func TestCommitOneAttemptPerTask(t *testing.T) {
	ctx := checkedCtx(t)
	b := writeBatch(t, ctx)
	defer b.Release()
	dir := t.TempDir()
	spec := testSpec(dir, Parquet)
	job, err := BeginWrite(ctx, spec, "job")
	if err != nil {
		t.Fatal(err)
	}
	run := func(task, attempt int) []WrittenFile {
		tw, err := NewTaskWriter(spec, b.Schema(), task, attempt)
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
		files, err := tw.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return files
	}
	// Task 0, attempt 0: killed mid-file (never closed: a hidden
	// temporary file stays).
	tw, err := NewTaskWriter(spec, b.Schema(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	// Task 0, attempt 1 and 2 both succeed (a duplicate); task 1 once.
	run(0, 1)
	keep0 := run(0, 2)
	keep1 := run(1, 0)
	if n := len(listAll(t, dir)); n != 4 {
		t.Fatalf("%d files before the commit: %v", n, listAll(t, dir))
	}
	m, err := job.Commit(ctx, [][]WrittenFile{keep0, keep1})
	if err != nil {
		t.Fatal(err)
	}
	defer tw.Abort(ctx) // only releases memory: the sweep took its file
	if job.CleanupErr != nil {
		t.Fatal(job.CleanupErr)
	}
	want := append(manifestPaths(m), ManifestName)
	sort.Strings(want)
	if got := listAll(t, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("directory holds %v, want the manifest's files %v", got, want)
	}
	if m.Rows != 12 || len(m.Files) != 2 {
		t.Errorf("manifest %+v", m)
	}
	// What a reader sees: the manifest read back.
	back, err := ReadManifest(ctx, fs.Local{}, dir)
	if err != nil || !reflect.DeepEqual(manifestPaths(back), manifestPaths(m)) || back.Job != "job" {
		t.Errorf("ReadManifest: %+v, %v", back, err)
	}
	// A report of a file another write made is refused.
	other := testSpec(dir, Parquet)
	other.Mode = ModeAppend
	job2, err := BeginWrite(ctx, other, "job2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := job2.Commit(ctx, [][]WrittenFile{keep0}); err == nil {
		t.Error("committing another write's file must fail")
	}
}

func TestWriteModes(t *testing.T) {
	ctx := checkedCtx(t)
	b := writeBatch(t, ctx)
	defer b.Release()
	dir := t.TempDir()
	first := writeAndCommit(t, ctx, testSpec(dir, Parquet), b)

	_, err := BeginWrite(ctx, testSpec(dir, Parquet), "again")
	if err == nil || !strings.Contains(err.Error(), "already holds data") {
		t.Fatalf("mode error on a dataset: %v", err)
	}

	app := testSpec(dir, Parquet)
	app.Mode = ModeAppend
	m := writeAndCommit(t, ctx, app, b)
	if len(m.Files) != 2 || m.Rows != 12 || m.Files[0] != first.Files[0] && m.Files[1] != first.Files[0] {
		t.Fatalf("append manifest %+v", m)
	}
	if len(m.FilesOf(app.WriteID)) != 1 {
		t.Errorf("FilesOf: %v", m.FilesOf(app.WriteID))
	}
	bad := testSpec(dir, CSV)
	bad.Mode = ModeAppend
	if _, err := BeginWrite(ctx, bad, "x"); err == nil {
		t.Error("appending csv to a parquet dataset must fail")
	}

	ow := testSpec(dir, Parquet)
	ow.Mode = ModeOverwrite
	one := b.NewSlice(0, 1)
	defer one.Release()
	m = writeAndCommit(t, ctx, ow, one)
	want := append(manifestPaths(m), ManifestName)
	sort.Strings(want)
	if got := listAll(t, dir); !reflect.DeepEqual(got, want) || m.Rows != 1 {
		t.Errorf("after overwrite the directory holds %v, want %v (rows %d)", got, want, m.Rows)
	}

	// A directory of plain files (no manifest): error refuses, append
	// adopts them, overwrite deletes them after its manifest.
	plain := t.TempDir()
	os.WriteFile(filepath.Join(plain, "old.csv"), []byte("a\n1\n"), 0o644)
	os.WriteFile(filepath.Join(plain, "README"), []byte("notes"), 0o644)
	if _, err := BeginWrite(ctx, testSpec(plain, CSV), "x"); err == nil {
		t.Error("mode error on a directory of files must fail")
	}
	app = testSpec(plain, CSV)
	app.Mode = ModeAppend
	m = writeAndCommit(t, ctx, app, b)
	if len(m.Files) != 2 || m.Files[0].Path != "old.csv" || m.Files[0].Rows != -1 || m.Rows != 6 {
		t.Errorf("append to plain files: %+v", m)
	}
	plain2 := t.TempDir()
	os.WriteFile(filepath.Join(plain2, "old.csv"), []byte("a\n1\n"), 0o644)
	os.WriteFile(filepath.Join(plain2, "README"), []byte("notes"), 0o644)
	ow = testSpec(plain2, CSV)
	ow.Mode = ModeOverwrite
	m = writeAndCommit(t, ctx, ow, b)
	if got := listAll(t, plain2); len(got) != 3 || got[0] != "README" {
		t.Errorf("overwrite of plain files left %v", got)
	}
	// A file as the target is refused.
	if _, err := BeginWrite(ctx, testSpec(filepath.Join(plain2, "README"), CSV), "x"); err == nil {
		t.Error("writing into a file must fail")
	}
}

// TestWriteHookAbort: a task attempt that fails after completing a file
// removes it; one that fails mid-file leaves nothing either.
func TestWriteHookAbort(t *testing.T) {
	ctx := checkedCtx(t)
	b := writeBatch(t, ctx)
	defer b.Release()
	for _, point := range []string{"batch", "file"} {
		dir := t.TempDir()
		spec := testSpec(dir, CSV)
		spec.PartitionBy = []PartitionColumn{{Name: "ok", Type: "BOOLEAN"}}
		boom := errors.New("injected")
		restore := SetWriteHook(func(ev WriteEvent) error {
			if ev.Point == point && ev.WriteID == spec.WriteID {
				return boom
			}
			return nil
		})
		tw, err := NewTaskWriter(spec, b.Schema(), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		err = tw.Write(ctx, b)
		if err == nil {
			_, err = tw.Close(ctx)
		}
		restore()
		if !errors.Is(err, boom) {
			t.Fatalf("%s: error %v", point, err)
		}
		if err := tw.Abort(ctx); err != nil {
			t.Fatal(err)
		}
		if got := listAll(t, dir); len(got) != 0 {
			t.Errorf("%s: abort left %v", point, got)
		}
	}
}

func TestReadManifest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if m, err := ReadManifest(ctx, fs.Local{}, dir); m != nil || err != nil {
		t.Errorf("no manifest: %v %v", m, err)
	}
	p := filepath.Join(dir, ManifestName)
	os.WriteFile(p, nil, 0o644)
	if m, err := ReadManifest(ctx, fs.Local{}, dir); m != nil || err != nil {
		t.Errorf("empty Hadoop marker: %v %v", m, err)
	}
	for _, bad := range []string{
		`not json`,
		`{"format": "parquet", "files": []}`,
		`{"version": 2, "format": "parquet", "files": []}`,
		`{"version": 1, "format": "orc", "files": []}`,
		`{"version": 1, "format": "csv", "files": [{"path": "../x.csv", "rows": 1, "bytes": 1}]}`,
		`{"version": 1, "format": "csv", "files": [{"path": "/x.csv", "rows": 1, "bytes": 1}]}`,
		`{"version": 1, "format": "csv", "files": [{"path": "a.csv", "rows": 1, "bytes": 1}, {"path": "a.csv", "rows": 1, "bytes": 1}]}`,
	} {
		os.WriteFile(p, []byte(bad), 0o644)
		if m, err := ReadManifest(ctx, fs.Local{}, dir); err == nil {
			t.Errorf("%s: accepted as %+v", bad, m)
		} else if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v does not name the file", bad, err)
		}
	}
	os.WriteFile(p, []byte(`{"version": 1, "format": "json", "files": [{"path": "k=1/a.json", "rows": 3, "bytes": 10}], "rows": 3, "job": "j", "written_at": "2025-01-02T03:04:05Z", "partition_by": [{"name": "k", "type": "DECIMAL(15,2)"}]}`), 0o644)
	m, err := ReadManifest(ctx, fs.Local{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Paths(dir + "/"); len(got) != 1 || got[0] != dir+"/k=1/a.json" {
		t.Errorf("Paths: %v", got)
	}
	ps, err := m.PartitionSchema()
	if err != nil || ps.Field(0).Type.(arrow.DecimalType).GetScale() != 2 {
		t.Errorf("partition schema %v %v", ps, err)
	}
}

func TestWriteOptionErrors(t *testing.T) {
	for _, tc := range []struct {
		f    Format
		opts map[string]string
	}{
		{Parquet, map[string]string{"header": "true"}},
		{Parquet, map[string]string{"compression": "lzo"}},
		{CSV, map[string]string{"row_group_size": "10"}},
		{CSV, map[string]string{"delimiter": "ab"}},
		{CSV, map[string]string{"delimiter": "|", "quote": "|"}},
		{JSON, map[string]string{"bogus": "1"}},
		{"orc", nil},
	} {
		if _, err := ParseWriteOptions(tc.f, tc.opts); err == nil {
			t.Errorf("%s %v accepted", tc.f, tc.opts)
		}
	}
	ctx := checkedCtx(t)
	spec := testSpec(t.TempDir(), CSV)
	nested := arrow.NewSchema([]arrow.Field{{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64)}}, nil)
	tw, err := NewTaskWriter(spec, nested, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Close(ctx); err == nil || !strings.Contains(err.Error(), "csv cannot hold column l") {
		t.Errorf("csv of a list column: %v", err)
	}
	tw.Abort(ctx)
	spec.PartitionBy = []PartitionColumn{{Name: "missing", Type: "INTEGER"}}
	if _, err := NewTaskWriter(spec, writeSchema, 0, 0); err == nil {
		t.Error("a missing partition column must fail")
	}
}

// TestWriteCancelledMidFile cancels a task's context while its files are
// open: Close fails with the context's error, Abort leaves nothing, and
// the encoders give back all their memory (checkedCtx) although their
// sink failed under them.
func TestWriteCancelledMidFile(t *testing.T) {
	for _, format := range []Format{Parquet, CSV, JSON} {
		for _, cancelAt := range []string{"before the first file", "before close"} {
			t.Run(fmt.Sprintf("%s/%s", format, cancelAt), func(t *testing.T) {
				ctx, cancel := context.WithCancel(checkedCtx(t))
				defer cancel()
				b := writeBatch(t, ctx)
				defer b.Release()
				dir := t.TempDir()
				spec := testSpec(dir, format)
				spec.PartitionBy = []PartitionColumn{{Name: "ok", Type: "BOOLEAN"}}
				tw, err := NewTaskWriter(spec, b.Schema(), 0, 0)
				if err != nil {
					t.Fatal(err)
				}
				for range 3 {
					if cancelAt == "before the first file" {
						cancel()
					}
					if err = tw.Write(ctx, b); err != nil {
						break
					}
				}
				if err == nil {
					cancel()
					_, err = tw.Close(ctx)
				}
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("error %v, want context.Canceled", err)
				}
				if err := tw.Abort(ctx); err != nil {
					t.Fatal(err)
				}
				if got := listAll(t, dir); len(got) != 0 {
					t.Errorf("abort left %v", got)
				}
			})
		}
	}
}

// TestResumeWrite: an append begun by one WriteJob is committed by
// another resumed from the first's Begun (through JSON, as a driver's
// successor gets it): the old dataset's files are kept, Landed tells the
// commit happened, and a second write's manifest is not taken for it.
func TestResumeWrite(t *testing.T) {
	ctx := checkedCtx(t)
	b := writeBatch(t, ctx)
	defer b.Release()
	dir := t.TempDir()
	first := writeAndCommit(t, ctx, testSpec(dir, CSV), b)
	spec := testSpec(dir, CSV)
	spec.Mode = ModeAppend
	began, err := BeginWrite(ctx, spec, "job-2")
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(began.Begun())
	if err != nil {
		t.Fatal(err)
	}
	tw, err := NewTaskWriter(spec, b.Schema(), 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	files, err := tw.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var bg WriteBegun
	if err := json.Unmarshal(data, &bg); err != nil {
		t.Fatal(err)
	}
	resumed, err := ResumeWrite(spec, "job-2", bg)
	if err != nil {
		t.Fatal(err)
	}
	if landed, err := resumed.Landed(ctx); err != nil || landed {
		t.Fatalf("Landed before the commit: %v, %v", landed, err)
	}
	m, err := resumed.Commit(ctx, [][]WrittenFile{files})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != len(first.Files)+len(files) || m.Files[0] != first.Files[0] {
		t.Fatalf("appended manifest %+v; first %+v", m.Files, first.Files)
	}
	if landed, err := resumed.Landed(ctx); err != nil || !landed {
		t.Fatalf("Landed after the commit: %v, %v", landed, err)
	}
	if landed, err := began.Landed(ctx); err != nil || !landed {
		t.Fatalf("the first WriteJob does not see the commit: %v, %v", landed, err)
	}
	other, err := ResumeWrite(spec, "job-3", bg)
	if err != nil {
		t.Fatal(err)
	}
	if landed, err := other.Landed(ctx); err != nil || landed {
		t.Fatalf("another write's Landed: %v, %v", landed, err)
	}
}
