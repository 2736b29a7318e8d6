package spill

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Manager creates spill files under one directory and removes them.
// Safe for concurrent use.
type Manager struct {
	parent string

	mu     sync.Mutex
	dir    string // created on first use
	files  map[string]struct{}
	closed bool

	written atomic.Int64 // bytes written to spill files, ever
	count   atomic.Int64 // spill files created, ever
}

// NewManager returns a manager that creates a fresh directory under parent
// ("" means os.TempDir()) when the first file is spilled.
func NewManager(parent string) *Manager {
	return &Manager{parent: parent, files: map[string]struct{}{}}
}

// BytesWritten is the total size of the spill files written so far.
func (m *Manager) BytesWritten() int64 { return m.written.Load() }

// Files is the number of spill files created so far.
func (m *Manager) Files() int64 { return m.count.Load() }

// Dir is the manager's directory ("" before the first spill).
func (m *Manager) Dir() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dir
}

// Close removes every spill file and the directory. Files still open for
// reading stay readable until closed (on Unix). Idempotent.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.files = map[string]struct{}{}
	if m.dir == "" {
		return nil
	}
	dir := m.dir
	m.dir = ""
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("spill: remove %s: %w", dir, err)
	}
	return nil
}

func (m *Manager) newPath(what string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return "", errors.New("spill: manager closed (query ended)")
	}
	if m.dir == "" {
		parent := m.parent
		if parent == "" {
			parent = os.TempDir()
		}
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return "", fmt.Errorf("spill: %w", err)
		}
		dir, err := os.MkdirTemp(parent, "flint-spill-")
		if err != nil {
			return "", fmt.Errorf("spill: %w", err)
		}
		m.dir = dir
	}
	n := m.count.Add(1)
	path := filepath.Join(m.dir, fmt.Sprintf("%06d-%s.arrow", n, what))
	m.files[path] = struct{}{}
	return path, nil
}

func (m *Manager) forget(path string) {
	m.mu.Lock()
	delete(m.files, path)
	m.mu.Unlock()
	os.Remove(path)
}

// Create starts a spill file for batches of schema. what names the file's
// content in its name (e.g. "sort-run"). mem (nil: the Go allocator) is
// used for compression buffers.
func (m *Manager) Create(what string, schema *arrow.Schema, mem memory.Allocator) (*Writer, error) {
	path, err := m.newPath(what)
	if err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		m.forget(path)
		return nil, fmt.Errorf("spill: %w", err)
	}
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	w := &Writer{m: m, path: path, f: f, schema: schema, mem: mem}
	w.buf = bufio.NewWriterSize(f, 256<<10)
	w.cw.w = w.buf
	w.iw = ipc.NewWriter(&w.cw, ipc.WithSchema(schema), ipc.WithAllocator(mem), ipc.WithLZ4())
	return w, nil
}

// Writer appends batches to one spill file. Used by one goroutine.
type Writer struct {
	m      *Manager
	path   string
	f      *os.File
	buf    *bufio.Writer
	cw     countingWriter
	iw     *ipc.Writer
	schema *arrow.Schema
	mem    memory.Allocator
	rows   int64
	done   bool

	coalesceRows int64
	pending      []arrow.RecordBatch
	pendingRows  int64
	pendingBytes int64
}

// coalesceBytes bounds what a writer gathering small batches holds.
const coalesceBytes = 256 << 10

// GatherUpTo makes the writer gather batches smaller than rows/2 into
// batches of up to rows rows (and about 256 KiB) before encoding them:
// every IPC record batch costs its metadata and an LZ4 frame per buffer,
// which dominates for the few-hundred-row pieces a partitioning spill
// writes. Readers then get batches of up to rows rows. Off (0) by default.
func (w *Writer) GatherUpTo(rows int) { w.coalesceRows = int64(rows) }

