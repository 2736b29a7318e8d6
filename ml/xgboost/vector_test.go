package xgboost

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// unevenModel writes a binary:logistic model of trees whose leaves sit at
// every depth up to depth (a node stops with probability 1/3), in
// XGBoost's JSON format, splits defaulting left or right at random.
func unevenModel(trees, depth, features int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	var ts []jsonTree
	for range trees {
		var t jsonTree
		var grow func(d int) int
		grow = func(d int) int {
			i := len(t.left)
			leaf := d == depth || (d > 0 && rng.IntN(3) == 0)
			cond := float32(rng.NormFloat64())
			if leaf {
				cond = float32(rng.NormFloat64() * 0.5)
			}
			t.add("-1", "-1", fmt.Sprint(rng.IntN(features)), fmt.Sprint(cond), fmt.Sprint(rng.IntN(2)))
			if !leaf {
				l := grow(d + 1)
				r := grow(d + 1)
				t.left[i], t.right[i] = fmt.Sprint(l), fmt.Sprint(r)
			}
			return i
		}
		grow(0)
		ts = append(ts, t)
	}
	return modelJSON(features, ts)
}

// TestVectorWalk: trees walked sixteen rows at a time through their
// complete-tree tables (walkTree) give the scalar walk's predictions bit
// for bit — leaves at every depth, missing and infinite values, blocks
// and groups of sixteen cut short — and trees deeper than vecDepth walk
// their first vecDepth levels so and the rest row by row.
func TestVectorWalk(t *testing.T) {
	if !hasWalk512 {
		t.Skip("no AVX-512 here: the vector walk is off")
	}
	const rows, features = 1000, 5 // 1000 = 7 blocks of 128 and one of 104 (6 groups and 8 rows)
	rng := rand.New(rand.NewPCG(3, 4))
	cols := make([][]float64, features)
	for j := range cols {
		cols[j] = make([]float64, rows)
		for i := range cols[j] {
			switch rng.IntN(20) {
			case 0:
				cols[j][i] = math.NaN()
			case 1:
				cols[j][i] = math.Inf(1 - 2*rng.IntN(2))
			default:
				cols[j][i] = rng.NormFloat64()
			}
		}
	}
	for depth := 1; depth <= vecDepth+3; depth++ {
		data := unevenModel(40, depth, features, uint64(depth))
		m, err := Load(data)
		if err != nil {
			t.Fatal(err)
		}
		vec := 0
		for i := range m.trees {
			if m.trees[i].vec >= 0 {
				vec++
			}
		}
		if vec == 0 {
			t.Fatalf("depth %d: %d of %d trees walk in vectors", depth, vec, len(m.trees))
		}
		got := make([]float64, rows)
		m.Predict(cols, got)
		scalar, _ := Load(data)
		for i := range scalar.trees {
			scalar.trees[i].vec = -1
		}
		want := make([]float64, rows)
		scalar.Predict(cols, want)
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("depth %d, row %d: %v in vectors, %v walking scalar", depth, i, got[i], want[i])
			}
		}
	}
}
