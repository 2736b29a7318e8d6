package exec

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flint-engine/flint/exec/hashing"
)

// aggKernel holds the per-group state of one aggregate in typed slices
// indexed by group id and updates it a whole batch at a time.
type aggKernel interface {
	// resize makes room for n groups (new groups start empty).
	resize(n int)
	// update folds raw input arr (nil for count(*)) into groups[row].
	update(arr arrow.Array, groups []uint32) error
	// merge folds partial state columns into groups[row].
	merge(states []arrow.Array, groups []uint32) error
	// final emits result values for groups [from, to).
	final(mem memory.Allocator, from, to int) (arrow.Array, error)
	// partial emits state columns for groups [from, to).
	partial(mem memory.Allocator, from, to int) ([]arrow.Array, error)
	// bytesFor estimates the Go heap the state holds once resized to n
	// groups (slice capacities as aggGrow leaves them, string bytes).
	bytesFor(n int) int64
	// reset empties the state (no groups), keeping its slices' memory.
	reset()
}

func aggGrow[T any](s []T, n int) []T {
	if n <= len(s) {
		return s
	}
	if n <= cap(s) {
		old := len(s)
		s = s[:n]
		clear(s[old:])
		return s
	}
	ns := make([]T, n, max(n, 2*cap(s)))
	copy(ns, s)
	return ns
}

// aggCapBytes is the size of s's backing array once aggGrow made it n
// long (aggGrow's doubling included).
func aggCapBytes[T any](s []T, n int) int64 {
	c := cap(s)
	if n > c {
		c = max(n, 2*c)
	}
	var zero T
	return int64(c) * int64(unsafe.Sizeof(zero))
}

func aggNonZero(cnt []int64) []bool {
	v := make([]bool, len(cnt))
	for i, c := range cnt {
		v[i] = c > 0
	}
	return v
}

// newAggKernel picks the typed kernel of f over arg (nil for count(*)).
func newAggKernel(f AggFunc, arg arrow.DataType, name string) (aggKernel, error) {
	if _, err := AggResultType(f, arg); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	switch f {
	case AggCount, AggCountStar:
		return &aggCount{}, nil
	case AggSum, AggAvg:
		avg := f == AggAvg
		switch arg.ID() {
		case arrow.INT8:
			return &aggSumInt[int8]{avg: avg, name: name}, nil
		case arrow.INT16:
			return &aggSumInt[int16]{avg: avg, name: name}, nil
		case arrow.INT32:
			return &aggSumInt[int32]{avg: avg, name: name}, nil
		case arrow.INT64:
			return &aggSumInt[int64]{avg: avg, name: name}, nil
		case arrow.UINT8:
			return &aggSumInt[uint8]{avg: avg, name: name}, nil
		case arrow.UINT16:
			return &aggSumInt[uint16]{avg: avg, name: name}, nil
		case arrow.UINT32:
			return &aggSumInt[uint32]{avg: avg, name: name}, nil
		case arrow.UINT64:
			return &aggSumInt[uint64]{avg: avg, name: name}, nil
		case arrow.FLOAT32:
			return &aggSumFloat[float32]{avg: avg}, nil
		case arrow.FLOAT64:
			return &aggSumFloat[float64]{avg: avg}, nil
		case arrow.DECIMAL64, arrow.DECIMAL128:
			return &aggSumDec{avg: avg, scale: arg.(arrow.DecimalType).GetScale()}, nil
		}
	case AggMin, AggMax, AggFirst, AggBoolAnd, AggBoolOr:
		mode := aggModeMin
		switch f {
		case AggMax, AggBoolOr:
			mode = aggModeMax
		case AggFirst:
			mode = aggModeFirst
		}
		switch arg.ID() {
		case arrow.INT8:
			return &aggMinMax[int8]{mode: mode, dt: arg}, nil
		case arrow.INT16:
			return &aggMinMax[int16]{mode: mode, dt: arg}, nil
		case arrow.INT32, arrow.DATE32, arrow.TIME32:
			return &aggMinMax[int32]{mode: mode, dt: arg}, nil
		case arrow.INT64, arrow.DATE64, arrow.TIME64, arrow.TIMESTAMP, arrow.DURATION, arrow.DECIMAL64:
			return &aggMinMax[int64]{mode: mode, dt: arg}, nil
		case arrow.UINT8:
			return &aggMinMax[uint8]{mode: mode, dt: arg}, nil
		case arrow.UINT16:
			return &aggMinMax[uint16]{mode: mode, dt: arg}, nil
		case arrow.UINT32:
			return &aggMinMax[uint32]{mode: mode, dt: arg}, nil
		case arrow.UINT64:
			return &aggMinMax[uint64]{mode: mode, dt: arg}, nil
		case arrow.FLOAT32:
			return &aggMinMax[float32]{mode: mode, dt: arg}, nil
		case arrow.FLOAT64:
			return &aggMinMax[float64]{mode: mode, dt: arg}, nil
		case arrow.DECIMAL128:
			return &aggMinMaxDec{mode: mode, dt: arg}, nil
		case arrow.STRING, arrow.BINARY:
			return &aggMinMaxStr{mode: mode, dt: arg}, nil
		case arrow.BOOL:
			return &aggMinMaxBool{mode: mode}, nil
		}
	case AggStddevSamp, AggStddevPop, AggVarSamp, AggVarPop:
		return &aggVar{fn: f, arg: arg}, nil
	case AggQuantileSketch:
		return &aggSketch{}, nil
	case AggCategoryCounts:
		return &aggCategories{}, nil
	}
	return nil, fmt.Errorf("%s: no kernel for %s(%s)", name, f, arg)
}