// Write appends b (not released; the writer may keep a reference until
// the next Write or Finish).
func (w *Writer) Write(b arrow.RecordBatch) error {
	if w.done {
		return errors.New("spill: write after finish")
	}
	if b.NumRows() == 0 {
		return nil
	}
	w.rows += b.NumRows()
	if w.coalesceRows <= 0 || (len(w.pending) == 0 && b.NumRows() >= w.coalesceRows/2) {
		return w.encode(b)
	}
	b.Retain()
	w.pending = append(w.pending, b)
	w.pendingRows += b.NumRows()
	w.pendingBytes += BatchBytes(b)
	if w.pendingRows >= w.coalesceRows || w.pendingBytes >= coalesceBytes {
		return w.flush()
	}
	return nil
}

func (w *Writer) encode(b arrow.RecordBatch) error {
	if err := w.iw.Write(b); err != nil {
		return fmt.Errorf("spill: write %s: %w", w.path, err)
	}
	return nil
}

// flush encodes the gathered batches as one.
func (w *Writer) flush() error {
	bs := w.pending
	w.pending, w.pendingRows, w.pendingBytes = nil, 0, 0
	defer func() {
		for _, b := range bs {
			b.Release()
		}
	}()
	switch len(bs) {
	case 0:
		return nil
	case 1:
		return w.encode(bs[0])
	}
	cols := make([]arrow.Array, w.schema.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	parts := make([]arrow.Array, len(bs))
	for i := range cols {
		for j, b := range bs {
			parts[j] = b.Column(i)
		}
		c, err := array.Concatenate(parts, w.mem)
		if err != nil {
			return fmt.Errorf("spill: write %s: %w", w.path, err)
		}
		cols[i] = c
	}
	merged := array.NewRecordBatch(w.schema, cols, w.pendingRowsOf(bs))
	defer merged.Release()
	return w.encode(merged)
}

func (w *Writer) pendingRowsOf(bs []arrow.RecordBatch) int64 {
	var n int64
	for _, b := range bs {
		n += b.NumRows()
	}
	return n
}

// Rows is the number of rows written so far.
func (w *Writer) Rows() int64 { return w.rows }

// Bytes is the number of bytes written so far (before buffering).
func (w *Writer) Bytes() int64 { return w.cw.n }

// Finish closes the file and returns it for reading.
func (w *Writer) Finish() (*File, error) {
	if w.done {
		return nil, errors.New("spill: finish twice")
	}
	err := w.flush()
	w.done = true
	if cerr := w.iw.Close(); err == nil {
		err = cerr
	}
	if ferr := w.buf.Flush(); err == nil {
		err = ferr
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		w.m.forget(w.path)
		return nil, fmt.Errorf("spill: finish %s: %w", w.path, err)
	}
	w.m.written.Add(w.cw.n)
	return &File{m: w.m, path: w.path, schema: w.schema, rows: w.rows, size: w.cw.n}, nil
}

// Abort closes and removes the file. A no-op after Finish.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	for _, b := range w.pending {
		b.Release()
	}
	w.pending = nil
	w.iw.Close()
	w.f.Close()
	w.m.forget(w.path)
}

// File is a finished spill file.
type File struct {
	m      *Manager
	path   string
	schema *arrow.Schema
	rows   int64
	size   int64
}

// Rows is the number of rows in the file.
func (f *File) Rows() int64 { return f.rows }

// Size is the file's size in bytes.
func (f *File) Size() int64 { return f.size }

// Schema is the schema of the file's batches.
func (f *File) Schema() *arrow.Schema { return f.schema }

// Open starts reading the file from the beginning; batches are decoded
// with mem (nil: the Go allocator). A file can be open several times.
func (f *File) Open(mem memory.Allocator) (*Reader, error) {
	fh, err := os.Open(f.path)
	if err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	r := &Reader{f: fh, path: f.path}
	rd, err := ipc.NewReader(bufio.NewReaderSize(fh, 256<<10), ipc.WithAllocator(mem), ipc.WithSchema(f.schema))
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("spill: read %s: %w", f.path, err)
	}
	r.rd = rd
	return r, nil
}

