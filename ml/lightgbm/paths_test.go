package lightgbm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFastPathAgrees checks the block walk of all-numerical trees
// (walkFast, which reads NaN as +Inf or -Inf per split) against the
// one-row walk the handmade fixture checks (leafOf), on values that
// exercise every rule: NaN, infinities, zeros, values at or below
// kZeroThreshold, thresholds themselves, and batch sizes that leave
// partial blocks.
func TestFastPathAgrees(t *testing.T) {
	const nf = 5
	m, err := Load([]byte(syntheticModel(7, 20, 31, nf, "regression")))
	if err != nil {
		t.Fatal(err)
	}
	// Half the splits send NaN one way, half the other; add None-type
	// splits with negative thresholds, where NaN (read as 0) goes right.
	rng := rand.New(rand.NewPCG(3, 4))
	var thresholds []float64
	for i := range m.nodes {
		nd := &m.nodes[i]
		if nd.child[0] == int32(i) {
			continue // leaf
		}
		if rng.IntN(3) == 0 {
			nd.threshold = -nd.threshold
			nd.nanLeft = b2u(0 <= nd.threshold)
		} else {
			nd.nanLeft = uint8(rng.IntN(2))
		}
		nd.fast = int32(nf)*int32(1+nd.nanLeft) + nd.feature
		thresholds = append(thresholds, nd.threshold)
	}
	for _, tr := range m.trees {
		if !tr.fast {
			t.Fatal("synthetic trees should take the fast path")
		}
	}
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 1e-36, -1e-36, 2e-35, kZeroThreshold, -kZeroThreshold}
	for _, n := range []int{1, 3, 255, 256, 257, 1000} {
		cols := make([][]float64, nf)
		for j := range cols {
			cols[j] = make([]float64, n)
			for i := range cols[j] {
				switch rng.IntN(4) {
				case 0:
					cols[j][i] = special[rng.IntN(len(special))]
				case 1:
					cols[j][i] = thresholds[rng.IntN(len(thresholds))]
				default:
					cols[j][i] = rng.Float64()*2 - 1
				}
			}
		}
		got := make([]float64, n)
		m.predictRaw(cols, got)
		x := make([]float64, 3*nf)
		for r := range n {
			fillBlock(x, cols, r, 1)
			want := 0.0
			for ti := range m.trees {
				want += m.leafV[m.leafOf(&m.trees[ti], x[:nf])]
			}
			if got[r] != want {
				t.Fatalf("n=%d row %d: block walk %v, row walk %v (row %v)", n, r, got[r], want, x[:nf])
			}
		}
	}
}

// TestConcurrentPredict scores from several goroutines at once with one
// model; run with -race.
func TestConcurrentPredict(t *testing.T) {
	m := load(t, "lg_kddcup99.model")
	rows := readTable(t, "kddcup99_test.tsv", 0)
	cols := columns(rows, len(m.Features()))
	want := make([]float64, len(rows)*m.NumOutputs())
	m.Predict(cols, want)
	done := make(chan []float64)
	for range 4 {
		go func() {
			got := make([]float64, len(want))
			for range 5 {
				m.Predict(cols, got)
			}
			done <- got
		}()
	}
	for range 4 {
		got := <-done
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("value %d: %v, want %v", i, got[i], want[i])
			}
		}
	}
}