// ---- count ----

type aggCount struct{ counts []int64 }

func (k *aggCount) resize(n int) { k.counts = aggGrow(k.counts, n) }

func (k *aggCount) reset() { k.counts = k.counts[:0] }

func (k *aggCount) bytesFor(n int) int64 { return aggCapBytes(k.counts, n) }

func (k *aggCount) update(arr arrow.Array, groups []uint32) error {
	c := k.counts
	if arr == nil || arr.NullN() == 0 {
		for _, g := range groups {
			c[g]++
		}
		return nil
	}
	v, _ := hashing.ValidityOf(arr)
	for i, g := range groups {
		if v.Valid(i) {
			c[g]++
		}
	}
	return nil
}

func (k *aggCount) merge(states []arrow.Array, groups []uint32) error {
	vals := hashing.FixedValues[int64](states[0])
	v, hasNulls := hashing.ValidityOf(states[0])
	for i, g := range groups {
		if !hasNulls || v.Valid(i) {
			k.counts[g] += vals[i]
		}
	}
	return nil
}

func (k *aggCount) final(mem memory.Allocator, from, to int) (arrow.Array, error) {
	return hashing.NewFixedArray(mem, arrow.PrimitiveTypes.Int64, k.counts[from:to], nil), nil
}

func (k *aggCount) partial(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	a, err := k.final(mem, from, to)
	return []arrow.Array{a}, err
}

// ---- sum / avg over integers: int64 accumulator with overflow check ----

type aggSumInt[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64] struct {
	sum  []int64
	cnt  []int64 // non-null inputs (sum: merged non-null partials)
	avg  bool
	name string
}

func (k *aggSumInt[T]) resize(n int) {
	k.sum = aggGrow(k.sum, n)
	k.cnt = aggGrow(k.cnt, n)
}

func (k *aggSumInt[T]) reset() { k.sum, k.cnt = k.sum[:0], k.cnt[:0] }

func (k *aggSumInt[T]) bytesFor(n int) int64 { return aggCapBytes(k.sum, n) + aggCapBytes(k.cnt, n) }

