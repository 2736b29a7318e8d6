package shuffle

import (
	"context"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/mempool"
	"github.com/flint-engine/flint/spill"
)

// LocalStore serves local mode. A task's output stays in memory, as the
// operators produced it, while the exchanges of the query together hold
// less than their share of memory (reserved from the query's pool as
// "exchange buffers"); a task whose output does not fit streams it to
// Arrow IPC files (LZ4) in the work dir instead, and readers decode it
// back batch by batch. Safe for concurrent use.
type LocalStore struct {
	files    *FileStore
	res      *mempool.Reservation
	memLimit int64

	mu        sync.Mutex
	memUsed   int64
	spilled   int64
	exchanges map[int]map[int]*localOutput // exchange -> task -> committed output
	readOnce  map[int]bool                 // ReadOnce
}

// localOutput is one task's committed output: in memory, or in files.
type localOutput struct {
	parts [][]arrow.RecordBatch
	bytes int64
	file  *MapOutputID
}

// NewLocalStore returns a store whose spilled outputs go under
// <workDir>/<job>. Outputs are kept in memory while the store holds less
// than memLimit bytes and pool grants them.
func NewLocalStore(workDir, job string, pool *mempool.Pool, memLimit int64) (*LocalStore, error) {
	files, err := NewFileStore(workDir, job)
	if err != nil {
		return nil, err
	}
	return &LocalStore{files: files, res: pool.Register("exchange buffers", false), memLimit: memLimit,
		exchanges: map[int]map[int]*localOutput{}, readOnce: map[int]bool{}}, nil
}

// ReadOnce declares that each partition of exchange is opened once (one
// reader of the exchange, one task per partition, no retries): Open then
// hands the partition's in-memory batches over to its stream, which
// frees each once its reader is done with it, instead of keeping them
// until Drop.
func (s *LocalStore) ReadOnce(exchange int) {
	s.mu.Lock()
	s.readOnce[exchange] = true
	s.mu.Unlock()
}

// reserve takes n bytes of the in-memory share, if they fit.
func (s *LocalStore) reserve(n int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.memUsed+n > s.memLimit || s.res.TryGrow(n) != nil {
		return false
	}
	s.memUsed += n
	return true
}

func (s *LocalStore) unreserve(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.memUsed -= n
	s.res.Shrink(n)
}

// SpilledBytes is the size of the exchange files written so far.
func (s *LocalStore) SpilledBytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.spilled
}

// Create implements Store.
func (s *LocalStore) Create(ctx context.Context, exchange, task, partitions int) (Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &localWriter{s: s, exchange: exchange, task: task, n: partitions, parts: make([][]arrow.RecordBatch, partitions)}, nil
}

type localWriter struct {
	s        *LocalStore
	exchange int
	task     int
	n        int // partitions
	parts    [][]arrow.RecordBatch
	bytes    int64
	fw       *FileStoreWriter
	done     bool
}

func (w *localWriter) Write(ctx context.Context, p int, b arrow.RecordBatch) error {
	if w.done {
		b.Release()
		return errWriterDone
	}
	if p < 0 || p >= w.n {
		b.Release()
		return fmt.Errorf("shuffle: exchange %d task %d: partition %d out of range (count %d)", w.exchange, w.task, p, w.n)
	}
	if w.fw == nil {
		n := spill.BatchBytes(b)
		if w.s.reserve(n) {
			w.parts[p] = append(w.parts[p], b)
			w.bytes += n
			return nil
		}
		if err := w.toFile(ctx); err != nil {
			b.Release()
			return err
		}
	}
	return w.fw.Write(ctx, p, b)
}

