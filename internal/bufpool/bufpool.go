// Package bufpool is an Arrow buffer allocator that recycles freed buffers.
//
// Query execution allocates and frees many same-sized column buffers (one
// per column per batch). With Go's allocator each is a fresh large object:
// zeroed cold memory, and a GC cycle every few hundred megabytes allocated.
// Allocator keeps freed buffers in per-size-class pools and hands the most
// recently freed (still in cache) out again, zeroed like Go's allocator
// does. Buffers of MinPooled bytes or less come from Go's allocator directly.
//
// The pools keep what was freed only up to a share of what is in use: a
// freed buffer is kept while they hold less than MinRetained bytes, or an
// eighth (1/RetainShare) of the bytes of the buffers handed out and not
// freed when that is more, counted since the last garbage collection;
// past that it is left to the GC. A query moves through phases (scan,
// build, probe, shuffle) whose buffers differ in size: without the cap,
// the buffers of a finished phase (an exchange dropped once read) stayed
// in the pools, alive to the GC, until two collections had passed, and
// the GC let the heap grow in proportion to them.
//
// Like Go's allocator it returns slices whose capacity is their length
// (Arrow's builders rely on it). It remembers the buffers it handed out
// by address only, so Free of a slice it did not allocate leaves that
// slice alone, and a buffer that is never freed is still collected by the
// GC (its entry goes with it), as with Go's allocator.
//
// A buffer must not be used after it is freed (after its last Release):
// with this allocator it may already hold another batch's data. Tests run
// the engine on NewPoisoning, which overwrites every freed buffer before
// recycling it, so a use after free gives wrong answers that the tests'
// expected results catch; Guard (Linux) makes such a use fault instead,
// for finding the culprit.
package bufpool

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"
)

const (
	alignment = 64
	// MinPooled bounds the buffer sizes served from the pools (from just
	// above it).
	MinPooled = 4 << 10
	maxShift  = 26 // 64 MiB: larger buffers come from Go directly
	shards    = 64
	// MinRetained is what the pools may always keep; RetainShare the
	// share of the bytes in use they may keep beyond it (1/RetainShare).
	MinRetained = 8 << 20
	RetainShare = 8
)

// Allocator implements Arrow's memory.Allocator. The zero value is ready.
// It is safe for concurrent use.
type Allocator struct {
	pools  [numClasses]sync.Pool // pools[c]: *block of size class c
	live   [shards]liveShard
	poison bool

	inUse    atomic.Int64 // bytes of pooled-class buffers handed out, not freed
	retained atomic.Int64 // bytes put in the pools since the last GC, less those taken
	gcHook   sync.Once
}

// block is a pooled buffer: its first byte and its size class.
type block struct {
	p     *byte
	class uint16
	size  int // the class's size: the buffer's capacity
}

// Size classes: each power of two from MinPooled up splits into four
// steps, so a buffer wastes at most a fifth of its capacity.
const numClasses = 4 * (maxShift + 1)

// classSize is the size of class c.
func classSize(c int) int {
	e, m := c/4, c%4+1
	return 1<<e + m*(1<<(e-2))
}

// classOf returns the size class of a buffer of n bytes (MinPooled < n ≤
// 1<<maxShift) and that class's size.
func classOf(n int) (class int, size int) {
	e := bits.Len(uint(n-1)) - 1 // 1<<e < n ≤ 1<<(e+1)
	step := 1 << (e - 2)
	m := (n - 1<<e + step - 1) / step // 1..4
	return 4*e + m - 1, 1<<e + m*step
}

// liveShard maps the address of each buffer handed out to its size
// class. Addresses are not pointers: the map does not keep buffers alive.
type liveShard struct {
	mu sync.Mutex
	m  map[uintptr]uint16
	_  [40]byte // keep shards on separate cache lines
}

func (a *Allocator) shard(addr uintptr) *liveShard {
	return &a.live[(addr>>12)%shards]
}

// forget drops the entry of a buffer the GC collected without a Free,
// and its bytes from inUse. Should the address already serve a new buffer,
// that one is merely not recycled when freed (and counted out early).
func (sh *liveShard) forget(f forgotten) {
	sh.mu.Lock()
	c, ok := sh.m[f.addr]
	delete(sh.m, f.addr)
	sh.mu.Unlock()
	if ok {
		f.inUse.Add(-int64(classSize(int(c))))
	}
}

// forgotten is what forget needs of a collected buffer.
type forgotten struct {
	addr  uintptr
	inUse *atomic.Int64
}

// shared is the allocator of the process's queries.
var shared Allocator

// Shared returns the process-wide allocator: every session and executor
// task of a process recycles through the same pools.
func Shared() *Allocator { return &shared }

// PoisonByte is what NewPoisoning's allocator writes over freed buffers.
const PoisonByte = 0xA5

