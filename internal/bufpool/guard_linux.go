package bufpool

import (
	"syscall"
	"unsafe"
)

// Guard is a debugging allocator: every buffer is its own mapping, and Free
// makes it inaccessible (and never reuses it), so the first use of a freed
// buffer faults with the stack of the goroutine that used it. It leaks
// every buffer: for finding use-after-free bugs in a short test run only.
type Guard struct{}

// Allocate maps a zeroed buffer of size bytes.
func (Guard) Allocate(size int) []byte {
	if size == 0 {
		size = 1
	}
	n := (size + syscall.Getpagesize() - 1) &^ (syscall.Getpagesize() - 1)
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		panic(err)
	}
	return b[:size:size]
}

// Reallocate moves b into a new mapping of size bytes and frees b.
func (g Guard) Reallocate(size int, b []byte) []byte {
	nb := g.Allocate(size)
	copy(nb, b)
	g.Free(b)
	return nb
}

// Free makes b's pages inaccessible.
func (Guard) Free(b []byte) {
	if cap(b) == 0 {
		return
	}
	n := (cap(b) + syscall.Getpagesize() - 1) &^ (syscall.Getpagesize() - 1)
	if err := syscall.Mprotect(unsafe.Slice(unsafe.SliceData(b), n), syscall.PROT_NONE); err != nil {
		panic(err)
	}
}
