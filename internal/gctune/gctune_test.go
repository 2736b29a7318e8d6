package gctune

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

func TestBallastSize(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		min       uint64
		gcPercent int
		want      uint64
	}{
		{768 * mib, 200, 256 * mib},
		{512 * mib, 100, 256 * mib},
		{512 * mib, 0, 512 * mib},
		{0, 200, 0},
		{512 * mib, -1, 0}, // GC off: no ballast
	} {
		if got := BallastSize(tc.min, tc.gcPercent); got != tc.want {
			t.Errorf("BallastSize(%d, %d) = %d, want %d", tc.min, tc.gcPercent, got, tc.want)
		}
	}
}

// TestMinHeapRaisesGoal checks the GC goal after a collection: at least
// the requested floor with the ballast, back near the live heap without.
func TestMinHeapRaisesGoal(t *testing.T) {
	old := debug.SetGCPercent(200)
	defer debug.SetGCPercent(old)
	defer MinHeap(0)
	goal := func() uint64 {
		runtime.GC()
		s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	const floor = 512 << 20
	if got := MinHeap(floor); got != floor/3 {
		t.Fatalf("ballast %d, want %d", got, floor/3)
	}
	if g := goal(); g < floor {
		t.Fatalf("heap goal with the ballast %d, want at least %d", g, floor)
	}
	MinHeap(0)
	if g := goal(); g >= floor/2 {
		t.Fatalf("heap goal without the ballast %d, want far below %d", g, floor)
	}
}
