package exec

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// projectOp computes one output column per expression.
type projectOp struct {
	input  Operator
	exprs  []Expr
	schema *arrow.Schema
}

var _ Operator = (*projectOp)(nil)

// NewProject returns an operator whose batches hold exprs evaluated over
// each input batch, named names (a missing or empty name becomes the
// expression's String()). Column references pass the input arrays through
// without copying.
func NewProject(input Operator, exprs []Expr, names []string) Operator {
	fields := make([]arrow.Field, len(exprs))
	for i, e := range exprs {
		name := ""
		if i < len(names) {
			name = names[i]
		}
		if name == "" {
			name = e.String()
		}
		fields[i] = arrow.Field{Name: name, Type: e.DataType(), Nullable: true}
	}
	return &projectOp{input: input, exprs: exprs, schema: arrow.NewSchema(fields, nil)}
}

func (p *projectOp) Schema() *arrow.Schema          { return p.schema }
func (p *projectOp) Open(ctx context.Context) error { return p.input.Open(ctx) }
func (p *projectOp) Close() error                   { return p.input.Close() }

func (p *projectOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	b, err := p.input.Next(ctx)
	if err != nil || b == nil {
		return nil, err
	}
	defer b.Release()
	cols := make([]arrow.Array, len(p.exprs))
	release := func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}
	for i, e := range p.exprs {
		c, err := e.Eval(ctx, b)
		if err != nil {
			release()
			return nil, fmt.Errorf("project %s: %w", p.schema.Field(i).Name, err)
		}
		if c.Len() != int(b.NumRows()) || !arrow.TypeEqual(c.DataType(), p.schema.Field(i).Type) {
			c.Release()
			release()
			return nil, fmt.Errorf("project %s: expression gave %d rows of %s, want %d rows of %s",
				p.schema.Field(i).Name, c.Len(), c.DataType(), b.NumRows(), p.schema.Field(i).Type)
		}
		cols[i] = c
	}
	out := array.NewRecordBatch(p.schema, cols, b.NumRows())
	release()
	return out, nil
}
