package exec

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint/mempool"
	"github.com/flint-engine/flint/types"
)

// WindowFunc names a window function.
type WindowFunc int

// Window functions. Ranking and navigation functions (row_number .. lead)
// ignore the frame; the rest are computed over it.
const (
	WinRowNumber WindowFunc = iota
	WinRank
	WinDenseRank
	WinPercentRank
	WinCumeDist
	WinNtile
	WinLag
	WinLead
	WinFirstValue
	WinLastValue
	WinNthValue
	WinCount
	WinCountStar
	WinSum
	WinAvg
	WinMin
	WinMax
)

var winFuncNames = [...]string{"row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile",
	"lag", "lead", "first_value", "last_value", "nth_value", "count", "count_star", "sum", "avg", "min", "max"}

func (f WindowFunc) String() string {
	if f >= 0 && int(f) < len(winFuncNames) {
		return winFuncNames[f]
	}
	return fmt.Sprintf("WindowFunc(%d)", int(f))
}

// Frame bound kinds (FrameBound.Kind).
const (
	UnboundedPreceding = iota
	Preceding
	CurrentRow
	Following
	UnboundedFollowing
)

// FrameBound is one end of a window frame; the offset is used by Preceding
// and Following. In RANGE mode a numeric offset is Offset·10^-Scale in
// units of the single ORDER BY key: a count for integers, days for dates,
// whole units for decimals (so 2 PRECEDING on decimal(15,2) spans 2.00,
// Offset 250 Scale 2 spans 2.50), microseconds for timestamps. An INTERVAL
// offset (Interval set; DATE or TIMESTAMP keys) is Months, Days and Offset
// microseconds, added with calendar arithmetic.
type FrameBound struct {
	Kind     int
	Offset   int64
	Scale    int32
	Interval bool
	Months   int32
	Days     int32
}

// WindowFrame is a ROWS or RANGE frame.
type WindowFrame struct {
	Rows       bool
	Start, End FrameBound
}

// WindowSpec describes one window function call.
type WindowSpec struct {
	Func WindowFunc
	// Arg is the input column the function reads, -1 for none.
	Arg int
	// Offset is lag/lead's offset, ntile's bucket count and nth_value's n.
	Offset int64
	// Default is lag/lead's value outside the partition (nil = NULL):
	// a Go int/intN/uintN/float/string/bool, decimal128.Num, or arrow.Date32
	// / arrow.Timestamp, converted to the argument's type.
	Default     any
	PartitionBy []int
	OrderBy     []SortKey
	// Frame nil means the SQL default: with ORDER BY, RANGE BETWEEN
	// UNBOUNDED PRECEDING AND CURRENT ROW (peers included); without, the
	// whole partition.
	Frame *WindowFrame
	// Name of the output column (default: the function name).
	Name string
	// Masked restricts an aggregate (count, count_star, sum, avg, min, max)
	// to the frame rows whose BOOLEAN column Mask is TRUE (FILTER (WHERE
	// ...)); rows where it is FALSE or NULL still get a result but do not
	// count towards any.
	Masked bool
	Mask   int
}

// WindowResultType returns the type of f's result for an argument of type
// arg (nil when f takes none).
func WindowResultType(f WindowFunc, arg arrow.DataType) (arrow.DataType, error) {
	switch f {
	case WinRowNumber, WinRank, WinDenseRank, WinNtile, WinCount, WinCountStar:
		return arrow.PrimitiveTypes.Int64, nil
	case WinPercentRank, WinCumeDist:
		return arrow.PrimitiveTypes.Float64, nil
	}
	if arg == nil {
		return nil, fmt.Errorf("window function %s needs an argument", f)
	}
	switch f {
	case WinSum, WinAvg:
		switch {
		case winIsInteger(arg):
			if f == WinAvg {
				return arrow.PrimitiveTypes.Float64, nil
			}
			return arrow.PrimitiveTypes.Int64, nil
		case arg.ID() == arrow.FLOAT32 || arg.ID() == arrow.FLOAT64:
			return arrow.PrimitiveTypes.Float64, nil
		case aggIsDecimal(arg):
			if f == WinAvg {
				return arrow.PrimitiveTypes.Float64, nil
			}
			return &arrow.Decimal128Type{Precision: 38, Scale: arg.(arrow.DecimalType).GetScale()}, nil
		}
		return nil, fmt.Errorf("window function %s does not accept type %s", f, arg)
	case WinMin, WinMax:
		if !sortTypeSupported(arg) {
			return nil, fmt.Errorf("window function %s does not accept type %s", f, arg)
		}
		return arg, nil
	case WinLag, WinLead, WinFirstValue, WinLastValue, WinNthValue:
		return arg, nil
	}
	return nil, fmt.Errorf("unknown window function %d", int(f))
}

func winIsInteger(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return true
	}
	return false
}

// windowOp materializes its input, computes each spec's column (sorting by
// the spec's partition and order keys, sharing the sort between specs with
// equal keys) and emits the input rows in their original order with the
// result columns appended.
//
// It reserves what it holds ("Window"). When the input does not fit and
// every spec partitions by some common columns, it switches to sorting the
// input externally by those columns (then the first spec's remaining
// partition and order keys) and evaluates groups of whole partitions as
// they stream out of the sort; the output is then in that sorted order.
// Without common partition columns it returns the *mempool.LimitError.
type windowOp struct {
	input  Operator
	specs  []WindowSpec
	types  []arrow.DataType
	schema *arrow.Schema
	out    []arrow.RecordBatch
	ready  bool

	// sortKeys orders the input for the external path (nil: no partition
	// column common to every spec); pkeys are its common partition columns,
	// where groups may be cut; sortedOK marks specs whose own sort is
	// sortKeys' order, so a sorted group needs no permutation for them.
	sortKeys []SortKey
	pkeys    []SortKey
	sortedOK []bool
	seqCol   bool  // the sort carries input row numbers after the input columns
	seq      int64 // next row number

	res      *mempool.Reservation
	held     int64 // reserved for the buffered input or the output in w.out
	ext      *extSort
	extDone  bool
	pend     []winPending // sorted rows of the partitions not cut yet
	pendRows int64
	stats    MemoryStats
}