func (k *aggSumInt[T]) overflow() error {
	return fmt.Errorf("%s: integer sum overflows Int64", k.name)
}

func (k *aggSumInt[T]) update(arr arrow.Array, groups []uint32) error {
	vals := hashing.FixedValues[T](arr)
	sum, cnt := k.sum, k.cnt
	v, hasNulls := hashing.ValidityOf(arr)
	bad := false
	for i, g := range groups {
		if hasNulls && !v.Valid(i) {
			continue
		}
		x := int64(vals[i])
		if x < 0 && vals[i] > 0 { // uint64 above MaxInt64
			bad = true
		}
		s := sum[g] + x
		bad = bad || ((sum[g]^s)&(x^s) < 0)
		sum[g] = s
		cnt[g]++
	}
	if bad {
		return k.overflow()
	}
	return nil
}

func (k *aggSumInt[T]) merge(states []arrow.Array, groups []uint32) error {
	vals := hashing.FixedValues[int64](states[0])
	v, hasNulls := hashing.ValidityOf(states[0])
	var counts []int64
	if k.avg {
		counts = hashing.FixedValues[int64](states[1])
	}
	bad := false
	for i, g := range groups {
		if hasNulls && !v.Valid(i) {
			continue
		}
		x := vals[i]
		s := k.sum[g] + x
		bad = bad || ((k.sum[g]^s)&(x^s) < 0)
		k.sum[g] = s
		if k.avg {
			k.cnt[g] += counts[i]
		} else {
			k.cnt[g]++
		}
	}
	if bad {
		return k.overflow()
	}
	return nil
}

func (k *aggSumInt[T]) final(mem memory.Allocator, from, to int) (arrow.Array, error) {
	valid := aggNonZero(k.cnt[from:to])
	if !k.avg {
		return hashing.NewFixedArray(mem, arrow.PrimitiveTypes.Int64, k.sum[from:to], valid), nil
	}
	out := make([]float64, to-from)
	for i := range out {
		if c := k.cnt[from+i]; c > 0 {
			out[i] = float64(k.sum[from+i]) / float64(c)
		}
	}
	return hashing.NewFixedArray(mem, arrow.PrimitiveTypes.Float64, out, valid), nil
}

func (k *aggSumInt[T]) partial(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	valid := aggNonZero(k.cnt[from:to])
	s := hashing.NewFixedArray(mem, arrow.PrimitiveTypes.Int64, k.sum[from:to], valid)
	if !k.avg {
		return []arrow.Array{s}, nil
	}
	return []arrow.Array{s, hashing.NewFixedArray(mem, arrow.PrimitiveTypes.Int64, k.cnt[from:to], nil)}, nil
}

// ---- sum / avg over floats ----

type aggSumFloat[T float32 | float64] struct {
	sum []float64
	cnt []int64
	avg bool
}

func (k *aggSumFloat[T]) resize(n int) {
	k.sum = aggGrow(k.sum, n)
	k.cnt = aggGrow(k.cnt, n)
}

func (k *aggSumFloat[T]) reset() { k.sum, k.cnt = k.sum[:0], k.cnt[:0] }

func (k *aggSumFloat[T]) bytesFor(n int) int64 { return aggCapBytes(k.sum, n) + aggCapBytes(k.cnt, n) }

func (k *aggSumFloat[T]) update(arr arrow.Array, groups []uint32) error {
	vals := hashing.FixedValues[T](arr)
	sum, cnt := k.sum, k.cnt
	if arr.NullN() == 0 {
		vals = vals[:len(groups)]
		for i, g := range groups {
			sum[g] += float64(vals[i])
			cnt[g]++
		}
		return nil
	}
	v, _ := hashing.ValidityOf(arr)
	for i, g := range groups {
		if v.Valid(i) {
			sum[g] += float64(vals[i])
			cnt[g]++
		}
	}
	return nil
}

