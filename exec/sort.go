package exec

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flint-engine/flint/mempool"
)

// sortEntry pairs a packed key with its row.
type sortEntry struct {
	k uint64
	i int32
}

// sortPermutation returns the row order of b under keys. Ties are broken by
// row number, so the result is deterministic (a stable sort).
//
// Leading keys with a uint64 normalization (integers, dates, timestamps,
// floats, decimals, string prefixes) are packed into one uint64 per row:
// each key contributes a null flag (when it has nulls) and its value minus
// the column minimum, in as many bits as its range needs. Rows are then
// radix-sorted on that word (stable, so ties stay in row order) and only
// runs of equal words are compared with the remaining keys. For the Q18-
// like "decimal DESC, date" sort both keys fit and no comparator runs.
// A first key too wide to pack with a null flag (e.g. a full-range int64
// with nulls) is used as-is with its null rows sorted separately.
func sortPermutation(b arrow.RecordBatch, keys []SortKey) []int32 {
	n := int(b.NumRows())
	idx := make([]int32, 0, n)
	if len(keys) == 0 || n == 0 {
		for i := range n {
			idx = append(idx, int32(i))
		}
		return idx
	}
	full := sortMakeRowCmp(b, b, keys)
	comp := make([]uint64, n)
	used, tailFrom := 0, 0
	var nullCol arrow.Array // first key column whose null rows are sorted apart
	for ki, k := range keys {
		col := b.Column(k.Col)
		nk, exact, ok := sortNormKeys(col, k.Desc)
		if !ok {
			break
		}
		hasNulls := col.NullN() > 0
		lo, hi := uint64(math.MaxUint64), uint64(0)
		for i, v := range nk {
			if hasNulls && col.IsNull(i) {
				continue
			}
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo > hi { // all null
			lo, hi = 0, 0
		}
		width := bits.Len64(hi - lo)
		nb := 0
		if hasNulls {
			nb = 1
		}
		if used+width+nb > 64 {
			if ki == 0 {
				comp, used = nk, 64
				if hasNulls {
					nullCol = col
				}
				if exact {
					tailFrom = 1
				}
			}
			break
		}
		shift := uint(width + nb)
		nullFlag := uint64(1) << width
		for i, v := range nk {
			var part uint64
			switch {
			case hasNulls && col.IsNull(i):
				if !k.NullsFirst {
					part = nullFlag
				}
			case hasNulls && k.NullsFirst:
				part = (v - lo) | nullFlag
			default:
				part = v - lo
			}
			comp[i] = comp[i]<<shift | part
		}
		used += int(shift)
		if !exact {
			tailFrom = ki
			break
		}
		tailFrom = ki + 1
	}
	if tailFrom == 0 && used == 0 {
		for i := range n {
			idx = append(idx, int32(i))
		}
		slices.SortFunc(idx, func(x, y int32) int {
			if r := full.compare(int(x), int(y)); r != 0 {
				return r
			}
			return cmp.Compare(x, y)
		})
		return idx
	}
	entries := make([]sortEntry, 0, n)
	var nulls []int32
	for i := range n {
		if nullCol != nil && nullCol.IsNull(i) {
			nulls = append(nulls, int32(i))
			continue
		}
		entries = append(entries, sortEntry{comp[i], int32(i)})
	}
	sortRadix(entries, used)
	if tail := full[tailFrom:]; len(tail) > 0 {
		for lo := 0; lo < len(entries); {
			hi := lo + 1
			for hi < len(entries) && entries[hi].k == entries[lo].k {
				hi++
			}
			if hi-lo > 1 {
				slices.SortFunc(entries[lo:hi], func(x, y sortEntry) int {
					if r := tail.compare(int(x.i), int(y.i)); r != 0 {
						return r
					}
					return cmp.Compare(x.i, y.i)
				})
			}
			lo = hi
		}
	}
	if len(nulls) > 0 {
		rest := full[1:]
		slices.SortFunc(nulls, func(x, y int32) int {
			if r := rest.compare(int(x), int(y)); r != 0 {
				return r
			}
			return cmp.Compare(x, y)
		})
	}
	if keys[0].NullsFirst {
		idx = append(idx, nulls...)
	}
	for _, e := range entries {
		idx = append(idx, e.i)
	}
	if !keys[0].NullsFirst {
		idx = append(idx, nulls...)
	}
	return idx
}

// sortRadix stably sorts entries by k, looking only at the low used bits
// (LSD radix over bytes, skipping bytes that do not vary).
func sortRadix(a []sortEntry, used int) {
	if len(a) < 256 {
		slices.SortFunc(a, func(x, y sortEntry) int {
			if x.k != y.k {
				return cmp.Compare(x.k, y.k)
			}
			return cmp.Compare(x.i, y.i)
		})
		return
	}
	passes := (used + 7) / 8
	var counts [8][256]int
	for _, e := range a {
		k := e.k
		for p := range passes {
			counts[p][byte(k>>(8*p))]++
		}
	}
	src, dst := a, make([]sortEntry, len(a))
	for p := range passes {
		c := &counts[p]
		if c[byte(a[0].k>>(8*p))] == len(a) {
			continue
		}
		var offs [256]int
		sum := 0
		for d := range 256 {
			offs[d] = sum
			sum += c[d]
		}
		shift := uint(8 * p)
		for _, e := range src {
			d := byte(e.k >> shift)
			dst[offs[d]] = e
			offs[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}

// sortDrain materializes all of input into one batch.
func sortDrain(ctx context.Context, input Operator) (arrow.RecordBatch, error) {
	var batches []arrow.RecordBatch
	defer func() { batchReleaseAll(batches) }()
	for {
		b, err := input.Next(ctx)
		if err != nil {
			return nil, err
		}
		if b == nil {
			break
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		batches = append(batches, b)
	}
	return ConcatBatches(Allocator(ctx), input.Schema(), batches)
}

// sortOp sorts its input within a memory reservation ("Sort"), spilling
// sorted runs and merging them when the input does not fit (extSort).
type sortOp struct {
	input Operator
	keys  []SortKey
	err   error
	res   *mempool.Reservation
	ext   *extSort
	ready bool
	stats MemoryStats
	// passes counts merge passes that wrote runs (tests).
	passes int
}

var _ Operator = (*sortOp)(nil)
var _ MemoryReporter = (*sortOp)(nil)

// NewSort returns an operator that emits input ordered by keys, in batches
// of exec.BatchSize(ctx). Equal keys keep input order. It reserves memory
// from the query's pool and spills sorted runs when the pool is full.
// Invalid keys are reported by Open.
func NewSort(input Operator, keys []SortKey) Operator {
	return &sortOp{input: input, keys: keys, err: sortCheckKeys("sort", input.Schema(), keys)}
}

func (s *sortOp) Schema() *arrow.Schema { return s.input.Schema() }

func (s *sortOp) Open(ctx context.Context) error {
	if s.err != nil {
		return s.err
	}
	s.release()
	s.stats = MemoryStats{}
	s.res = mempool.FromContext(ctx).Register("Sort", true)
	s.ext = newExtSort(ctx, "sort", s.input.Schema(), s.keys, s.res)
	return s.input.Open(ctx)
}

func (s *sortOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.ext == nil {
		return nil, nil
	}
	if !s.ready {
		s.ready = true
		for {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			b, err := s.input.Next(ctx)
			if err != nil {
				return nil, err
			}
			if b == nil {
				break
			}
			if err := s.ext.push(ctx, b); err != nil {
				return nil, err
			}
		}
		if err := s.ext.finish(ctx); err != nil {
			return nil, err
		}
	}
	return s.ext.next(ctx)
}

// MemoryStats reports the reservation's peak and the runs spilled.
func (s *sortOp) MemoryStats() MemoryStats {
	if s.ext != nil {
		s.stats = MemoryStats{PeakBytes: s.res.Peak(), SpilledBytes: s.ext.spilledBytes, SpillFiles: s.ext.spillFiles}
		s.passes = s.ext.passes
	}
	return s.stats
}

func (s *sortOp) release() {
	if s.ext != nil {
		s.MemoryStats()
		s.ext.close()
		s.ext = nil
	}
	s.res.Free()
	s.res, s.ready = nil, false
}

func (s *sortOp) Close() error {
	s.release()
	return s.input.Close()
}

// topNOp keeps the first n rows in key order with bounded memory: rows not
// better than the current n-th row are dropped on arrival; survivors are
// buffered and compacted (sort, keep n) once they exceed max(n, batch size).
// What it holds is reserved ("TopN"); when n rows do not fit it falls back
// to an external sort of the surviving rows and emits its first n.
type topNOp struct {
	input   Operator
	keys    []SortKey
	n       int64
	err     error
	kept    arrow.RecordBatch // sorted, ≤ n rows
	pending []arrow.RecordBatch
	pendN   int64
	out     []arrow.RecordBatch
	ready   bool

	res     *mempool.Reservation
	held    int64    // reserved for kept and pending
	ext     *extSort // the fallback, once started
	thr     arrow.RecordBatch
	emitted int64
	stats   MemoryStats
}

var _ Operator = (*topNOp)(nil)
var _ MemoryReporter = (*topNOp)(nil)

// NewTopN returns ORDER BY keys LIMIT n. Among rows with equal keys the
// earliest input rows win. Invalid keys are reported by Open.
func NewTopN(input Operator, keys []SortKey, n int64) Operator {
	t := &topNOp{input: input, keys: keys, n: n, err: sortCheckKeys("top-n", input.Schema(), keys)}
	if n < 0 && t.err == nil {
		t.err = fmt.Errorf("top-n: negative limit %d", n)
	}
	return t
}

func (t *topNOp) Schema() *arrow.Schema { return t.input.Schema() }

func (t *topNOp) Open(ctx context.Context) error {
	if t.err != nil {
		return t.err
	}
	t.release()
	t.stats = MemoryStats{}
	t.res = mempool.FromContext(ctx).Register("TopN", true)
	return t.input.Open(ctx)
}

func (t *topNOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if t.res == nil {
		return nil, nil
	}
	if !t.ready {
		t.ready = true
		if err := t.consume(ctx); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if t.ext != nil {
		if t.emitted >= t.n {
			t.MemoryStats()
			t.ext.close()
			return nil, nil
		}
		b, err := t.ext.next(ctx)
		if err != nil || b == nil {
			return nil, err
		}
		if rest := t.n - t.emitted; b.NumRows() > rest {
			nb := b.NewSlice(0, rest)
			b.Release()
			b = nb
		}
		t.emitted += b.NumRows()
		return b, nil
	}
	if len(t.out) == 0 {
		return nil, nil
	}
	b := t.out[0]
	t.out = t.out[1:]
	return b, nil
}

// topNBefore keeps the rows of b strictly before row r of ref in key order
// (b is released when replaced); nil when none is.
func topNBefore(ctx context.Context, b, ref arrow.RecordBatch, r int, keys []SortKey, sel []int32) (arrow.RecordBatch, []int32, error) {
	c := sortMakeRowCmp(b, ref, keys)
	sel = sel[:0]
	for i := range int(b.NumRows()) {
		if c.compare(i, r) < 0 {
			sel = append(sel, int32(i))
		}
	}
	if len(sel) == int(b.NumRows()) {
		return b, sel, nil
	}
	if len(sel) == 0 {
		b.Release()
		return nil, sel, nil
	}
	nb, err := TakeBatch(ctx, b, sel)
	b.Release()
	if err != nil {
		return nil, sel, fmt.Errorf("top-n: %w", err)
	}
	return nb, sel, nil
}

func (t *topNOp) consume(ctx context.Context) error {
	limit := max(t.n, int64(BatchSize(ctx)))
	var sel []int32
	for t.n > 0 {
		b, err := t.input.Next(ctx)
		if err != nil {
			return err
		}
		if b == nil {
			break
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		switch {
		case t.kept != nil && t.kept.NumRows() == t.n:
			// Keep only rows strictly before the current n-th row.
			b, sel, err = topNBefore(ctx, b, t.kept, int(t.n-1), t.keys, sel)
		case t.thr != nil:
			b, sel, err = topNBefore(ctx, b, t.thr, 0, t.keys, sel)
		}
		if err != nil {
			return err
		}
		if b == nil {
			continue
		}
		if t.ext != nil {
			if err := t.ext.push(ctx, b); err != nil {
				return err
			}
			continue
		}
		cost := sortHoldBytes(b)
		if err := t.res.TryGrow(cost); err != nil {
			// Compacting keeps at most n of the rows held; if b still does
			// not fit, n rows are too many to hold: sort externally.
			if err := t.compact(ctx); err != nil {
				b.Release()
				return err
			}
			if err := t.res.TryGrow(cost); err != nil {
				if err := t.startExternal(ctx); err != nil {
					b.Release()
					return err
				}
				if err := t.ext.push(ctx, b); err != nil {
					return err
				}
				continue
			}
		}
		t.held += cost
		t.pending = append(t.pending, b)
		t.pendN += b.NumRows()
		if t.pendN >= limit {
			if err := t.compact(ctx); err != nil {
				return err
			}
		}
	}
	if t.ext != nil {
		return t.ext.finish(ctx)
	}
	if err := t.compact(ctx); err != nil {
		return err
	}
	if t.kept != nil {
		t.out = SliceBatches(t.kept, BatchSize(ctx))
		t.kept.Release()
		t.kept = nil
	}
	return nil
}

// startExternal moves what is held into an external sort, keeping the
// current n-th row (when there is one) to drop rows that cannot make it.
func (t *topNOp) startExternal(ctx context.Context) error {
	t.ext = newExtSort(ctx, "top-n", t.input.Schema(), t.keys, t.res)
	held := append([]arrow.RecordBatch(nil), t.pending...)
	if t.kept != nil {
		if t.kept.NumRows() == t.n {
			thr, err := TakeBatch(ctx, t.kept, []int32{int32(t.n - 1)})
			if err != nil {
				return fmt.Errorf("top-n: %w", err)
			}
			t.thr = thr
		}
		held = append([]arrow.RecordBatch{t.kept}, held...)
	}
	t.kept, t.pending, t.pendN = nil, nil, 0
	t.res.Shrink(t.held)
	t.held = 0
	for i, b := range held {
		if err := t.ext.push(ctx, b); err != nil {
			batchReleaseAll(held[i+1:])
			return err
		}
	}
	return nil
}

// compact merges kept and pending into the best n rows.
func (t *topNOp) compact(ctx context.Context) error {
	if len(t.pending) == 0 {
		return nil
	}
	all := t.pending
	if t.kept != nil {
		all = append([]arrow.RecordBatch{t.kept}, t.pending...)
	}
	cat, err := ConcatBatches(Allocator(ctx), t.input.Schema(), all)
	batchReleaseAll(all)
	t.kept, t.pending, t.pendN = nil, t.pending[:0], 0
	if err != nil {
		return fmt.Errorf("top-n: %w", err)
	}
	perm := sortPermutation(cat, t.keys)
	if int64(len(perm)) > t.n {
		perm = perm[:t.n]
	}
	t.kept, err = TakeBatch(ctx, cat, perm)
	cat.Release()
	if err != nil {
		return fmt.Errorf("top-n: %w", err)
	}
	// kept is already allocated: Grow when (unusually) it costs more.
	if held := sortHoldBytes(t.kept); held < t.held {
		t.res.Shrink(t.held - held)
		t.held = held
	} else {
		t.res.Grow(held - t.held)
		t.held = held
	}
	return nil
}

// MemoryStats reports the reservation's peak and, after a fallback to an
// external sort, the runs it spilled.
func (t *topNOp) MemoryStats() MemoryStats {
	if t.res != nil {
		t.stats.PeakBytes = t.res.Peak()
	}
	if t.ext != nil {
		t.stats.SpilledBytes, t.stats.SpillFiles = t.ext.spilledBytes, t.ext.spillFiles
	}
	return t.stats
}

func (t *topNOp) release() {
	t.MemoryStats()
	if t.kept != nil {
		t.kept.Release()
		t.kept = nil
	}
	if t.thr != nil {
		t.thr.Release()
		t.thr = nil
	}
	if t.ext != nil {
		t.ext.close()
		t.ext = nil
	}
	batchReleaseAll(t.pending)
	batchReleaseAll(t.out)
	t.pending, t.out, t.pendN, t.ready = nil, nil, 0, false
	t.res.Free()
	t.res, t.held, t.emitted = nil, 0, 0
}

func (t *topNOp) Close() error {
	t.release()
	return t.input.Close()
}

// mergeInput is one sorted input of a k-way merge.
type mergeInput struct {
	op    Operator
	batch arrow.RecordBatch
	pos   int
	seg   int // index into mergeOp.segs of the run being consumed, -1 none
}

// mergeSeg is a consumed run [start,end) of one input batch that the
// current output batch gathers from.
type mergeSeg struct {
	batch      arrow.RecordBatch
	start, end int
}

// mergeOp merges already sorted inputs with a binary heap of inputs;
// comparators between the current batches of every pair of inputs are
// rebuilt only when an input moves to its next batch.
type mergeOp struct {
	inputs []*mergeInput
	keys   []SortKey
	schema *arrow.Schema
	err    error
	cmps   [][]sortRowCmp
	heap   []int
	segs   []mergeSeg
	opened int
	init   bool
}

var _ Operator = (*mergeOp)(nil)

// NewMergeSorted returns the k-way merge of inputs, each already ordered by
// keys; the output is ordered by keys, ties taken from the lower-numbered
// input first. Inputs must have the same column types (schema of input 0 is
// used); errors are reported by Open.
func NewMergeSorted(inputs []Operator, keys []SortKey) Operator {
	m := &mergeOp{keys: keys}
	if len(inputs) == 0 {
		m.err = fmt.Errorf("merge sorted: no inputs")
		m.schema = arrow.NewSchema(nil, nil)
		return m
	}
	m.schema = inputs[0].Schema()
	m.err = sortCheckKeys("merge sorted", m.schema, keys)
	for i, in := range inputs {
		m.inputs = append(m.inputs, &mergeInput{op: in, seg: -1})
		s := in.Schema()
		if m.err == nil && s.NumFields() != m.schema.NumFields() {
			m.err = fmt.Errorf("merge sorted: input %d has %d columns, input 0 has %d", i, s.NumFields(), m.schema.NumFields())
		}
		for c := 0; m.err == nil && c < s.NumFields(); c++ {
			if !arrow.TypeEqual(s.Field(c).Type, m.schema.Field(c).Type) {
				m.err = fmt.Errorf("merge sorted: column %d (%s): input %d has type %s, input 0 has %s", c, m.schema.Field(c).Name, i, s.Field(c).Type, m.schema.Field(c).Type)
			}
		}
	}
	return m
}

func (m *mergeOp) Schema() *arrow.Schema { return m.schema }

func (m *mergeOp) Open(ctx context.Context) error {
	if m.err != nil {
		return m.err
	}
	m.release()
	for m.opened = 0; m.opened < len(m.inputs); m.opened++ {
		if err := m.inputs[m.opened].op.Open(ctx); err != nil {
			return err
		}
	}
	return nil
}

// advance loads input a's next non-empty batch (nil at end) and refreshes
// its comparators.
func (m *mergeOp) advance(ctx context.Context, a int) error {
	in := m.inputs[a]
	if in.batch != nil {
		in.batch.Release()
		in.batch = nil
	}
	in.pos = 0
	for {
		b, err := in.op.Next(ctx)
		if err != nil {
			return err
		}
		if b == nil {
			return nil
		}
		if b.NumRows() > 0 {
			in.batch = b
			break
		}
		b.Release()
	}
	for o, other := range m.inputs {
		if other.batch == nil {
			continue
		}
		m.cmps[a][o] = sortMakeRowCmp(in.batch, other.batch, m.keys)
		m.cmps[o][a] = sortMakeRowCmp(other.batch, in.batch, m.keys)
	}
	return nil
}

func (m *mergeOp) less(a, b int) bool {
	r := m.cmps[a][b].compare(m.inputs[a].pos, m.inputs[b].pos)
	return r < 0 || (r == 0 && a < b)
}

func (m *mergeOp) down(i int) {
	h := m.heap
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		c := l
		if r := l + 1; r < len(h) && m.less(h[r], h[l]) {
			c = r
		}
		if !m.less(h[c], h[i]) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

func (m *mergeOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if !m.init {
		m.init = true
		m.cmps = make([][]sortRowCmp, len(m.inputs))
		for i := range m.cmps {
			m.cmps[i] = make([]sortRowCmp, len(m.inputs))
		}
		for a := range m.inputs {
			if err := m.advance(ctx, a); err != nil {
				return nil, err
			}
			if m.inputs[a].batch != nil {
				m.heap = append(m.heap, a)
			}
		}
		for i := len(m.heap)/2 - 1; i >= 0; i-- {
			m.down(i)
		}
	}
	if len(m.heap) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	bs := BatchSize(ctx)
	refs := make([]batchRowRef, 0, bs)
	defer m.releaseSegs()
	for len(refs) < bs && len(m.heap) > 0 {
		a := m.heap[0]
		in := m.inputs[a]
		if in.seg < 0 {
			in.batch.Retain()
			in.seg = len(m.segs)
			m.segs = append(m.segs, mergeSeg{batch: in.batch, start: in.pos})
		}
		refs = append(refs, batchRowRef{int32(in.seg), int32(in.pos)})
		in.pos++
		if in.pos < int(in.batch.NumRows()) {
			m.down(0)
			continue
		}
		m.segs[in.seg].end = in.pos
		in.seg = -1
		if err := m.advance(ctx, a); err != nil {
			return nil, err
		}
		if in.batch == nil {
			last := len(m.heap) - 1
			m.heap[0] = m.heap[last]
			m.heap = m.heap[:last]
		}
		m.down(0)
	}
	for _, in := range m.inputs {
		if in.seg >= 0 {
			m.segs[in.seg].end = in.pos
			in.seg = -1
		}
	}
	for i := range refs {
		refs[i].r -= int32(m.segs[refs[i].b].start)
	}
	mem := Allocator(ctx)
	cols := make([]arrow.Array, m.schema.NumFields())
	srcs := make([]arrow.Array, len(m.segs))
	for c := range cols {
		for s, seg := range m.segs {
			srcs[s] = seg.batch.Column(c)
			if seg.start != 0 || seg.end != int(seg.batch.NumRows()) {
				srcs[s] = array.NewSlice(srcs[s], int64(seg.start), int64(seg.end))
			} else {
				srcs[s].Retain()
			}
		}
		arr, err := batchGatherArrays(ctx, mem, m.schema.Field(c).Type, srcs, refs)
		batchReleaseAll(srcs)
		if err != nil {
			batchReleaseAll(cols[:c])
			return nil, fmt.Errorf("merge sorted: column %d (%s): %w", c, m.schema.Field(c).Name, err)
		}
		cols[c] = arr
	}
	return batchNewOwned(m.schema, cols, int64(len(refs))), nil
}

func (m *mergeOp) releaseSegs() {
	for _, s := range m.segs {
		s.batch.Release()
	}
	m.segs = m.segs[:0]
	for _, in := range m.inputs {
		in.seg = -1
	}
}

func (m *mergeOp) release() {
	m.releaseSegs()
	for _, in := range m.inputs {
		if in.batch != nil {
			in.batch.Release()
			in.batch = nil
		}
		in.pos = 0
	}
	m.heap, m.cmps, m.init = nil, nil, false
}

func (m *mergeOp) Close() error {
	m.release()
	var first error
	for _, in := range m.inputs {
		if err := in.op.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
