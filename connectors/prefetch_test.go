package connectors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/connectors/fs"
)

// remoteFS is the local filesystem under the scheme "remote://", seen by
// the connectors as non-local storage (so reads are planned and
// prefetched), counting the ReadAt calls that reach the files.
type remoteFS struct {
	reads, bytes atomic.Int64
}

func (r *remoteFS) local(p string) string { return strings.TrimPrefix(p, "remote://") }

func (r *remoteFS) Open(ctx context.Context, p string) (fs.File, error) {
	f, err := fs.Local{}.Open(ctx, r.local(p))
	if err != nil {
		return nil, err
	}
	return &countingFile{File: f, fs: r, name: p}, nil
}

func (r *remoteFS) Stat(ctx context.Context, p string) (fs.FileInfo, error) {
	fi, err := fs.Local{}.Stat(ctx, r.local(p))
	fi.Path = p
	return fi, err
}

func (r *remoteFS) List(ctx context.Context, dir string) ([]fs.FileInfo, error) {
	fis, err := fs.Local{}.List(ctx, r.local(dir))
	for i := range fis {
		fis[i].Path = "remote://" + fis[i].Path
	}
	return fis, err
}

type countingFile struct {
	fs.File
	fs   *remoteFS
	name string
}

func (c *countingFile) Name() string { return c.name }

func (c *countingFile) ReadAt(p []byte, off int64) (int, error) {
	c.fs.reads.Add(1)
	n, err := c.File.ReadAt(p, off)
	c.fs.bytes.Add(int64(n))
	return n, err
}

var remote = &remoteFS{}

func init() { fs.Register("remote", remote) }

// TestParquetRemoteMatchesLocal reads the same files through the planned,
// prefetching path and the local path: results must be identical, and
// every read of the decoder must be served from the prefetched blocks.
func TestParquetRemoteMatchesLocal(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.parquet")
	writeTestParquet(t, path, false)
	lineitem, err := filepath.Abs("../testdata/tpch/sf-sample/lineitem.parquet")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path string
		cols []int
		// reads is how many ReadAt calls one split (all row groups) may
		// make: the chunks of a small file merge into one request.
		reads int64
	}{
		{path, nil, 1},
		{path, []int{3, 0, 6}, 1},
		{path, []int{1, 1, 2}, 1},
		{path, []int{8}, 1},
		{lineitem, nil, 1},
		{lineitem, []int{4, 10}, 2}, // l_quantity and l_shipdate lie 400 KB apart
	}
	for _, tc := range cases {
		for _, batch := range []int{3, 1024} {
			if batch < 1024 && tc.path == lineitem {
				continue
			}
			t.Run(fmt.Sprintf("%s/%v/batch=%d", filepath.Base(tc.path), tc.cols, batch), func(t *testing.T) {
				ctx := checkedCtx(t)
				local, err := Open(ctx, Parquet, tc.path, nil)
				if err != nil {
					t.Fatal(err)
				}
				before := remote.reads.Load()
				src, err := Open(ctx, Parquet, "remote://"+tc.path, nil)
				if err != nil {
					t.Fatal(err)
				}
				if n := remote.reads.Load() - before; n != 1 {
					t.Errorf("footer took %d reads, want 1", n)
				}
				want := readAll(t, ctx, local, tc.cols, batch, 1)
				defer release(want)
				splits, err := src.Splits(ctx, nil, 1)
				if err != nil {
					t.Fatal(err)
				}
				var got []arrow.RecordBatch
				for _, sp := range splits {
					before := remote.reads.Load()
					recs, err := readSplit(t, ctx, src, sp, tc.cols, batch)
					if err != nil {
						t.Fatal(err)
					}
					defer release(recs)
					got = append(got, recs...)
					if n := remote.reads.Load() - before; n > tc.reads*int64(len(sp.RowGroups)) {
						t.Errorf("split %v: %d reads reached the file, want at most %d per row group", sp.RowGroups, n, tc.reads)
					}
				}
				if !reflect.DeepEqual(rowsOf(got), rowsOf(want)) {
					t.Fatal("rows differ between the remote and local paths")
				}
			})
		}
	}
	// Row-range splits of one row group (cut for parallelism) read through
	// the prefetcher too.
	ctx := checkedCtx(t)
	src, err := Open(ctx, Parquet, "remote://"+lineitem, map[string]string{"min_split_rows": "1000"})
	if err != nil {
		t.Fatal(err)
	}
	all := readAll(t, ctx, src, []int{0, 15}, 4096, 4)
	defer release(all)
	n := 0
	for _, r := range all {
		n += int(r.NumRows())
	}
	if n != 60175 {
		t.Errorf("row-range splits read %d rows, want 60175", n)
	}
}