var _ Operator = (*windowOp)(nil)
var _ MemoryReporter = (*windowOp)(nil)

// NewWindow returns an operator whose output is every input column plus
// one column per spec, in input row order.
func NewWindow(input Operator, specs []WindowSpec) (Operator, error) {
	in := input.Schema()
	fields := append([]arrow.Field(nil), in.Fields()...)
	w := &windowOp{input: input, specs: specs}
	for si, s := range specs {
		errf := func(format string, args ...any) error {
			return fmt.Errorf("window spec %d (%s): %s", si, s.Func, fmt.Sprintf(format, args...))
		}
		var argType arrow.DataType
		if s.Arg >= 0 {
			if s.Arg >= in.NumFields() {
				return nil, errf("argument column %d out of range (input has %d columns)", s.Arg, in.NumFields())
			}
			argType = in.Field(s.Arg).Type
		}
		rt, err := WindowResultType(s.Func, argType)
		if err != nil {
			return nil, errf("%v", err)
		}
		if s.Masked {
			switch s.Func {
			case WinCount, WinCountStar, WinSum, WinAvg, WinMin, WinMax:
			default:
				return nil, errf("FILTER is only allowed on aggregates")
			}
			if s.Mask < 0 || s.Mask >= in.NumFields() {
				return nil, errf("mask column %d out of range (input has %d columns)", s.Mask, in.NumFields())
			}
			if t := in.Field(s.Mask).Type; t.ID() != arrow.BOOL {
				return nil, errf("mask column %q is %s, not BOOLEAN", in.Field(s.Mask).Name, t)
			}
		}
		for _, p := range s.PartitionBy {
			if p < 0 || p >= in.NumFields() {
				return nil, errf("partition column %d out of range", p)
			}
			if !sortTypeSupported(in.Field(p).Type) {
				return nil, errf("cannot partition by column %d (%s) of type %s", p, in.Field(p).Name, in.Field(p).Type)
			}
		}
		if err := sortCheckKeys("window", in, s.OrderBy); err != nil {
			return nil, errf("%v", err)
		}
		switch s.Func {
		case WinNtile:
			if s.Offset <= 0 {
				return nil, errf("argument must be positive, got %d", s.Offset)
			}
		case WinNthValue:
			// nth_value(x, 0) is NULL (DuckDB).
			if s.Offset < 0 {
				return nil, errf("argument must not be negative, got %d", s.Offset)
			}
		case WinLag, WinLead:
			// A negative offset looks the other way: lag(x, -1) is lead(x, 1).
			if s.Default != nil {
				da, err := winDefaultArray(memory.DefaultAllocator, argType, s.Default)
				if err != nil {
					return nil, errf("%v", err)
				}
				da.Release()
			}
		}
		if f := s.Frame; f != nil {
			if f.Start.Kind == UnboundedFollowing || f.End.Kind == UnboundedPreceding || f.Start.Kind < 0 || f.Start.Kind > UnboundedFollowing || f.End.Kind < 0 || f.End.Kind > UnboundedFollowing {
				return nil, errf("invalid frame bounds %d..%d", f.Start.Kind, f.End.Kind)
			}
			for _, b := range []FrameBound{f.Start, f.End} {
				if b.Offset < 0 || b.Months < 0 || b.Days < 0 {
					return nil, errf("negative frame offset")
				}
				if b.Scale < 0 || b.Scale > 18 {
					return nil, errf("frame offset scale %d out of range", b.Scale)
				}
				if (b.Interval || b.Scale > 0) && f.Rows {
					return nil, errf("ROWS frame offsets must be integers")
				}
			}
			offsetBound := func(b FrameBound) bool { return b.Kind == Preceding || b.Kind == Following }
			if !f.Rows && (offsetBound(f.Start) || offsetBound(f.End)) {
				if len(s.OrderBy) != 1 {
					return nil, errf("RANGE frame with offset needs exactly one ORDER BY key, got %d", len(s.OrderBy))
				}
				kt := in.Field(s.OrderBy[0].Col).Type
				if !winRangeKeyOK(kt) {
					return nil, errf("RANGE frame with offset needs a numeric or date ORDER BY key, got %s", kt)
				}
				temporal := kt.ID() == arrow.DATE32 || kt.ID() == arrow.TIMESTAMP
				if (f.Start.Interval || f.End.Interval) && !temporal {
					return nil, errf("RANGE frame with an INTERVAL offset needs a DATE or TIMESTAMP ORDER BY key, got %s", kt)
				}
			}
		}
		name := s.Name
		if name == "" {
			name = s.Func.String()
		}
		nullable := true
		switch s.Func {
		case WinRowNumber, WinRank, WinDenseRank, WinNtile, WinCount, WinCountStar, WinPercentRank, WinCumeDist:
			nullable = false
		}
		fields = append(fields, arrow.Field{Name: name, Type: rt, Nullable: nullable})
		w.types = append(w.types, rt)
	}
	md := in.Metadata()
	w.schema = arrow.NewSchema(fields, &md)
	w.planExternal()
	return w, nil
}

func winRangeKeyOK(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.FLOAT32, arrow.FLOAT64, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DATE32, arrow.TIMESTAMP:
		return true
	}
	return winIsInteger(dt)
}

func (w *windowOp) Schema() *arrow.Schema { return w.schema }

func (w *windowOp) Open(ctx context.Context) error {
	w.release()
	w.stats = MemoryStats{}
	w.res = mempool.FromContext(ctx).Register("Window", true)
	return w.input.Open(ctx)
}

