package connectors

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/flint-engine/flint/connectors/fs"
)

// Read planning for high-latency storage (object stores), where every
// ReadAt is a request costing a round trip. Two helpers sit between the
// Parquet decoder and an fs.File:
//
//   - tailReader fetches the last bytes of a file in one request, so the
//     footer length and the footer itself usually cost one GET, not two.
//   - prefetcher knows up front which byte ranges a split will read (the
//     column chunks of its projected columns in its row groups), merges
//     ranges separated by small holes, cuts large ones into parts, and
//     fetches them several at a time, ahead of the decoder, within a memory
//     budget. The decoder's ReadAt calls are then served from memory.
//
// Local files use neither: a local ReadAt is cheap and the OS reads ahead.
// (arrow-go's BufferedStreamEnabled would do the opposite of what S3 needs:
// many small sequential reads instead of one large read per chunk.)
const (
	// localReadBuffer is the read size of a local Parquet column chunk
	// (arrow-go's buffered stream).
	localReadBuffer = 1 << 20
	// footerTail is how much of a file's end one footer request reads.
	footerTail = 64 << 10
	// prefetchHole is the largest gap between two wanted ranges that is
	// fetched rather than paid for with another request. Small, so that
	// reading few columns stays proportional to their size.
	prefetchHole = 64 << 10
	// prefetchPart is the largest single request; larger chunks are
	// fetched as several parts in parallel.
	prefetchPart = 8 << 20
	// prefetchInflight is how many requests one split keeps in flight.
	prefetchInflight = 4
	// prefetchBudget bounds the bytes one split holds fetched but not yet
	// consumed (a single larger part is still fetched when asked for).
	prefetchBudget = 64 << 20
)

// byteRange is [off, off+n).
type byteRange struct{ off, n int64 }

// tailReader serves reads in the last footerTail bytes of f from one
// request made on first use.
type tailReader struct {
	f     fs.File
	start int64
	once  sync.Once
	buf   []byte
	err   error
}

func newTailReader(f fs.File) *tailReader {
	return &tailReader{f: f, start: max(0, f.Size()-footerTail)}
}

