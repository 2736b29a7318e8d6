package executor

import (
	"context"
	"errors"
	"testing"
	"time"
)

type recYielder struct{ released, acquired int }

func (y *recYielder) Release()                          { y.released++ }
func (y *recYielder) Acquire(ctx context.Context) error { y.acquired++; return nil }

func TestWaitYieldingGivesTheSlotUpOnlyToWait(t *testing.T) {
	done := make(chan struct{})
	close(done)
	y := &recYielder{}
	ctx := WithSlotYielder(context.Background(), y)
	if err := waitYielding(ctx, done); err != nil || y.released != 0 || y.acquired != 0 {
		t.Fatalf("no wait: err %v, released %d, acquired %d; want nil, 0, 0", err, y.released, y.acquired)
	}

	done = make(chan struct{})
	time.AfterFunc(10*time.Millisecond, func() { close(done) })
	if err := waitYielding(ctx, done); err != nil || y.released != 1 || y.acquired != 1 {
		t.Fatalf("wait: err %v, released %d, acquired %d; want nil, 1, 1", err, y.released, y.acquired)
	}

	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(10*time.Millisecond, cancel)
	err := waitYielding(cctx, make(chan struct{}))
	if !errors.Is(err, context.Canceled) || y.released != 2 || y.acquired != 1 {
		t.Fatalf("cancelled wait: err %v, released %d, acquired %d; want Canceled, 2, 1", err, y.released, y.acquired)
	}
}