func (k *aggSumFloat[T]) merge(states []arrow.Array, groups []uint32) error {
	vals := hashing.FixedValues[float64](states[0])
	v, hasNulls := hashing.ValidityOf(states[0])
	var counts []int64
	if k.avg {
		counts = hashing.FixedValues[int64](states[1])
	}
	for i, g := range groups {
		if hasNulls && !v.Valid(i) {
			continue
		}
		k.sum[g] += vals[i]
		if k.avg {
			k.cnt[g] += counts[i]
		} else {
			k.cnt[g]++
		}
	}
	return nil
}

func (k *aggSumFloat[T]) final(mem memory.Allocator, from, to int) (arrow.Array, error) {
	valid := aggNonZero(k.cnt[from:to])
	if !k.avg {
		return hashing.NewFixedArray(mem, arrow.PrimitiveTypes.Float64, k.sum[from:to], valid), nil
	}
	out := make([]float64, to-from)
	for i := range out {
		if c := k.cnt[from+i]; c > 0 {
			out[i] = k.sum[from+i] / float64(c)
		}
	}
	return hashing.NewFixedArray(mem, arrow.PrimitiveTypes.Float64, out, valid), nil
}

func (k *aggSumFloat[T]) partial(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	valid := aggNonZero(k.cnt[from:to])
	s := hashing.NewFixedArray(mem, arrow.PrimitiveTypes.Float64, k.sum[from:to], valid)
	if !k.avg {
		return []arrow.Array{s}, nil
	}
	return []arrow.Array{s, hashing.NewFixedArray(mem, arrow.PrimitiveTypes.Int64, k.cnt[from:to], nil)}, nil
}

// ---- sum / avg over decimals: exact 128-bit accumulation ----
//
// Raw input may be a Decimal64 (sign-extended as it is added) or a
// Decimal128; partial states are always Decimal128(38, s).

type aggSumDec struct {
	sum   []hashing.I128
	cnt   []int64
	avg   bool
	scale int32
}

func (k *aggSumDec) resize(n int) {
	k.sum = aggGrow(k.sum, n)
	k.cnt = aggGrow(k.cnt, n)
}

func (k *aggSumDec) reset() { k.sum, k.cnt = k.sum[:0], k.cnt[:0] }

func (k *aggSumDec) bytesFor(n int) int64 { return aggCapBytes(k.sum, n) + aggCapBytes(k.cnt, n) }

func (k *aggSumDec) update(arr arrow.Array, groups []uint32) error {
	if arr.DataType().ID() == arrow.DECIMAL64 {
		k.update64(arr, groups)
		return nil
	}
	vals := hashing.FixedValues[hashing.I128](arr)
	sum, cnt := k.sum, k.cnt
	if arr.NullN() == 0 {
		vals = vals[:len(groups)]
		for i, g := range groups {
			s := &sum[g]
			lo, c := bits.Add64(s.Lo, vals[i].Lo, 0)
			s.Lo, s.Hi = lo, s.Hi+vals[i].Hi+int64(c)
		}
		if k.avg {
			for _, g := range groups {
				cnt[g]++
			}
		} else {
			for _, g := range groups {
				cnt[g] = 1 // sum only needs "saw a value"
			}
		}
		return nil
	}
	v, _ := hashing.ValidityOf(arr)
	for i, g := range groups {
		if v.Valid(i) {
			sum[g] = sum[g].Add(vals[i])
			cnt[g]++
		}
	}
	return nil
}