func (w *windowOp) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if w.res == nil {
		return nil, nil
	}
	if !w.ready {
		w.ready = true
		if err := w.compute(ctx); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for len(w.out) == 0 {
		if w.ext == nil || w.extDone {
			return nil, nil
		}
		if err := w.nextGroup(ctx); err != nil {
			return nil, err
		}
	}
	b := w.out[0]
	w.out = w.out[1:]
	return b, nil
}

// compute buffers the input within the reservation and evaluates it in
// memory, or switches to the external path when it does not fit.
func (w *windowOp) compute(ctx context.Context) error {
	var buf []arrow.RecordBatch
	defer func() { batchReleaseAll(buf) }()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := w.input.Next(ctx)
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
		cost := w.holdBytes(b)
		if err := w.res.TryGrow(cost); err != nil {
			if w.sortKeys == nil {
				b.Release()
				return fmt.Errorf("window: the input does not fit and cannot spill (no PARTITION BY column common to every window function): %w", err)
			}
			held := buf
			buf = nil
			return w.startExternal(ctx, append(held, b))
		}
		w.held += cost
		buf = append(buf, b)
	}
	in, err := ConcatBatches(Allocator(ctx), w.input.Schema(), buf)
	batchReleaseAll(buf)
	buf = nil
	if err != nil {
		return err
	}
	defer in.Release()
	if in.NumRows() == 0 {
		return nil
	}
	full, err := w.evaluate(ctx, in, false)
	if err != nil {
		return err
	}
	w.out = SliceBatches(full, BatchSize(ctx))
	full.Release()
	return nil
}

// evaluate appends every spec's result column to in. When sorted, in is
// ordered by w.sortKeys and holds whole partitions of every spec.
func (w *windowOp) evaluate(ctx context.Context, in arrow.RecordBatch, sorted bool) (arrow.RecordBatch, error) {
	mem := Allocator(ctx)
	ncols := w.input.Schema().NumFields()
	cols := append([]arrow.Array(nil), in.Columns()[:ncols]...)
	for _, c := range cols {
		c.Retain()
	}
	perms := map[string][]int32{}
	var identity []int32
	for si, s := range w.specs {
		if err := ctx.Err(); err != nil {
			batchReleaseAll(cols)
			return nil, err
		}
		var perm []int32
		if sorted && w.sortedOK[si] {
			if identity == nil {
				identity = make([]int32, in.NumRows())
				for i := range identity {
					identity[i] = int32(i)
				}
			}
			perm = identity
		} else {
			keys := make([]SortKey, 0, len(s.PartitionBy)+len(s.OrderBy))
			for _, p := range s.PartitionBy {
				keys = append(keys, SortKey{Col: p})
			}
			keys = append(keys, s.OrderBy...)
			if sorted && w.seqCol {
				keys = append(keys, SortKey{Col: ncols}) // ties in input order
			}
			id := fmt.Sprint(keys)
			var ok bool
			if perm, ok = perms[id]; !ok {
				perm = sortPermutation(in, keys)
				perms[id] = perm
			}
		}
		res, err := winEval(ctx, mem, in, perm, &s, w.types[si])
		if err != nil {
			batchReleaseAll(cols)
			return nil, fmt.Errorf("window spec %d (%s): %w", si, s.Func, err)
		}
		cols = append(cols, res)
	}
	return batchNewOwned(w.schema, cols, in.NumRows()), nil
}

// MemoryStats reports the reservation's peak and what the external sort
// spilled.
func (w *windowOp) MemoryStats() MemoryStats {
	if w.res != nil {
		w.stats.PeakBytes = w.res.Peak()
	}
	if w.ext != nil {
		w.stats.SpilledBytes, w.stats.SpillFiles = w.ext.spilledBytes, w.ext.spillFiles
	}
	return w.stats
}

func (w *windowOp) release() {
	w.MemoryStats()
	batchReleaseAll(w.out)
	w.out, w.ready = nil, false
	for _, p := range w.pend {
		p.b.Release()
	}
	w.pend, w.pendRows = nil, 0
	if w.ext != nil {
		w.ext.close()
		w.ext = nil
	}
	w.extDone, w.seq = false, 0
	w.res.Free()
	w.res, w.held = nil, 0
}

func (w *windowOp) Close() error {
	w.release()
	return w.input.Close()
}

// winCtx holds one spec's sorted layout: perm maps sorted position to input
// row; partitions and peer groups are ranges of sorted positions.
type winCtx struct {
	n         int
	perm      []int32
	partStart []int32 // per position: start of its partition
	partEnd   []int32
	peerStart []int32 // per position: start of its peer group
	peerEnd   []int32
}

func winLayout(in arrow.RecordBatch, perm []int32, s *WindowSpec) *winCtx {
	n := len(perm)
	wc := &winCtx{n: n, perm: perm,
		partStart: make([]int32, n), partEnd: make([]int32, n),
		peerStart: make([]int32, n), peerEnd: make([]int32, n)}
	pkeys := make([]SortKey, len(s.PartitionBy))
	for i, p := range s.PartitionBy {
		pkeys[i] = SortKey{Col: p}
	}
	pcmp := sortMakeRowCmp(in, in, pkeys)
	ocmp := sortMakeRowCmp(in, in, s.OrderBy)
	ps, gs := 0, 0
	for k := 0; k <= n; k++ {
		newPart := k == n || (k > 0 && pcmp.compare(int(perm[k-1]), int(perm[k])) != 0)
		newPeer := newPart || (k > 0 && ocmp.compare(int(perm[k-1]), int(perm[k])) != 0)
		if k > 0 && newPeer {
			for j := gs; j < k; j++ {
				wc.peerStart[j], wc.peerEnd[j] = int32(gs), int32(k)
			}
			gs = k
		}
		if k > 0 && newPart {
			for j := ps; j < k; j++ {
				wc.partStart[j], wc.partEnd[j] = int32(ps), int32(k)
			}
			ps = k
		}
	}
	return wc
}

