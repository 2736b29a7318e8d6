package driver

import (
	"context"
	"slices"
	"sync"
)

// Slot kinds: every task may run on a core slot; a task that scans remote
// storage may also take a remote slot (see schedule.remoteSlots).
const (
	coreSlot = iota
	remoteSlot
	numSlotKinds
)

// slotSet hands out the task slots of a query: each kind has a number of
// slots, and when none is free the waiters are served in priority order
// (then first come, first served), not in arrival order.
//
// The driver gives tasks of later stages (closer to the final stage) the
// higher priority. Every stage's inputs come before it (physical.Cut), so
// a stage that consumes exchanges runs before stages that only scan and
// produce more of them: the exchanges and broadcast tables it holds are
// released sooner, and fewer of them are alive at once. With the slots
// taken in arrival order, ready stages ran interleaved, so a broadcast
// join's table stayed alive while unrelated scans filled their exchanges.
type slotSet struct {
	mu      sync.Mutex
	free    [numSlotKinds]int
	waiters []*slotWaiter // a query has few: about one per running stage
	seq     uint64
}

func newSlotSet(core, remote int) *slotSet {
	return &slotSet{free: [numSlotKinds]int{core, remote}}
}

type slotWaiter struct {
	prio  int
	seq   uint64
	kinds [numSlotKinds]bool
	got   chan int // receives the kind granted
}

// acquire waits for a slot of one of kinds, serving higher prio first,
// and returns the kind it took; it fails with ctx's error, holding
// nothing, when ctx ends first.
func (s *slotSet) acquire(ctx context.Context, prio int, kinds ...int) (int, error) {
	s.mu.Lock()
	w := &slotWaiter{prio: prio, seq: s.seq, got: make(chan int, 1)}
	s.seq++
	for _, k := range kinds {
		w.kinds[k] = true
	}
	// A free slot goes to the caller only if nobody better waits for it.
	for _, k := range kinds {
		if s.free[k] > 0 && !s.betterWaiter(w, k) {
			s.free[k]--
			s.mu.Unlock()
			return k, nil
		}
	}
	s.waiters = append(s.waiters, w)
	s.mu.Unlock()
	select {
	case k := <-w.got:
		return k, nil
	case <-ctx.Done():
		s.mu.Lock()
		if i := slices.Index(s.waiters, w); i >= 0 {
			s.waiters = slices.Delete(s.waiters, i, i+1)
			s.mu.Unlock()
			return 0, ctx.Err()
		}
		s.mu.Unlock()
		s.release(<-w.got) // granted meanwhile: pass it on
		return 0, ctx.Err()
	}
}

// betterWaiter reports whether someone waiting for kind k comes before w.
func (s *slotSet) betterWaiter(w *slotWaiter, k int) bool {
	for _, o := range s.waiters {
		if o.kinds[k] && o.before(w) {
			return true
		}
	}
	return false
}

// release gives back a slot of kind k: to the best waiter that accepts
// it, or to the free slots.
func (s *slotSet) release(k int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	best := -1
	for i, o := range s.waiters {
		if o.kinds[k] && (best < 0 || o.before(s.waiters[best])) {
			best = i
		}
	}
	if best < 0 {
		s.free[k]++
		return
	}
	w := s.waiters[best]
	s.waiters = slices.Delete(s.waiters, best, best+1)
	w.got <- k
}

func (w *slotWaiter) before(o *slotWaiter) bool {
	if w.prio != o.prio {
		return w.prio > o.prio
	}
	return w.seq < o.seq
}
