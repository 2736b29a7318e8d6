// Package quantile holds Flint's mergeable quantile sketch: the state of
// the approximate-quantile aggregate behind ml.imputer(x, 'median') and
// ml.quantile_bucketize. Each task folds its rows into a sketch, the
// sketches travel between stages as bytes (Marshal/Unmarshal) and are
// merged, and the merged sketch answers quantile queries.
//
// The sketch is a deterministic compactor hierarchy (the MRL/KLL family):
// level h holds values of weight 2^h; when a level reaches K values it is
// sorted and every other value (alternating the starting offset from one
// compaction to the next) moves up one level with twice the weight. Until
// a sketch has seen K values it holds them all and is exact.
//
// Error bound: one compaction of weight w moves the rank of any value by
// at most w, and a level of weight 2^h compacts at most N/((K-1)·2^h)
// times, so with H levels the rank error is at most H·N/(K-1). With
// K = 32768 that is below 0.001·N for every N up to 2^31·(K-1) ≈ 7·10^13
// values (H ≤ 32), which is the relative rank error Flint promises.
package quantile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// K is the capacity of a level: the sketch is exact up to K values.
const K = 1 << 15

// Sketch is a mergeable quantile summary of float64 values. The zero value
// is an empty sketch. NaN values are not added (callers skip them).
type Sketch struct {
	n      int64       // values added (the total weight)
	levels [][]float64 // level h: values of weight 2^h (level 0 unsorted)
	odd    uint64      // bit h: the next compaction of level h keeps odd positions
}

// Count is the number of values the sketch summarizes.
func (s *Sketch) Count() int64 { return s.n }

// Add folds x into the sketch. NaN is ignored.
func (s *Sketch) Add(x float64) {
	if math.IsNaN(x) {
		return
	}
	if len(s.levels) == 0 {
		s.levels = append(s.levels, nil)
	}
	s.levels[0] = append(s.levels[0], x)
	s.n++
	if len(s.levels[0]) >= K {
		s.compact(0)
	}
}

// AddMany adds every value of xs, as Add does one at a time (NaN is
// ignored), into a level 0 allocated at its full size once.
func (s *Sketch) AddMany(xs []float64) {
	for _, x := range xs {
		if x != x {
			continue
		}
		if len(s.levels) == 0 {
			s.levels = append(s.levels, make([]float64, 0, K))
		}
		s.levels[0] = append(s.levels[0], x)
		s.n++
		if len(s.levels[0]) >= K {
			s.compact(0)
		}
	}
}

// AddMeasured is Add that also returns by how much Bytes grew (cheap:
// Bytes is recomputed only when the add reallocates or compacts).
func (s *Sketch) AddMeasured(x float64) int64 {
	if len(s.levels) > 0 && len(s.levels[0]) < cap(s.levels[0]) && len(s.levels[0])+1 < K {
		s.Add(x)
		return 0
	}
	before := s.Bytes()
	s.Add(x)
	return s.Bytes() - before
}

// Merge folds o into s (o is left unchanged).
func (s *Sketch) Merge(o *Sketch) {
	if o == nil || o.n == 0 {
		return
	}
	for len(s.levels) < len(o.levels) {
		s.levels = append(s.levels, nil)
	}
	for h, l := range o.levels {
		s.levels[h] = append(s.levels[h], l...)
	}
	s.n += o.n
	for h := 0; h < len(s.levels); h++ {
		if len(s.levels[h]) >= K {
			s.compact(h)
		}
	}
}

// compact sorts level h and moves every other value up one level, keeping
// one value back when the level has an odd length so that the total
// weight stays exactly n.
func (s *Sketch) compact(h int) {
	l := s.levels[h]
	SortFloats(l)
	var keep []float64
	if len(l)%2 == 1 {
		keep = append(keep, l[len(l)-1])
		l = l[:len(l)-1]
	}
	if h+1 == len(s.levels) {
		s.levels = append(s.levels, nil)
	}
	off := 0
	if s.odd&(1<<uint(h%64)) != 0 {
		off = 1
	}
	s.odd ^= 1 << uint(h%64)
	up := s.levels[h+1]
	for i := off; i < len(l); i += 2 {
		up = append(up, l[i])
	}
	s.levels[h+1] = up
	s.levels[h] = append(l[:0], keep...)
	if len(up) >= K {
		s.compact(h + 1)
	}
}

type weighted struct {
	v float64
	w int64
}

