package gbdt

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestLogClipped(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	check := func(x float64) {
		want := math.Log(max(x, 1e-16))
		if got := logClipped(x); math.Abs(got-want) > 1e-12 {
			t.Fatalf("logClipped(%v) = %v, math.Log %v", x, got, want)
		}
	}
	for _, x := range []float64{1, 0.5, 1e-16, 1e-20, 0, math.Sqrt2 / 2, 0.9999999, 1e-300} {
		check(x)
	}
	for i := 0; i < 100000; i++ {
		check(r.Float64())
		check(math.Exp(-40 * r.Float64()))
	}
}

// TestLogLossesLanes checks logLosses against Σ −log of each row's label
// probability (math.Log, clipped at 1e-16), and its AVX2 and Go paths
// against each other bit for bit: lengths around multiples of four,
// probabilities down to 0, a NaN, and labels that are not 0 or 1 (the
// general path).
func TestLogLossesLanes(t *testing.T) {
	defer func(v bool) { useAVX2 = v }(useAVX2)
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 3, 4, 5, 8, 511, 512} {
		for _, kind := range []string{"binary", "tiny", "nan", "soft", "weighted"} {
			prob, label := make([]float32, n), make([]float32, n)
			var weight []float32
			for i := range prob {
				prob[i] = r.Float32()
				label[i] = float32(r.IntN(2))
				switch {
				case kind == "tiny" && i%3 == 0:
					prob[i] = float32(r.IntN(2)) * 1e-30
				case kind == "soft":
					label[i] = r.Float32()
				}
			}
			if kind == "nan" {
				prob[n/2] = float32(math.NaN())
			}
			if kind == "weighted" {
				weight = make([]float32, n)
				for i := range weight {
					weight[i] = r.Float32()
				}
			}
			var want, wsum float64
			for i := range prob {
				w := 1.0
				if weight != nil {
					w = float64(weight[i])
				}
				y, p := float64(label[i]), float64(prob[i])
				clip := func(x float64) float64 { return math.Log(max(x, 1e-16)) }
				want -= w * (y*clip(p) + (1-y)*clip(1-p))
				wsum += w
			}
			var got [2]float64
			for k, avx := range []bool{false, true} {
				useAVX2 = avx && hasAVX2
				s, ws := logLosses(prob, label, weight)
				if ws != wsum && math.Abs(ws-wsum) > 1e-9*wsum {
					t.Fatalf("n %d %s: weight %v, want %v", n, kind, ws, wsum)
				}
				got[k] = s
			}
			if math.Float64bits(got[0]) != math.Float64bits(got[1]) {
				t.Fatalf("n %d %s: %v in Go, %v with AVX2", n, kind, got[0], got[1])
			}
			if kind == "nan" {
				if !math.IsNaN(got[0]) {
					t.Fatalf("n %d: a NaN probability gave %v", n, got[0])
				}
				continue
			}
			if math.Abs(got[0]-want) > 1e-9*math.Abs(want)+1e-12 {
				t.Fatalf("n %d %s: %v, want %v", n, kind, got[0], want)
			}
		}
	}
}
