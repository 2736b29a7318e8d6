package gctune

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// FollowLive retunes GOGC after every collection so that the next one
// starts once the heap has grown by max(floor, live × percent / 100),
// live being the heap the collection found alive, but never by more than
// the GOGC in force before allows. It returns a function that stops the
// retuning and restores that GOGC.
//
// GOGC alone lets the heap grow by a fixed share of the live heap: at the
// default 100 a query holding 300 MB of build tables and exchanges peaks
// near 600 MB, while one holding 20 MB collects every 20 MB allocated.
// A query engine's live heap is mostly pointer-free Arrow buffers, which
// the collector marks without scanning, so a collection costs little
// more when the live heap is large: a smaller share there (percent)
// bounds the memory the garbage takes, and the floor keeps a small heap
// from collecting over and over (each cycle has fixed costs: stop the
// world, write barriers, preempting the running tasks).
//
// Retuning happens right after each cycle (a finalizer), so the goal
// follows the heap last found alive, as with plain GOGC. Until the
// finalizer has run, the runtime paces the new cycle with the previous
// cycle's GOGC; that one is never above the GOGC in force before (the
// ceiling), so a heap that grew meanwhile is paced no more loosely than
// without FollowLive.
func FollowLive(floor uint64, percent int) (stop func()) {
	prev := debug.SetGCPercent(100) // read the GOGC in force
	if prev < 0 {
		debug.SetGCPercent(prev) // GOGC=off: the user wants no collections
		return func() {}
	}
	debug.SetGCPercent(min(percent, prev))
	var stopped atomic.Bool
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var arm func()
	arm = func() {
		s := new(sentinel)
		runtime.SetFinalizer(s, func(*sentinel) {
			if stopped.Load() {
				return
			}
			metrics.Read(sample)
			debug.SetGCPercent(min(GCPercent(sample[0].Value.Uint64(), floor, percent), prev))
			arm()
		})
	}
	arm()
	return func() {
		if stopped.CompareAndSwap(false, true) {
			debug.SetGCPercent(prev)
		}
	}
}

// sentinel is an object that only a finalizer points to: it becomes
// unreachable at once, so its finalizer runs after the next collection.
// (It must not be a zero-size or tiny allocation, which the runtime may
// batch with others and never finalize.)
type sentinel struct{ _ [16]uint64 }

// GCPercent is the GOGC that lets a heap of live bytes grow by
// max(floor, live × percent / 100) before the next collection.
func GCPercent(live, floor uint64, percent int) int {
	if live == 0 {
		live = 1
	}
	p := uint64(percent)
	if live*p/100 < floor {
		p = (floor*100 + live - 1) / live
	}
	return int(min(p, 1<<20))
}