func (k *aggSumDec) update64(arr arrow.Array, groups []uint32) {
	vals := hashing.FixedValues[int64](arr)
	sum, cnt := k.sum, k.cnt
	if arr.NullN() == 0 {
		vals = vals[:len(groups)]
		for i, g := range groups {
			s := &sum[g]
			x := vals[i]
			lo, c := bits.Add64(s.Lo, uint64(x), 0)
			s.Lo, s.Hi = lo, s.Hi+x>>63+int64(c)
		}
		if k.avg {
			for _, g := range groups {
				cnt[g]++
			}
		} else {
			for _, g := range groups {
				cnt[g] = 1 // sum only needs "saw a value"
			}
		}
		return
	}
	v, _ := hashing.ValidityOf(arr)
	for i, g := range groups {
		if v.Valid(i) {
			x := vals[i]
			sum[g] = sum[g].Add(hashing.I128{Lo: uint64(x), Hi: x >> 63})
			cnt[g]++
		}
	}
}

func (k *aggSumDec) merge(states []arrow.Array, groups []uint32) error {
	vals := hashing.FixedValues[hashing.I128](states[0])
	v, hasNulls := hashing.ValidityOf(states[0])
	var counts []int64
	if k.avg {
		counts = hashing.FixedValues[int64](states[1])
	}
	for i, g := range groups {
		if hasNulls && !v.Valid(i) {
			continue
		}
		k.sum[g] = k.sum[g].Add(vals[i])
		if k.avg {
			k.cnt[g] += counts[i]
		} else {
			k.cnt[g]++
		}
	}
	return nil
}

func (k *aggSumDec) sumType() arrow.DataType {
	return &arrow.Decimal128Type{Precision: 38, Scale: k.scale}
}

func (k *aggSumDec) final(mem memory.Allocator, from, to int) (arrow.Array, error) {
	valid := aggNonZero(k.cnt[from:to])
	if !k.avg {
		return hashing.NewFixedArray(mem, k.sumType(), k.sum[from:to], valid), nil
	}
	out := make([]float64, to-from)
	for i := range out {
		if c := k.cnt[from+i]; c > 0 {
			s := k.sum[from+i]
			out[i] = decimal128.New(s.Hi, s.Lo).ToFloat64(k.scale) / float64(c)
		}
	}
	return hashing.NewFixedArray(mem, arrow.PrimitiveTypes.Float64, out, valid), nil
}

func (k *aggSumDec) partial(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	valid := aggNonZero(k.cnt[from:to])
	s := hashing.NewFixedArray(mem, k.sumType(), k.sum[from:to], valid)
	if !k.avg {
		return []arrow.Array{s}, nil
	}
	return []arrow.Array{s, hashing.NewFixedArray(mem, arrow.PrimitiveTypes.Int64, k.cnt[from:to], nil)}, nil
}

// ---- min / max / first ----

type aggMode uint8

const (
	aggModeMin aggMode = iota
	aggModeMax
	aggModeFirst
)

type aggMinMax[T cmp.Ordered] struct {
	vals []T
	seen []bool
	mode aggMode
	dt   arrow.DataType
}

func (k *aggMinMax[T]) resize(n int) {
	k.vals = aggGrow(k.vals, n)
	k.seen = aggGrow(k.seen, n)
}

func (k *aggMinMax[T]) reset() { k.vals, k.seen = k.vals[:0], k.seen[:0] }

func (k *aggMinMax[T]) bytesFor(n int) int64 { return aggCapBytes(k.vals, n) + aggCapBytes(k.seen, n) }

func (k *aggMinMax[T]) update(arr arrow.Array, groups []uint32) error {
	src := hashing.FixedValues[T](arr)
	vals, seen := k.vals, k.seen
	v, hasNulls := hashing.ValidityOf(arr)
	for i, g := range groups {
		if hasNulls && !v.Valid(i) {
			continue
		}
		x := src[i]
		switch {
		case !seen[g]:
			vals[g], seen[g] = x, true
		case k.mode == aggModeMin:
			if nanLess(x, vals[g]) {
				vals[g] = x
			}
		case k.mode == aggModeMax:
			if nanLess(vals[g], x) {
				vals[g] = x
			}
		}
	}
	return nil
}