func TestPlanBlocks(t *testing.T) {
	const K, M = 1 << 10, 1 << 20
	type blk struct{ off, end, need int64 }
	cases := []struct {
		name   string
		ranges []byteRange
		want   []blk
	}{
		{"empty", nil, nil},
		{"one", []byteRange{{100, 50}}, []blk{{100, 150, 50}}},
		{"small hole merges", []byteRange{{0, 10 * K}, {20 * K, 10 * K}}, []blk{{0, 30 * K, 20 * K}}},
		{"large hole splits", []byteRange{{0, 10 * K}, {10*K + 65*K, 10 * K}}, []blk{{0, 10 * K, 10 * K}, {75 * K, 85 * K, 10 * K}}},
		{"unsorted and overlapping", []byteRange{{50, 100}, {0, 100}, {60, 10}}, []blk{{0, 150, 150}}},
		{"large range cut into parts", []byteRange{{0, 20 * M}}, []blk{{0, 8 * M, 8 * M}, {8 * M, 16 * M, 8 * M}, {16 * M, 20 * M, 4 * M}}},
		{"group stops at part size", []byteRange{{0, 6 * M}, {6*M + K, 3 * M}}, []blk{{0, 6 * M, 6 * M}, {6*M + K, 9*M + K, 3 * M}}},
		{"clipped to the file", []byteRange{{30 * M, 10}, {-5, 10}}, []blk{{0, 10, 10}}},
	}
	for _, tc := range cases {
		var got []blk
		for _, b := range planBlocks(tc.ranges, 30*M) {
			got = append(got, blk{b.off, b.end, b.need})
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

// writeRandom writes n random bytes to a temp file and returns its remote
// path and contents.
func writeRandom(t *testing.T, n int) (string, []byte) {
	t.Helper()
	data := make([]byte, n)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	p := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return "remote://" + p, data
}

func TestPrefetcherReads(t *testing.T) {
	const M = 1 << 20
	path, data := writeRandom(t, 20*M)
	f, err := remote.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ranges := []byteRange{{0, 3 * M}, {3*M + 10_000, 2 * M}, {6 * M, 9 * M}, {16 * M, 100}}
	before := remote.reads.Load()
	p := newPrefetcher(f, ranges, nil)
	defer p.Close()
	read := func(off, n int64) {
		t.Helper()
		buf := make([]byte, n)
		if got, err := p.ReadAt(buf, off); got != int(n) || err != nil || !bytes.Equal(buf, data[off:off+n]) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v (bytes equal %v)", off, n, got, err, bytes.Equal(buf, data[off:off+n]))
		}
	}
	// Planned reads, one spanning two parts of the 9 MiB range, in
	// parallel.
	var wg sync.WaitGroup
	for _, r := range [][2]int64{{0, 3 * M}, {3*M + 10_000, 2 * M}, {6 * M, 9 * M}, {16 * M, 100}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			read(r[0], r[1])
		}()
	}
	wg.Wait()
	// 4 blocks: [0, 5M+10K) merged, the 9 MiB range cut in two, the tail.
	if n := remote.reads.Load() - before; n != 4 {
		t.Errorf("%d reads reached the file, want 4 (one per block)", n)
	}
	p.mu.Lock()
	held := p.held
	p.mu.Unlock()
	if held != 0 {
		t.Errorf("%d bytes still held after every planned byte was read", held)
	}
	// Reads outside the plan, or of consumed blocks, go to the file.
	before = remote.reads.Load()
	read(19*M, 1000)
	read(100, 1000)
	if n := remote.reads.Load() - before; n != 2 {
		t.Errorf("%d direct reads, want 2", n)
	}
}

// failingFile fails reads at or after off.
type failingFile struct {
	fs.File
	off int64
}

var errInjected = errors.New("injected read failure")

func (f *failingFile) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.off {
		return 0, errInjected
	}
	return f.File.ReadAt(p, off)
}

// blockingFile blocks reads until its context is cancelled.
type blockingFile struct {
	fs.File
	ctx     context.Context
	started chan struct{}
	once    sync.Once
}

func (f *blockingFile) ReadAt(p []byte, off int64) (int, error) {
	f.once.Do(func() { close(f.started) })
	<-f.ctx.Done()
	return 0, f.ctx.Err()
}

func TestPrefetcherFailures(t *testing.T) {
	path, _ := writeRandom(t, 1<<20)
	f, err := remote.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := newPrefetcher(&failingFile{File: f, off: 500_000}, []byteRange{{0, 1000}, {600_000, 1000}}, nil)
	buf := make([]byte, 1000)
	if _, err := p.ReadAt(buf, 0); err != nil {
		t.Errorf("good block: %v", err)
	}
	if _, err := p.ReadAt(buf, 600_000); !errors.Is(err, errInjected) {
		t.Errorf("failed block: %v, want the read error", err)
	}
	p.Close()
	if _, err := p.ReadAt(buf, 0); err == nil {
		t.Error("read after Close must fail")
	}

	// Close cancels requests in flight and waits for them.
	ctx, cancel := context.WithCancel(context.Background())
	bf := &blockingFile{File: f, ctx: ctx, started: make(chan struct{})}
	p = newPrefetcher(bf, []byteRange{{0, 1000}}, cancel)
	<-bf.started
	done := make(chan struct{})
	go func() {
		p.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return with a request in flight")
	}
}

func TestTailReader(t *testing.T) {
	path, data := writeRandom(t, 200_000)
	f, err := remote.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := newTailReader(f)
	before := remote.reads.Load()
	for _, r := range [][2]int{{200_000 - 8, 8}, {200_000 - 5000, 4992}, {100_000, 100}} {
		buf := make([]byte, r[1])
		if n, err := tr.ReadAt(buf, int64(r[0])); n != r[1] || (err != nil && err != io.EOF) || !bytes.Equal(buf, data[r[0]:r[0]+r[1]]) {
			t.Errorf("ReadAt(%d, %d) = %d, %v", r[0], r[1], n, err)
		}
	}
	if n := remote.reads.Load() - before; n != 2 {
		t.Errorf("%d reads, want 2 (the tail once, and one read before it)", n)
	}
	buf := make([]byte, 100)
	if n, err := tr.ReadAt(buf, 200_000-50); n != 50 || err != io.EOF {
		t.Errorf("read over the end: %d, %v", n, err)
	}
	if n, err := tr.ReadAt(buf, 300_000); n != 0 || err != io.EOF {
		t.Errorf("read past the end: %d, %v", n, err)
	}
}