// winFrames computes the frame [fs, fe) of every sorted position.
func winFrames(in arrow.RecordBatch, wc *winCtx, s *WindowSpec) (fs, fe []int32, err error) {
	fr := WindowFrame{Start: FrameBound{Kind: UnboundedPreceding}, End: FrameBound{Kind: UnboundedFollowing}}
	if s.Frame != nil {
		fr = *s.Frame
	} else if len(s.OrderBy) > 0 {
		fr.End = FrameBound{Kind: CurrentRow}
	}
	n := wc.n
	fs, fe = make([]int32, n), make([]int32, n)
	var rk *winRangeKey
	if !fr.Rows && (fr.Start.Kind == Preceding || fr.Start.Kind == Following || fr.End.Kind == Preceding || fr.End.Kind == Following) {
		if rk, err = winNewRangeKey(in, wc, s.OrderBy[0]); err != nil {
			return nil, nil, err
		}
	}
	if fr.Rows {
		// Offsets beyond the batch are all the same frame; clamp them so
		// k ± offset cannot overflow.
		fr.Start.Offset = min(fr.Start.Offset, int64(n)+1)
		fr.End.Offset = min(fr.End.Offset, int64(n)+1)
	}
	for k := range n {
		ps, pe := int64(wc.partStart[k]), int64(wc.partEnd[k])
		var lo, hi int64
		switch b := fr.Start; b.Kind {
		case UnboundedPreceding:
			lo = ps
		case CurrentRow:
			lo = winK64(k)
			if !fr.Rows {
				lo = int64(wc.peerStart[k])
			}
		case Preceding, Following:
			if fr.Rows {
				if b.Kind == Preceding {
					lo = winK64(k) - b.Offset
				} else {
					lo = winK64(k) + b.Offset
				}
			} else {
				lo = rk.bound(k, b, false)
			}
		case UnboundedFollowing:
			lo = pe
		}
		switch b := fr.End; b.Kind {
		case UnboundedFollowing:
			hi = pe
		case CurrentRow:
			hi = winK64(k) + 1
			if !fr.Rows {
				hi = int64(wc.peerEnd[k])
			}
		case Preceding, Following:
			if fr.Rows {
				if b.Kind == Preceding {
					hi = winK64(k) - b.Offset + 1
				} else {
					hi = winK64(k) + b.Offset + 1
				}
			} else {
				hi = rk.bound(k, b, true)
			}
		case UnboundedPreceding:
			hi = ps
		}
		lo = min(max(lo, ps), pe)
		hi = min(max(hi, lo), pe)
		fs[k], fe[k] = int32(lo), int32(hi)
	}
	return fs, fe, nil
}

func winK64(k int) int64 { return int64(k) }

// winRangeKey supports RANGE offset frames: the order key in sorted
// position order, negated for DESC so it is ascending within a partition.
type winRangeKey struct {
	wc     *winCtx
	valid  []bool
	ints   []int64
	flts   []float64
	digits int32 // decimal scale of ints (0 unless the key is a decimal)
	sign   int64 // -1 for a DESC key
	date   bool  // ints are days (DATE key); TIMESTAMP keys are microseconds
}

func winNewRangeKey(in arrow.RecordBatch, wc *winCtx, key SortKey) (*winRangeKey, error) {
	col := in.Column(key.Col)
	sign := int64(1)
	if key.Desc {
		sign = -1
	}
	rk := &winRangeKey{wc: wc, valid: make([]bool, wc.n), sign: sign, date: col.DataType().ID() == arrow.DATE32}
	switch a := col.(type) {
	case *array.Float32, *array.Float64:
		rk.flts = make([]float64, wc.n)
		for k, r := range wc.perm {
			if a.IsValid(int(r)) {
				var v float64
				if f, ok := a.(*array.Float64); ok {
					v = f.Value(int(r))
				} else {
					v = float64(a.(*array.Float32).Value(int(r)))
				}
				// NaN is only in range of NaN (PostgreSQL): like NULL, its
				// frame is its peer group.
				rk.valid[k] = !math.IsNaN(v)
				rk.flts[k] = float64(sign) * v
			}
		}
		return rk, nil
	case *array.Decimal128:
		rk.ints = make([]int64, wc.n)
		for k, r := range wc.perm {
			if a.IsValid(int(r)) {
				v := a.Value(int(r))
				if v.HighBits() != int64(v.LowBits())>>63 {
					return nil, fmt.Errorf("RANGE frame: decimal order key column %d value %s exceeds 64 bits", key.Col, v.BigInt())
				}
				rk.valid[k] = true
				rk.ints[k] = sign * int64(v.LowBits())
			}
		}
		rk.digits = a.DataType().(*arrow.Decimal128Type).Scale
		return rk, nil
	case *array.Decimal64:
		rk.ints = make([]int64, wc.n)
		vals := a.Values()
		for k, r := range wc.perm {
			if a.IsValid(int(r)) {
				rk.valid[k] = true
				rk.ints[k] = sign * int64(vals[r])
			}
		}
		rk.digits = a.DataType().(*arrow.Decimal64Type).Scale
		return rk, nil
	}
	vals, valid, err := winInt64s(col)
	if err != nil {
		return nil, fmt.Errorf("RANGE frame: order key column %d: %w", key.Col, err)
	}
	rk.ints = make([]int64, wc.n)
	for k, r := range wc.perm {
		if valid == nil || valid[r] {
			rk.valid[k] = true
			rk.ints[k] = sign * vals[r]
		}
	}
	return rk, nil
}