// nanLess orders values as SQL does (DuckDB, PostgreSQL): NaN is greater
// than every other float, so max picks it and min skips it. For integers
// the NaN tests are constant false.
func nanLess[T cmp.Ordered](x, y T) bool {
	return x < y || (y != y && x == x)
}

func (k *aggMinMax[T]) merge(states []arrow.Array, groups []uint32) error {
	return k.update(states[0], groups)
}

func (k *aggMinMax[T]) final(mem memory.Allocator, from, to int) (arrow.Array, error) {
	return hashing.NewFixedArray(mem, k.dt, k.vals[from:to], k.seen[from:to]), nil
}

func (k *aggMinMax[T]) partial(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	a, err := k.final(mem, from, to)
	return []arrow.Array{a}, err
}

type aggMinMaxDec struct {
	vals []hashing.I128
	seen []bool
	mode aggMode
	dt   arrow.DataType
}

func (k *aggMinMaxDec) resize(n int) {
	k.vals = aggGrow(k.vals, n)
	k.seen = aggGrow(k.seen, n)
}

func (k *aggMinMaxDec) reset() { k.vals, k.seen = k.vals[:0], k.seen[:0] }

func (k *aggMinMaxDec) bytesFor(n int) int64 { return aggCapBytes(k.vals, n) + aggCapBytes(k.seen, n) }

func (k *aggMinMaxDec) update(arr arrow.Array, groups []uint32) error {
	src := hashing.FixedValues[hashing.I128](arr)
	v, hasNulls := hashing.ValidityOf(arr)
	for i, g := range groups {
		if hasNulls && !v.Valid(i) {
			continue
		}
		x := src[i]
		switch {
		case !k.seen[g]:
			k.vals[g], k.seen[g] = x, true
		case k.mode == aggModeMin:
			if x.Less(k.vals[g]) {
				k.vals[g] = x
			}
		case k.mode == aggModeMax:
			if k.vals[g].Less(x) {
				k.vals[g] = x
			}
		}
	}
	return nil
}

func (k *aggMinMaxDec) merge(states []arrow.Array, groups []uint32) error {
	return k.update(states[0], groups)
}

func (k *aggMinMaxDec) final(mem memory.Allocator, from, to int) (arrow.Array, error) {
	return hashing.NewFixedArray(mem, k.dt, k.vals[from:to], k.seen[from:to]), nil
}

func (k *aggMinMaxDec) partial(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	a, err := k.final(mem, from, to)
	return []arrow.Array{a}, err
}

type aggMinMaxStr struct {
	vals     []string
	seen     []bool
	mode     aggMode
	dt       arrow.DataType
	strBytes int64 // bytes of the strings in vals, for memory accounting
}

func (k *aggMinMaxStr) resize(n int) {
	k.vals = aggGrow(k.vals, n)
	k.seen = aggGrow(k.seen, n)
}

func (k *aggMinMaxStr) reset() {
	clear(k.vals) // let the strings go
	k.vals, k.seen, k.strBytes = k.vals[:0], k.seen[:0], 0
}

func (k *aggMinMaxStr) bytesFor(n int) int64 {
	return aggCapBytes(k.vals, n) + aggCapBytes(k.seen, n) + k.strBytes
}

func (k *aggMinMaxStr) update(arr arrow.Array, groups []uint32) error {
	offs, data := hashing.StringData(arr)
	v, hasNulls := hashing.ValidityOf(arr)
	for i, g := range groups {
		if hasNulls && !v.Valid(i) {
			continue
		}
		x := data[offs[i]:offs[i+1]]
		switch {
		case !k.seen[g]:
			k.vals[g], k.seen[g] = string(x), true
			k.strBytes += int64(len(x))
		case k.mode == aggModeMin:
			if string(x) < k.vals[g] {
				k.strBytes += int64(len(x) - len(k.vals[g]))
				k.vals[g] = string(x)
			}
		case k.mode == aggModeMax:
			if string(x) > k.vals[g] {
				k.strBytes += int64(len(x) - len(k.vals[g]))
				k.vals[g] = string(x)
			}
		}
	}
	return nil
}

