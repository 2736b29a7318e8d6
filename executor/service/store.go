package service

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/shuffle"
	"github.com/flint-engine/flint/spill"
)

// taskStore is the shuffle.Store one task attempt sees: Put commits the
// attempt's own files (FileStore.PutAttempt, so a retry never overwrites
// what an older attempt committed), Read fetches a partition from the map
// output locations the driver put in the task. It counts what it moves
// for the task's metrics.
type taskStore struct {
	files   *shuffle.FileStore
	reader  *shuffle.RemoteReader
	attempt int
	inputs  map[int][]shuffle.MapOutputLocation

	readRows, readBytes   atomic.Int64
	writeRows, writeBytes atomic.Int64

	mu       sync.Mutex
	opened   map[int]int // exchange -> partition the task opened
	failures []*shuffle.FetchFailedError
}

// Create implements shuffle.Store for the task's own exchange output.
func (s *taskStore) Create(ctx context.Context, exchange, task, partitions int) (shuffle.Writer, error) {
	w, err := s.files.CreateAttempt(ctx, exchange, task, s.attempt, partitions)
	if err != nil {
		return nil, err
	}
	return &countingWriter{w: w, s: s}, nil
}

// countingWriter counts what a task commits.
type countingWriter struct {
	w *shuffle.FileStoreWriter
	s *taskStore
}

func (c *countingWriter) Write(ctx context.Context, p int, b arrow.RecordBatch) error {
	return c.w.Write(ctx, p, b)
}

func (c *countingWriter) Commit(ctx context.Context) error {
	if err := c.w.Commit(ctx); err != nil {
		return err
	}
	c.s.writeRows.Add(c.w.Rows())
	c.s.writeBytes.Add(c.w.Bytes())
	return nil
}

func (c *countingWriter) Abort() { c.w.Abort() }

// Open implements shuffle.Store over the task's input locations. A map
// output that cannot be read fails the stream's Next with a
// shuffle.FetchFailedError, which the store also remembers (Failures), so
// it reaches the driver even if an operator's error lost its type.
func (s *taskStore) Open(ctx context.Context, exchange, partition int) ([]shuffle.Stream, error) {
	locs, ok := s.inputs[exchange]
	if !ok {
		return nil, fmt.Errorf("task has no input locations for exchange %d", exchange)
	}
	s.mu.Lock()
	if s.opened == nil {
		s.opened = map[int]int{}
	}
	s.opened[exchange] = partition
	s.mu.Unlock()
	streams := s.reader.Open(ctx, exchange, partition, locs)
	for i, st := range streams {
		streams[i] = &countingStream{st: st, s: s}
	}
	return streams, nil
}

// countingStream counts what a task reads and notes fetch failures.
type countingStream struct {
	st shuffle.Stream
	s  *taskStore
}

func (c *countingStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	b, err := c.st.Next(ctx)
	if err != nil {
		var ff *shuffle.FetchFailedError
		if errors.As(err, &ff) {
			c.s.mu.Lock()
			c.s.failures = append(c.s.failures, ff)
			c.s.mu.Unlock()
		}
		return nil, err
	}
	if b != nil {
		c.s.readRows.Add(b.NumRows())
		var n int64
		for _, col := range b.Columns() {
			n += spill.DataBytes(col.Data())
		}
		c.s.readBytes.Add(n)
	}
	return b, nil
}

func (c *countingStream) Close() { c.st.Close() }

// withFailures makes sure a task error carries the fetch failures its
// streams met, even when an operator wrapped the error without %w. A task
// stops at the first output it cannot read; so that the driver reruns
// every lost map task at once rather than one per retry, the other inputs
// the task opened are then probed too (a batch read from each).
func (s *taskStore) withFailures(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	ff := s.Failures()
	if len(ff) == 0 && len(shuffle.FetchFailures(err)) == 0 {
		return err
	}
	known := map[[3]int]bool{}
	for _, f := range append(ff, shuffle.FetchFailures(err)...) {
		known[[3]int{f.Exchange, f.MapTask, f.Attempt}] = true
	}
	s.mu.Lock()
	opened := maps.Clone(s.opened)
	s.mu.Unlock()
	var more []*shuffle.FetchFailedError
	for ex, part := range opened {
		for _, loc := range s.inputs[ex] {
			if ctx.Err() != nil || known[[3]int{ex, loc.MapTask, loc.Attempt}] {
				continue
			}
			st := s.reader.Open(ctx, ex, part, []shuffle.MapOutputLocation{loc})[0]
			b, perr := st.Next(ctx)
			st.Close()
			if b != nil {
				b.Release()
			}
			var f *shuffle.FetchFailedError
			if errors.As(perr, &f) {
				more = append(more, f)
			}
		}
	}
	switch {
	case len(shuffle.FetchFailures(err)) == 0:
		return &fetchFailed{err: err, failures: append(ff, more...)}
	case len(more) > 0:
		return &fetchFailed{err: err, failures: more}
	}
	return err
}

type fetchFailed struct {
	err      error
	failures []*shuffle.FetchFailedError
}

func (f *fetchFailed) Error() string { return f.err.Error() }

func (f *fetchFailed) Unwrap() []error {
	out := []error{f.err}
	for _, ff := range f.failures {
		out = append(out, ff)
	}
	return out
}

// Failures are the fetch failures the task's streams met.
func (s *taskStore) Failures() []*shuffle.FetchFailedError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.failures)
}

// Drop implements shuffle.Store. Map outputs belong to the job, not to one
// task: they go when the job ends (EndJob).
func (s *taskStore) Drop(int) {}

var _ shuffle.Store = (*taskStore)(nil)
