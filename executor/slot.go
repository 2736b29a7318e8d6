package executor

import "context"

// SlotYielder is a task's hold on one of its process's task slots (a core
// to run on), which it can give up while it waits for another task.
// Schedulers put one in the task's context with WithSlotYielder; it is
// used by the task's own goroutine only.
type SlotYielder interface {
	// Release gives the slot up.
	Release()
	// Acquire takes a slot again, waiting until one is free or ctx ends
	// (then it returns ctx's error and holds no slot).
	Acquire(ctx context.Context) error
}

type slotYielderKey struct{}

// WithSlotYielder returns a context whose task can give up its slot
// through y while it waits.
func WithSlotYielder(ctx context.Context, y SlotYielder) context.Context {
	return context.WithValue(ctx, slotYielderKey{}, y)
}

// waitYielding waits until done is closed or ctx ends. When it would
// block, it gives the task's slot up for the wait (so a task of another
// stage can use the core) and takes one again after.
func waitYielding(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	default:
	}
	y, _ := ctx.Value(slotYielderKey{}).(SlotYielder)
	if y != nil {
		y.Release()
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if y != nil {
		return y.Acquire(ctx)
	}
	return nil
}
