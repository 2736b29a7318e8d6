package bufpool

import (
	"bytes"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

var _ memory.Allocator = (*Allocator)(nil)

func aligned(b []byte) bool { return uintptr(unsafe.Pointer(unsafe.SliceData(b)))%alignment == 0 }

func TestAllocateZeroedAndAligned(t *testing.T) {
	var a Allocator
	for _, size := range []int{0, 1, 100, MinPooled - 1, MinPooled, MinPooled + 1, 100_000, 1 << 20, 1<<maxShift + 1} {
		b := a.Allocate(size)
		if len(b) != size || !aligned(b) {
			t.Fatalf("Allocate(%d): len %d, aligned %v", size, len(b), aligned(b))
		}
		for i := range b {
			b[i] = 7
		}
		a.Free(b)
		b = a.Allocate(size)
		if len(b) != size || !aligned(b) || bytes.IndexFunc(b, func(r rune) bool { return r != 0 }) >= 0 {
			t.Fatalf("Allocate(%d) after Free: not a zeroed, aligned buffer of that size", size)
		}
	}
}

func TestFreedBufferIsReused(t *testing.T) {
	var a Allocator
	// sync.Pool may drop items at any time (a GC); retry a few times.
	for try := 0; try < 10; try++ {
		b := a.Allocate(40_000)
		p := unsafe.SliceData(b)
		a.Free(b)
		if c := a.Allocate(33_000); unsafe.SliceData(c) == p {
			if len(c) != 33_000 || cap(c) != 33_000 {
				t.Fatalf("reused buffer has len %d cap %d, want both 33000", len(c), cap(c))
			}
			return
		}
	}
	t.Fatal("a freed buffer of the same size class was never handed out again")
}

func TestReallocate(t *testing.T) {
	var a Allocator
	b := a.Allocate(5000)
	for i := range b {
		b[i] = byte(i)
	}
	b = a.Reallocate(3000, b) // shrink in place
	b = a.Reallocate(6000, b) // grow in place (capacity 8192): bytes past 3000 are zero
	for i := range b {
		want := byte(0)
		if i < 3000 {
			want = byte(i)
		}
		if b[i] != want {
			t.Fatalf("after shrink and grow, byte %d = %d, want %d", i, b[i], want)
		}
	}
	c := a.Reallocate(100_000, b) // moves
	if len(c) != 100_000 || c[2999] != byte(2999%256) || c[3000] != 0 || c[99_999] != 0 {
		t.Fatalf("Reallocate to a larger class lost or invented bytes")
	}
}

func TestFreeIgnoresForeignSlices(t *testing.T) {
	a := NewPoisoning()
	foreign := make([]byte, 8192)
	a.Free(foreign[:4096])
	if foreign[4096] != 0 {
		t.Fatal("Free of a slice it did not allocate wrote past that slice")
	}
	b := a.Allocate(8192)
	a.Free(b[100:5000]) // not the start of a buffer it handed out
	if b[0] != 0 || b[6000] != 0 {
		t.Fatal("Free of an interior slice touched the rest of the buffer")
	}
}

func TestPoisoningOverwritesFreedBuffers(t *testing.T) {
	a := NewPoisoning()
	for _, size := range []int{10, 50_000} {
		b := a.Allocate(size)
		a.Free(b)
		if b[0] != PoisonByte || b[size-1] != PoisonByte {
			t.Fatalf("freed buffer of %d bytes not poisoned", size)
		}
	}
}

func TestConcurrent(t *testing.T) {
	var a Allocator
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g byte) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				b := a.Allocate(4096 + i)
				for j := range b {
					if b[j] != 0 {
						t.Errorf("buffer handed out twice or not zeroed")
						return
					}
					b[j] = g + 1
				}
				a.Free(b)
			}
		}(byte(g))
	}
	wg.Wait()
}

func BenchmarkAllocateFree64KiB(b *testing.B) {
	var a Allocator
	for b.Loop() {
		a.Free(a.Allocate(64 << 10))
	}
}

func BenchmarkGoAllocator64KiB(b *testing.B) {
	a := memory.NewGoAllocator()
	for b.Loop() {
		a.Free(a.Allocate(64 << 10))
	}
}

