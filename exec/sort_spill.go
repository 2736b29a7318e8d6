package exec

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flint-engine/flint/mempool"
	"github.com/flint-engine/flint/spill"
)

// External sort: the sort, top-n (past what it can hold) and window
// operators buffer their input inside a memory reservation; when it cannot
// grow, the buffer is sorted and written to a spill file as a sorted run.
// At the end the runs are merged k ways, in several passes when one pass'
// readers would not fit. Without a spill the buffer is sorted in memory
// exactly as before the spill path existed: one concatenated batch, one
// permutation, chunks taken in key order.

// sortRowBytes estimates the Go heap sorting one buffered row takes: the
// packed key word (8), the radix entries and their scratch copy (2×16) and
// the permutation (4).
const sortRowBytes = 44

// sortMaxFanIn bounds the runs one merge reads at once even when memory
// would allow more: the merge keeps a comparator per pair of inputs.
const sortMaxFanIn = 64

// sortHoldBytes is what buffering b for a sort reserves: the batch, its copy
// in the concatenated batch the sort takes rows from, and the permutation.
func sortHoldBytes(b arrow.RecordBatch) int64 {
	return 2*spill.BatchBytes(b) + sortRowBytes*b.NumRows()
}

// sortRun is a sorted run in a spill file.
type sortRun struct {
	file     *spill.File
	maxBatch int64 // bytes of its largest batch: what a reader of it holds
}

// extSort sorts a stream of batches within a reservation it shares with its
// operator: push every batch, finish, then next until nil; close always.
type extSort struct {
	what   string // operator name for errors and spill file names
	schema *arrow.Schema
	keys   []SortKey
	res    *mempool.Reservation
	mgr    *spill.Manager

	buf     []arrow.RecordBatch
	bufHeld int64 // reserved for buf

	runs []sortRun
	// headroom is memory the consumer needs beside the final merge's
	// readers; when it is not left, the runs are merged into one first.
	headroom int64

	// Output without spill: the sorted buffer and its permutation.
	sorted arrow.RecordBatch
	perm   []int32
	pos    int
	// Output after spilling: the final merge of the runs (or the one run).
	stream     Operator
	streamHeld int64 // reserved for the stream's readers
	finished   bool

	spilledBytes int64
	spillFiles   int64
	passes       int // merge passes that wrote runs
}

func newExtSort(ctx context.Context, what string, schema *arrow.Schema, keys []SortKey, res *mempool.Reservation) *extSort {
	return &extSort{what: what, schema: schema, keys: keys, res: res, mgr: spill.FromContext(ctx)}
}

// push buffers b (which it owns from now on), spilling the buffer first
// when the reservation cannot cover b.
func (s *extSort) push(ctx context.Context, b arrow.RecordBatch) error {
	if b.NumRows() == 0 {
		b.Release()
		return nil
	}
	cost := sortHoldBytes(b)
	err := s.res.TryGrow(cost)
	if err != nil && len(s.buf) > 0 {
		if err = s.spillBuffer(ctx); err == nil {
			err = s.res.TryGrow(cost)
		}
	}
	if err != nil {
		b.Release()
		return fmt.Errorf("%s: %w", s.what, err)
	}
	s.buf = append(s.buf, b)
	s.bufHeld += cost
	return nil
}

// sortBuffer concatenates the buffer and orders it; the buffer is released
// (its reservation stays with the caller to shrink).
func (s *extSort) sortBuffer(ctx context.Context) (arrow.RecordBatch, []int32, error) {
	b, err := ConcatBatches(Allocator(ctx), s.schema, s.buf)
	batchReleaseAll(s.buf)
	s.buf = nil
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", s.what, err)
	}
	return b, sortPermutation(b, s.keys), nil
}

