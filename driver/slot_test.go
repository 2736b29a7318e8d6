package driver

import (
	"context"
	"testing"
	"time"
)

func TestTaskSlotReleasesAndAcquires(t *testing.T) {
	slots := make(chan struct{}, 1)
	slots <- struct{}{}
	ts := &taskSlot{slots: slots, held: true}
	ts.Release()
	ts.Release() // idempotent
	if len(slots) != 0 {
		t.Fatalf("Release left %d slots taken, want 0", len(slots))
	}
	slots <- struct{}{} // someone else takes the only slot
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := ts.Acquire(ctx); err == nil || ts.held {
		t.Fatal("Acquire succeeded with no free slot")
	}
	<-slots
	if err := ts.Acquire(context.Background()); err != nil || !ts.held || len(slots) != 1 {
		t.Fatalf("Acquire: err %v, held %v, taken %d", err, ts.held, len(slots))
	}
	ts.Release()
	if len(slots) != 0 {
		t.Fatal("Release after Acquire did not give the slot back")
	}
}