// NewPoisoning returns an allocator for tests: it recycles like Allocator,
// and fills every freed buffer, pooled or not, with PoisonByte first.
func NewPoisoning() *Allocator { return &Allocator{poison: true} }

// Allocate returns a zeroed buffer of size bytes, 64-byte aligned.
func (a *Allocator) Allocate(size int) []byte {
	if size <= MinPooled || size > 1<<maxShift {
		return goAllocate(size)
	}
	c, csize := classOf(size)
	blk, ok := a.pools[c].Get().(*block)
	if ok {
		if a.retained.Add(-int64(blk.size)) < 0 {
			a.retained.Store(0) // it came from before the last GC's reset
		}
	} else {
		buf := goAllocate(csize)
		blk = &block{p: unsafe.SliceData(buf), class: uint16(c), size: csize}
		addr := uintptr(unsafe.Pointer(blk.p))
		runtime.AddCleanup(blk.p, a.shard(addr).forget, forgotten{addr, &a.inUse})
	}
	addr := uintptr(unsafe.Pointer(blk.p))
	sh := a.shard(addr)
	sh.mu.Lock()
	if sh.m == nil {
		sh.m = map[uintptr]uint16{}
	}
	sh.m[addr] = blk.class
	sh.mu.Unlock()
	a.inUse.Add(int64(blk.size))
	b := unsafe.Slice(blk.p, size)
	if ok {
		clear(b)
	}
	return b
}

// lookup returns the block b starts, if this allocator handed it out.
func (a *Allocator) lookup(b []byte, remove bool) *block {
	if cap(b) <= MinPooled || cap(b) > 1<<maxShift {
		return nil
	}
	p := unsafe.SliceData(b)
	addr := uintptr(unsafe.Pointer(p))
	sh := a.shard(addr)
	sh.mu.Lock()
	c, ok := sh.m[addr]
	if ok && remove {
		delete(sh.m, addr)
	}
	sh.mu.Unlock()
	if !ok {
		return nil
	}
	blk := &block{p: p, class: c, size: classSize(int(c))}
	if cap(b) > blk.size {
		return nil // not the buffer handed out at this address
	}
	return blk
}

// Reallocate grows or shrinks b to size bytes, keeping its contents; bytes
// beyond the old length are zero.
func (a *Allocator) Reallocate(size int, b []byte) []byte {
	if size <= len(b) {
		return b[:size:size]
	}
	if blk := a.lookup(b, false); blk != nil && size <= blk.size {
		nb := unsafe.Slice(blk.p, size)
		clear(nb[len(b):])
		return nb
	}
	nb := a.Allocate(size)
	copy(nb, b)
	a.Free(b)
	return nb
}

// Free gives b back for reuse. Slices this allocator did not hand out are
// left to the garbage collector.
func (a *Allocator) Free(b []byte) {
	blk := a.lookup(b, true)
	if a.poison {
		full := b
		if blk != nil {
			full = unsafe.Slice(blk.p, blk.size)
		}
		for i := range full {
			full[i] = PoisonByte
		}
	}
	if blk == nil {
		return
	}
	size := int64(blk.size)
	inUse := a.inUse.Add(-size)
	if a.retained.Load()+size > max(MinRetained, inUse/RetainShare) {
		return // the GC takes it
	}
	a.gcHook.Do(a.resetEachGC)
	a.retained.Add(size)
	a.pools[blk.class].Put(blk)
}

// Retained is about how many bytes of freed buffers the pools hold: what
// was put in them since the last GC and not taken out again (the pools
// may hold up to as much again from before it, until the next GC drops
// them).
func (a *Allocator) Retained() int64 { return a.retained.Load() }

// InUse is the bytes of the pooled size classes handed out and not freed.
func (a *Allocator) InUse() int64 { return a.inUse.Load() }

// resetEachGC zeroes the retained count after every collection: a
// collection moves what the pools hold aside, to be dropped by the next
// unless taken first. It stops when the allocator is collected.
func (a *Allocator) resetEachGC() {
	wp := weak.Make(a)
	var arm func()
	arm = func() {
		s := new(gcSentinel)
		runtime.SetFinalizer(s, func(*gcSentinel) {
			if a := wp.Value(); a != nil {
				a.retained.Store(0)
				arm()
			}
		})
	}
	arm()
}

// gcSentinel becomes unreachable at once: its finalizer runs after the
// next collection. (Not tiny, so the runtime does not batch it.)
type gcSentinel struct{ _ [16]uint64 }

// goAllocate is Go's allocator: a zeroed, 64-byte aligned slice of size
// bytes whose capacity is its length.
func goAllocate(size int) []byte {
	buf := make([]byte, size+alignment)
	shift := 0
	if r := uintptr(unsafe.Pointer(unsafe.SliceData(buf))) % alignment; r != 0 {
		shift = int(alignment - r)
	}
	return buf[shift : shift+size : shift+size]
}
