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
	// dict flags the columns read through connectors.DictOpener, which
	// may arrive as connectors.DictStringType (nil: Source.Open).
	dict   []bool
	opener connectors.DictOpener
	// batchSchema is the last schema with dictionary columns built for
	// batches, reused while the column types stay the same.
	batchSchema *arrow.Schema

	next   int
	reader connectors.RecordReader
	size   int
}

// NewScan returns an operator that reads columns (indices into
// src.Schema()) of the given splits; schema describes its output batches.
func NewScan(src connectors.Source, splits []connectors.Split, columns []int, schema *arrow.Schema) Operator {
	return &scanOp{src: src, splits: splits, columns: columns, schema: schema}
}

// NewDictScan is NewScan through src's connectors.DictOpener: a column i
// with dict[i] set (schema type STRING) may arrive, batch by batch, as
// connectors.DictStringType instead. Schema() is the dense schema; such a
// scan feeds NewDictFilter, which decodes the dictionaries. It fails when
// src cannot open dictionaries.
func NewDictScan(src connectors.Source, splits []connectors.Split, columns []int, dict []bool, schema *arrow.Schema) (Operator, error) {
	opener, ok := src.(connectors.DictOpener)
	if !ok {
		return nil, fmt.Errorf("scan %s: %s source cannot read dictionaries", src.Location(), src.Format())
	}
	if len(dict) != len(columns) || len(columns) != schema.NumFields() {
		return nil, fmt.Errorf("scan %s: %d dictionary flags, %d columns, %d schema fields", src.Location(), len(dict), len(columns), schema.NumFields())
	}
	for i, d := range dict {
		if d && schema.Field(i).Type.ID() != arrow.STRING {
			return nil, fmt.Errorf("scan %s: column %s has type %s, only STRING columns are read as dictionaries", src.Location(), schema.Field(i).Name, schema.Field(i).Type)
		}
	}
	return &scanOp{src: src, splits: splits, columns: columns, schema: schema, dict: dict, opener: opener}, nil
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
			var r connectors.RecordReader
			var err error
			if s.opener != nil {
				r, err = s.opener.OpenDict(ctx, s.splits[s.next], s.columns, s.dict, s.size)
			} else {
				r, err = s.src.Open(ctx, s.splits[s.next], s.columns, s.size)
			}
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
			schema := s.schema
			for i, f := range s.schema.Fields() {
				got := b.Column(i).DataType()
				if arrow.TypeEqual(f.Type, got) {
					continue
				}
				if s.dict == nil || !s.dict[i] || !arrow.TypeEqual(got, connectors.DictStringType) {
					b.Release()
					return nil, fmt.Errorf("scan %s: column %s has type %s, want %s", s.src.Location(), f.Name, got, f.Type)
				}
				schema = nil // dictionary columns: the batch keeps its types
			}
			if schema == nil {
				schema = s.dictSchema(b)
			}
			nb := array.NewRecordBatch(schema, b.Columns(), b.NumRows())
			b.Release()
			b = nb
		}
		return b, nil
	}
}

// dictSchema is s.schema with the column types of b (checked by Next).
func (s *scanOp) dictSchema(b arrow.RecordBatch) *arrow.Schema {
	if bs := s.batchSchema; bs != nil {
		same := true
		for i := range bs.NumFields() {
			same = same && arrow.TypeEqual(bs.Field(i).Type, b.Column(i).DataType())
		}
		if same {
			return bs
		}
	}
	fields := s.schema.Fields()
	for i := range fields {
		fields[i].Type = b.Column(i).DataType()
	}
	s.batchSchema = arrow.NewSchema(fields, nil)
	return s.batchSchema
}

func (s *scanOp) Close() error {
	if s.reader != nil {
		err := s.reader.Close()
		s.reader = nil
		return err
	}
	return nil
}
