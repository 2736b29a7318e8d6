package executor

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/shuffle"
)

// exchangeOp streams one partition of an exchange: its producer tasks'
// streams one after the other, in task order, a batch at a time.
type exchangeOp struct {
	schema  *arrow.Schema
	streams []shuffle.Stream
}

var _ exec.Operator = (*exchangeOp)(nil)

func (e *exchangeOp) Schema() *arrow.Schema { return e.schema }

func (e *exchangeOp) Open(context.Context) error { return nil }

func (e *exchangeOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for len(e.streams) > 0 {
		b, err := e.streams[0].Next(ctx)
		if err != nil {
			return nil, err
		}
		if b != nil {
			return b, nil
		}
		e.streams[0].Close()
		e.streams = e.streams[1:]
	}
	return nil, nil
}

func (e *exchangeOp) Close() error {
	for _, st := range e.streams {
		st.Close()
	}
	e.streams = nil
	return nil
}