// spillBuffer writes the buffer as one sorted run.
func (s *extSort) spillBuffer(ctx context.Context) error {
	sorted, perm, err := s.sortBuffer(ctx)
	if err != nil {
		return err
	}
	defer func() {
		sorted.Release()
		s.res.Shrink(s.bufHeld)
		s.bufHeld = 0
	}()
	w, err := s.mgr.Create(s.what+"-run", s.schema, Allocator(ctx))
	if err != nil {
		return fmt.Errorf("%s: %w", s.what, err)
	}
	bs := BatchSize(ctx)
	var maxBatch int64
	for pos := 0; pos < len(perm); pos += bs {
		if err := ctx.Err(); err != nil {
			w.Abort()
			return err
		}
		chunk, err := TakeBatch(ctx, sorted, perm[pos:min(len(perm), pos+bs)])
		if err == nil {
			chunk = sortWithSchema(chunk, s.schema)
			maxBatch = max(maxBatch, spill.BatchBytes(chunk))
			err = w.Write(chunk)
			chunk.Release()
		}
		if err != nil {
			w.Abort()
			return fmt.Errorf("%s: spill: %w", s.what, err)
		}
	}
	run, err := s.finishRun(w, maxBatch)
	if err != nil {
		return err
	}
	s.runs = append(s.runs, run)
	return nil
}

// sortWithSchema relabels b with schema when they differ (metadata): a
// spill file holds batches of exactly its schema.
func sortWithSchema(b arrow.RecordBatch, schema *arrow.Schema) arrow.RecordBatch {
	if b.Schema().Equal(schema) {
		return b
	}
	nb := array.NewRecordBatch(schema, b.Columns(), b.NumRows())
	b.Release()
	return nb
}

func (s *extSort) finishRun(w *spill.Writer, maxBatch int64) (sortRun, error) {
	f, err := w.Finish()
	if err != nil {
		return sortRun{}, fmt.Errorf("%s: %w", s.what, err)
	}
	s.spilledBytes += f.Size()
	s.spillFiles++
	return sortRun{file: f, maxBatch: maxBatch}, nil
}

// finish ends the input. Without spilled runs the buffer is sorted in
// memory; otherwise it becomes the last run and the runs are merged (in
// passes until the readers of one merge fit).
func (s *extSort) finish(ctx context.Context) error {
	s.finished = true
	if len(s.runs) == 0 {
		sorted, perm, err := s.sortBuffer(ctx)
		if err != nil {
			return err
		}
		s.sorted, s.perm, s.pos = sorted, perm, 0
		// What is held now: the sorted batch and the permutation.
		if held := spill.BatchBytes(sorted) + 4*int64(len(perm)); held < s.bufHeld {
			s.res.Shrink(s.bufHeld - held)
			s.bufHeld = held
		}
		return nil
	}
	if len(s.buf) > 0 {
		if err := s.spillBuffer(ctx); err != nil {
			return err
		}
	}
	for {
		k, held, err := s.reserveMerge(s.runs)
		if err != nil {
			return err
		}
		if k == len(s.runs) && (k == 1 || s.roomFor(s.headroom)) {
			s.streamHeld = held
			return s.openStream(ctx)
		}
		s.res.Shrink(held)
		if err := s.mergePass(ctx); err != nil {
			return err
		}
	}
}

// roomFor reports whether the reservation could grow by n now.
func (s *extSort) roomFor(n int64) bool {
	if s.res.TryGrow(n) != nil {
		return false
	}
	s.res.Shrink(n)
	return true
}

// reserveMerge reserves what merging a prefix of runs holds — a batch per
// reader and the output batch being gathered — for the longest prefix that
// fits (at most sortMaxFanIn runs). It returns the prefix length and the
// bytes reserved.
func (s *extSort) reserveMerge(runs []sortRun) (int, int64, error) {
	var out int64
	if len(runs) > 1 { // one run is read as it is
		for _, r := range runs {
			out = max(out, r.maxBatch)
		}
		out *= 2 // the merge gathers from slices it concatenates per output batch
	}
	need := min(2, len(runs))
	if err := s.res.TryGrow(out); err != nil {
		return 0, 0, fmt.Errorf("%s: merging %d spilled runs: %w", s.what, len(runs), err)
	}
	held, k := out, 0
	for k < len(runs) && k < sortMaxFanIn {
		if err := s.res.TryGrow(runs[k].maxBatch); err != nil {
			if k < need {
				s.res.Shrink(held)
				return 0, 0, fmt.Errorf("%s: merging %d spilled runs: %w", s.what, len(runs), err)
			}
			break
		}
		held += runs[k].maxBatch
		k++
	}
	return k, held, nil
}

