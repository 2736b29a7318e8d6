package gbdt

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

func cutsOf(t *testing.T, maxBin int, cols ...[]float64) *Cuts {
	t.Helper()
	sk, err := NewSketch(len(cols), maxBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := sk.Add(cols); err != nil {
		t.Fatal(err)
	}
	return sk.Cuts()
}

// TestCutsFewValues: with at most max_bin+1 distinct values, every
// distinct value but the smallest starts a bin (XGBoost copies such a
// summary whole), and the last cut is max + |max| + 1e-5.
func TestCutsFewValues(t *testing.T) {
	nan := math.NaN()
	c := cutsOf(t, 4, []float64{3, 1, 2, 2, nan, 3, -1}, []float64{nan, nan, nan, nan, nan, nan, nan})
	if got, want := c.Values(0), []float32{1, 2, 3, 6.00001}; !slices.Equal(got, want) {
		t.Errorf("cuts %v, want %v", got, want)
	}
	if got, want := c.MinValue(0), float32(-1-1-1e-5); got != want {
		t.Errorf("min value %v, want %v", got, want)
	}
	// An empty column has XGBoost's single bin.
	if got := c.Values(1); len(got) != 1 || got[0] != float32(3e-5) {
		t.Errorf("empty column's cuts %v, want [3e-05]", got)
	}
	// A value equal to a cut starts that cut's bin (upper_bound); beyond
	// the last cut is the last bin; NaN is missing.
	for _, tc := range []struct {
		v   float64
		bin int
		ok  bool
	}{{-1, 0, true}, {0.5, 0, true}, {1, 1, true}, {1.5, 1, true}, {2, 2, true}, {3, 3, true}, {100, 3, true}, {nan, 0, false}} {
		if bin, ok := c.Bin(0, tc.v); bin != tc.bin || ok != tc.ok {
			t.Errorf("Bin(%v) = %d, %v; want %d, %v", tc.v, bin, ok, tc.bin, tc.ok)
		}
	}
	// max_bin+1 distinct values: the largest shares the last bin.
	c = cutsOf(t, 3, []float64{1, 2, 3, 4})
	if got, want := c.Values(0), []float32{2, 3, 8.00001}; !slices.Equal(got, want) {
		t.Errorf("4 values, max_bin 3: cuts %v, want %v", got, want)
	}
}

// TestCutsManyValues checks the rank rule on exact data: cut k is the
// value at rank ⌊begin + k·range/max_bin⌋ + 1.
func TestCutsManyValues(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	n, maxBin := 5000, 32
	col := make([]float64, n)
	for i := range col {
		col[i] = math.Round(r.NormFloat64()*1000) / 100
	}
	col[0], col[1] = -100, -100 // two at the minimum
	c := cutsOf(t, maxBin, col)
	want := exactCuts(col, maxBin)
	if got := c.Values(0); !slices.Equal(got, want) {
		t.Errorf("cuts\n%v\nwant\n%v", got, want)
	}
	// Sketching in partitions and merging gives the same cuts.
	sk, _ := NewSketch(1, maxBin)
	for p := 0; p < 3; p++ {
		part, _ := NewSketch(1, maxBin)
		if err := part.Add([][]float64{col[p*n/3 : (p+1)*n/3]}); err != nil {
			t.Fatal(err)
		}
		b, _ := part.MarshalBinary()
		var back Sketch
		if err := back.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if err := sk.Merge(&back); err != nil {
			t.Fatal(err)
		}
	}
	if got := sk.Cuts().Values(0); !slices.Equal(got, want) {
		t.Errorf("merged partitions' cuts\n%v\nwant\n%v", got, want)
	}
}

// exactCuts is the rank rule on all of col (more than maxBin+1 distinct
// values, fewer than quantile.K, so that the sketch is exact).
func exactCuts(col []float64, maxBin int) []float32 {
	n := len(col)
	sorted := make([]float32, n)
	for i, v := range col {
		sorted[i] = float32(v)
	}
	slices.Sort(sorted)
	nmin := 0
	for nmin < n && sorted[nmin] == sorted[0] {
		nmin++
	}
	nmax := 0
	for nmax < n && sorted[n-1-nmax] == sorted[n-1] {
		nmax++
	}
	var want []float32
	begin, rng := float32(nmin), float32(n-nmin-nmax)
	for k := 1; k < maxBin; k++ {
		d := float32(float32(float32(k)*rng)/float32(maxBin)) + begin
		v := sorted[int(d)]
		if len(want) == 0 || v > want[len(want)-1] {
			want = append(want, v)
		}
	}
	if len(want) < maxBin-1 {
		want = append(want, sorted[n-1])
	}
	return append(want, sorted[n-1]+(sorted[n-1]+1e-5))
}

// TestCutsCountedThenSpilled: a feature's values are counted while they
// have at most max_bin+1 distinct values, and go into the quantile sketch
// when a later buffer, or a merged partition, brings more; the cuts are
// the rank rule's on all the values whichever way they arrived.
func TestCutsCountedThenSpilled(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const maxBin = 32
	part := func(n, lo, k int) []float64 {
		col := make([]float64, n)
		for i := range col {
			col[i] = float64(lo + r.IntN(k))
		}
		return col
	}
	// 20 values, 20 more (30 in all: still counted), then 30 more.
	parts := [][]float64{part(3000, 0, 20), part(3000, 10, 20), part(2000, 30, 30)}
	all := slices.Concat(parts...)
	want := exactCuts(all, maxBin)
	sketch := func(col []float64) *Sketch {
		sk, _ := NewSketch(1, maxBin)
		if err := sk.Add([][]float64{col}); err != nil {
			t.Fatal(err)
		}
		b, _ := sk.MarshalBinary()
		var back Sketch
		if err := back.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		return &back
	}
	for _, order := range [][]int{{0, 1, 2}, {2, 0, 1}, {0, 2, 1}, {1, 0, 2}} {
		sk := sketch(parts[order[0]])
		for k, p := range order[1:] {
			if err := sk.Merge(sketch(parts[p])); err != nil {
				t.Fatal(err)
			}
			if merged := order[:k+2]; !slices.Contains(merged, 2) && sk.feats[0].overflow {
				t.Fatalf("partitions %v: 30 distinct values overflowed", merged)
			}
		}
		if fs := &sk.feats[0]; !fs.overflow || fs.q.Count() != int64(len(all)) {
			t.Fatalf("partitions in order %v: overflow %v, %d values in the quantile sketch, want %d", order, fs.overflow, fs.q.Count(), len(all))
		}
		if got := sk.Cuts().Values(0); !slices.Equal(got, want) {
			t.Errorf("partitions in order %v: cuts\n%v\nwant\n%v", order, got, want)
		}
	}
	// In one sketch: the first values counted (a flush), then the rest.
	sk, _ := NewSketch(1, maxBin)
	for _, col := range parts {
		if err := sk.Add([][]float64{col}); err != nil {
			t.Fatal(err)
		}
		sk.flush()
	}
	if fs := &sk.feats[0]; fs.q.Count() != int64(len(all)) {
		t.Fatalf("one sketch: %d values in the quantile sketch, want %d", fs.q.Count(), len(all))
	}
	if got := sk.Cuts().Values(0); !slices.Equal(got, want) {
		t.Errorf("one sketch: cuts\n%v\nwant\n%v", got, want)
	}
}

func TestCutsBinary(t *testing.T) {
	d := syntheticData(3000, 5, 1)
	sk, _ := NewSketch(5, 40)
	if err := sk.Add(d.Features); err != nil {
		t.Fatal(err)
	}
	b, _ := sk.MarshalBinary()
	var back Sketch
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	c := sk.Cuts()
	if !back.Cuts().sameAs(c) {
		t.Error("sketch round trip changed the cuts")
	}
	cb, _ := c.MarshalBinary()
	var cback Cuts
	if err := cback.UnmarshalBinary(cb); err != nil || !cback.sameAs(c) {
		t.Errorf("cuts round trip: %v", err)
	}
	for n := 0; n < len(b); n += len(b)/97 + 1 {
		if err := back.UnmarshalBinary(b[:n]); err == nil {
			t.Fatalf("sketch truncated to %d bytes: no error", n)
		}
	}
	for n := 0; n < len(cb); n++ {
		if err := cback.UnmarshalBinary(cb[:n]); err == nil {
			t.Fatalf("cuts truncated to %d bytes: no error", n)
		}
	}
	other, _ := NewSketch(5, 41)
	if err := sk.Merge(other); err == nil {
		t.Error("merge of sketches for different max_bin: no error")
	}
}

func TestBadData(t *testing.T) {
	cuts := cutsOf(t, 8, []float64{1, 2, 3}, []float64{4, 5, 6})
	inf := math.Inf(1)
	for _, tc := range []struct {
		d    Data
		want string
	}{
		{Data{Features: [][]float64{{1}}, Label: []float64{1}}, "1 feature columns, the model has 2"},
		{Data{Features: [][]float64{{1, 2}, {1}}, Label: []float64{1, 2}}, "feature 1 has 1 rows, the labels 2"},
		{Data{Features: [][]float64{{1, inf}, {1, 2}}, Label: []float64{1, 2}}, "feature 0, row 1: value +Inf is infinite"},
		{Data{Features: [][]float64{{1, 2}, {1, 1e300}}, Label: []float64{1, 2}}, "feature 1, row 1: value 1e+300 is infinite or beyond float32's range"},
		{Data{Features: [][]float64{{1, 2}, {1, 2}}, Label: []float64{1, math.NaN()}}, "row 1: label NaN is missing"},
		{Data{Features: [][]float64{{1, 2}, {1, 2}}, Label: []float64{1, 2}, Weight: []float64{1}}, "1 weights for 2 rows"},
		{Data{Features: [][]float64{{1, 2}, {1, 2}}, Label: []float64{1, 2}, Weight: []float64{1, -1}}, "row 1: weight -1 must be a finite number ≥ 0"},
	} {
		_, err := NewShard(cuts, tc.d)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewShard: error %v, want one saying %q", err, tc.want)
		}
	}
	_, _, err := Prepare(16, []Data{{Features: [][]float64{{1}}, Label: []float64{0}}, {Features: [][]float64{{1}, {2}}, Label: []float64{0}}})
	if err == nil || !strings.Contains(err.Error(), "gbdt: partition 1: 2 feature columns, the model has 1") {
		t.Errorf("Prepare: error %v", err)
	}
	if _, err := NewSketch(0, 256); err == nil {
		t.Error("NewSketch of no features: no error")
	}
	if _, err := NewSketch(3, 1); err == nil {
		t.Error("NewSketch with max_bin 1: no error")
	}
}

