package exec

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
)

// BatchSource is an Operator that replays in-memory batches (VALUES lists,
// received exchange data, tests). Each Open starts again from the first
// batch, so a source can be re-read.
type BatchSource struct {
	schema  *arrow.Schema
	batches []arrow.RecordBatch
	pos     int
	closed  bool
}

var _ Operator = (*BatchSource)(nil)

// NewBatchSource returns an operator that yields batches in order. It
// retains every batch and releases them in Close; the caller keeps (and
// still must release) its own references. Batches are returned as-is (each
// Next returns a new reference), not re-sliced to exec.BatchSize.
func NewBatchSource(schema *arrow.Schema, batches []arrow.RecordBatch) Operator {
	s := &BatchSource{schema: schema, batches: make([]arrow.RecordBatch, len(batches))}
	for i, b := range batches {
		b.Retain()
		s.batches[i] = b
	}
	return s
}

// Schema implements Operator.
func (s *BatchSource) Schema() *arrow.Schema { return s.schema }

// Open implements Operator.
func (s *BatchSource) Open(ctx context.Context) error {
	s.pos = 0
	return nil
}

// Next implements Operator.
func (s *BatchSource) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.closed || s.pos >= len(s.batches) {
		return nil, nil
	}
	b := s.batches[s.pos]
	s.pos++
	b.Retain()
	return b, nil
}

// Close implements Operator.
func (s *BatchSource) Close() error {
	if !s.closed {
		s.closed = true
		batchReleaseAll(s.batches)
		s.batches = nil
	}
	return nil
}