// mergePass merges adjacent groups of runs into longer runs. Groups are
// adjacent and the merge takes ties from the earlier run, so equal keys
// keep their input order.
func (s *extSort) mergePass(ctx context.Context) error {
	var next []sortRun
	defer func() {
		// On error the runs merged so far are dropped; s.runs (some of them
		// already removed) is cleaned up by close.
		if next != nil {
			for _, r := range next {
				r.file.Remove()
			}
		}
	}()
	for i := 0; i < len(s.runs); {
		rest := s.runs[i:]
		if len(rest) == 1 {
			next = append(next, rest[0])
			break
		}
		k, held, err := s.reserveMerge(rest)
		if err != nil {
			return err
		}
		run, err := s.mergeRuns(ctx, rest[:k])
		s.res.Shrink(held)
		if err != nil {
			return err
		}
		for _, r := range rest[:k] {
			r.file.Remove()
		}
		next = append(next, run)
		i += k
	}
	s.runs, next = next, nil
	s.passes++
	return nil
}

// mergeRuns merges runs into a new run.
func (s *extSort) mergeRuns(ctx context.Context, runs []sortRun) (sortRun, error) {
	inputs := make([]Operator, len(runs))
	for i, r := range runs {
		inputs[i] = &spillRunOp{file: r.file}
	}
	m := NewMergeSorted(inputs, s.keys)
	defer m.Close()
	w, err := s.mgr.Create(s.what+"-run", s.schema, Allocator(ctx))
	if err != nil {
		return sortRun{}, fmt.Errorf("%s: %w", s.what, err)
	}
	var maxBatch int64
	err = m.Open(ctx)
	for err == nil {
		var b arrow.RecordBatch
		if b, err = m.Next(ctx); err != nil || b == nil {
			break
		}
		maxBatch = max(maxBatch, spill.BatchBytes(b))
		err = w.Write(b)
		b.Release()
	}
	if err != nil {
		w.Abort()
		return sortRun{}, fmt.Errorf("%s: merging spilled runs: %w", s.what, err)
	}
	return s.finishRun(w, maxBatch)
}

// openStream starts the final merge of all runs.
func (s *extSort) openStream(ctx context.Context) error {
	if len(s.runs) == 1 {
		s.stream = &spillRunOp{file: s.runs[0].file}
	} else {
		inputs := make([]Operator, len(s.runs))
		for i, r := range s.runs {
			inputs[i] = &spillRunOp{file: r.file}
		}
		s.stream = NewMergeSorted(inputs, s.keys)
	}
	if err := s.stream.Open(ctx); err != nil {
		return fmt.Errorf("%s: %w", s.what, err)
	}
	return nil
}

// next returns the next sorted batch (at most BatchSize(ctx) rows), nil at
// the end.
func (s *extSort) next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.stream != nil {
		b, err := s.stream.Next(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.what, err)
		}
		if b == nil {
			s.close()
		}
		return b, nil
	}
	if s.sorted == nil || s.pos >= len(s.perm) {
		s.close()
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	end := min(len(s.perm), s.pos+BatchSize(ctx))
	out, err := TakeBatch(ctx, s.sorted, s.perm[s.pos:end])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.what, err)
	}
	s.pos = end
	return out, nil
}

// spilled reports whether any run was written.
func (s *extSort) spilled() bool { return s.spillFiles > 0 }

// close releases everything the sort holds and removes its spill files.
// Idempotent; statistics stay.
func (s *extSort) close() {
	batchReleaseAll(s.buf)
	s.buf = nil
	if s.sorted != nil {
		s.sorted.Release()
		s.sorted = nil
	}
	s.perm = nil
	if s.stream != nil {
		s.stream.Close()
		s.stream = nil
	}
	for _, r := range s.runs {
		r.file.Remove()
	}
	s.runs = nil
	s.res.Shrink(s.bufHeld + s.streamHeld)
	s.bufHeld, s.streamHeld = 0, 0
}

// spillRunOp reads a spill file as an Operator.
type spillRunOp struct {
	file *spill.File
	rd   *spill.Reader
}

var _ Operator = (*spillRunOp)(nil)

func (r *spillRunOp) Schema() *arrow.Schema { return r.file.Schema() }

func (r *spillRunOp) Open(ctx context.Context) error {
	r.Close()
	rd, err := r.file.Open(Allocator(ctx))
	if err != nil {
		return err
	}
	r.rd = rd
	return nil
}

func (r *spillRunOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if r.rd == nil {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return r.rd.Next()
}

func (r *spillRunOp) Close() error {
	if r.rd != nil {
		r.rd.Close()
		r.rd = nil
	}
	return nil
}
