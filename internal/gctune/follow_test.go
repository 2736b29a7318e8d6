package gctune

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestGCPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		live, floor uint64
		percent     int
		want        int
	}{
		{400 * mib, 16 * mib, 25, 25}, // a quarter of 400 MiB is above the floor
		{32 * mib, 16 * mib, 25, 50},  // a quarter of 32 MiB is below it
		{64 * mib, 16 * mib, 25, 25},  // exactly at the floor
		{3 * mib, 16 * mib, 25, 534},  // rounded up
		{0, 16 * mib, 25, 1 << 20},    // capped
		{100 * mib, 0, 50, 50},        // no floor
		{100 * mib, 0, 0, 0},          // GOGC=0 stays 0
	} {
		if got := GCPercent(tc.live, tc.floor, tc.percent); got != tc.want {
			t.Errorf("GCPercent(%d MiB, %d MiB, %d) = %d, want %d", tc.live/mib, tc.floor/mib, tc.percent, got, tc.want)
		}
	}
}

// TestFollowLiveRetunes: after a collection, GOGC is what GCPercent gives
// for the heap that collection found alive, up to the GOGC in force
// before; stop restores that GOGC.
func TestFollowLiveRetunes(t *testing.T) {
	old := debug.SetGCPercent(1 << 20) // a ceiling the floor stays under
	defer debug.SetGCPercent(old)
	const floor = 1 << 30 // far above this test's heap: the floor decides
	stop := FollowLive(floor, 25)
	if p := debug.SetGCPercent(-1); p != 25 {
		t.Fatalf("GOGC right after FollowLive = %d, want 25 until the first collection", p)
	}
	debug.SetGCPercent(25)
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var got int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // the finalizer runs on its own goroutine
		got = debug.SetGCPercent(-1)
		debug.SetGCPercent(got)
		if got > 25 {
			break
		}
	}
	metrics.Read(sample)
	want := GCPercent(sample[0].Value.Uint64(), floor, 25)
	// The live heap may move a little between the collection the tuner
	// saw and the read above.
	if got < want*9/10 || got > want*11/10 {
		t.Fatalf("GOGC after a collection = %d, want about %d", got, want)
	}
	stop()
	if p := debug.SetGCPercent(100); p != 1<<20 {
		t.Fatalf("stop left GOGC at %d, want the %d in force before", p, 1<<20)
	}
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	if p := debug.SetGCPercent(100); p != 100 {
		t.Fatalf("a collection after stop retuned GOGC to %d", p)
	}
}

// TestFollowLiveCeiling: GOGC never goes above the one in force before,
// however small the heap: a cycle paced before the retuning runs is never
// looser than without FollowLive.
func TestFollowLiveCeiling(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	stop := FollowLive(1<<30, 25) // the floor alone would allow thousands of percent
	defer stop()
	for range 5 {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
		p := debug.SetGCPercent(-1)
		debug.SetGCPercent(p)
		if p > 100 {
			t.Fatalf("GOGC %d above the 100 in force before", p)
		}
	}
}
