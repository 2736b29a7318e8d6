package gbdt

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"

	"github.com/flint-engine/flint/ml/quantile"
)

// Sketch summarizes the feature values of some rows, so that the cut
// points of every feature can be chosen from all rows of all partitions:
// each partition sketches its rows, the sketches are merged (they travel
// as bytes, MarshalBinary) and the merged sketch gives the Cuts.
//
// Per feature it holds the smallest and largest value with how often each
// occurs, and, while there are at most max_bin+1 distinct values, those
// values with their counts (the cuts are then the distinct values); once
// there are more, an ml/quantile sketch (rank error ≤ 0.001·n) of every
// value instead. Most features of a training have few distinct values (a
// category, a count, a month): their values are counted in a small hash
// table, never sorted nor sketched. Values are rounded to
// float32 first, as XGBoost stores them; NaN is missing and not counted.
type Sketch struct {
	maxBin int
	feats  []featureSketch
	table  countTable // flush's scratch
}

type featureSketch struct {
	q          quantile.Sketch
	n          int64   // non-missing values
	min, max   float32 // valid when n > 0
	nmin, nmax int64   // how often min and max occur
	// distinct holds the sorted distinct values while there are at most
	// maxBin+1, counts how often each occurs, and q is empty; overflow
	// marks that there were more, and q then summarizes every value.
	distinct []float32
	counts   []int64
	overflow bool
	// pending holds values added but not yet folded into the above; they
	// are folded a buffer at a time (flush), sorted once, as float32 (half
	// the bytes to sort; they were float32 anyway).
	pending []float32
}

// widePool holds flush's float64 buffers for the quantile sketch.
var widePool = sync.Pool{New: func() any { return new([]float64) }}

// NewSketch returns an empty sketch of numFeatures features for cuts of at
// most maxBin bins per feature.
func NewSketch(numFeatures, maxBin int) (*Sketch, error) {
	if numFeatures < 1 {
		return nil, fmt.Errorf("gbdt: a model needs at least one feature, got %d", numFeatures)
	}
	if maxBin < 2 || maxBin > maxMaxBin {
		return nil, fmt.Errorf("gbdt: max_bin = %d: must be between 2 and %d", maxBin, maxMaxBin)
	}
	return &Sketch{maxBin: maxBin, feats: make([]featureSketch, numFeatures)}, nil
}

// NumFeatures is the number of features sketched.
func (s *Sketch) NumFeatures() int { return len(s.feats) }

// Add folds rows into the sketch: cols[j] holds feature j (NaN is
// missing). An infinite value, or one beyond float32's range, is an error.
func (s *Sketch) Add(cols [][]float64) error { return addColumns(s, cols) }

// AddFloat32 is Add for float32 columns (NaN is missing).
func (s *Sketch) AddFloat32(cols [][]float32) error { return addColumns(s, cols) }

func addColumns[T float32 | float64](s *Sketch, cols [][]T) error {
	if len(cols) != len(s.feats) {
		return fmt.Errorf("gbdt: sketch of %d features given %d columns", len(s.feats), len(cols))
	}
	for j, col := range cols {
		if len(col) != len(cols[0]) {
			return fmt.Errorf("gbdt: feature %d has %d rows, feature 0 has %d", j, len(col), len(cols[0]))
		}
		fs := &s.feats[j]
		for i, v := range col {
			x := float32(v)
			if x-x != 0 { // NaN (missing), ±Inf or beyond float32's range
				if _, _, err := toFloat32(float64(v)); err != nil {
					return fmt.Errorf("gbdt: feature %d, row %d: %w", j, i, err)
				}
				continue
			}
			if fs.pending == nil {
				fs.pending = make([]float32, 0, quantile.K)
			}
			fs.pending = append(fs.pending, x)
			if len(fs.pending) == quantile.K {
				fs.flush(s.maxBin, &s.table)
			}
		}
	}
	return nil
}

// flush folds every feature's pending values in and lets their buffers
// go: it comes before anything reads the sketch.
func (s *Sketch) flush() {
	for j := range s.feats {
		s.feats[j].flush(s.maxBin, &s.table)
		s.feats[j].pending = nil
	}
}

