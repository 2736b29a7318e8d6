package connectors

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/flint-engine/flint/connectors/fs"
)

// Sequential read-ahead for line formats (CSV, NDJSON, and their
// compressed files) on object stores. Their parsers read a split from
// start to end through a bufio.Reader; over an fs.File whose every ReadAt
// is a request, that is one round trip per buffer refill with nothing in
// flight while the parser works. readAhead keeps several large ranged
// reads in flight ahead of the consumer instead, in order.
//
// The Parquet prefetcher (prefetch.go) does not fit: it serves random
// ReadAt calls from ranges planned up front, while a line split is one
// stream whose end is only roughly known (the last record runs past the
// split's end).
const (
	// readAheadInflight is how many reads one stream keeps in flight.
	readAheadInflight = 4
	// readAheadMaxPart and readAheadMinPart bound one read: a span is cut
	// into about readAheadInflight parts, so small splits still fetch in
	// parallel and large ones use few, large requests. 4 MiB, not more:
	// four of them in flight already outrun the parser at object-store
	// latencies, and larger blocks cost CPU for nothing (the bytes land
	// in memory long before the parser copies them out, out of cache;
	// 8 MiB parts cost about 15% more CPU than 4 MiB ones in a scan of a
	// 200 MB CSV on versitygw).
	readAheadMaxPart = 4 << 20
	readAheadMinPart = 1 << 20
	// Past the read-ahead limit (the end of a split, whose last record
	// runs on) reads are made one at a time as the consumer asks, the
	// first of readAheadTailMin bytes (a record's rest is usually short),
	// each next one twice as large, up to readAheadTailMax.
	readAheadTailMin = 64 << 10
	readAheadTailMax = 1 << 20
)

// raBlock is one read of a readAhead.
type raBlock struct {
	off  int64
	data []byte // len: the bytes asked for
	n    int
	err  error
	done chan struct{}
}

// readAhead is an io.Reader over the bytes [pos, size) of f. It reads
// ahead up to limit, readAheadInflight reads at a time; past limit it
// reads one growing block at a time, only when asked. Read is for one
// goroutine (io.Reader); Close may be called from another one while Read
// waits: it cancels the reads in flight (cancel cancels the context f was
// opened with) and waits for them. Errors name the file and the offset;
// a read that returns fewer bytes than the file holds there is an error,
// never a silent end of the stream.
type readAhead struct {
	f      fs.File
	cancel func()
	size   int64
	limit  int64
	part   int64
	tail   int64 // size of the next read past limit

	next  int64      // offset of the next read to start
	queue []*raBlock // started reads, in offset order
	cur   []byte     // unread bytes of the current block
	buf   []byte     // the current block's buffer, pooled when consumed
	err   error      // sticky

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// newReadAhead starts reading f at pos; the first reads start at once.
// cancel, when not nil, cancels the context f was opened with.
func newReadAhead(f fs.File, pos, limit int64, cancel func()) *readAhead {
	size := f.Size()
	pos = min(max(pos, 0), size)
	limit = min(max(limit, pos), size)
	part := (limit - pos + readAheadInflight - 1) / readAheadInflight
	part = min(max(part, readAheadMinPart), readAheadMaxPart)
	r := &readAhead{f: f, cancel: cancel, size: size, limit: limit, part: part, tail: readAheadTailMin, next: pos}
	r.fill()
	return r
}

// fill starts reads up to limit until readAheadInflight are queued.
func (r *readAhead) fill() {
	for len(r.queue) < readAheadInflight && r.next < r.limit {
		r.start(min(r.part, r.limit-r.next))
	}
}

// start begins the read of n bytes at r.next.
func (r *readAhead) start(n int64) {
	b := &raBlock{off: r.next, data: getBuffer(int(n)), done: make(chan struct{})}
	r.next += n
	r.queue = append(r.queue, b)
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		b.err = errReadAfterClose
		close(b.done)
		return
	}
	r.wg.Add(1)
	r.mu.Unlock()
	go func() {
		defer r.wg.Done()
		defer close(b.done)
		b.n, b.err = r.f.ReadAt(b.data, b.off)
		if b.err == io.EOF && b.n == len(b.data) {
			b.err = nil
		}
	}()
}

var errReadAfterClose = errors.New("read after close")

// Read implements io.Reader.
func (r *readAhead) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return 0, fmt.Errorf("%s: %w", r.f.Name(), errReadAfterClose)
	}
	for len(r.cur) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.buf != nil {
			putBuffer(r.buf)
			r.buf = nil
		}
		if len(r.queue) == 0 {
			if r.next >= r.size {
				r.err = io.EOF
				return 0, io.EOF
			}
			// Past the limit: one read at a time, as the consumer asks.
			r.start(min(r.tail, r.size-r.next))
			r.tail = min(2*r.tail, readAheadTailMax)
		}
		b := r.queue[0]
		<-b.done
		r.queue[0] = nil
		r.queue = r.queue[1:]
		if err := r.blockErr(b); err != nil {
			r.err = err
			return 0, err
		}
		r.cur, r.buf = b.data, b.data
		r.fill()
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// blockErr is the error of a finished read, naming the file and offset.
func (r *readAhead) blockErr(b *raBlock) error {
	if b.err == errReadAfterClose {
		return fmt.Errorf("%s: %w", r.f.Name(), b.err)
	}
	if b.err != nil && b.err != io.EOF {
		return fmt.Errorf("%s: reading %d bytes at offset %d: %w", r.f.Name(), len(b.data), b.off, b.err)
	}
	if b.n < len(b.data) { // the file's size was known: an early EOF is short too
		return fmt.Errorf("%s: short read at offset %d: got %d of %d bytes (did the file change?)", r.f.Name(), b.off, b.n, len(b.data))
	}
	return nil
}

// Close cancels the reads in flight and waits for them. Reads after
// Close fail.
func (r *readAhead) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.mu.Unlock()
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	return nil
}

// Block buffers are pooled by power-of-two size class, across streams:
// a split is only a few blocks long, and fresh multi-megabyte buffers
// cost page faults and zeroing on every split. Buffers of blocks still
// in flight when a stream is closed are left to the garbage collector.
const (
	minBufferClass = 16 // 64 KiB
	maxBufferClass = 22 // 4 MiB = readAheadMaxPart
)

var bufferPools [maxBufferClass + 1]sync.Pool

// The largest class holds a whole part.
var _ [1<<maxBufferClass - readAheadMaxPart]struct{}

func bufferClass(n int) int {
	c := minBufferClass
	for c < maxBufferClass && 1<<c < n {
		c++
	}
	return c
}

// getBuffer returns a buffer of n bytes (n at most readAheadMaxPart).
func getBuffer(n int) []byte {
	c := bufferClass(n)
	if 1<<c < n {
		return make([]byte, n)
	}
	if b, ok := bufferPools[c].Get().(*[]byte); ok {
		return (*b)[:n]
	}
	return make([]byte, n, 1<<c)
}

// putBuffer pools a buffer from getBuffer.
func putBuffer(b []byte) {
	c := bufferClass(cap(b))
	if cap(b) != 1<<c {
		return
	}
	b = b[:0]
	bufferPools[c].Put(&b)
}
