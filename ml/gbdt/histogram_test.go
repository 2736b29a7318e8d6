package gbdt

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// testCuts returns cuts of features with the given numbers of bins.
func testCuts(bins ...int) *Cuts {
	c := &Cuts{}
	for _, n := range bins {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(i + 1)
		}
		c.values = append(c.values, v)
		c.minVals = append(c.minVals, -1)
	}
	return c
}

func randomHistogram(c *Cuts, r *rand.Rand, density float64) *Histogram {
	h := NewHistogram(c)
	for f := 0; f < c.NumFeatures(); f++ {
		for b := 0; b <= c.NumBins(f); b++ {
			if r.Float64() < density {
				h.AddBin(f, b, r.NormFloat64(), r.Float64())
			}
		}
	}
	return h
}

func TestHistogramAddSubMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	c := testCuts(3, 256, 1, 17)
	parts := []*Histogram{randomHistogram(c, r, 1), randomHistogram(c, r, 0.3), randomHistogram(c, r, 0)}
	sum, err := Merge(parts)
	if err != nil {
		t.Fatal(err)
	}
	for f := 0; f < c.NumFeatures(); f++ {
		for b := 0; b <= c.NumBins(f); b++ {
			var wg, wh float64
			for _, p := range parts {
				g, h := p.Bin(f, b)
				wg, wh = wg+g, wh+h
			}
			if g, h := sum.Bin(f, b); g != wg || h != wh {
				t.Fatalf("feature %d bin %d: merged (%v, %v), want (%v, %v)", f, b, g, h, wg, wh)
			}
		}
	}
	// parent − left = right, as the trainer derives a sibling.
	left, right := randomHistogram(c, r, 0.5), randomHistogram(c, r, 0.5)
	parent := left.Clone()
	if err := parent.Add(right); err != nil {
		t.Fatal(err)
	}
	if err := parent.Sub(left); err != nil {
		t.Fatal(err)
	}
	for i, v := range parent.sums {
		if math.Abs(v-right.sums[i]) > 1e-12 {
			t.Fatalf("slot %d: (left+right)−left = %v, right %v", i/2, v, right.sums[i])
		}
	}
	// Missing is the slot after the bins; Total adds feature 0's slots.
	h := NewHistogram(c)
	h.AddBin(0, 1, 1, 2)
	h.AddBin(0, 3, 4, 8) // feature 0 has 3 bins: slot 3 is missing
	if g, hs := h.Missing(0); g != 4 || hs != 8 {
		t.Errorf("Missing(0) = (%v, %v), want (4, 8)", g, hs)
	}
	if g, hs := h.Total(); g != 5 || hs != 10 {
		t.Errorf("Total() = (%v, %v), want (5, 10)", g, hs)
	}
	if err := h.Add(NewHistogram(testCuts(3, 256, 2, 17))); err == nil {
		t.Error("Add of histograms of different bins: no error")
	}
	if _, err := Merge(nil); err == nil {
		t.Error("Merge of nothing: no error")
	}
}

func TestHistogramBinary(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	c := testCuts(5, 256, 300, 1)
	for _, density := range []float64{0, 0.05, 1} {
		h := randomHistogram(c, r, density)
		h.AddBin(1, 7, math.Copysign(0, -1), 0) // −0 survives
		b, err := h.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var back Histogram
		if err := back.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(back.layout, h.layout) {
			t.Fatalf("layout %v, want %v", back.layout, h.layout)
		}
		for i := range h.sums {
			if math.Float64bits(back.sums[i]) != math.Float64bits(h.sums[i]) {
				t.Fatalf("density %v slot %d: %v after a round trip, was %v", density, i/2, back.sums[i], h.sums[i])
			}
		}
		full := 16 * len(h.sums) / 2
		t.Logf("density %.2f: %d bytes (%d as raw float64s)", density, len(b), full)
		if density < 0.1 && len(b) > full/4 {
			t.Errorf("density %v: %d bytes, not compact", density, len(b))
		}
		// Every truncation and a trailing byte are errors, never a panic.
		for n := 0; n < len(b); n++ {
			if err := back.UnmarshalBinary(b[:n]); err == nil {
				t.Fatalf("truncated to %d of %d bytes: no error", n, len(b))
			}
		}
		if err := back.UnmarshalBinary(append(slices.Clone(b), 0)); err == nil {
			t.Fatal("trailing byte: no error")
		}
	}
}

// TestSubtractionMatchesBuild grows a node's histogram both ways, from
// the rows and as parent minus sibling, on a shard, and checks both
// against sums computed row by row: with byte codes, and with uint16 codes
// (256 bins and missing values, or more than 256 bins).
func TestSubtractionMatchesBuild(t *testing.T) {
	for _, maxBin := range []int{64, 256, 300} {
		testSubtraction(t, maxBin)
	}
}