// toFloat32 rounds v as XGBoost does when it reads a value; ok is false
// for a missing value (NaN).
func toFloat32(v float64) (x float32, ok bool, err error) {
	if v != v {
		return 0, false, nil
	}
	x = float32(v)
	if math.IsInf(float64(x), 0) {
		return 0, false, fmt.Errorf("value %g is infinite or beyond float32's range", v)
	}
	return x, true, nil
}

func (fs *featureSketch) flush(maxBin int, t *countTable) {
	p := fs.pending
	if len(p) == 0 {
		return
	}
	fs.pending = p[:0]
	if !fs.overflow {
		if u, c, ok := t.count(p, maxBin+1); ok {
			fs.foldExtremes(int64(len(p)), u[0], u[len(u)-1], c[0], c[len(c)-1])
			fs.foldCounts(u, c, maxBin)
			return
		}
		fs.spill() // more than maxBin+1 distinct values in p alone
	}
	// Sorted, the values give their extremes in one pass, and the
	// quantile sketch's compaction finds them in order.
	quantile.SortFloat32s(p)
	lo, hi := p[0], p[len(p)-1]
	nlo, nhi := 0, 0
	for nlo < len(p) && p[nlo] == lo {
		nlo++
	}
	for nhi < len(p) && p[len(p)-1-nhi] == hi {
		nhi++
	}
	fs.foldExtremes(int64(len(p)), lo, hi, int64(nlo), int64(nhi))
	wp := widePool.Get().(*[]float64)
	w := (*wp)[:0]
	for _, v := range p {
		w = append(w, float64(v))
	}
	fs.q.AddMany(w)
	*wp = w
	widePool.Put(wp)
}

// foldCounts merges the sorted distinct values u, occurring c times each,
// into the feature's; when there are then more than maxBin+1, the feature
// overflows (spill).
func (fs *featureSketch) foldCounts(u []float32, c []int64, maxBin int) {
	if fs.overflow {
		return
	}
	var du []float32
	var dc []int64
	i, j := 0, 0
	for i < len(fs.distinct) || j < len(u) {
		switch {
		case j == len(u) || (i < len(fs.distinct) && fs.distinct[i] < u[j]):
			du, dc = append(du, fs.distinct[i]), append(dc, fs.counts[i])
			i++
		case i == len(fs.distinct) || u[j] < fs.distinct[i]:
			du, dc = append(du, u[j]), append(dc, c[j])
			j++
		default:
			du, dc = append(du, u[j]), append(dc, fs.counts[i]+c[j])
			i, j = i+1, j+1
		}
	}
	fs.distinct, fs.counts = du, dc
	if len(du) > maxBin+1 {
		fs.spill()
	}
}

// spill turns a feature of counted distinct values into one of too many:
// its values so far, each as often as it occurred, go into the quantile
// sketch, and the distinct values go.
func (fs *featureSketch) spill() {
	fs.overflow = true
	wp := widePool.Get().(*[]float64)
	w := (*wp)[:0]
	for k, v := range fs.distinct {
		for c := fs.counts[k]; c > 0; c-- {
			w = append(w, float64(v))
			if len(w) == quantile.K {
				fs.q.AddMany(w)
				w = w[:0]
			}
		}
	}
	fs.q.AddMany(w)
	*wp = w[:0]
	widePool.Put(wp)
	fs.distinct, fs.counts = nil, nil
}

// countTable counts the distinct values of a buffer (count): an
// open-addressing table on the values' bits, reused buffer after buffer.
type countTable struct {
	keys  []uint32
	cnt   []int64
	shift uint
	used  []int32 // slots in use, in order of first use
}

