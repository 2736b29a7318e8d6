package quantile

import (
	"math"
	"slices"
	"sync"
)

// radixMin is the shortest slice SortFloats radix-sorts; below it a
// comparison sort is faster.
const radixMin = 512

// scratchPool holds SortFloats' key buffers (two per call).
var scratchPool = sync.Pool{New: func() any { return new([]uint64) }}

// SortFloats sorts x ascending. x must hold no NaN. A long slice is
// sorted by an LSD radix sort over its values' bits, one byte a pass,
// skipping the bytes every value shares: a compactor sorts tens of
// thousands of values at a time, and values that were float32 (the
// features of a training) share their three low bytes, so such a sort
// takes five linear passes instead of a comparison sort's n·log n
// comparisons. An already sorted slice costs one pass. −0 sorts before
// +0 (a comparison sort leaves them in either order).
func SortFloats(x []float64) {
	if len(x) < radixMin {
		slices.Sort(x)
		return
	}
	// A compactor's upper levels are runs sorted by the level below:
	// two runs merge in one pass.
	run := 1
	for run < len(x) && x[run-1] <= x[run] {
		run++
	}
	if run == len(x) {
		return
	}
	if slices.IsSorted(x[run:]) {
		mergeRuns(x, run)
		return
	}
	bk, bt := scratchPool.Get().(*[]uint64), scratchPool.Get().(*[]uint64)
	defer scratchPool.Put(bk)
	defer scratchPool.Put(bt)
	for _, b := range []*[]uint64{bk, bt} {
		if cap(*b) < len(x) {
			*b = make([]uint64, len(x))
		}
	}
	keys, tmp := (*bk)[:len(x)], (*bt)[:len(x)]
	var counts [8][256]int
	for i, v := range x {
		// Flip the sign bit of positive values and every bit of negative
		// ones: the keys then order as the values do.
		b := math.Float64bits(v)
		b ^= uint64(int64(b)>>63) | 1<<63
		keys[i] = b
		counts[0][byte(b)]++
		counts[1][byte(b>>8)]++
		counts[2][byte(b>>16)]++
		counts[3][byte(b>>24)]++
		counts[4][byte(b>>32)]++
		counts[5][byte(b>>40)]++
		counts[6][byte(b>>48)]++
		counts[7][byte(b>>56)]++
	}
	src := radixPasses(keys, tmp, counts[:])
	for i, k := range src {
		k ^= uint64(int64(^k)>>63) | 1<<63
		x[i] = math.Float64frombits(k)
	}
}

// radixPasses sorts keys by byte d = 0, 1, … of counts (counts[d][b]:
// how many keys have byte d equal to b), through tmp, skipping the bytes
// every key shares, and returns the slice (keys or tmp) holding them
// sorted.
func radixPasses[K uint32 | uint64](keys, tmp []K, counts [][256]int) []K {
	src, dst := keys, tmp
	for d := range counts {
		c := &counts[d]
		shift := uint(8 * d)
		if c[byte(src[0]>>shift)] == len(src) {
			continue // every value has this byte
		}
		sum := 0
		for i, n := range c {
			c[i] = sum
			sum += n
		}
		for _, k := range src {
			b := byte(k >> shift)
			dst[c[b]] = k
			c[b]++
		}
		src, dst = dst, src
	}
	return src
}

// mergeRuns merges the sorted runs x[:mid] and x[mid:] in place (through
// a copy of the first).
func mergeRuns(x []float64, mid int) {
	bk := scratchPool.Get().(*[]uint64)
	defer scratchPool.Put(bk)
	if cap(*bk) < mid {
		*bk = make([]uint64, mid)
	}
	a := (*bk)[:mid]
	for i, v := range x[:mid] {
		a[i] = math.Float64bits(v)
	}
	i, j, k := 0, mid, 0
	for i < mid && j < len(x) {
		if v := math.Float64frombits(a[i]); v <= x[j] {
			x[k] = v
			i++
		} else {
			x[k] = x[j]
			j++
		}
		k++
	}
	for ; i < mid; i, k = i+1, k+1 {
		x[k] = math.Float64frombits(a[i])
	}
}

// scratch32Pool holds SortFloat32s' key buffers.
var scratch32Pool = sync.Pool{New: func() any { return new([]uint32) }}

// SortFloat32s is SortFloats for float32 values: the same order (−0
// before +0), on four-byte keys, so at most four passes over half the
// bytes. A training's sketch sorts its features' values so.
func SortFloat32s(x []float32) {
	if len(x) < radixMin {
		slices.Sort(x)
		return
	}
	if slices.IsSorted(x) {
		return
	}
	bk, bt := scratch32Pool.Get().(*[]uint32), scratch32Pool.Get().(*[]uint32)
	defer scratch32Pool.Put(bk)
	defer scratch32Pool.Put(bt)
	for _, b := range []*[]uint32{bk, bt} {
		if cap(*b) < len(x) {
			*b = make([]uint32, len(x))
		}
	}
	keys, tmp := (*bk)[:len(x)], (*bt)[:len(x)]
	var counts [4][256]int
	for i, v := range x {
		b := math.Float32bits(v)
		b ^= uint32(int32(b)>>31) | 1<<31
		keys[i] = b
		counts[0][byte(b)]++
		counts[1][byte(b>>8)]++
		counts[2][byte(b>>16)]++
		counts[3][byte(b>>24)]++
	}
	src := radixPasses(keys, tmp, counts[:])
	for i, k := range src {
		k ^= uint32(int32(^k)>>31) | 1<<31
		x[i] = math.Float32frombits(k)
	}
}
