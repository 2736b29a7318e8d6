package quantile

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortFloats compares SortFloats with a comparison sort on values of
// every kind: both signs, zeros, infinities, repeats, float32-rounded
// values (whose low bytes are all zero) and already sorted runs.
func TestSortFloats(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	gens := map[string]func(i int) float64{
		"normal":  func(int) float64 { return rng.NormFloat64() * 1e3 },
		"float32": func(int) float64 { return float64(float32(rng.NormFloat64())) },
		"few":     func(int) float64 { return float64(rng.IntN(7) - 3) },
		"specials": func(int) float64 {
			return []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), -1e-308, 5e-324, math.MaxFloat64}[rng.IntN(7)]
		},
		"sorted":   func(i int) float64 { return float64(i) },
		"reversed": func(i int) float64 { return -float64(i) },
		"two runs": func(i int) float64 { return float64(i%(K/2+7)) * 0.5 },
		"runs":     func(i int) float64 { return float64(i % 1000) },
	}
	for name, gen := range gens {
		for _, n := range []int{0, 1, 100, radixMin, 5000, K} {
			x := make([]float64, n)
			for i := range x {
				x[i] = gen(i)
			}
			want := slices.Clone(x)
			slices.Sort(want)
			SortFloats(x)
			for i := range x {
				if x[i] != want[i] {
					t.Fatalf("%s, %d values: [%d] = %v, want %v", name, n, i, x[i], want[i])
				}
			}
			if !slices.IsSorted(x) {
				t.Fatalf("%s, %d values: not sorted", name, n)
			}
		}
	}
}

// BenchmarkSortFloats sorts K float32-rounded values, as a training's
// sketch compacts them.
func BenchmarkSortFloats(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]float64, K)
	for i := range src {
		src[i] = float64(float32(rng.ExpFloat64() * 1e4))
	}
	x := make([]float64, K)
	for _, name := range []string{"radix", "pdqsort"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				copy(x, src)
				if name == "radix" {
					SortFloats(x)
				} else {
					slices.Sort(x)
				}
			}
		})
	}
}

// TestSortFloat32s sorts float32s as SortFloats sorts them widened,
// bit for bit (−0 before +0 included).
func TestSortFloat32s(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	gens := map[string]func(i int) float32{
		"normal": func(int) float32 { return float32(rng.NormFloat64() * 1e3) },
		"few":    func(int) float32 { return float32(rng.IntN(7) - 3) },
		"specials": func(int) float32 {
			return []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), -1e-38, 1e-45, math.MaxFloat32}[rng.IntN(7)]
		},
		"sorted":   func(i int) float32 { return float32(i) },
		"reversed": func(i int) float32 { return -float32(i) },
		"runs":     func(i int) float32 { return float32(i % 1000) },
	}
	for name, gen := range gens {
		for _, n := range []int{0, 1, 100, radixMin, 5000, K} {
			x := make([]float32, n)
			w := make([]float64, n)
			for i := range x {
				x[i] = gen(i)
				w[i] = float64(x[i])
			}
			SortFloats(w)
			SortFloat32s(x)
			for i := range x {
				if math.Float64bits(float64(x[i])) != math.Float64bits(w[i]) && n >= radixMin {
					t.Fatalf("%s, %d values: [%d] = %v, want %v", name, n, i, x[i], w[i])
				}
			}
			if !slices.IsSorted(x) {
				t.Fatalf("%s, %d values: not sorted", name, n)
			}
		}
	}
}

func BenchmarkSortFloat32s(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]float32, K)
	for i := range src {
		src[i] = float32(rng.NormFloat64())
	}
	x := make([]float32, K)
	for b.Loop() {
		copy(x, src)
		SortFloat32s(x)
	}
}
