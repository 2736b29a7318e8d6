package connectors

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeFile is an fs.File over data that records its reads. ReadAt calls
// may be delayed (later blocks answered first), blocked until cancel, or
// fail at a given offset.
type fakeFile struct {
	data []byte

	mu       sync.Mutex
	reads    []byteRange
	inflight int
	maxIn    int

	delay    func(off int64) time.Duration
	block    chan struct{} // when not nil, ReadAt waits until it is closed
	failAt   int64         // ReadAt at this offset fails (-1: never)
	failErr  error
	shortAt  int64 // ReadAt at this offset returns fewer bytes (-1: never)
	returned int   // ReadAt calls that have returned
}

func newFakeFile(n int) *fakeFile {
	data := make([]byte, n)
	rand.New(rand.NewSource(int64(n))).Read(data)
	return &fakeFile{data: data, failAt: -1, shortAt: -1}
}

func (f *fakeFile) Size() int64  { return int64(len(f.data)) }
func (f *fakeFile) Name() string { return "mem://bucket/file.csv" }
func (f *fakeFile) Close() error { return nil }

func (f *fakeFile) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	f.reads = append(f.reads, byteRange{off, int64(len(p))})
	f.inflight++
	f.maxIn = max(f.maxIn, f.inflight)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inflight--
		f.returned++
		f.mu.Unlock()
	}()
	if f.delay != nil {
		time.Sleep(f.delay(off))
	}
	if f.block != nil {
		<-f.block
		return 0, errors.New("context canceled")
	}
	if off == f.failAt {
		return 0, f.failErr
	}
	if off >= int64(len(f.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.data[off:])
	if off == f.shortAt {
		return n / 2, io.EOF
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *fakeFile) stats() (reads []byteRange, maxIn, returned int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]byteRange(nil), f.reads...), f.maxIn, f.returned
}

// readChunks reads r to the end with reads of varying sizes.
func readChunks(r io.Reader) ([]byte, error) {
	var out bytes.Buffer
	buf := make([]byte, 3<<20)
	for i := 0; ; i++ {
		n, err := r.Read(buf[:1+(i*7919)%len(buf)])
		out.Write(buf[:n])
		if err == io.EOF {
			return out.Bytes(), nil
		}
		if err != nil {
			return out.Bytes(), err
		}
	}
}

// TestReadAheadOrder: the stream is the file's bytes from pos, in order,
// although later reads finish first; up to readAheadInflight reads are
// in flight, none outside [pos, size), and none twice.
func TestReadAheadOrder(t *testing.T) {
	for _, tc := range []struct {
		size, pos, limit int64
	}{
		{30<<20 + 123, 0, 30<<20 + 123}, // whole file: readAheadMaxPart parts
		{5<<20 + 7, 1000, 3 << 20},      // a split: 1 MiB parts to limit, then the rest as asked
		{100, 10, 50},
		{0, 0, 0},
	} {
		f := newFakeFile(int(tc.size))
		// The first blocks answer last.
		f.delay = func(off int64) time.Duration { return time.Duration(max(0, 20-off>>20)) * time.Millisecond }
		r := newReadAhead(f, tc.pos, tc.limit, nil)
		got, err := readChunks(r)
		r.Close()
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		if !bytes.Equal(got, f.data[tc.pos:]) {
			t.Fatalf("%+v: read %d bytes that differ from the file's %d from %d", tc, len(got), len(f.data)-int(tc.pos), tc.pos)
		}
		reads, maxIn, _ := f.stats()
		if tc.size > readAheadInflight*readAheadMaxPart && maxIn != readAheadInflight {
			t.Errorf("%+v: at most %d reads in flight, want %d", tc, maxIn, readAheadInflight)
		}
		if maxIn > readAheadInflight {
			t.Errorf("%+v: %d reads in flight", tc, maxIn)
		}
		covered := tc.pos
		for _, rd := range sortedRanges(reads) {
			if rd.off != covered || rd.n <= 0 || rd.n > readAheadMaxPart {
				t.Fatalf("%+v: reads %v do not tile [%d, %d) with parts of at most %d", tc, reads, tc.pos, tc.size, readAheadMaxPart)
			}
			if rd.off >= tc.limit && rd.n > readAheadTailMax {
				t.Errorf("%+v: read %v past the limit is larger than %d", tc, rd, readAheadTailMax)
			}
			covered += rd.n
		}
		if covered != tc.size {
			t.Errorf("%+v: reads %v end at %d", tc, reads, covered)
		}
	}
}