func testSubtraction(t *testing.T, maxBin int) {
	d := syntheticData(3000, 4, 7)
	shards, cuts, err := Prepare(maxBin, []Data{d})
	if err != nil {
		t.Fatal(err)
	}
	s := shards[0]
	if (maxBin == 64) != (s.u8 != nil) {
		t.Fatalf("max_bin %d: byte codes %v", maxBin, s.u8 != nil)
	}
	st := s.begin(0, 1, 0.5, nil)
	s.gradients(st, newObjective(&Params{Objective: SquaredError}))
	s.startTree(st, 0, 0, 0, 1)
	layout := newLayout(cuts)
	var bufs []*Histogram
	hs := zeroed(&bufs, layout, 1)
	s.buildHistograms(st, []int32{0}, hs, 0, cuts.NumFeatures())
	parent := hs[0].Clone()
	s.applySplits(st, []split{{node: 0, left: 1, right: 2, feature: 1, bin: 20, defaultLeft: true}})
	hs = zeroed(&bufs, layout, 2)
	s.buildHistograms(st, []int32{1, 2}, hs, 0, 2)
	s.buildHistograms(st, []int32{1, 2}, hs, 2, cuts.NumFeatures())
	if err := parent.Sub(hs[0]); err != nil {
		t.Fatal(err)
	}
	for i, v := range parent.sums {
		if math.Abs(v-hs[1].sums[i]) > 1e-9 {
			t.Fatalf("slot %d: parent − left = %v, right built from rows %v", i/2, v, hs[1].sums[i])
		}
	}
	// The split sent every row missing feature 1 left.
	if g, h := hs[1].Missing(1); g != 0 || h != 0 {
		t.Errorf("right child has rows missing the split feature: (%v, %v)", g, h)
	}
	if _, h := hs[0].Missing(1); h == 0 {
		t.Error("left child has no row missing the split feature")
	}
	// Row by row.
	want := []*Histogram{NewHistogram(cuts), NewHistogram(cuts)}
	for i := 0; i < s.n; i++ {
		g, h := float64(st.gp[2*i]), float64(st.gp[2*i+1])
		b1, ok1 := s.bin(1, i)
		child := 1
		if !ok1 || b1 <= 20 {
			child = 0
		}
		for f := 0; f < cuts.NumFeatures(); f++ {
			b, ok := s.bin(f, i)
			if !ok {
				b = cuts.NumBins(f)
			}
			if bb, _ := cuts.Bin(f, d.Features[f][i]); ok && bb != b {
				t.Fatalf("row %d feature %d: code %d, bin %d", i, f, b, bb)
			}
			want[child].AddBin(f, b, g, h)
		}
	}
	for c := range want {
		for k, v := range want[c].sums {
			if math.Abs(v-hs[c].sums[k]) > 1e-9 {
				t.Fatalf("max_bin %d child %d slot %d: built %v, row by row %v", maxBin, c, k/2, hs[c].sums[k], v)
			}
		}
	}
}

// TestHistRowsExact: histRows (in assembly where there is some) adds the
// same pairs in the same order as a plain loop, so its sums are equal bit
// for bit, with byte and 16-bit codes, over a node's scattered rows.
func TestHistRowsExact(t *testing.T) {
	testHistRowsExact[uint8](t, 256)
	testHistRowsExact[uint16](t, 1000)
}

func testHistRowsExact[B uint8 | uint16](t *testing.T, bins int) {
	r := rand.New(rand.NewPCG(9, uint64(bins)))
	const n, nf = 5000, 9
	layout := make([]int32, nf+1)
	for f := range nf {
		layout[f+1] = layout[f] + int32(bins)
	}
	cols := make([][]B, nf)
	for f := range cols {
		cols[f] = make([]B, n)
		for i := range cols[f] {
			// Few distinct codes in some features: runs of the same slot.
			cols[f][i] = B(r.IntN(bins >> (f % 3 * 3)))
			if f%4 == 1 && r.IntN(20) > 0 {
				cols[f][i] = 3 // a dominant value
			}
		}
	}
	// Features 1 and 5 are runny (their passes keep the slot in a
	// register), 2 too though its codes do not run.
	runny := make([]bool, nf)
	runny[1], runny[2], runny[5] = true, true, true
	gp := make([]float32, 2*n)
	for i := range gp {
		gp[i] = float32(r.NormFloat64())
	}
	var rows []uint32
	for i := range n {
		if r.IntN(3) > 0 {
			rows = append(rows, uint32(i))
		}
	}
	for _, c := range []struct {
		span  [2]int
		runny []bool
	}{{[2]int{0, nf}, nil}, {[2]int{1, 8}, nil}, {[2]int{0, 4}, nil}, {[2]int{5, 9}, nil}, {[2]int{0, 6}, nil},
		{[2]int{0, nf}, runny}, {[2]int{1, 3}, runny}, {[2]int{2, 7}, runny}} {
		span := c.span
		got := newHistogram(layout)
		histRows(got, cols, span[0], span[1], c.runny, rows, gp)
		want := newHistogram(layout)
		for f := span[0]; f < span[1]; f++ {
			for _, i := range rows {
				want.AddBin(f, int(cols[f][i]), float64(gp[2*i]), float64(gp[2*i+1]))
			}
		}
		for k, v := range want.sums {
			if math.Float64bits(v) != math.Float64bits(got.sums[k]) {
				t.Fatalf("%d bins, features %v, runny %v, slot %d: %v, want %v", bins, span, c.runny != nil, k/2, got.sums[k], v)
			}
		}
	}
}
