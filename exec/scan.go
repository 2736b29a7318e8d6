package exec

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flint-engine/flint/connectors"
)

// scanOp reads a list of splits of one source, one after another, returning
// the projected columns. Filtering is a separate Filter operator above it.
type scanOp struct {
	src     connectors.Source
	splits  []connectors.Split
	columns []int
	schema  *arrow.Schema

	next   int
	reader connectors.RecordReader
	size   int
}

// NewScan returns an operator that reads columns (indices into
// src.Schema()) of the given splits; schema describes its output batches.
func NewScan(src connectors.Source, splits []connectors.Split, columns []int, schema *arrow.Schema) Operator {
	return &scanOp{src: src, splits: splits, columns: columns, schema: schema}
}

func (s *scanOp) Schema() *arrow.Schema { return s.schema }

func (s *scanOp) Open(ctx context.Context) error {
	s.size = BatchSize(ctx)
	return nil
}

func (s *scanOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if s.reader == nil {
			if s.next >= len(s.splits) {
				return nil, nil
			}
			r, err := s.src.Open(ctx, s.splits[s.next], s.columns, s.size)
			if err != nil {
				return nil, err
			}
			s.reader = r
			s.next++
		}
		b, err := s.reader.Next(ctx)
		if err != nil {
			return nil, err
		}
		if b == nil {
			err := s.reader.Close()
			s.reader = nil
			if err != nil {
				return nil, err
			}
			continue
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		if int(b.NumCols()) != s.schema.NumFields() {
			b.Release()
			return nil, fmt.Errorf("scan %s: connector returned %d columns, want %d", s.src.Location(), b.NumCols(), s.schema.NumFields())
		}
		if !b.Schema().Equal(s.schema) {
			for i, f := range s.schema.Fields() {
				if !arrow.TypeEqual(f.Type, b.Column(i).DataType()) {
					b.Release()
					return nil, fmt.Errorf("scan %s: column %s has type %s, want %s", s.src.Location(), f.Name, b.Column(i).DataType(), f.Type)
				}
			}
			nb := array.NewRecordBatch(s.schema, b.Columns(), b.NumRows())
			b.Release()
			b = nb
		}
		return b, nil
	}
}

func (s *scanOp) Close() error {
	if s.reader != nil {
		err := s.reader.Close()
		s.reader = nil
		return err
	}
	return nil
}