// TestReadAheadStopsAtLimit: past the limit nothing is read ahead; a
// consumer that stops just after the limit has read one small block
// more.
func TestReadAheadStopsAtLimit(t *testing.T) {
	f := newFakeFile(20 << 20)
	limit := int64(4<<20 + 5)
	r := newReadAhead(f, 0, limit, nil)
	buf := make([]byte, limit+10)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // any stray read would have started
	r.Close()
	if !bytes.Equal(buf, f.data[:len(buf)]) {
		t.Fatal("wrong bytes")
	}
	reads, _, _ := f.stats()
	var end int64
	for _, rd := range reads {
		end = max(end, rd.off+rd.n)
	}
	if want := limit + readAheadTailMin; end != want {
		t.Errorf("reads %v reach byte %d, want %d (the limit and one tail block)", reads, end, want)
	}
}

// TestReadAheadClose: Close cancels the reads in flight and waits for
// them; a read after Close fails.
func TestReadAheadClose(t *testing.T) {
	f := newFakeFile(40 << 20)
	f.block = make(chan struct{})
	var once sync.Once
	cancel := func() { once.Do(func() { close(f.block) }) }
	r := newReadAhead(f, 0, f.Size(), cancel)
	waitUntil(t, func() bool { reads, _, _ := f.stats(); return len(reads) == readAheadInflight })
	done := make(chan error, 1)
	go func() {
		_, err := r.Read(make([]byte, 10))
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	r.Close()
	if _, _, returned := f.stats(); returned != readAheadInflight {
		t.Errorf("Close returned with %d of %d reads finished", returned, readAheadInflight)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "mem://bucket/file.csv") {
			t.Errorf("the waiting Read returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read still waiting after Close")
	}
	if _, err := r.Read(make([]byte, 10)); err == nil || !strings.Contains(err.Error(), "read after close") {
		t.Errorf("Read after Close: %v", err)
	}
	if reads, _, _ := f.stats(); len(reads) != readAheadInflight {
		t.Errorf("%d reads after Close, want the %d in flight only", len(reads), readAheadInflight)
	}
	r.Close() // idempotent
}

// TestReadAheadErrors: a failed or short read ends the stream with an
// error naming the file and the offset, after every byte before it.
func TestReadAheadErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(f *fakeFile, at int64)
		want string
	}{
		{"failure", func(f *fakeFile, at int64) { f.failAt, f.failErr = at, errors.New("503 slow down") }, "503 slow down"},
		{"short read", func(f *fakeFile, at int64) { f.shortAt = at }, "short read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeFile(10 << 20)
			at := int64(2 << 20) // the third 1 MiB part
			tc.set(f, at)
			r := newReadAhead(f, 0, 4<<20, nil)
			defer r.Close()
			got, err := readChunks(r)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "mem://bucket/file.csv") ||
				!strings.Contains(err.Error(), "offset 2097152") {
				t.Fatalf("error %v: want %q, the file and the offset", err, tc.want)
			}
			if !bytes.Equal(got, f.data[:at]) {
				t.Errorf("read %d bytes before the error, want the %d before the failed read", len(got), at)
			}
			if _, err2 := r.Read(make([]byte, 1)); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("next Read: %v, want the same error", err2)
			}
		})
	}
}

func sortedRanges(rs []byteRange) []byteRange {
	out := append([]byteRange(nil), rs...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].off < out[j-1].off; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}