func (k *aggMinMaxStr) merge(states []arrow.Array, groups []uint32) error {
	return k.update(states[0], groups)
}

func (k *aggMinMaxStr) final(mem memory.Allocator, from, to int) (arrow.Array, error) {
	return hashing.NewStringArray(mem, k.dt, k.vals[from:to], k.seen[from:to])
}

func (k *aggMinMaxStr) partial(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	a, err := k.final(mem, from, to)
	if err != nil {
		return nil, err
	}
	return []arrow.Array{a}, nil
}

// aggMinMaxBool also implements bool_and (min) and bool_or (max).
type aggMinMaxBool struct {
	vals    []bool
	seen    []bool
	mode    aggMode
	scratch []bool
}

func (k *aggMinMaxBool) resize(n int) {
	k.vals = aggGrow(k.vals, n)
	k.seen = aggGrow(k.seen, n)
}

func (k *aggMinMaxBool) reset() { k.vals, k.seen = k.vals[:0], k.seen[:0] }

func (k *aggMinMaxBool) bytesFor(n int) int64 {
	return aggCapBytes(k.vals, n) + aggCapBytes(k.seen, n) + aggCapBytes(k.scratch, 0)
}

func (k *aggMinMaxBool) update(arr arrow.Array, groups []uint32) error {
	k.scratch = hashing.BoolValues(arr.(*array.Boolean), k.scratch)
	src := k.scratch
	v, hasNulls := hashing.ValidityOf(arr)
	for i, g := range groups {
		if hasNulls && !v.Valid(i) {
			continue
		}
		x := src[i]
		switch {
		case !k.seen[g]:
			k.vals[g], k.seen[g] = x, true
		case k.mode == aggModeMin:
			k.vals[g] = k.vals[g] && x
		case k.mode == aggModeMax:
			k.vals[g] = k.vals[g] || x
		}
	}
	return nil
}

func (k *aggMinMaxBool) merge(states []arrow.Array, groups []uint32) error {
	return k.update(states[0], groups)
}

func (k *aggMinMaxBool) final(mem memory.Allocator, from, to int) (arrow.Array, error) {
	return hashing.NewBoolArray(mem, k.vals[from:to], k.seen[from:to]), nil
}

func (k *aggMinMaxBool) partial(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	a, err := k.final(mem, from, to)
	return []arrow.Array{a}, err
}

// ---- variance / standard deviation (Welford, Chan merge) ----

type aggVar struct {
	fn      AggFunc
	arg     arrow.DataType
	cnt     []int64
	mean    []float64
	m2      []float64
	scratch []float64
}

func (k *aggVar) resize(n int) {
	k.cnt = aggGrow(k.cnt, n)
	k.mean = aggGrow(k.mean, n)
	k.m2 = aggGrow(k.m2, n)
}

func (k *aggVar) reset() { k.cnt, k.mean, k.m2 = k.cnt[:0], k.mean[:0], k.m2[:0] }

func (k *aggVar) bytesFor(n int) int64 {
	return aggCapBytes(k.cnt, n) + aggCapBytes(k.mean, n) + aggCapBytes(k.m2, n) + aggCapBytes(k.scratch, 0)
}

func aggToFloats[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32 | float64](src []T, out []float64) {
	for i, x := range src {
		out[i] = float64(x)
	}
}