// toFile moves what the writer holds into a file writer, which takes the
// rest of the output.
func (w *localWriter) toFile(ctx context.Context) error {
	fw, err := w.s.files.Create(ctx, w.exchange, w.task, w.n)
	if err != nil {
		return err
	}
	w.fw = fw.(*FileStoreWriter)
	parts := w.parts
	w.parts = nil
	defer func() {
		releaseParts(parts)
		w.s.unreserve(w.bytes)
		w.bytes = 0
	}()
	for p, bs := range parts {
		for i, b := range bs {
			bs[i] = nil
			if err := w.fw.Write(ctx, p, b); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *localWriter) Commit(ctx context.Context) error {
	if w.done {
		return errWriterDone
	}
	if err := ctx.Err(); err != nil {
		w.Abort()
		return err
	}
	out := &localOutput{parts: w.parts, bytes: w.bytes}
	if w.fw != nil {
		if err := w.fw.Commit(ctx); err != nil {
			w.Abort()
			return err
		}
		id := w.fw.id
		out = &localOutput{file: &id}
		w.s.mu.Lock()
		w.s.spilled += w.fw.Bytes()
		w.s.mu.Unlock()
	}
	w.done = true
	w.parts, w.bytes = nil, 0
	w.s.mu.Lock()
	tasks := w.s.exchanges[w.exchange]
	if tasks == nil {
		tasks = map[int]*localOutput{}
		w.s.exchanges[w.exchange] = tasks
	}
	old := tasks[w.task]
	tasks[w.task] = out
	w.s.mu.Unlock()
	if old != nil {
		w.s.release(old)
	}
	return nil
}

func (w *localWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	releaseParts(w.parts)
	w.parts = nil
	w.s.unreserve(w.bytes)
	w.bytes = 0
	if w.fw != nil {
		w.fw.Abort()
	}
}

// release frees an output no longer visible to readers.
func (s *LocalStore) release(o *localOutput) {
	releaseParts(o.parts)
	s.unreserve(o.bytes)
	// Files of an exchange go with the exchange (Drop).
}

// Open implements Store.
func (s *LocalStore) Open(ctx context.Context, exchange, partition int) ([]Stream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tasks := s.exchanges[exchange]
	maxTask := -1
	for t := range tasks {
		maxTask = max(maxTask, t)
	}
	out := make([]Stream, 0, len(tasks))
	for t := 0; t <= maxTask; t++ {
		o, ok := tasks[t]
		if !ok {
			continue
		}
		if o.file != nil {
			out = append(out, OpenLocal(s.files.workDir, *o.file, partition, nil))
			continue
		}
		if partition >= len(o.parts) {
			for _, st := range out {
				st.Close()
			}
			return nil, fmt.Errorf("shuffle: exchange %d has %d partitions, partition %d requested", exchange, len(o.parts), partition)
		}
		if s.readOnce[exchange] {
			bs := o.parts[partition]
			o.parts[partition] = nil
			var n int64
			for _, b := range bs {
				n += spill.BatchBytes(b)
			}
			o.bytes -= n // the stream gives them back
			out = append(out, &handoverStream{s: s, batches: bs})
			continue
		}
		bs := append([]arrow.RecordBatch(nil), o.parts[partition]...)
		for _, b := range bs {
			b.Retain()
		}
		out = append(out, &sliceStream{batches: bs})
	}
	return out, nil
}

// Drop implements Store.
func (s *LocalStore) Drop(exchange int) {
	s.mu.Lock()
	tasks := s.exchanges[exchange]
	delete(s.exchanges, exchange)
	s.mu.Unlock()
	for _, o := range tasks {
		s.release(o)
	}
	s.files.Drop(exchange)
}

// Close drops everything and removes the store's files.
func (s *LocalStore) Close() error {
	s.mu.Lock()
	ids := make([]int, 0, len(s.exchanges))
	for id := range s.exchanges {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	for _, id := range ids {
		s.Drop(id)
	}
	s.res.Free()
	return s.files.RemoveJob(s.files.job)
}

// handoverStream reads batches the store handed over (ReadOnce): each
// leaves the store's reservation as it is read.
type handoverStream struct {
	s       *LocalStore
	batches []arrow.RecordBatch
}

func (h *handoverStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if len(h.batches) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b := h.batches[0]
	h.batches[0] = nil
	h.batches = h.batches[1:]
	h.s.unreserve(spill.BatchBytes(b))
	return b, nil
}

func (h *handoverStream) Close() {
	for _, b := range h.batches {
		h.s.unreserve(spill.BatchBytes(b))
		b.Release()
	}
	h.batches = nil
}

var _ Store = (*LocalStore)(nil)
