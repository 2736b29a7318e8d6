package gbdt

import (
	"math"
	"math/rand/v2"
)

// syntheticData returns n rows of nf features (about 10% missing in odd
// features, a few low-cardinality ones) with a binary label in Label and
// the seed's randomness.
func syntheticData(n, nf int, seed uint64) Data {
	r := rand.New(rand.NewPCG(seed, 99))
	d := Data{Features: make([][]float64, nf), Label: make([]float64, n)}
	for j := range d.Features {
		d.Features[j] = make([]float64, n)
	}
	for i := 0; i < n; i++ {
		s := 0.0
		for j := 0; j < nf; j++ {
			v := r.NormFloat64()
			if j%3 == 2 {
				v = float64(r.IntN(6))
			}
			s += v * float64(j%2*2-1) / float64(j+1)
			if j%2 == 1 && r.Float64() < 0.1 {
				v = math.NaN()
				s += 0.5
			}
			d.Features[j][i] = v
		}
		if r.Float64() < 1/(1+math.Exp(-2*s)) {
			d.Label[i] = 1
		}
	}
	return d
}

// split divides d into parts contiguous partitions.
func (d Data) split(parts int) []Data {
	n := len(d.Label)
	out := make([]Data, parts)
	for p := range out {
		lo, hi := p*n/parts, (p+1)*n/parts
		out[p].Label = d.Label[lo:hi]
		if d.Weight != nil {
			out[p].Weight = d.Weight[lo:hi]
		}
		for _, c := range d.Features {
			out[p].Features = append(out[p].Features, c[lo:hi])
		}
	}
	return out
}