// count returns the distinct values of p, ascending (−0 as +0), and how
// often each occurs; ok is false when there are more than limit.
func (t *countTable) count(p []float32, limit int) (u []float32, c []int64, ok bool) {
	size := 1024
	for size < 4*limit {
		size *= 2
	}
	if len(t.keys) != size {
		t.keys, t.cnt = make([]uint32, size), make([]int64, size)
		t.shift = uint(32 - bits.TrailingZeros(uint(size)))
	}
	defer func() {
		for _, h := range t.used {
			t.cnt[h] = 0
		}
		t.used = t.used[:0]
	}()
	mask := uint32(size - 1)
	last, lastSlot := uint32(0), -1
	for _, x := range p {
		b := math.Float32bits(x + 0)
		if b == last && lastSlot >= 0 {
			t.cnt[lastSlot]++
			continue
		}
		h := (b * 0x9e3779b1) >> t.shift
		for t.cnt[h] != 0 && t.keys[h] != b {
			h = (h + 1) & mask
		}
		if t.cnt[h] == 0 {
			if len(t.used) == limit {
				return nil, nil, false
			}
			t.keys[h] = b
			t.used = append(t.used, int32(h))
		}
		t.cnt[h]++
		last, lastSlot = b, int(h)
	}
	slices.SortFunc(t.used, func(a, b int32) int {
		return cmp.Compare(math.Float32frombits(t.keys[a]), math.Float32frombits(t.keys[b]))
	})
	u, c = make([]float32, len(t.used)), make([]int64, len(t.used))
	for k, h := range t.used {
		u[k], c[k] = math.Float32frombits(t.keys[h]), t.cnt[h]
	}
	return u, c, true
}

// foldExtremes folds n more values, lo the smallest (nlo times) and hi
// the largest (nhi times), into the counts and extremes.
func (fs *featureSketch) foldExtremes(n int64, lo, hi float32, nlo, nhi int64) {
	if n == 0 {
		return
	}
	if fs.n == 0 {
		fs.min, fs.max, fs.nmin, fs.nmax = lo, hi, nlo, nhi
	} else {
		switch {
		case lo < fs.min:
			fs.min, fs.nmin = lo, nlo
		case lo == fs.min:
			fs.nmin += nlo
		}
		switch {
		case hi > fs.max:
			fs.max, fs.nmax = hi, nhi
		case hi == fs.max:
			fs.nmax += nhi
		}
	}
	fs.n += n
}

// Merge folds o into s; both must sketch the same number of features for
// the same max_bin.
func (s *Sketch) Merge(o *Sketch) error {
	if len(o.feats) != len(s.feats) || o.maxBin != s.maxBin {
		return fmt.Errorf("gbdt: cannot merge a sketch of %d features (max_bin %d) into one of %d features (max_bin %d)",
			len(o.feats), o.maxBin, len(s.feats), s.maxBin)
	}
	for j := range s.feats {
		s.mergeFeature(o, j)
	}
	return nil
}

// mergeFeature folds feature j of o into s's.
func (s *Sketch) mergeFeature(o *Sketch, j int) {
	a, b := &s.feats[j], &o.feats[j]
	var t countTable // features merge in parallel: a table of their own
	a.flush(s.maxBin, &t)
	b.flush(o.maxBin, &t)
	a.pending, b.pending = nil, nil
	if b.n == 0 {
		return
	}
	a.foldExtremes(b.n, b.min, b.max, b.nmin, b.nmax)
	switch {
	case !b.overflow:
		if a.overflow {
			// b's values, as often as they occurred, into a's sketch.
			bq := featureSketch{distinct: b.distinct, counts: b.counts}
			bq.spill()
			a.q.Merge(&bq.q)
		} else {
			a.foldCounts(b.distinct, b.counts, s.maxBin)
		}
	default:
		if !a.overflow {
			a.spill()
		}
		a.q.Merge(&b.q)
	}
}

const sketchMagic = 0xB6 // first byte of a marshaled Sketch (format version 2)

