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

// sortOp is a full in-memory sort.
type sortOp struct {
	input  Operator
	keys   []SortKey
	err    error
	sorted arrow.RecordBatch
	perm   []int32
	pos    int
	ready  bool
}

var _ Operator = (*sortOp)(nil)

// NewSort returns an operator that materializes input and emits it ordered
// by keys, in batches of exec.BatchSize(ctx). Equal keys keep input order.
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
	return s.input.Open(ctx)
}

func (s *sortOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if !s.ready {
		b, err := sortDrain(ctx, s.input)
		if err != nil {
			return nil, err
		}
		s.sorted, s.perm, s.pos, s.ready = b, sortPermutation(b, s.keys), 0, true
	}
	if s.sorted == nil || s.pos >= len(s.perm) {
		s.release()
		s.ready = true
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	end := min(len(s.perm), s.pos+BatchSize(ctx))
	out, err := TakeBatch(ctx, s.sorted, s.perm[s.pos:end])
	if err != nil {
		return nil, fmt.Errorf("sort: %w", err)
	}
	s.pos = end
	return out, nil
}

func (s *sortOp) release() {
	if s.sorted != nil {
		s.sorted.Release()
		s.sorted = nil
	}
	s.perm, s.ready = nil, false
}

func (s *sortOp) Close() error {
	s.release()
	return s.input.Close()
}

// topNOp keeps the first n rows in key order with bounded memory: rows not
// better than the current n-th row are dropped on arrival; survivors are
// buffered and compacted (sort, keep n) once they exceed max(n, batch size).
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
}

var _ Operator = (*topNOp)(nil)

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
	return t.input.Open(ctx)
}

func (t *topNOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if !t.ready {
		if err := t.consume(ctx); err != nil {
			return nil, err
		}
		t.ready = true
	}
	if len(t.out) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b := t.out[0]
	t.out = t.out[1:]
	return b, nil
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
		if t.kept != nil && t.kept.NumRows() == t.n {
			// Keep only rows strictly before the current n-th row.
			last := int(t.n - 1)
			c := sortMakeRowCmp(b, t.kept, t.keys)
			sel = sel[:0]
			for i := range int(b.NumRows()) {
				if c.compare(i, last) < 0 {
					sel = append(sel, int32(i))
				}
			}
			if len(sel) == 0 {
				b.Release()
				continue
			}
			if len(sel) < int(b.NumRows()) {
				nb, err := TakeBatch(ctx, b, sel)
				b.Release()
				if err != nil {
					return fmt.Errorf("top-n: %w", err)
				}
				b = nb
			}
		}
		t.pending = append(t.pending, b)
		t.pendN += b.NumRows()
		if t.pendN >= limit {
			if err := t.compact(ctx); err != nil {
				return err
			}
		}
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
	return nil
}

func (t *topNOp) release() {
	if t.kept != nil {
		t.kept.Release()
		t.kept = nil
	}
	batchReleaseAll(t.pending)
	batchReleaseAll(t.out)
	t.pending, t.out, t.pendN, t.ready = nil, nil, 0, false
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
