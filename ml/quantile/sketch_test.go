package quantile

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// rankError returns how far v's rank range in sorted data is from the
// target rank of q (the inverse-CDF rank ceil(q·n)), in values.
func rankError(sorted []float64, v, q float64) int {
	n := len(sorted)
	target := max(1, int(math.Ceil(q*float64(n))))
	lo := sort.SearchFloat64s(sorted, v)                            // values < v
	hi := sort.Search(n, func(i int) bool { return sorted[i] > v }) // values ≤ v
	switch {
	case target < lo+1:
		return lo + 1 - target
	case target > hi:
		return target - hi
	}
	return 0
}

func TestExactBelowK(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var s Sketch
	data := make([]float64, 1000)
	for i := range data {
		data[i] = float64(r.IntN(300))
		s.Add(data[i])
	}
	s.Add(math.NaN())
	slices.Sort(data)
	if s.Count() != 1000 {
		t.Fatalf("count %d", s.Count())
	}
	for _, q := range []float64{0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.999, 1} {
		got, ok := s.Quantile(q)
		want := data[max(1, int(math.Ceil(q*1000)))-1]
		if !ok || got != want {
			t.Errorf("q=%v: %v, want %v", q, got, want)
		}
	}
}

func TestRankErrorMerged(t *testing.T) {
	if testing.Short() {
		t.Skip("2M values")
	}
	r := rand.New(rand.NewPCG(3, 4))
	const n = 2_000_000
	data := make([]float64, n)
	parts := make([]Sketch, 7)
	for i := range data {
		switch i % 3 {
		case 0:
			data[i] = r.NormFloat64()
		case 1:
			data[i] = float64(r.IntN(1000)) // heavy ties
		default:
			data[i] = math.Exp(r.Float64() * 20)
		}
		// Skewed partitions: sorted runs go to different sketches.
		parts[(i/50_000)%7].Add(data[i])
	}
	var all Sketch
	for i := range parts {
		b, _ := parts[i].MarshalBinary()
		var p Sketch
		if err := p.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		all.Merge(&p)
	}
	if all.Count() != n {
		t.Fatalf("count %d", all.Count())
	}
	slices.Sort(data)
	worst := 0
	qs := make([]float64, 1001)
	for i := range qs {
		qs[i] = float64(i) / 1000
	}
	for i, v := range all.Quantiles(qs) {
		worst = max(worst, rankError(data, v, qs[i]))
	}
	if float64(worst) > 0.001*n {
		t.Fatalf("rank error %d > %v", worst, 0.001*n)
	}
	t.Logf("worst rank error %d of %d (%.2g relative), %d KiB", worst, n, float64(worst)/n, all.Bytes()>>10)
}

func TestSplits(t *testing.T) {
	var s Sketch
	for _, v := range []float64{1, 1, 1, 1, 2, 3, 4, 5} {
		s.Add(v)
	}
	got := s.Splits(4) // ranks 2, 4, 6 → 1, 1, 3
	if !slices.Equal(got, []float64{1, 3}) {
		t.Fatalf("splits %v", got)
	}
	var e Sketch
	if len(e.Splits(4)) != 0 {
		t.Fatal("empty sketch has splits")
	}
}

func TestUnmarshalRejects(t *testing.T) {
	var s Sketch
	for i := range 100 {
		s.Add(float64(i))
	}
	b, _ := s.MarshalBinary()
	for i := range len(b) {
		var x Sketch
		if x.UnmarshalBinary(b[:i]) == nil {
			t.Fatalf("truncated at %d accepted", i)
		}
	}
	b[6]++ // the count no longer matches the weights
	var x Sketch
	if x.UnmarshalBinary(b) == nil {
		t.Fatal("inconsistent count accepted")
	}
}

func FuzzUnmarshal(f *testing.F) {
	var s Sketch
	for i := range 50 {
		s.Add(float64(i % 7))
	}
	b, _ := s.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var x Sketch
		if x.UnmarshalBinary(b) != nil {
			return
		}
		x.Quantile(0.5)
		x.Splits(10)
		x.Merge(&x)
	})
}

// TestAddMany: adding a slice leaves the sketch Add leaves adding its
// values one at a time (NaN ignored), byte for byte.
func TestAddMany(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var one, many Sketch
	for _, n := range []int{0, 1, 100, K - 1, 2, 3*K + 17} {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = rng.NormFloat64()
			if i%97 == 0 {
				xs[i] = math.NaN()
			}
		}
		for _, x := range xs {
			one.Add(x)
		}
		many.AddMany(xs)
		a, _ := one.MarshalBinary()
		b, _ := many.MarshalBinary()
		if !bytes.Equal(a, b) {
			t.Fatalf("after %d more values: AddMany's sketch differs from Add's (count %d vs %d)", n, many.Count(), one.Count())
		}
	}
}