// MarshalBinary encodes the sketch: a magic byte, max_bin, the number of
// features, then per feature its counts, extremes, distinct values with
// how often each occurs (or none, the overflow mark) and quantile sketch,
// little-endian.
func (s *Sketch) MarshalBinary() ([]byte, error) {
	s.flush()
	b := []byte{sketchMagic}
	b = binary.LittleEndian.AppendUint32(b, uint32(s.maxBin))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s.feats)))
	for i := range s.feats {
		fs := &s.feats[i]
		b = binary.LittleEndian.AppendUint64(b, uint64(fs.n))
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(fs.min))
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(fs.max))
		b = binary.LittleEndian.AppendUint64(b, uint64(fs.nmin))
		b = binary.LittleEndian.AppendUint64(b, uint64(fs.nmax))
		nd := uint32(len(fs.distinct))
		if fs.overflow {
			nd = math.MaxUint32
		}
		b = binary.LittleEndian.AppendUint32(b, nd)
		for _, v := range fs.distinct {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		for _, c := range fs.counts {
			b = binary.LittleEndian.AppendUint64(b, uint64(c))
		}
		q := fs.q.AppendBinary(nil)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(q)))
		b = append(b, q...)
	}
	return b, nil
}

var errCorruptSketch = errors.New("gbdt: corrupt sketch encoding")

// UnmarshalBinary replaces s with the sketch encoded in b.
func (s *Sketch) UnmarshalBinary(b []byte) error {
	r := reader{b: b}
	if r.u8() != sketchMagic {
		return errCorruptSketch
	}
	maxBin := int(r.u32())
	nf := int(r.u32())
	if r.err || maxBin < 2 || maxBin > maxMaxBin || nf < 1 || nf > len(b) {
		return errCorruptSketch
	}
	feats := make([]featureSketch, nf)
	for i := range feats {
		fs := &feats[i]
		fs.n = int64(r.u64())
		fs.min = math.Float32frombits(r.u32())
		fs.max = math.Float32frombits(r.u32())
		fs.nmin, fs.nmax = int64(r.u64()), int64(r.u64())
		nd := r.u32()
		if nd == math.MaxUint32 {
			fs.overflow = true
		} else {
			if nd > uint32(maxBin+1) {
				return errCorruptSketch
			}
			for k := uint32(0); k < nd && !r.err; k++ {
				fs.distinct = append(fs.distinct, math.Float32frombits(r.u32()))
			}
			for k := uint32(0); k < nd && !r.err; k++ {
				fs.counts = append(fs.counts, int64(r.u64()))
			}
		}
		q := r.bytes(int(r.u32()))
		if r.err {
			return errCorruptSketch
		}
		if err := fs.q.UnmarshalBinary(q); err != nil {
			return fmt.Errorf("gbdt: sketch of feature %d: %w", i, err)
		}
		// Overflowed, the quantile sketch holds every value; else the
		// distinct values, strictly ascending, counted.
		ok := fs.n >= 0 && slices.IsSorted(fs.distinct) && len(slices.Compact(slices.Clone(fs.distinct))) == len(fs.distinct)
		if fs.overflow {
			ok = ok && fs.q.Count() == fs.n
		} else {
			sum := int64(0)
			for _, c := range fs.counts {
				ok = ok && c >= 1
				sum += c
			}
			ok = ok && fs.q.Count() == 0 && sum == fs.n
		}
		if fs.n > 0 {
			ok = ok && fs.min <= fs.max && fs.nmin >= 1 && fs.nmin <= fs.n && fs.nmax >= 1 && fs.nmax <= fs.n &&
				(fs.overflow || len(fs.distinct) >= 1)
		}
		if !ok {
			return errCorruptSketch
		}
	}
	if r.err || len(r.b) != 0 {
		return errCorruptSketch
	}
	s.maxBin, s.feats = maxBin, feats
	return nil
}

// Cuts are the bin boundaries of every feature, as XGBoost's
// HistogramCuts: a value v of feature f falls in bin i, the first with
// v < Values(f)[i] (std::upper_bound), clamped to the last bin; the last
// cut is above every value sketched. A split after bin i sends a row left
// when v < Values(f)[i], which is what XGBoost's predictor tests, so the
// cut value is the exported split condition.
type Cuts struct {
	values [][]float32 // per feature, ascending
	// minVals is XGBoost's min_vals: below every value sketched, the
	// condition of a split that sends every non-missing value right.
	minVals []float32
}