// bound returns the frame start (end=false) or exclusive end (end=true) of
// sorted position k for an offset bound. Rows with a null key use their
// peer group (the nulls, or the NaNs) as the frame.
func (rk *winRangeKey) bound(k int, b FrameBound, end bool) int64 {
	wc := rk.wc
	if !rk.valid[k] {
		if end {
			return int64(wc.peerEnd[k])
		}
		return int64(wc.peerStart[k])
	}
	// Non-null rows of the partition form one contiguous range, after
	// the nulls (NULLS FIRST) or before them (NULLS LAST).
	ps, pe := int(wc.partStart[k]), int(wc.partEnd[k])
	ns := ps
	if !rk.valid[ps] {
		ns += sort.Search(pe-ps, func(i int) bool { return rk.valid[ps+i] })
	}
	ne := ns + sort.Search(pe-ns, func(i int) bool { return !rk.valid[ns+i] })
	pos := func(pred func(p int) bool) int64 {
		return int64(ns + sort.Search(ne-ns, func(i int) bool { return pred(ns + i) }))
	}
	if rk.flts != nil {
		off := float64(b.Offset) / math.Pow10(int(b.Scale))
		if b.Kind == Preceding {
			off = -off
		}
		t := rk.flts[k] + off
		if end {
			return pos(func(p int) bool { return rk.flts[p] > t })
		}
		return pos(func(p int) bool { return rk.flts[p] >= t })
	}
	// Compare key·kf with the target t, both in the finer of the key's and
	// the offset's units.
	kf := int64(1)
	var t int64
	if b.Interval {
		// Calendar arithmetic on the real (not DESC-negated) value, in
		// microseconds; PRECEDING subtracts in ASC order and adds in DESC.
		v := rk.sign * rk.ints[k]
		if rk.date {
			kf = types.MicrosPerDay
			v *= kf
		}
		t = rk.sign * winAddInterval(v, b, (b.Kind == Preceding) == (rk.sign > 0))
	} else {
		off := b.Offset
		if b.Scale <= rk.digits {
			f := winPow10(rk.digits - b.Scale)
			if off > math.MaxInt64/f {
				off = math.MaxInt64 // spans every key
			} else {
				off *= f
			}
		} else {
			kf = winPow10(b.Scale - rk.digits)
		}
		if b.Kind == Preceding {
			off = -off
		}
		t = winSatAdd(rk.ints[k]*kf, off)
	}
	if end {
		return pos(func(p int) bool { return rk.ints[p]*kf > t })
	}
	return pos(func(p int) bool { return rk.ints[p]*kf >= t })
}

// winSatAdd is a + b, saturated at the int64 range (a huge RANGE offset
// spans everything instead of wrapping around).
func winSatAdd(a, b int64) int64 {
	s := a + b
	switch {
	case a > 0 && b > 0 && s < 0:
		return math.MaxInt64
	case a < 0 && b < 0 && s >= 0:
		return math.MinInt64
	}
	return s
}

func winPow10(n int32) int64 {
	r := int64(1)
	for ; n > 0; n-- {
		r *= 10
	}
	return r
}

// winAddInterval adds (or subtracts) b's interval to the timestamp us in
// microseconds: months first, clamping the day to the month's end, then
// days and microseconds.
func winAddInterval(us int64, b FrameBound, subtract bool) int64 {
	sign := int64(1)
	if subtract {
		sign = -1
	}
	day := us / types.MicrosPerDay
	if us%types.MicrosPerDay < 0 {
		day--
	}
	rem := us - day*types.MicrosPerDay
	day = types.AddMonths(day, int32(sign)*b.Months) + sign*int64(b.Days)
	return day*types.MicrosPerDay + rem + sign*b.Offset
}

// winInt64s widens an integer, date or timestamp column to int64 (valid nil
// when there are no nulls).
func winInt64s(a arrow.Array) ([]int64, []bool, error) {
	n := a.Len()
	out := make([]int64, n)
	switch a := a.(type) {
	case *array.Int8:
		winWiden(out, a.Int8Values())
	case *array.Int16:
		winWiden(out, a.Int16Values())
	case *array.Int32:
		winWiden(out, a.Int32Values())
	case *array.Int64:
		copy(out, a.Int64Values())
	case *array.Uint8:
		winWiden(out, a.Uint8Values())
	case *array.Uint16:
		winWiden(out, a.Uint16Values())
	case *array.Uint32:
		winWiden(out, a.Uint32Values())
	case *array.Uint64:
		winWiden(out, a.Uint64Values())
	case *array.Date32:
		winWiden(out, a.Date32Values())
	case *array.Timestamp:
		winWiden(out, a.TimestampValues())
	default:
		return nil, nil, fmt.Errorf("type %s is not an integer type", a.DataType())
	}
	if a.NullN() == 0 {
		return out, nil, nil
	}
	valid := make([]bool, n)
	for i := range valid {
		valid[i] = a.IsValid(i)
	}
	return out, valid, nil
}

func winWiden[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | arrow.Date32 | arrow.Timestamp](dst []int64, src []T) {
	for i, v := range src {
		dst[i] = int64(v)
	}
}

