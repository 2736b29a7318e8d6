// Package gctune keeps a long-lived process from collecting garbage while
// its heap is small.
//
// Go starts the next collection when the heap reaches live heap ×
// (1 + GOGC/100). An executor between tasks holds a small live heap (tens
// of MB) while a task allocates hundreds of MB of short-lived Arrow
// buffers, so it collects every few MB of allocation, and every cycle
// marks, turns on write barriers and preempts the running task.
//
// MinHeap raises that goal with a ballast: one large pointer-free
// allocation that is never written. It counts as live heap, so the goal
// becomes (live + ballast) × (1 + GOGC/100), but its pages are never
// touched, so it costs address space, not memory (RSS). It is not scanned
// by the GC (no pointers). Unlike retuning GOGC after each cycle from the
// heap that cycle found live, it cannot overshoot when the live heap of
// the next cycle is larger: the goal always stays proportional to it.
package gctune

import (
	"runtime/debug"
	"sync"
)

var (
	mu      sync.Mutex
	ballast []byte
)

// MinHeap sets the ballast so that the GC does not collect before the
// heap reaches about min bytes, at the current GOGC: the ballast is
// min / (1 + GOGC/100). min 0, or GOGC off, drops the ballast. It returns
// the ballast size.
//
// The ballast counts against a memory limit (GOMEMLIMIT): keep min well
// below it.
func MinHeap(min uint64) uint64 {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	size := BallastSize(min, p)
	mu.Lock()
	defer mu.Unlock()
	ballast = nil
	if size > 0 {
		ballast = make([]byte, size)
	}
	return size
}

// BallastSize is the ballast that puts the first GC goal of an empty heap
// at min bytes for GOGC gcPercent (0 when GC is off or min is 0).
func BallastSize(min uint64, gcPercent int) uint64 {
	if min == 0 || gcPercent < 0 {
		return 0
	}
	return min * 100 / uint64(100+gcPercent)
}