// Cuts chooses the cut points of every feature from the sketch, with the
// rule of XGBoost's SketchContainer::MakeCuts: when a feature has at most
// max_bin+1 distinct values, every distinct value but the smallest starts a
// bin; otherwise the cuts are the values at ranks begin + k·range/max_bin
// (k = 1 … max_bin−1, begin the count of the smallest value, range the
// count of the values strictly between the extremes), as WQSummary's
// SetPrune picks them from an exact summary. XGBoost's own summary is an
// approximate sketch (ε = 1/(8·max_bin)), so its cuts can sit a few ranks
// away from these.
func (s *Sketch) Cuts() *Cuts {
	s.flush()
	c := &Cuts{values: make([][]float32, len(s.feats)), minVals: make([]float32, len(s.feats))}
	eachPartition(len(s.feats), func(j int) {
		c.values[j], c.minVals[j] = s.feats[j].cuts(s.maxBin)
	})
	return c
}

func (fs *featureSketch) cuts(maxBin int) (cuts []float32, minVal float32) {
	const eps = float32(1e-5)
	if fs.n == 0 {
		// XGBoost's empty column: one bin.
		minVal = eps
		return []float32{minVal + (abs32(minVal) + eps)}, minVal
	}
	minVal = fs.min - abs32(fs.min) - eps
	// summary is what XGBoost's pruned summary holds: the smallest value,
	// the picked ones and the largest.
	var summary []float32
	if !fs.overflow {
		summary = fs.distinct
	} else {
		begin := float32(fs.nmin)
		rng := float32(fs.n - fs.nmin - fs.nmax)
		qs := make([]float64, 0, maxBin-1)
		for k := 1; k < maxBin; k++ {
			// XGBoost computes the rank in float32 (RType).
			d := float32(float32(float32(k)*rng)/float32(maxBin)) + begin
			r := math.Floor(float64(d)) + 1 // 1-based rank of the value holding d
			qs = append(qs, (r-0.5)/float64(fs.n))
		}
		summary = append(summary, fs.min)
		for _, v := range fs.q.Quantiles(qs) {
			x := float32(v)
			if x > summary[len(summary)-1] && x < fs.max {
				summary = append(summary, x)
			}
		}
		summary = append(summary, fs.max)
	}
	required := min(len(summary), maxBin)
	for i := 1; i < required; i++ {
		cuts = append(cuts, summary[i])
	}
	last := summary[len(summary)-1]
	cuts = append(cuts, last+(abs32(last)+eps))
	return cuts, minVal
}

func abs32(x float32) float32 { return float32(math.Abs(float64(x))) }

// NumFeatures is the number of features.
func (c *Cuts) NumFeatures() int { return len(c.values) }

// NumBins is the number of bins of feature f.
func (c *Cuts) NumBins(f int) int { return len(c.values[f]) }

// Values returns the cut values of feature f (not to be modified).
func (c *Cuts) Values(f int) []float32 { return c.values[f] }

// MinValue is XGBoost's min_vals of feature f.
func (c *Cuts) MinValue(f int) float32 { return c.minVals[f] }

// Bin returns the bin of value v of feature f, as XGBoost's SearchBin;
// ok is false when v is missing (NaN).
func (c *Cuts) Bin(f int, v float64) (bin int, ok bool) {
	if v != v {
		return 0, false
	}
	return searchBin(c.values[f], float32(v)), true
}

// orderKey maps x to an integer that orders as x does, −0 as +0: the
// searches below compare integers, which the compiler turns into
// conditional moves (a float comparison stays a branch, and a binary
// search's branches mispredict half the time).
func orderKey(x float32) uint32 {
	b := math.Float32bits(x + 0) // −0 + 0 = +0
	return b ^ (uint32(int32(b)>>31) | 1<<31)
}

// orderKeys returns the order keys of cuts.
func orderKeys(cuts []float32) []uint32 {
	keys := make([]uint32, len(cuts))
	for i, c := range cuts {
		keys[i] = orderKey(c)
	}
	return keys
}