func TestClassOf(t *testing.T) {
	prev := -1
	for n := MinPooled + 1; n <= 1<<maxShift; n += 997 {
		c, size := classOf(n)
		if size < n || float64(size) > 1.25*float64(n) || c < prev || c >= numClasses {
			t.Fatalf("classOf(%d) = %d, %d", n, c, size)
		}
		if c2, size2 := classOf(size); c2 != c || size2 != size {
			t.Fatalf("classOf(%d) = %d, %d but classOf(%d) = %d, %d", n, c, size, size, c2, size2)
		}
		prev = c
		if n > 1<<20 {
			n += n / 8
		}
	}
}

func TestClassSizeInvertsClassOf(t *testing.T) {
	for n := MinPooled + 1; n <= 1<<maxShift; n = n*9/8 + 1 {
		c, size := classOf(n)
		if classSize(c) != size {
			t.Fatalf("classSize(%d) = %d, classOf(%d) gave %d", c, classSize(c), n, size)
		}
	}
}

// TestUnfreedBuffersAreCollected: a buffer dropped without Free does not
// stay alive through the allocator's bookkeeping.
func TestUnfreedBuffersAreCollected(t *testing.T) {
	var a Allocator
	collected := make(chan struct{})
	b := a.Allocate(1 << 20)
	runtime.AddCleanup(&b[0], func(ch chan struct{}) { close(ch) }, collected)
	b = nil
	for i := 0; i < 20; i++ {
		runtime.GC()
		select {
		case <-collected:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("a buffer that was never freed stayed alive")
}

// TestRetentionFollowsUse: a freed buffer is kept only while the pools
// hold less than max(MinRetained, InUse/RetainShare), InUse as of that
// Free; the rest go to the GC. InUse counts what is handed out.
func TestRetentionFollowsUse(t *testing.T) {
	var a Allocator
	const size = 1 << 20 // a size class of its own: exactly 1 MiB
	var held [][]byte
	for range 200 {
		held = append(held, a.Allocate(size))
	}
	if got := a.InUse(); got != 200*size {
		t.Fatalf("InUse %d after 200 MiB handed out, want %d", got, 200*size)
	}
	// Free 150: the pools keep at most an eighth of the 199 MiB in use
	// at the first Free, far from the 150 MiB freed.
	for _, b := range held[:150] {
		a.Free(b)
	}
	if got, limit := a.Retained(), int64(max(MinRetained, 199*size/RetainShare)); got > limit {
		t.Errorf("pools keep %d bytes, want at most %d", got, limit)
	}
	if got := a.InUse(); got != 50*size {
		t.Errorf("InUse %d, want %d", got, 50*size)
	}
	// A buffer handed out again comes off the retained count.
	before := a.Retained()
	b := a.Allocate(size)
	if a.Retained() > before {
		t.Errorf("retained grew from %d to %d on an Allocate", before, a.Retained())
	}
	a.Free(b)
	for _, b := range held[150:] {
		a.Free(b)
	}
	if got := a.InUse(); got != 0 {
		t.Errorf("InUse %d after freeing everything", got)
	}
	if got, limit := a.Retained(), int64(max(MinRetained, 199*size/RetainShare)); got > limit {
		t.Errorf("pools keep %d bytes, want at most %d", got, limit)
	}
	// Once little is in use, freed buffers past MinRetained go to the GC.
	for deadline := time.Now().Add(10 * time.Second); a.Retained() != 0 && time.Now().Before(deadline); {
		runtime.GC() // resets the count
		time.Sleep(time.Millisecond)
	}
	var small [][]byte
	for range 40 {
		small = append(small, a.Allocate(size))
	}
	for _, b := range small {
		a.Free(b)
	}
	if got := a.Retained(); got > MinRetained+size {
		t.Errorf("pools keep %d bytes of 40 MiB freed, want at most %d", got, MinRetained+size)
	}
}

// TestRetainedCountResetsAtGC: a collection moves the pools' contents
// aside (the next one drops them), so the count starts again from zero.
func TestRetainedCountResetsAtGC(t *testing.T) {
	var a Allocator
	a.Free(a.Allocate(1 << 20))
	if a.Retained() == 0 {
		t.Fatal("a freed buffer was not retained")
	}
	for deadline := time.Now().Add(10 * time.Second); a.Retained() != 0; {
		if time.Now().After(deadline) {
			t.Fatalf("retained count still %d after collections", a.Retained())
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}
