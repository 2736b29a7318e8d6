package flint_test

import (
	"context"
	iofs "io/fs"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/internal/clustertest"
)

// TestWriteCluster: a partitioned write on a driver and two executor
// processes, one of which is SIGKILLed while files are being written. The
// killed executor's attempts run again on the other; the committed
// dataset holds every source row exactly once and its directory nothing
// but the manifest's files (the killed attempts' half-written files are
// swept).
func TestWriteCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts OS processes")
	}
	c := clustertest.Start(t, clustertest.Options{Executors: 2, HeartbeatTimeout: 2 * time.Second})
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s, err := flint.NewSession(ctx, flint.WithDriver(c.Addr()), flint.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Many small splits: many write tasks, spread over both executors.
	if err := s.RegisterTable(ctx, "lineitem", "parquet", filepath.Join(sampleDir, "lineitem.parquet"), map[string]string{"min_split_rows": "1500"}); err != nil {
		t.Fatal(err)
	}
	_, src := pqRows(t, filepath.Join(sampleDir, "lineitem.parquet"))
	want := make([]string, len(src))
	for i, r := range src {
		c := strings.Split(r, "|")
		// The files hold every column but l_returnflag (index 8), which
		// is the folder; put it last, as the check below reads them.
		want[i] = strings.Join(append(append(append([]string{}, c[:8]...), c[9:]...), c[8]), "|")
	}

	dir := filepath.Join(t.TempDir(), "lineitem")
	var killed atomic.Bool
	done := make(chan struct{})
	go func() {
		// Kill executor 0 as soon as a file is being written.
		for {
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
			writing := false
			filepath.WalkDir(dir, func(p string, d iofs.DirEntry, err error) error {
				if err == nil && strings.Contains(d.Name(), ".inprogress-") {
					writing = true
				}
				return nil
			})
			if writing {
				c.Executor(0).Kill()
				killed.Store(true)
				return
			}
		}
	}()
	res, err := s.Table("lineitem").Write().PartitionBy("l_returnflag").Save(ctx, dir)
	close(done)
	if err != nil {
		t.Fatal(err)
	}
	if !killed.Load() {
		t.Fatal("the executor was not killed while the write ran")
	}
	m := committed(t, dir)
	var got []string
	for _, f := range m.Files {
		folder := f.Path[:strings.LastIndex(f.Path, "/")]
		_, rows := pqRows(t, filepath.Join(dir, f.Path), strings.TrimPrefix(folder, "l_returnflag="))
		got = append(got, rows...)
	}
	sameRows(t, "cluster write", got, want)
	if res.Rows != int64(len(want)) || res.Files != int64(len(m.Files)) {
		t.Errorf("result %+v; manifest %d files", res, len(m.Files))
	}
}