// winEval computes one spec's result column in input row order.
func winEval(ctx context.Context, mem memory.Allocator, in arrow.RecordBatch, perm []int32, s *WindowSpec, rt arrow.DataType) (arrow.Array, error) {
	wc := winLayout(in, perm, s)
	n := wc.n
	var arg arrow.Array
	if s.Arg >= 0 {
		arg = in.Column(s.Arg)
	}
	switch s.Func {
	case WinRowNumber, WinRank, WinDenseRank, WinNtile:
		vals := make([]int64, n)
		dense := int64(0)
		for k := range n {
			r := perm[k]
			ps, pe := int64(wc.partStart[k]), int64(wc.partEnd[k])
			i := int64(k) - ps
			switch s.Func {
			case WinRowNumber:
				vals[r] = i + 1
			case WinRank:
				vals[r] = int64(wc.peerStart[k]) - ps + 1
			case WinDenseRank:
				if int64(k) == ps {
					dense = 0
				}
				if int(wc.peerStart[k]) == k {
					dense++
				}
				vals[r] = dense
			case WinNtile:
				cnt, b := pe-ps, s.Offset
				q, rem := cnt/b, cnt%b
				if i < rem*(q+1) {
					vals[r] = i/(q+1) + 1
				} else {
					vals[r] = rem + (i-rem*(q+1))/q + 1
				}
			}
		}
		return winInt64Array(mem, vals, nil), nil
	case WinPercentRank, WinCumeDist:
		vals := make([]float64, n)
		for k := range n {
			ps, pe := int64(wc.partStart[k]), int64(wc.partEnd[k])
			if s.Func == WinCumeDist {
				vals[perm[k]] = float64(int64(wc.peerEnd[k])-ps) / float64(pe-ps)
			} else if pe-ps > 1 {
				vals[perm[k]] = float64(int64(wc.peerStart[k])-ps) / float64(pe-ps-1)
			}
		}
		return winFloat64Array(mem, vals, nil), nil
	case WinLag, WinLead:
		idx := make([]int32, n)
		off := max(-int64(n)-1, min(s.Offset, int64(n)+1)) // no overflow
		if s.Func == WinLead {
			off = -off
		}
		for k := range n {
			p := int64(k) - off
			if p < int64(wc.partStart[k]) || p >= int64(wc.partEnd[k]) {
				idx[perm[k]] = -2
			} else {
				idx[perm[k]] = perm[p]
			}
		}
		return winGather(ctx, mem, arg, idx, s.Default)
	}
	fs, fe, err := winFrames(in, wc, s)
	if err != nil {
		return nil, err
	}
	if s.Masked {
		// The aggregates ignore NULL arguments: a row the mask drops is a
		// NULL argument, and count(*) counts the rows it keeps.
		mask := in.Column(s.Mask)
		f := s.Func
		if f == WinCountStar {
			arg, f = mask, WinCount
		}
		arg = winMaskNulls(arg, mask.(*array.Boolean))
		defer arg.Release()
		m := *s
		m.Func = f
		s = &m
	}
	switch s.Func {
	case WinFirstValue, WinLastValue, WinNthValue:
		idx := make([]int32, n)
		for k := range n {
			p := int64(-1)
			switch s.Func {
			case WinFirstValue:
				p = int64(fs[k])
			case WinLastValue:
				p = int64(fe[k]) - 1
			case WinNthValue:
				if s.Offset > 0 {
					p = int64(fs[k]) + min(s.Offset, int64(n)+1) - 1
				}
			}
			if p >= int64(fs[k]) && p < int64(fe[k]) {
				idx[perm[k]] = perm[p]
			} else {
				idx[perm[k]] = -1
			}
		}
		return winGather(ctx, mem, arg, idx, nil)
	case WinCountStar:
		vals := make([]int64, n)
		for k := range n {
			vals[perm[k]] = int64(fe[k] - fs[k])
		}
		return winInt64Array(mem, vals, nil), nil
	case WinCount:
		pre := winValidPrefix(arg, perm)
		vals := make([]int64, n)
		for k := range n {
			vals[perm[k]] = int64(pre[fe[k]] - pre[fs[k]])
		}
		return winInt64Array(mem, vals, nil), nil
	case WinMin, WinMax:
		return winMinMax(ctx, mem, wc, arg, fs, fe, s.Func == WinMax)
	case WinSum, WinAvg:
		return winSumAvg(mem, wc, arg, fs, fe, s.Func == WinAvg, rt)
	}
	return nil, fmt.Errorf("unsupported window function %s", s.Func)
}

// winMaskNulls returns arg with NULL wherever mask is not TRUE (a new
// validity bitmap over arg's buffers).
func winMaskNulls(arg arrow.Array, mask *array.Boolean) arrow.Array {
	d := arg.Data()
	off, n := d.Offset(), d.Len()
	bits := make([]byte, bitutil.BytesForBits(int64(off+n)))
	nulls := 0
	for i := range n {
		if arg.IsValid(i) && mask.IsValid(i) && mask.Value(i) {
			bitutil.SetBit(bits, off+i)
		} else {
			nulls++
		}
	}
	bufs := append([]*memory.Buffer{memory.NewBufferBytes(bits)}, d.Buffers()[1:]...)
	nd := array.NewData(d.DataType(), n, bufs, d.Children(), nulls, off)
	defer nd.Release()
	return array.MakeFromData(nd)
}

// winValidPrefix counts non-null argument values in sorted order:
// pre[k] = non-nulls among positions [0, k). Differences inside a partition
// give frame counts.
func winValidPrefix(arg arrow.Array, perm []int32) []int32 {
	pre := make([]int32, len(perm)+1)
	hasNulls := arg.NullN() > 0
	for k, r := range perm {
		pre[k+1] = pre[k]
		if !hasNulls || arg.IsValid(int(r)) {
			pre[k+1]++
		}
	}
	return pre
}