// binIndex returns, for each 16-bit prefix p of an order key (sign,
// exponent and 7 bits of mantissa), how many of keys (ascending) are
// below p<<16: where a value's search starts.
func binIndex(keys []uint32) []uint16 {
	idx := make([]uint16, 1<<16)
	b := 0
	for p := range idx {
		for b < len(keys) && keys[b] < uint32(p)<<16 {
			b++
		}
		idx[p] = uint16(b)
	}
	return idx
}

// searchBins sets codes[i] to searchBin(cuts, float32(col[i])) for the
// rows of col, keys being cuts' order keys and index their binIndex, up
// to the first value that is missing or out of float32's range, and
// returns how many rows it did (the caller does that one). The index
// gives the bins below the value's 16-bit prefix; the cuts within that
// prefix (rarely more than one: it is 1/128 of a binade) are stepped over
// one by one. A binary search over the cuts took eight dependent loads.
func searchBins[T float32 | float64](keys []uint32, index []uint16, col []T, codes []uint16) int {
	n := len(keys)
	codes = codes[:len(col)]
	for i, v := range col {
		x := float32(v)
		if x-x != 0 { // NaN or ±Inf
			return i
		}
		k := orderKey(x)
		b := int(index[k>>16])
		for b < n && keys[b] <= k {
			b++
		}
		codes[i] = uint16(min(b, n-1))
	}
	return len(col)
}

// searchBin is SearchBin: the index of the first cut > x (upper_bound),
// clamped to the last bin. The search halves its range with a
// conditional move rather than a branch, which mispredicts half the time.
func searchBin(cuts []float32, x float32) int {
	base, n := 0, len(cuts)
	for n > 1 {
		half := n / 2
		if cuts[base+half-1] <= x {
			base += half
		}
		n -= half
	}
	// cuts[:base] are ≤ x; cuts[base] decides the last one.
	if cuts[base] <= x {
		base++
	}
	return min(base, len(cuts)-1)
}

// maxBins is the largest number of bins of any feature.
func (c *Cuts) maxBins() int {
	m := 0
	for _, v := range c.values {
		m = max(m, len(v))
	}
	return m
}

// sameAs reports whether c and o are the same cuts.
func (c *Cuts) sameAs(o *Cuts) bool {
	if c == o {
		return true
	}
	if len(c.values) != len(o.values) {
		return false
	}
	for j := range c.values {
		if c.minVals[j] != o.minVals[j] || !slices.Equal(c.values[j], o.values[j]) {
			return false
		}
	}
	return true
}

const cutsMagic = 0xB6

// MarshalBinary encodes the cuts, so that executors can bin their
// partitions with the cuts the driver chose.
func (c *Cuts) MarshalBinary() ([]byte, error) {
	b := []byte{cutsMagic}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(c.values)))
	for j, v := range c.values {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(c.minVals[j]))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
		for _, x := range v {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
	}
	return b, nil
}

// UnmarshalBinary replaces c with the cuts encoded in b.
func (c *Cuts) UnmarshalBinary(b []byte) error {
	bad := errors.New("gbdt: corrupt cuts encoding")
	r := reader{b: b}
	if r.u8() != cutsMagic {
		return bad
	}
	nf := int(r.u32())
	if r.err || nf < 1 || nf > len(b) {
		return bad
	}
	values, minVals := make([][]float32, nf), make([]float32, nf)
	for j := range values {
		minVals[j] = math.Float32frombits(r.u32())
		nb := int(r.u32())
		if r.err || nb < 1 || nb > maxMaxBin || nb > len(r.b)/4 {
			return bad
		}
		v := make([]float32, nb)
		for i := range v {
			v[i] = math.Float32frombits(r.u32())
			if v[i] != v[i] || (i > 0 && !(v[i] > v[i-1])) {
				return bad
			}
		}
		values[j] = v
	}
	if r.err || len(r.b) != 0 {
		return bad
	}
	c.values, c.minVals = values, minVals
	return nil
}

// reader decodes little-endian values, recording a short read in err.
type reader struct {
	b   []byte
	err bool
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.err = true
		r.b = nil
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u8() byte {
	if b := r.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u32() uint32 {
	if b := r.bytes(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if b := r.bytes(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}
