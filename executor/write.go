package executor

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/physical"
)

// RunWrite executes one task of a write stage (a stage whose root is a
// physical.Write): it streams the task's rows, batch by batch, into files
// of the dataset and returns the files it completed. It returns an error
// for any other stage. On failure (cancellation included) it discards
// what it wrote, best effort, before returning the error; the driver's
// commit or abort sweeps whatever remains.
func RunWrite(ctx context.Context, env *Env, t physical.Task) (files []connectors.WrittenFile, err error) {
	w := physical.WriteOf(t.Stage)
	if w == nil {
		return nil, fmt.Errorf("internal error: stage %d is not a write stage", t.Stage.ID)
	}
	var tw *connectors.TaskWriter
	defer func() {
		if r := recover(); r != nil {
			files = nil
			err = fmt.Errorf("internal error in stage %d task %d: %v\n%s", t.Stage.ID, t.Index, r, debug.Stack())
		}
		if err != nil && tw != nil {
			if aerr := tw.Abort(ctx); aerr != nil {
				err = errors.Join(err, fmt.Errorf("cleaning up: %w", aerr))
			}
		}
	}()
	b := &builder{ctx: ctx, env: env, task: t, stats: StatsOf(ctx)}
	op, err := b.build(w.Input)
	if err != nil {
		return nil, fmt.Errorf("stage %d: %w", t.Stage.ID, err)
	}
	defer op.Close()
	env.SetExchangeSchema(t.Stage.ID, op.Schema())
	// Column names come from the plan (the names the user sees); types
	// from the operators, which produce them.
	cols := w.Input.Schema()
	opFields := op.Schema().Fields()
	if len(opFields) != len(cols) {
		return nil, fmt.Errorf("internal error: stage %d writes %d columns, plan has %d", t.Stage.ID, len(opFields), len(cols))
	}
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.Name, Type: opFields[i].Type, Nullable: c.Nullable || opFields[i].Nullable}
	}
	schema := arrow.NewSchema(fields, nil)
	if err := op.Open(ctx); err != nil {
		return nil, err
	}
	if tw, err = connectors.NewTaskWriter(w.Spec, schema, t.Index, t.Attempt); err != nil {
		return nil, err
	}
	for {
		batch, err := op.Next(ctx)
		if err != nil {
			return nil, err
		}
		if batch == nil {
			break
		}
		err = tw.Write(ctx, batch)
		batch.Release()
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return tw.Close(ctx)
}
