package driver_test

import (
	"context"
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"go.uber.org/goleak"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/connectors/fs"
	"github.com/flint-engine/flint/driver"
	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/plan"
	"github.com/flint-engine/flint/planner"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const lineitem = "../testdata/tpch/sf-sample/lineitem.parquet"

// writePlan compiles "write every row of lineitem" (cut into several
// splits, so into several tasks) as a write of spec.
func writePlan(t *testing.T, spec *connectors.WriteSpec) *planner.Compiled {
	t.Helper()
	opts := map[string]string{"min_split_rows": "8000"}
	src, err := connectors.Open(context.Background(), connectors.Parquet, lineitem, opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := &plan.TableSource{Name: "lineitem", Format: "parquet", Location: lineitem, Options: opts, Schema: src.Schema(), RowCount: src.Stats().RowCount}
	var ids plan.IDGen
	sc := &plan.Scan{Source: ts}
	for i, f := range src.Schema().Fields() {
		sc.Cols = append(sc.Cols, i)
		sc.Out = append(sc.Out, ids.NewColumn(f.Name, "", f.Type, f.Nullable))
	}
	c, err := planner.Compile(sc, &ids, planner.Options{Partitions: 4, BroadcastRows: 1e6, Write: spec})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// orderKeys reads the (l_orderkey, l_linenumber) pairs of Parquet files
// with arrow-go's reader.
func orderKeys(t *testing.T, paths ...string) []string {
	t.Helper()
	var out []string
	for _, p := range paths {
		rdr, err := file.OpenParquetFile(p, false)
		if err != nil {
			t.Fatal(err)
		}
		fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 8192}, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		tbl, err := fr.ReadTable(context.Background())
		rdr.Close()
		if err != nil {
			t.Fatal(err)
		}
		keys := tbl.Column(0).Data().Chunks()
		lines := tbl.Column(3).Data().Chunks()
		for i := range keys {
			k, l := keys[i].(*array.Int64), lines[i].(*array.Int64)
			for r := 0; r < k.Len(); r++ {
				out = append(out, k.ValueStr(r)+"/"+l.ValueStr(r))
			}
		}
		tbl.Release()
	}
	sort.Strings(out)
	return out
}

// listAll lists every file under dir, hidden ones included.
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

// TestWriteFaults: attempt 0 of one task fails after completing a file,
// attempt 0 of another fails mid-file, and every task that succeeds runs
// a duplicate successful attempt. The committed dataset must hold every
// source row exactly once and the directory exactly the manifest's files.
func TestWriteFaults(t *testing.T) {
	want := orderKeys(t, lineitem)
	dir := t.TempDir()
	spec := &connectors.WriteSpec{Format: connectors.Parquet, Location: dir, Mode: connectors.ModeOverwrite,
		PartitionBy: []connectors.PartitionColumn{{Name: "l_returnflag", Type: "VARCHAR"}}, WriteID: connectors.NewWriteID()}
	c := writePlan(t, spec)
	tasks := 0
	var mu sync.Mutex
	failed := map[string]bool{}
	restore := connectors.SetWriteHook(func(ev connectors.WriteEvent) error {
		if ev.WriteID != spec.WriteID || ev.Attempt != 0 {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		tasks = max(tasks, ev.Task+1)
		switch {
		case ev.Task == 1 && ev.Point == "file":
			failed["after a file"] = true
			return errors.New("injected: task 1 dies after completing a file")
		case ev.Task == 2 && ev.Point == "batch" && ev.Rows > 1000:
			failed["mid-file"] = true
			return errors.New("injected: task 2 dies mid-file")
		}
		return nil
	})
	defer restore()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	ctx := exec.WithAllocator(context.Background(), mem)
	d := driver.NewLocal(3)
	driver.SetDuplicateWrites(d, true)
	m, err := d.ExecuteWrite(ctx, c.Stages)
	if err != nil {
		t.Fatal(err)
	}
	mem.AssertSize(t, 0)
	if !failed["after a file"] || !failed["mid-file"] || tasks < 4 {
		t.Fatalf("the faults did not fire (%v) or too few tasks (%d)", failed, tasks)
	}
	listed := listAll(t, dir)
	var inManifest []string
	for _, f := range m.Files {
		inManifest = append(inManifest, f.Path)
		if !strings.Contains(f.Path, "-1-") && strings.HasPrefix(filepath.Base(f.Path), "part-00001-") {
			t.Errorf("task 1's committed file %s is not from attempt 1", f.Path)
		}
	}
	inManifest = append(inManifest, connectors.ManifestName)
	sort.Strings(inManifest)
	if !reflect.DeepEqual(listed, inManifest) {
		t.Errorf("directory holds %v\nmanifest lists %v", listed, inManifest)
	}
	got := orderKeys(t, m.Paths(dir)...)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("committed dataset has %d rows, source %d (duplicates or losses)", len(got), len(want))
	}
	back, err := connectors.ReadManifest(ctx, fs.Local{}, dir)
	if err != nil || !reflect.DeepEqual(back.Files, m.Files) {
		t.Errorf("manifest on disk %+v, %v", back, err)
	}
}

// TestWriteFailsCleanly: a task that fails on every attempt fails the
// write; nothing it or the other tasks wrote is left, and the target's
// previous dataset stands.
func TestWriteFailsCleanly(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "old.csv"), []byte("a\n1\n"), 0o644)
	spec := &connectors.WriteSpec{Format: connectors.CSV, Location: dir, Mode: connectors.ModeOverwrite, WriteID: connectors.NewWriteID()}
	c := writePlan(t, spec)
	restore := connectors.SetWriteHook(func(ev connectors.WriteEvent) error {
		if ev.WriteID == spec.WriteID && ev.Task == 3 && ev.Point == "batch" {
			return errors.New("injected: disk full")
		}
		return nil
	})
	defer restore()
	d := driver.NewLocal(3)
	d.WriteAttempts = 2
	_, err := d.ExecuteWrite(context.Background(), c.Stages)
	if err == nil || !strings.Contains(err.Error(), "injected: disk full") || !strings.Contains(err.Error(), "failed 2 times") {
		t.Fatalf("error %v", err)
	}
	if got := listAll(t, dir); !reflect.DeepEqual(got, []string{"old.csv"}) {
		t.Errorf("after the failed write the directory holds %v", got)
	}

	// A cancelled write leaves nothing either.
	ctx, cancel := context.WithCancel(context.Background())
	spec.WriteID = connectors.NewWriteID()
	restore2 := connectors.SetWriteHook(func(ev connectors.WriteEvent) error {
		if ev.WriteID == spec.WriteID && ev.Point == "batch" {
			cancel()
		}
		return nil
	})
	defer restore2()
	c = writePlan(t, spec)
	if _, err := d.ExecuteWrite(ctx, c.Stages); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled write: %v", err)
	}
	if got := listAll(t, dir); !reflect.DeepEqual(got, []string{"old.csv"}) {
		t.Errorf("after the cancelled write the directory holds %v", got)
	}
}
