package lightgbm

import (
	"math"
	"testing"
)

// TestHandmadeV4 scores testdata/handmade_v4.txt, a v4 regression model
// written by hand (see testdata/README.md). Its trees, over features a, b,
// c, d (c categorical), with LightGBM's rules applied by hand:
//
//	Tree 0  n0: a <= 1.5, missing None (NaN is read as 0)  -> n1 | n2
//	        n1: b <= -1.25, missing Zero, default left: 0 and NaN go left
//	            -> 1 | 2
//	        n2: d <= 10, missing NaN, default right: NaN goes right
//	            -> 4 | 8
//	Tree 1  n0: b <= 5, missing Zero, default right       -> 0.25 | n1
//	        n1: a <= -3, missing NaN, default left         -> 0.5 | n2
//	        n2: d <= 1e-38, missing None                   -> 0.75 | 1.25
//	Tree 2  c in {0, 3, 33} (cat_threshold 9 2: bits 0, 3 of word 0 and
//	        bit 1 of word 1)                               -> 10 | 20
//	        int(c) truncates toward zero, so -0.5 is category 0; NaN and
//	        c <= -1 go right; 64 is past the bitset, 1e10 overflows the
//	        int: both go right.
//	Tree 3  one leaf                                       -> 0.125
//	Tree 4  a <= 0, missing None; linear leaves:
//	        left 1 + 2*b - 1*d (leaf value 3 if b or d is NaN),
//	        right -1 + 0.5*a
//	Tree 5  one linear leaf 0.5 + 0.25*c (leaf value 0.375 if c is NaN)
//
// Before any split LightGBM's dense predict turns |x| <= 1e-35 into 0,
// which matters for b = 1e-40 (a Zero-missing value) and d = 5e-36 (then
// at or below Tree 1's threshold 1e-38).
func TestHandmadeV4(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		a, b, c, d float64
		trees      [6]float64 // each tree's output, worked out from the table above
		want       float64    // their sum, the prediction (objective regression: identity)
	}{
		// Tree 0: a<=1.5, b is 0 -> 1. Tree 1: b is 0 -> n1; a>-3 -> n2;
		// d=2 > 1e-38 -> 1.25. Tree 4: a>0 -> -1+0.5.
		{1, 0, 3, 2, [6]float64{1, 1.25, 10, 0.125, -0.5, 1.25}, 13.125},
		// All NaN. Tree 0: a->0 <= 1.5; b NaN is Zero-missing -> 1.
		// Tree 1: b missing -> n1; a NaN, default left -> 0.5. Tree 4: a->0
		// <= 0, b NaN -> leaf value 3. Tree 5: c NaN -> 0.375.
		{nan, nan, nan, nan, [6]float64{1, 0.5, 20, 0.125, 3, 0.375}, 25},
		// Tree 0: a>1.5 -> n2; d=10 <= 10 -> 4. Tree 1: b=-2 <= 5 -> 0.25.
		// Tree 2: int(-0.5) = 0 -> 10. Tree 4: -1+0.5*2 = 0.
		{2, -2, -0.5, 10, [6]float64{4, 0.25, 10, 0.125, 0, 0.375}, 14.75},
		// Tree 0: b=6 > -1.25 -> 2. Tree 1: b > 5 -> n1; a=-4 <= -3 ->
		// 0.5. Tree 2: 33 -> 10. Tree 4: a<=0, d NaN -> 3. Tree 5: 8.75.
		{-4, 6, 33, nan, [6]float64{2, 0.5, 10, 0.125, 3, 8.75}, 24.375},
		// b=1e-40 becomes 0: Tree 0 -> 1; Tree 1 -> n1 -> n2; d=11 -> 1.25.
		// Tree 2: 64 is past the bitset -> 20. Tree 4: -1+0.75.
		{1.5, 1e-40, 64, 11, [6]float64{1, 1.25, 20, 0.125, -0.25, 16.5}, 38.625},
		// d=5e-36 becomes 0 <= 1e-38: Tree 1 -> 0.75 (it would be 1.25
		// without the rounding). Tree 2: 1 is not in the set -> 20.
		// Tree 4: a=0 <= 0 -> 1 + 2*0 - 0 = 1.
		{0, 0, 1, 5e-36, [6]float64{1, 0.75, 20, 0.125, 1, 0.75}, 23.625},
		// Tree 0: b=-1.25 <= -1.25 -> 1. Tree 2: 1e10 -> 20.
		// Tree 4: 1 + 2*-1.25 - -0.75 = -0.75. Tree 5: 0.5 + 2.5e9.
		{-3, -1.25, 1e10, -0.75, [6]float64{1, 0.25, 20, 0.125, -0.75, 2500000000.5}, 2500000021.125},
		// a NaN -> 0: Tree 0 n1, b=7 -> 2. Tree 1: b > 5 -> n1; a NaN,
		// default left -> 0.5. Tree 2: c=-1 -> 20. Tree 4: 1 + 14 - 3.
		{nan, 7, -1, 3, [6]float64{2, 0.5, 20, 0.125, 12, 0.25}, 34.875},
		// Tree 0: a>1.5 -> n2; d NaN, default right -> 8. Tree 2: int(3.7)
		// = 3 -> 10. Tree 4: -1 + 2.5. Tree 5: 0.5 + 0.925.
		{5, 1, 3.7, nan, [6]float64{8, 0.25, 10, 0.125, 1.5, 1.425}, 21.3},
		// Tree 0: d=10.5 > 10 -> 8. Tree 2: 0 -> 10.
		{5, 1, 0, 10.5, [6]float64{8, 0.25, 10, 0.125, 1.5, 0.5}, 20.375},
	}
	m := load(t, "handmade_v4.txt")
	if m.Version() != "v4" || m.Objective() != "regression" || m.NumClasses() != 0 || m.NumOutputs() != 1 || m.NumTrees() != 6 {
		t.Fatalf("version %s objective %s classes %d outputs %d trees %d", m.Version(), m.Objective(), m.NumClasses(), m.NumOutputs(), m.NumTrees())
	}
	if got := m.Features(); len(got) != 4 || got[0] != "a" || got[3] != "d" {
		t.Fatalf("features %q", got)
	}
	cols := make([][]float64, 4)
	for _, c := range cases {
		sum := 0.0
		for _, v := range c.trees {
			sum += v
		}
		if math.Abs(sum-c.want) > 1e-9 {
			t.Fatalf("bad case %v: trees sum to %v", c, sum)
		}
		cols[0] = append(cols[0], c.a)
		cols[1] = append(cols[1], c.b)
		cols[2] = append(cols[2], c.c)
		cols[3] = append(cols[3], c.d)
	}
	got := make([]float64, len(cases))
	m.Predict(cols, got)
	for i, c := range cases {
		if !close(got[i], c.want) {
			t.Errorf("row %d (a=%v b=%v c=%v d=%v): got %.17g, want %.17g", i, c.a, c.b, c.c, c.d, got[i], c.want)
		}
	}
	// Tree by tree, through single-tree views of the model.
	for ti := range m.trees {
		one := *m
		one.trees = []tree{m.trees[ti]}
		one.Predict(cols, got)
		for i, c := range cases {
			if !close(got[i], c.trees[ti]) {
				t.Errorf("tree %d row %d: got %.17g, want %.17g", ti, i, got[i], c.trees[ti])
			}
		}
	}
}
