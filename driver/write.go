package driver

import (
	"context"
	"errors"
	"fmt"

	"github.com/flint-engine/flint/connectors"
	"github.com/flint-engine/flint/executor"
	"github.com/flint-engine/flint/physical"
)

// ExecuteWrite runs a write plan — its final stage's root is a
// physical.Write — and commits it with the connectors.WriteJob protocol:
// the target is checked against the mode first, the final stage's tasks
// write their files (a failed write task is retried, up to WriteAttempts
// runs, each attempt writing files of its own), and the files of the
// first successful attempt of every task are published by the manifest,
// written last. When the write fails, everything it wrote is removed
// (best effort) and the target's previous dataset stands.
func (d *Local) ExecuteWrite(ctx context.Context, sp *physical.StagePlan) (*connectors.Manifest, error) {
	w := physical.WriteOf(sp.Final())
	if w == nil {
		return nil, errors.New("internal error: ExecuteWrite of a plan that writes nothing")
	}
	job, err := connectors.BeginWrite(ctx, w.Spec, w.Spec.WriteID)
	if err != nil {
		return nil, err
	}
	s, err := d.run(ctx, sp)
	if err != nil {
		return nil, errors.Join(err, job.Abort(ctx))
	}
	m, err := job.Commit(ctx, s.written)
	if err != nil {
		return nil, errors.Join(err, job.Abort(ctx))
	}
	return m, nil
}

// runWrite runs one write task until an attempt succeeds, and returns
// that attempt's files.
func (s *schedule) runWrite(ctx context.Context, t physical.Task) ([]connectors.WrittenFile, error) {
	attempts := max(s.d.WriteAttempts, 1)
	var errs []error
	for a := range attempts {
		t.Attempt = a
		files, err := executor.RunWrite(ctx, s.env, t)
		if err == nil {
			if s.d.duplicateWrites {
				t.Attempt = a + 1
				if _, err := executor.RunWrite(ctx, s.env, t); err != nil && ctx.Err() == nil {
					return nil, fmt.Errorf("duplicate attempt: %w", err)
				}
			}
			return files, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		errs = append(errs, err)
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	return nil, fmt.Errorf("stage %d task %d failed %d times, last: %w", t.Stage.ID, t.Index, len(errs), errs[len(errs)-1])
}
