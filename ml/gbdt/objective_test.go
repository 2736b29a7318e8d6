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