func TestSearchBin(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 3))
	for n := 1; n < 300; n++ {
		cuts := make([]float32, n)
		for i := range cuts {
			cuts[i] = float32(i) * 0.5
		}
		for k := 0; k < 50; k++ {
			x := float32(r.Float64()*float64(n)*0.6 - 1)
			if k%5 == 0 {
				x = cuts[r.IntN(n)]
			}
			want := min(sort.Search(n, func(i int) bool { return cuts[i] > x }), n-1)
			if got := searchBin(cuts, x); got != want {
				t.Fatalf("%d cuts, x %v: bin %d, want %d", n, x, got, want)
			}
		}
	}
}

// TestSearchBins: the four-at-a-time search agrees with searchBin, and
// stops at the first group of four holding a missing or infinite value.
func TestSearchBins(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 5))
	for n := 1; n < 300; n += 7 {
		cuts := make([]float32, n)
		for i := range cuts {
			cuts[i] = float32(i) * 0.5
		}
		cuts[0] = -1
		if n > 1 {
			cuts[1] = float32(math.Copysign(0, -1))
		}
		if n > 100 {
			// Dense cuts: many share a 16-bit key prefix.
			for i := 50; i < n; i++ {
				cuts[i] = 30 + float32(i)*0.01
			}
		}
		col := make([]float64, 103)
		for i := range col {
			col[i] = r.Float64()*float64(n)*0.6 - 1
			switch i % 5 {
			case 0:
				col[i] = float64(cuts[r.IntN(n)])
			case 1:
				col[i] = math.Copysign(0, -1)
			case 2:
				col[i] = -col[i] * 1e3
			}
		}
		codes := make([]uint16, len(col))
		keys := orderKeys(cuts)
		if done := searchBins(keys, binIndex(keys), col, codes); done != len(col) {
			t.Fatalf("%d cuts: %d rows done, want %d", n, done, len(col))
		}
		for i := range col {
			if want := searchBin(cuts, float32(col[i])); int(codes[i]) != want {
				t.Fatalf("%d cuts, x %v: bin %d, want %d", n, col[i], codes[i], want)
			}
		}
		for _, bad := range []float64{math.NaN(), math.Inf(-1), 1e300} {
			col[41] = bad
			if done := searchBins(keys, binIndex(keys), col, codes); done != 41 {
				t.Fatalf("%v at row 41: %d rows done, want 41", bad, done)
			}
		}
	}
}