func winInt64Array(mem memory.Allocator, vals []int64, valid []bool) arrow.Array {
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

func winFloat64Array(mem memory.Allocator, vals []float64, valid []bool) arrow.Array {
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

// winGather returns arg[idx[i]]: -1 gives NULL, -2 gives def (NULL if nil).
func winGather(ctx context.Context, mem memory.Allocator, arg arrow.Array, idx []int32, def any) (arrow.Array, error) {
	hasDef := false
	for i, x := range idx {
		if x == -2 {
			if def == nil {
				idx[i] = -1
			} else {
				hasDef = true
			}
		}
	}
	if !hasDef {
		return batchTakeArray(ctx, mem, arg, idx)
	}
	da, err := winDefaultArray(mem, arg.DataType(), def)
	if err != nil {
		return nil, err
	}
	defer da.Release()
	refs := make([]batchRowRef, len(idx))
	for i, x := range idx {
		if x == -2 {
			refs[i] = batchRowRef{1, 0}
		} else if x < 0 {
			refs[i] = batchRowRef{-1, 0}
		} else {
			refs[i] = batchRowRef{0, x}
		}
	}
	return batchGatherArrays(ctx, mem, arg.DataType(), []arrow.Array{arg, da}, refs)
}

// winDefaultArray converts a lag/lead default to a one-element array of dt.
func winDefaultArray(mem memory.Allocator, dt arrow.DataType, v any) (arrow.Array, error) {
	b := array.NewBuilder(mem, dt)
	defer b.Release()
	var iv int64
	isInt := true
	var fv float64
	isFloat := false
	switch x := v.(type) {
	case int:
		iv = int64(x)
	case int8:
		iv = int64(x)
	case int16:
		iv = int64(x)
	case int32:
		iv = int64(x)
	case int64:
		iv = x
	case uint8:
		iv = int64(x)
	case uint16:
		iv = int64(x)
	case uint32:
		iv = int64(x)
	case uint64:
		iv = int64(x)
	case arrow.Date32:
		iv = int64(x)
	case arrow.Timestamp:
		iv = int64(x)
	case float32:
		fv, isInt, isFloat = float64(x), false, true
	case float64:
		fv, isInt, isFloat = x, false, true
	default:
		isInt = false
	}
	bad := fmt.Errorf("default value %v (%T) does not fit type %s", v, v, dt)
	switch bb := b.(type) {
	case *array.Int8Builder:
		if !isInt || iv != int64(int8(iv)) {
			return nil, bad
		}
		bb.Append(int8(iv))
	case *array.Int16Builder:
		if !isInt || iv != int64(int16(iv)) {
			return nil, bad
		}
		bb.Append(int16(iv))
	case *array.Int32Builder:
		if !isInt || iv != int64(int32(iv)) {
			return nil, bad
		}
		bb.Append(int32(iv))
	case *array.Int64Builder:
		if !isInt {
			return nil, bad
		}
		bb.Append(iv)
	case *array.Uint8Builder:
		if !isInt || iv < 0 || iv > math.MaxUint8 {
			return nil, bad
		}
		bb.Append(uint8(iv))
	case *array.Uint16Builder:
		if !isInt || iv < 0 || iv > math.MaxUint16 {
			return nil, bad
		}
		bb.Append(uint16(iv))
	case *array.Uint32Builder:
		if !isInt || iv < 0 || iv > math.MaxUint32 {
			return nil, bad
		}
		bb.Append(uint32(iv))
	case *array.Uint64Builder:
		if !isInt || iv < 0 {
			return nil, bad
		}
		bb.Append(uint64(iv))
	case *array.Float32Builder:
		if isInt {
			fv, isFloat = float64(iv), true
		}
		if !isFloat {
			return nil, bad
		}
		bb.Append(float32(fv))
	case *array.Float64Builder:
		if isInt {
			fv, isFloat = float64(iv), true
		}
		if !isFloat {
			return nil, bad
		}
		bb.Append(fv)
	case *array.Date32Builder:
		if !isInt {
			return nil, bad
		}
		bb.Append(arrow.Date32(iv))
	case *array.TimestampBuilder:
		if !isInt {
			return nil, bad
		}
		bb.Append(arrow.Timestamp(iv))
	case *array.StringBuilder:
		s, ok := v.(string)
		if !ok {
			return nil, bad
		}
		bb.Append(s)
	case *array.BooleanBuilder:
		x, ok := v.(bool)
		if !ok {
			return nil, bad
		}
		bb.Append(x)
	case *array.Decimal64Builder:
		scale := dt.(*arrow.Decimal64Type).Scale
		var d decimal128.Num
		switch x := v.(type) {
		case decimal128.Num:
			d = x
		default:
			if !isInt {
				return nil, bad
			}
			// An integer default means whole units.
			d = decimal128.FromI64(iv).Mul(decimal128.GetScaleMultiplier(int(scale)))
		}
		if !d.FitsInPrecision(dt.(*arrow.Decimal64Type).Precision) {
			return nil, bad
		}
		bb.Append(decimal.Decimal64(d.LowBits()))
	case *array.Decimal128Builder:
		switch x := v.(type) {
		case decimal128.Num:
			bb.Append(x)
		default:
			if !isInt {
				return nil, bad
			}
			// An integer default means whole units.
			d := decimal128.FromI64(iv)
			scale := dt.(*arrow.Decimal128Type).Scale
			d = d.Mul(decimal128.GetScaleMultiplier(int(scale)))
			bb.Append(d)
		}
	default:
		return nil, fmt.Errorf("lag/lead default values are not supported for type %s", dt)
	}
	return b.NewArray(), nil
}

// winMinMax returns, per row, the frame's min (or max) argument value.
// Cumulative frames (start at the partition start) use a running best;
// frames ending at the partition end use a suffix best; others scan.
func winMinMax(ctx context.Context, mem memory.Allocator, wc *winCtx, arg arrow.Array, fs, fe []int32, isMax bool) (arrow.Array, error) {
	vc := sortMakeValueCmp(arg, arg)
	hasNulls := arg.NullN() > 0
	perm := wc.perm
	valid := func(p int32) bool { return !hasNulls || arg.IsValid(int(perm[p])) }
	better := func(p, q int32) bool { // p strictly better than q (q valid)
		c := vc(int(perm[p]), int(perm[q]))
		if isMax {
			return c > 0
		}
		return c < 0
	}
	n := wc.n
	idx := make([]int32, n)
	// run[k]: best position in [partStart, k] (-1 none); suf[k]: best in [k, partEnd).
	var run, suf []int32
	for k := range n {
		ps, pe := wc.partStart[k], wc.partEnd[k]
		lo, hi := fs[k], fe[k]
		best := int32(-1)
		switch {
		case lo >= hi:
		case lo == ps:
			if run == nil {
				run = make([]int32, n)
				for j := range int32(n) {
					b := int32(-1)
					if j > wc.partStart[j] {
						b = run[j-1]
					}
					if valid(j) && (b < 0 || better(j, b)) {
						b = j
					}
					run[j] = b
				}
			}
			best = run[hi-1]
		case hi == pe:
			if suf == nil {
				suf = make([]int32, n)
				for j := int32(n) - 1; j >= 0; j-- {
					b := int32(-1)
					if j+1 < wc.partEnd[j] {
						b = suf[j+1]
					}
					if valid(j) && (b < 0 || better(j, b)) {
						b = j
					}
					suf[j] = b
				}
			}
			best = suf[lo]
		default:
			for p := lo; p < hi; p++ {
				if valid(p) && (best < 0 || better(p, best)) {
					best = p
				}
			}
		}
		if best < 0 {
			idx[perm[k]] = -1
		} else {
			idx[perm[k]] = perm[best]
		}
	}
	return batchTakeArray(ctx, mem, arg, idx)
}

// winSumAvg computes sum or avg over frames. Integer and decimal sums use
// partition prefix sums (wrapping arithmetic keeps differences exact when
// the result fits); float sums use running/suffix sums for frames anchored
// at a partition end and direct summation otherwise, avoiding cancellation
// error from prefix differences.
func winSumAvg(mem memory.Allocator, wc *winCtx, arg arrow.Array, fs, fe []int32, avg bool, rt arrow.DataType) (arrow.Array, error) {
	n := wc.n
	perm := wc.perm
	cnt := winValidPrefix(arg, perm)
	valid := make([]bool, n)
	for k := range n {
		valid[perm[k]] = cnt[fe[k]] > cnt[fs[k]]
	}
	hasNulls := arg.NullN() > 0
	switch {
	case aggIsDecimal(arg.DataType()):
		pre := make([]decimal128.Num, n+1)
		if d64, ok := arg.(*array.Decimal64); ok {
			vals := d64.Values()
			for k, r := range perm {
				pre[k+1] = pre[k]
				if !hasNulls || arg.IsValid(int(r)) {
					pre[k+1] = pre[k+1].Add(decimal128.FromI64(int64(vals[r])))
				}
			}
		} else {
			vals := arg.(*array.Decimal128).Values()
			for k, r := range perm {
				pre[k+1] = pre[k]
				if !hasNulls || arg.IsValid(int(r)) {
					pre[k+1] = pre[k+1].Add(vals[r])
				}
			}
		}
		if avg {
			scale := arg.DataType().(arrow.DecimalType).GetScale()
			out := make([]float64, n)
			for k := range n {
				if c := cnt[fe[k]] - cnt[fs[k]]; c > 0 {
					out[perm[k]] = pre[fe[k]].Sub(pre[fs[k]]).ToFloat64(scale) / float64(c)
				}
			}
			return winFloat64Array(mem, out, valid), nil
		}
		out := make([]decimal128.Num, n)
		for k := range n {
			out[perm[k]] = pre[fe[k]].Sub(pre[fs[k]])
		}
		b := array.NewDecimal128Builder(mem, rt.(*arrow.Decimal128Type))
		defer b.Release()
		b.AppendValues(out, valid)
		return b.NewArray(), nil
	case winIsInteger(arg.DataType()):
		vals, _, err := winInt64s(arg)
		if err != nil {
			return nil, err
		}
		pre := make([]int64, n+1)
		for k, r := range perm {
			pre[k+1] = pre[k]
			if !hasNulls || arg.IsValid(int(r)) {
				pre[k+1] += vals[r]
			}
		}
		if avg {
			out := make([]float64, n)
			for k := range n {
				if c := cnt[fe[k]] - cnt[fs[k]]; c > 0 {
					out[perm[k]] = float64(pre[fe[k]]-pre[fs[k]]) / float64(c)
				}
			}
			return winFloat64Array(mem, out, valid), nil
		}
		out := make([]int64, n)
		for k := range n {
			out[perm[k]] = pre[fe[k]] - pre[fs[k]]
		}
		return winInt64Array(mem, out, valid), nil
	}
	// Floats: v[k] is the value at sorted position k (0 for null).
	v := make([]float64, n)
	for k, r := range perm {
		if hasNulls && arg.IsNull(int(r)) {
			continue
		}
		switch a := arg.(type) {
		case *array.Float64:
			v[k] = a.Value(int(r))
		case *array.Float32:
			v[k] = float64(a.Value(int(r)))
		}
	}
	var run, suf []float64 // run[k] = sum [partStart, k]; suf[k] = sum [k, partEnd)
	out := make([]float64, n)
	for k := range n {
		lo, hi := fs[k], fe[k]
		var sum float64
		switch {
		case lo >= hi:
		case lo == wc.partStart[k]:
			if run == nil {
				run = make([]float64, n)
				for j := range n {
					run[j] = v[j]
					if int32(j) > wc.partStart[j] {
						run[j] += run[j-1]
					}
				}
			}
			sum = run[hi-1]
		case hi == wc.partEnd[k]:
			if suf == nil {
				suf = make([]float64, n)
				for j := n - 1; j >= 0; j-- {
					suf[j] = v[j]
					if int32(j)+1 < wc.partEnd[j] {
						suf[j] += suf[j+1]
					}
				}
			}
			sum = suf[lo]
		default:
			for p := lo; p < hi; p++ {
				sum += v[p]
			}
		}
		if avg {
			if c := cnt[hi] - cnt[lo]; c > 0 {
				sum /= float64(c)
			}
		}
		out[perm[k]] = sum
	}
	return winFloat64Array(mem, out, valid), nil
}
