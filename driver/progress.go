package driver

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/shuffle"
)

// Progress receives a local query's stage and task events, for a
// progress display. Calls come from the query's goroutines at once: an
// implementation must be safe for that and cheap, as tasks wait on it.
type Progress interface {
	// QueryStarted is called first, with the query's number of stages.
	QueryStarted(stages int)
	// StageStarted is called when stage's tasks are known.
	StageStarted(stage, tasks int)
	// TaskDone is called when a task of stage has succeeded, with the
	// rows and bytes (Arrow buffers) of its output.
	TaskDone(stage int, rows, bytes int64)
	// StageDone is called when every task of stage has succeeded.
	StageDone(stage int)
}

type progressKey struct{}

// WithProgress returns a context whose local queries report to p.
func WithProgress(ctx context.Context, p Progress) context.Context {
	return context.WithValue(ctx, progressKey{}, p)
}

// progressOf returns ctx's Progress, or nil.
func progressOf(ctx context.Context) Progress {
	p, _ := ctx.Value(progressKey{}).(Progress)
	return p
}

// countingStore counts the rows and bytes each task writes to the
// exchanges, for Progress; it is only used when a query reports.
type countingStore struct {
	shuffle.Store
	p Progress
}

func (s countingStore) Create(ctx context.Context, exchange, task, partitions int) (shuffle.Writer, error) {
	w, err := s.Store.Create(ctx, exchange, task, partitions)
	if err != nil {
		return nil, err
	}
	return &countingWriter{Writer: w, stage: exchange, p: s.p}, nil
}

// countingWriter reports a task's output when the task commits it (the
// exchange of a stage has the stage's ID).
type countingWriter struct {
	shuffle.Writer
	stage       int
	p           Progress
	rows, bytes int64
}

func (w *countingWriter) Write(ctx context.Context, p int, b arrow.RecordBatch) error {
	w.rows += b.NumRows()
	w.bytes += recordBytes(b)
	return w.Writer.Write(ctx, p, b)
}

func (w *countingWriter) Commit(ctx context.Context) error {
	if err := w.Writer.Commit(ctx); err != nil {
		return err
	}
	w.p.TaskDone(w.stage, w.rows, w.bytes)
	return nil
}

// batchTotals returns the rows and bytes of bs.
func batchTotals(bs []arrow.RecordBatch) (rows, bytes int64) {
	for _, b := range bs {
		rows += b.NumRows()
		bytes += recordBytes(b)
	}
	return rows, bytes
}

// recordBytes is the size of b's Arrow buffers (slices count whole).
func recordBytes(b arrow.RecordBatch) int64 {
	var n int64
	for _, c := range b.Columns() {
		n += dataBytes(c.Data())
	}
	return n
}

func dataBytes(d arrow.ArrayData) int64 {
	var n int64
	for _, buf := range d.Buffers() {
		if buf != nil {
			n += int64(buf.Len())
		}
	}
	for _, c := range d.Children() {
		n += dataBytes(c)
	}
	return n
}