func (t *tailReader) ReadAt(p []byte, off int64) (int, error) {
	if off < t.start {
		return t.f.ReadAt(p, off)
	}
	if off >= t.f.Size() {
		return 0, io.EOF
	}
	t.once.Do(func() {
		t.buf = make([]byte, t.f.Size()-t.start)
		n, err := t.f.ReadAt(t.buf, t.start)
		if err == io.EOF && n == len(t.buf) {
			err = nil
		}
		t.err = err
	})
	if t.err != nil {
		return 0, t.err
	}
	n := copy(p, t.buf[off-t.start:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// fetchBlock is one request of a prefetcher.
type fetchBlock struct {
	off, end int64
	// need is how many bytes of wanted ranges lie inside; once that many
	// have been served the data is dropped.
	need, served int64
	state        blockState
	done         chan struct{} // closed when the request has finished
	data         []byte
	err          error
}

type blockState uint8

const (
	blockIdle blockState = iota
	blockFetching
	blockReady
	blockDropped // consumed or failed: data released
)

// prefetcher is an io.ReaderAt over f that serves the planned ranges from
// blocks fetched ahead. Reads outside the plan, or of blocks already
// consumed, go to f directly. Safe for concurrent use; Close waits for the
// requests in flight (cancel the File's context first to cut them short).
type prefetcher struct {
	f fs.File
	// cancel cancels the context f was opened with, aborting requests in
	// flight at Close.
	cancel func()
	wg     sync.WaitGroup

	mu       sync.Mutex
	blocks   []*fetchBlock // sorted by offset, disjoint
	next     int           // blocks before next have been started or dropped
	inflight int
	held     int64 // bytes of blocks fetching or ready
	closed   bool
}

// newPrefetcher plans ranges (any order, may overlap) and starts the first
// requests at once.
func newPrefetcher(f fs.File, ranges []byteRange, cancel func()) *prefetcher {
	p := &prefetcher{f: f, cancel: cancel, blocks: planBlocks(ranges, f.Size())}
	p.mu.Lock()
	p.pump()
	p.mu.Unlock()
	return p
}

// planBlocks merges ranges whose gap is at most prefetchHole into requests
// of at most prefetchPart bytes; a range longer than that is cut into
// parts.
func planBlocks(ranges []byteRange, size int64) []*fetchBlock {
	var rs []byteRange
	for _, r := range ranges {
		r.off = max(0, r.off)
		r.n = min(r.n, size-r.off)
		if r.n > 0 {
			rs = append(rs, r)
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].off < rs[j].off })
	// Union of the wanted bytes, so "need" counts each byte once.
	var union []byteRange
	for _, r := range rs {
		if k := len(union) - 1; k >= 0 && r.off <= union[k].off+union[k].n {
			union[k].n = max(union[k].n, r.off+r.n-union[k].off)
			continue
		}
		union = append(union, r)
	}
	var blocks []*fetchBlock
	add := func(off, end int64) {
		blocks = append(blocks, &fetchBlock{off: off, end: end, done: make(chan struct{})})
	}
	for i := 0; i < len(union); {
		// Grow a group while the next range is near and the group small.
		start, end := union[i].off, union[i].off+union[i].n
		j := i + 1
		for ; j < len(union); j++ {
			nextEnd := union[j].off + union[j].n
			if union[j].off-end > prefetchHole || nextEnd-start > prefetchPart {
				break
			}
			end = nextEnd
		}
		for off := start; off < end; off += prefetchPart {
			add(off, min(end, off+prefetchPart))
		}
		i = j
	}
	// need = wanted bytes inside each block.
	k := 0
	for _, b := range blocks {
		for k < len(union) && union[k].off+union[k].n <= b.off {
			k++
		}
		for m := k; m < len(union) && union[m].off < b.end; m++ {
			b.need += min(b.end, union[m].off+union[m].n) - max(b.off, union[m].off)
		}
	}
	return blocks
}

// pump starts idle blocks in order while the request and memory limits
// allow. Called with mu held.
func (p *prefetcher) pump() {
	for p.next < len(p.blocks) && p.inflight < prefetchInflight && !p.closed {
		b := p.blocks[p.next]
		if b.state != blockIdle {
			p.next++
			continue
		}
		if p.held > 0 && p.held+(b.end-b.off) > prefetchBudget {
			return
		}
		p.start(b)
		p.next++
	}
}

// start sends b's request. Called with mu held.
func (p *prefetcher) start(b *fetchBlock) {
	b.state = blockFetching
	p.inflight++
	p.held += b.end - b.off
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		data := make([]byte, b.end-b.off)
		n, err := p.f.ReadAt(data, b.off)
		if err == io.EOF && n == len(data) {
			err = nil
		}
		p.mu.Lock()
		p.inflight--
		if err != nil {
			b.err = err
			b.state = blockDropped
			p.held -= b.end - b.off
		} else {
			b.data = data
			b.state = blockReady
		}
		p.pump()
		p.mu.Unlock()
		close(b.done)
	}()
}

// drop releases b's data. Called with mu held.
func (p *prefetcher) drop(b *fetchBlock) {
	if b.state == blockReady {
		p.held -= b.end - b.off
	}
	b.data = nil
	b.state = blockDropped
}

// ReadAt implements io.ReaderAt.
func (p *prefetcher) ReadAt(buf []byte, off int64) (int, error) {
	end := off + int64(len(buf))
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return 0, errors.New("read after close")
	}
	blocks := p.covering(off, end)
	if blocks == nil {
		p.mu.Unlock()
		return p.f.ReadAt(buf, off)
	}
	for _, b := range blocks {
		if b.state == blockIdle {
			p.start(b)
		}
	}
	p.mu.Unlock()
	for _, b := range blocks {
		<-b.done
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range blocks {
		if b.err != nil {
			return 0, b.err
		}
		if b.state != blockReady {
			// Consumed meanwhile by an overlapping read: read directly.
			p.mu.Unlock()
			n, err := p.f.ReadAt(buf, off)
			p.mu.Lock()
			return n, err
		}
	}
	for _, b := range blocks {
		lo, hi := max(off, b.off), min(end, b.end)
		copy(buf[lo-off:hi-off], b.data[lo-b.off:hi-b.off])
		b.served += hi - lo
		if b.served >= b.need {
			p.drop(b)
		}
	}
	p.pump()
	return len(buf), nil
}

// covering returns the contiguous blocks that hold all of [off, end), or
// nil if the range is not entirely planned or some part was consumed.
// Called with mu held.
func (p *prefetcher) covering(off, end int64) []*fetchBlock {
	if end <= off {
		return nil
	}
	i := sort.Search(len(p.blocks), func(i int) bool { return p.blocks[i].end > off })
	var out []*fetchBlock
	pos := off
	for ; i < len(p.blocks) && pos < end; i++ {
		b := p.blocks[i]
		if b.off > pos || (b.state == blockDropped && b.err == nil) {
			return nil
		}
		out = append(out, b)
		pos = b.end
	}
	if pos < end {
		return nil
	}
	return out
}

// Close cancels requests in flight, waits for them and drops all data.
func (p *prefetcher) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
	p.mu.Lock()
	for _, b := range p.blocks {
		p.drop(b)
	}
	p.mu.Unlock()
}

// parquetChunkRanges lists the byte ranges the Parquet decoder will read
// for the given leaf columns in the given row groups: exactly what
// arrow-go's RowGroupReader.GetColumnPageReader asks for (including its
// padding for files from parquet-mr before 1.2.9), so each chunk read is
// served by the prefetcher.
func parquetChunkRanges(pf *parquetFile, leaves []int, rowGroups []int) ([]byteRange, error) {
	md := pf.md
	pad816 := md.WriterVersion().LessThan(metadata.Parquet816FixedVersion)
	var out []byteRange
	for _, rg := range rowGroups {
		r := md.RowGroup(rg)
		for _, leaf := range leaves {
			cc, err := r.ColumnChunk(leaf)
			if err != nil {
				return nil, fmt.Errorf("row group %d column %d: %w", rg, leaf, err)
			}
			start := cc.DataPageOffset()
			if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && start > cc.DictionaryPageOffset() {
				start = cc.DictionaryPageOffset()
			}
			n := cc.TotalCompressedSize()
			if pad816 {
				n += max(0, min(100, md.GetSourceFileSize()-(start+n)))
			}
			out = append(out, byteRange{start, n})
		}
	}
	return out, nil
}