func (k *aggVar) update(arr arrow.Array, groups []uint32) error {
	n := len(groups)
	if cap(k.scratch) < n {
		k.scratch = make([]float64, n)
	}
	xs := k.scratch[:n]
	switch arr.DataType().ID() {
	case arrow.INT8:
		aggToFloats(hashing.FixedValues[int8](arr), xs)
	case arrow.INT16:
		aggToFloats(hashing.FixedValues[int16](arr), xs)
	case arrow.INT32:
		aggToFloats(hashing.FixedValues[int32](arr), xs)
	case arrow.INT64:
		aggToFloats(hashing.FixedValues[int64](arr), xs)
	case arrow.UINT8:
		aggToFloats(hashing.FixedValues[uint8](arr), xs)
	case arrow.UINT16:
		aggToFloats(hashing.FixedValues[uint16](arr), xs)
	case arrow.UINT32:
		aggToFloats(hashing.FixedValues[uint32](arr), xs)
	case arrow.UINT64:
		aggToFloats(hashing.FixedValues[uint64](arr), xs)
	case arrow.FLOAT32:
		aggToFloats(hashing.FixedValues[float32](arr), xs)
	case arrow.FLOAT64:
		aggToFloats(hashing.FixedValues[float64](arr), xs)
	case arrow.DECIMAL128:
		div := math.Pow10(int(arr.DataType().(*arrow.Decimal128Type).Scale))
		for i, x := range hashing.FixedValues[hashing.I128](arr) {
			xs[i] = x.Float64() / div
		}
	case arrow.DECIMAL64:
		div := math.Pow10(int(arr.DataType().(*arrow.Decimal64Type).Scale))
		for i, x := range hashing.FixedValues[int64](arr) {
			xs[i] = float64(x) / div
		}
	default:
		return fmt.Errorf("%s over %s not supported", k.fn, arr.DataType())
	}
	v, hasNulls := hashing.ValidityOf(arr)
	for i, g := range groups {
		if hasNulls && !v.Valid(i) {
			continue
		}
		k.cnt[g]++
		d := xs[i] - k.mean[g]
		k.mean[g] += d / float64(k.cnt[g])
		k.m2[g] += d * (xs[i] - k.mean[g])
	}
	return nil
}

func (k *aggVar) merge(states []arrow.Array, groups []uint32) error {
	cnts := hashing.FixedValues[int64](states[0])
	means := hashing.FixedValues[float64](states[1])
	m2s := hashing.FixedValues[float64](states[2])
	// Partial states are never NULL, but spilled rows that only carry a
	// DISTINCT aggregate's values have all-NULL states (see agg_spill.go).
	v, hasNulls := hashing.ValidityOf(states[0])
	for i, g := range groups {
		nb := cnts[i]
		if nb == 0 || (hasNulls && !v.Valid(i)) {
			continue
		}
		na := k.cnt[g]
		n := na + nb
		d := means[i] - k.mean[g]
		k.mean[g] += d * float64(nb) / float64(n)
		k.m2[g] += m2s[i] + d*d*float64(na)*float64(nb)/float64(n)
		k.cnt[g] = n
	}
	return nil
}

func (k *aggVar) final(mem memory.Allocator, from, to int) (arrow.Array, error) {
	out := make([]float64, to-from)
	valid := make([]bool, to-from)
	for i := range out {
		n := k.cnt[from+i]
		m2 := k.m2[from+i]
		switch k.fn {
		case AggVarSamp, AggStddevSamp:
			if n > 1 {
				out[i], valid[i] = m2/float64(n-1), true
			}
		default:
			if n > 0 {
				out[i], valid[i] = m2/float64(n), true
			}
		}
		if valid[i] && (k.fn == AggStddevSamp || k.fn == AggStddevPop) {
			out[i] = math.Sqrt(out[i])
		}
	}
	return hashing.NewFixedArray(mem, arrow.PrimitiveTypes.Float64, out, valid), nil
}

func (k *aggVar) partial(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	return []arrow.Array{
		hashing.NewFixedArray(mem, arrow.PrimitiveTypes.Int64, k.cnt[from:to], nil),
		hashing.NewFixedArray(mem, arrow.PrimitiveTypes.Float64, k.mean[from:to], nil),
		hashing.NewFixedArray(mem, arrow.PrimitiveTypes.Float64, k.m2[from:to], nil),
	}, nil
}
