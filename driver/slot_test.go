package driver

import (
	"context"
	"testing"
	"time"
)

func TestTaskSlotReleasesAndAcquires(t *testing.T) {
	slots := newSlotSet(1, 0)
	if _, err := slots.acquire(context.Background(), 0, coreSlot); err != nil {
		t.Fatal(err)
	}
	ts := &taskSlot{slots: slots, kind: coreSlot, held: true}
	ts.Release()
	ts.Release() // idempotent
	if slots.free[coreSlot] != 1 {
		t.Fatalf("Release left %d slots free, want 1", slots.free[coreSlot])
	}
	slots.acquire(context.Background(), 0, coreSlot) // someone else takes the only slot
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := ts.Acquire(ctx); err == nil || ts.held {
		t.Fatal("Acquire succeeded with no free slot")
	}
	if len(slots.waiters) != 0 {
		t.Fatal("a cancelled Acquire is still waiting")
	}
	slots.release(coreSlot)
	if err := ts.Acquire(context.Background()); err != nil || !ts.held || slots.free[coreSlot] != 0 {
		t.Fatalf("Acquire: err %v, held %v, free %d", err, ts.held, slots.free[coreSlot])
	}
	ts.Release()
	if slots.free[coreSlot] != 1 {
		t.Fatal("Release after Acquire did not give the slot back")
	}
}

// TestSlotSetServesHigherPriorityFirst: a freed slot goes to the waiter of
// the highest priority (the latest stage), then in arrival order, and a
// free slot is not taken past a better waiter.
func TestSlotSetServesHigherPriorityFirst(t *testing.T) {
	ctx := context.Background()
	slots := newSlotSet(1, 1)
	if _, err := slots.acquire(ctx, 0, coreSlot); err != nil {
		t.Fatal(err)
	}
	order := make(chan int, 3)
	// Queue 1, 5, 3 (5 and 3 arrive later but rank higher).
	var queued []int
	for _, p := range []int{1, 5, 3} {
		go func() {
			k, err := slots.acquire(ctx, p, coreSlot)
			if err != nil {
				t.Error(err)
				return
			}
			order <- p
			slots.release(k)
		}()
		queued = append(queued, p)
		waitFor(t, slots, len(queued))
	}
	// A remote-capable acquire takes the free remote slot at once.
	if k, err := slots.acquire(ctx, 0, coreSlot, remoteSlot); err != nil || k != remoteSlot {
		t.Fatalf("got kind %d, %v; want the free remote slot", k, err)
	}
	slots.release(coreSlot) // the first holder finishes
	for _, want := range []int{5, 3, 1} {
		if got := <-order; got != want {
			t.Fatalf("served priority %d, want %d", got, want)
		}
	}
}

func waitFor(t *testing.T, s *slotSet, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		s.mu.Lock()
		got := len(s.waiters)
		s.mu.Unlock()
		if got == n {
			return
		}
	}
	t.Fatalf("waiters never reached %d", n)
}