// sorted returns the sketch's values with their weights, in ascending order.
func (s *Sketch) sorted() []weighted {
	var out []weighted
	for h, l := range s.levels {
		w := int64(1) << uint(h)
		for _, v := range l {
			out = append(out, weighted{v, w})
		}
	}
	slices.SortFunc(out, func(a, b weighted) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	return out
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) as the inverse of the
// empirical distribution: the smallest value v with at least
// max(1, ceil(q·n)) values ≤ v — a value of the input, exact while the
// sketch holds fewer than K values. ok is false for an empty sketch.
func (s *Sketch) Quantile(q float64) (v float64, ok bool) {
	out := s.Quantiles([]float64{q})
	if out == nil {
		return 0, false
	}
	return out[0], true
}

// Quantiles answers Quantile for every q of qs (ascending or not) with one
// pass over the sketch; nil for an empty sketch.
func (s *Sketch) Quantiles(qs []float64) []float64 {
	if s.n == 0 {
		return nil
	}
	ranks := make([]int64, len(qs))
	for i, q := range qs {
		ranks[i] = int64(math.Ceil(q * float64(s.n)))
	}
	return s.atRanks(ranks)
}

// atRanks returns, for each rank r (1-based, clamped to [1, n]), the
// smallest value whose cumulative weight reaches r.
func (s *Sketch) atRanks(ranks []int64) []float64 {
	vals := s.sorted()
	cum := make([]int64, len(vals))
	var c int64
	for i, v := range vals {
		c += v.w
		cum[i] = c
	}
	out := make([]float64, len(ranks))
	for i, r := range ranks {
		r = max(1, min(r, s.n))
		j, _ := slices.BinarySearch(cum, r) // first cumulative weight ≥ r
		out[i] = vals[min(j, len(vals)-1)].v
	}
	return out
}

// Splits returns the distinct quantiles at 1/n, 2/n, …, (n−1)/n in
// ascending order — the values at ranks ceil(i·count/n), computed in
// integers so that no rounding moves a boundary: the bucket boundaries of
// n equal-frequency buckets (Spark's QuantileDiscretizer drops repeated
// boundaries the same way). Empty for an empty sketch or n < 2.
func (s *Sketch) Splits(n int) []float64 {
	if n < 2 || s.n == 0 {
		return []float64{}
	}
	ranks := make([]int64, n-1)
	for i := range ranks {
		// ceil((i+1)·count / n) without overflow for any count ≤ 2^62/n.
		num := int64(i+1) * s.n
		ranks[i] = (num + int64(n) - 1) / int64(n)
	}
	vals := s.atRanks(ranks)
	out := vals[:0]
	for i, v := range vals {
		if i == 0 || v != out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}

// Bytes estimates the memory the sketch holds.
func (s *Sketch) Bytes() int64 {
	var b int64 = 64
	for _, l := range s.levels {
		b += int64(cap(l))*8 + 24
	}
	return b
}

const magic = 0xF1 // first byte of a marshaled sketch (format version 1)

// MarshalBinary encodes the sketch: a magic byte, K, the count, the
// compaction parities, the number of levels, then each level's length and
// values, little-endian.
func (s *Sketch) MarshalBinary() ([]byte, error) { return s.AppendBinary(nil), nil }

// AppendBinary appends the encoding of MarshalBinary to b.
func (s *Sketch) AppendBinary(b []byte) []byte {
	b = append(b, magic)
	b = binary.LittleEndian.AppendUint32(b, K)
	b = binary.LittleEndian.AppendUint64(b, uint64(s.n))
	b = binary.LittleEndian.AppendUint64(b, s.odd)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s.levels)))
	for _, l := range s.levels {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(l)))
		for _, v := range l {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	return b
}

var errCorrupt = errors.New("quantile sketch: corrupt encoding")

// UnmarshalBinary replaces s with the sketch encoded in b, checking that
// the encoding is whole and consistent (weights summing to the count).
func (s *Sketch) UnmarshalBinary(b []byte) error {
	*s = Sketch{}
	if len(b) < 25 || b[0] != magic {
		return errCorrupt
	}
	if k := binary.LittleEndian.Uint32(b[1:]); k != K {
		return fmt.Errorf("quantile sketch: level capacity %d, this build uses %d", k, K)
	}
	n := int64(binary.LittleEndian.Uint64(b[5:]))
	odd := binary.LittleEndian.Uint64(b[13:])
	nl := int(binary.LittleEndian.Uint32(b[21:]))
	b = b[25:]
	if n < 0 || nl > 62 {
		return errCorrupt
	}
	levels := make([][]float64, nl)
	var total int64
	for h := range levels {
		if len(b) < 4 {
			return errCorrupt
		}
		m := int(binary.LittleEndian.Uint32(b))
		b = b[4:]
		if m > len(b)/8 {
			return errCorrupt
		}
		l := make([]float64, m)
		for i := range l {
			l[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
			if math.IsNaN(l[i]) {
				return errCorrupt
			}
		}
		b = b[8*m:]
		levels[h] = l
		total += int64(m) << uint(h)
	}
	if len(b) != 0 || total != n {
		return errCorrupt
	}
	s.n, s.odd, s.levels = n, odd, levels
	return nil
}
