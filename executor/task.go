package executor

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flint-engine/flint/exec"
	"github.com/flint-engine/flint/physical"
	"github.com/flint-engine/flint/shuffle"
)

// Run executes one task. For the final stage it returns the result
// batches (owned by the caller); otherwise it commits the task's output,
// split by partition, to the stage's exchange in env.Store and returns nil.
// Either way the Arrow schema of its output is recorded in env under the
// stage's ID (env.ExchangeSchema), also when there are no rows.
// A panic inside an operator is turned into an error naming the stage.
// When ctx ends before the task has finished, Run returns ctx's error and
// commits nothing, even if the operators stopped without one: a cancelled
// task never passes for one that read everything.
func Run(ctx context.Context, env *Env, t physical.Task) (result []arrow.RecordBatch, err error) {
	if physical.WriteOf(t.Stage) != nil {
		return nil, fmt.Errorf("internal error: stage %d is a write stage; run it with RunWrite", t.Stage.ID)
	}
	defer func() {
		if r := recover(); r != nil {
			releaseBatches(result)
			result = nil
			err = fmt.Errorf("internal error in stage %d task %d: %v\n%s", t.Stage.ID, t.Index, r, debug.Stack())
		}
	}()
	b := &builder{ctx: ctx, env: env, task: t, stats: StatsOf(ctx)}
	op, err := b.build(t.Stage.Root)
	if err != nil {
		return nil, fmt.Errorf("stage %d: %w", t.Stage.ID, err)
	}
	defer op.Close()
	out := t.Stage.Output
	env.SetExchangeSchema(t.Stage.ID, op.Schema())
	if err := op.Open(ctx); err != nil {
		return nil, err
	}
	if out == nil {
		res, err := drain(ctx, op)
		if err == nil {
			if err = ctx.Err(); err != nil {
				releaseBatches(res)
				res = nil
			}
		}
		return res, err
	}
	return nil, writeOutput(ctx, env, op, out, t)
}

func drain(ctx context.Context, op exec.Operator) ([]arrow.RecordBatch, error) {
	var out []arrow.RecordBatch
	for {
		b, err := op.Next(ctx)
		if err != nil {
			releaseBatches(out)
			return nil, err
		}
		if b == nil {
			return out, nil
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		out = append(out, b)
	}
}

// writeOutput streams op's batches, split by partition, into the stage's
// exchange and commits them; on any failure (or when ctx ends) nothing is
// committed.
func writeOutput(ctx context.Context, env *Env, op exec.Operator, out *physical.Exchange, t physical.Task) error {
	n := out.Partitions
	if out.Kind == physical.ExchangeSingle || out.Kind == physical.ExchangeBroadcast || n <= 0 {
		n = 1
	}
	keys := columnIndexes(out.Keys, t.Stage.Root.Schema())
	for _, k := range keys {
		if k < 0 {
			return fmt.Errorf("internal error: stage %d: exchange key not in output", t.Stage.ID)
		}
	}
	w, err := env.Store.Create(ctx, t.Stage.ID, t.Index, n)
	if err != nil {
		return err
	}
	if err := partitionInto(ctx, op, w, out, keys, n, t.Index); err != nil {
		w.Abort()
		return err
	}
	if err := ctx.Err(); err != nil {
		w.Abort()
		return err
	}
	return w.Commit(ctx)
}

func partitionInto(ctx context.Context, op exec.Operator, w shuffle.Writer, out *physical.Exchange, keys []int, n, rr int) error {
	// Hash partitioning cuts every batch into n pieces; pieces are
	// gathered per partition up to a batch before they are written, so
	// exchanges (and the operators reading them) see whole batches.
	co := coalescer{w: w, parts: make([]pending, n), target: int64(exec.BatchSize(ctx)), schema: op.Schema()}
	defer co.release()
	for {
		b, err := op.Next(ctx)
		if err != nil {
			return err
		}
		if b == nil {
			return co.flushAll(ctx)
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		switch {
		case n == 1:
			err = w.Write(ctx, 0, b)
		case out.Kind == physical.ExchangeRoundRobin:
			err = w.Write(ctx, rr%n, b)
			rr++
		default:
			var split []arrow.RecordBatch
			split, err = exec.HashPartition(ctx, b, keys, n)
			b.Release()
			if err != nil {
				return err
			}
			for p, pb := range split {
				switch {
				case pb == nil:
				case err != nil || pb.NumRows() == 0:
					pb.Release()
				default:
					err = co.add(ctx, p, pb)
				}
			}
		}
		if err != nil {
			return err
		}
	}
}

// coalescer gathers small batches per partition into batches of about
// target rows before writing them.
type coalescer struct {
	w      shuffle.Writer
	parts  []pending
	target int64
	schema *arrow.Schema
}

type pending struct {
	batches []arrow.RecordBatch
	rows    int64
}

// add gathers b into partition p's pending batch. Pending batches are
// written at exactly target rows (b split where it passes it): a batch a
// little over target rows, a power of two, would take column buffers one
// size class up (internal/bufpool), a quarter bigger, for the whole life
// of the exchange.
func (c *coalescer) add(ctx context.Context, p int, b arrow.RecordBatch) error {
	if b.NumRows() >= c.target/2 && len(c.parts[p].batches) == 0 {
		return c.w.Write(ctx, p, b)
	}
	pp := &c.parts[p]
	for pp.rows+b.NumRows() > c.target {
		n := c.target - pp.rows
		head, tail := b.NewSlice(0, n), b.NewSlice(n, b.NumRows())
		b.Release()
		pp.batches = append(pp.batches, head)
		pp.rows += n
		if err := c.flush(ctx, p); err != nil {
			tail.Release()
			return err
		}
		b = tail
	}
	pp.batches = append(pp.batches, b)
	pp.rows += b.NumRows()
	if pp.rows >= c.target {
		return c.flush(ctx, p)
	}
	return nil
}

func (c *coalescer) flush(ctx context.Context, p int) error {
	pp := &c.parts[p]
	if len(pp.batches) == 0 {
		return nil
	}
	bs := pp.batches
	pp.batches, pp.rows = nil, 0
	merged, err := exec.ConcatBatches(exec.Allocator(ctx), c.schema, bs)
	releaseBatches(bs)
	if err != nil {
		return err
	}
	return c.w.Write(ctx, p, merged)
}

func (c *coalescer) flushAll(ctx context.Context) error {
	for p := range c.parts {
		if err := c.flush(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

func (c *coalescer) release() {
	for p := range c.parts {
		releaseBatches(c.parts[p].batches)
		c.parts[p].batches = nil
	}
}

func releaseBatches(bs []arrow.RecordBatch) {
	for _, b := range bs {
		b.Release()
	}
}
