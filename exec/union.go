package exec

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// unionOp is UNION ALL: it drains its inputs one after another.
type unionOp struct {
	schema *arrow.Schema
	inputs []Operator
	cur    int
	opened int
}

var _ Operator = (*unionOp)(nil)

// NewUnion returns the UNION ALL of inputs. Column types must match
// exactly; names come from the first input and every output field is
// nullable if it is nullable in any input. Batches are re-labelled with the
// output schema (zero-copy).
func NewUnion(inputs ...Operator) (Operator, error) {
	if len(inputs) == 0 {
		return nil, fmt.Errorf("union: no inputs")
	}
	first := inputs[0].Schema()
	fields := make([]arrow.Field, first.NumFields())
	copy(fields, first.Fields())
	for i, in := range inputs[1:] {
		s := in.Schema()
		if s.NumFields() != len(fields) {
			return nil, fmt.Errorf("union: input %d has %d columns, input 0 has %d", i+1, s.NumFields(), len(fields))
		}
		for c, f := range s.Fields() {
			if !arrow.TypeEqual(f.Type, fields[c].Type) {
				return nil, fmt.Errorf("union: column %d (%s): input %d has type %s, input 0 has type %s", c, fields[c].Name, i+1, f.Type, fields[c].Type)
			}
			fields[c].Nullable = fields[c].Nullable || f.Nullable
		}
	}
	md := first.Metadata()
	return &unionOp{schema: arrow.NewSchema(fields, &md), inputs: inputs}, nil
}

func (u *unionOp) Schema() *arrow.Schema { return u.schema }

func (u *unionOp) Open(ctx context.Context) error {
	u.cur = 0
	for u.opened = 0; u.opened < len(u.inputs); u.opened++ {
		if err := u.inputs[u.opened].Open(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (u *unionOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for u.cur < len(u.inputs) {
		b, err := u.inputs[u.cur].Next(ctx)
		if err != nil {
			return nil, err
		}
		if b == nil {
			u.cur++
			continue
		}
		if b.Schema().Equal(u.schema) {
			return b, nil
		}
		out := array.NewRecordBatch(u.schema, b.Columns(), b.NumRows())
		b.Release()
		return out, nil
	}
	return nil, nil
}

// Close closes every input (also those never opened, which must tolerate it).
func (u *unionOp) Close() error {
	var first error
	for _, in := range u.inputs {
		if err := in.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