// Remove deletes the file. Readers already open keep reading it.
func (f *File) Remove() {
	if f != nil && f.path != "" {
		f.m.forget(f.path)
		f.path = ""
	}
}

// Reader reads a spill file's batches in order. Used by one goroutine.
type Reader struct {
	f    *os.File
	path string
	rd   *ipc.Reader
}

// Next returns the next batch (owned by the caller) or nil at the end.
func (r *Reader) Next() (arrow.RecordBatch, error) {
	if r.rd == nil {
		return nil, nil
	}
	if r.rd.Next() {
		b := r.rd.RecordBatch()
		b.Retain()
		return b, nil
	}
	if err := r.rd.Err(); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("spill: read %s: %w", r.path, err)
	}
	return nil, nil
}

// Close closes the file. Idempotent.
func (r *Reader) Close() {
	if r.rd != nil {
		r.rd.Release()
		r.rd = nil
	}
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type managerKey struct{}

// WithManager returns a context whose operators spill through m.
func WithManager(ctx context.Context, m *Manager) context.Context {
	return context.WithValue(ctx, managerKey{}, m)
}

// fallback serves contexts without a manager (tests of single operators).
var fallback = NewManager("")

// FromContext returns the manager of ctx, or a process-wide one under
// os.TempDir().
func FromContext(ctx context.Context) *Manager {
	if m, ok := ctx.Value(managerKey{}).(*Manager); ok && m != nil {
		return m
	}
	return fallback
}

// BatchBytes is what holding b costs: the bytes of its Arrow buffers that
// its rows use. A slice is charged its share, not its parents' whole
// buffers (which it keeps alive, but so do the other slices of the same
// batch, each charged its share), so the slices of one batch add up to
// about the batch.
func BatchBytes(b arrow.RecordBatch) int64 {
	var n int64
	for _, c := range b.Columns() {
		n += usedBytes(c.Data())
	}
	return n
}

// usedBytes is DataBytes for the rows of d alone, for the common layouts
// (fixed width, boolean, strings and binary); others count whole buffers.
func usedBytes(d arrow.ArrayData) int64 {
	if d == nil {
		return 0
	}
	bufs := d.Buffers()
	n, off := int64(d.Len()), int64(d.Offset())
	bitmap := func() int64 {
		if len(bufs) > 0 && bufs[0] != nil {
			return min(int64(bufs[0].Len()), (n+7)/8)
		}
		return 0
	}
	switch t := d.DataType().(type) {
	case arrow.FixedWidthDataType:
		if len(bufs) != 2 || bufs[1] == nil {
			break
		}
		if t.ID() == arrow.BOOL {
			return bitmap() + min(int64(bufs[1].Len()), (n+7)/8)
		}
		return bitmap() + min(int64(bufs[1].Len()), n*int64(t.BitWidth()/8))
	case *arrow.StringType, *arrow.BinaryType:
		if len(bufs) != 3 || bufs[1] == nil || n == 0 {
			break
		}
		offs := arrow.Int32Traits.CastFromBytes(bufs[1].Bytes())
		if int64(len(offs)) < off+n+1 {
			break
		}
		data := int64(offs[off+n] - offs[off])
		return bitmap() + (n+1)*4 + data
	case *arrow.LargeStringType, *arrow.LargeBinaryType:
		if len(bufs) != 3 || bufs[1] == nil || n == 0 {
			break
		}
		offs := arrow.Int64Traits.CastFromBytes(bufs[1].Bytes())
		if int64(len(offs)) < off+n+1 {
			break
		}
		return bitmap() + (n+1)*8 + (offs[off+n] - offs[off])
	}
	return DataBytes(d)
}

// DataBytes sums the lengths of the buffers of d, its children and its
// dictionary.
func DataBytes(d arrow.ArrayData) int64 {
	if d == nil {
		return 0
	}
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += DataBytes(c)
	}
	if d.DataType().ID() == arrow.DICTIONARY {
		n += DataBytes(d.Dictionary())
	}
	return n
}
