package gbdt

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
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
		for _, c := range d.Features32 {
			out[p].Features32 = append(out[p].Features32, c[lo:hi])
		}
	}
	return out
}

// TestFeatures32: rows given as float32 columns (Data.Features32) sketch,
// bin and evaluate as the same rows given as float64 columns, and an
// infinite value is the same error either way.
func TestFeatures32(t *testing.T) {
	d := syntheticData(5000, 6, 11)
	d32 := Data{Label: d.Label, Features32: make([][]float32, len(d.Features))}
	for j, col := range d.Features {
		d32.Features32[j] = make([]float32, len(col))
		for i, v := range col {
			d32.Features32[j][i] = float32(v)
		}
	}
	shards, cuts, err := Prepare(64, d.split(2))
	if err != nil {
		t.Fatal(err)
	}
	shards32, cuts32, err := Prepare(64, d32.split(2))
	if err != nil {
		t.Fatal(err)
	}
	if !cuts.sameAs(cuts32) {
		t.Fatal("float32 columns gave other cuts")
	}
	for k := range shards {
		for f := range len(d.Features) {
			for i := range shards[k].NumRows() {
				b, ok := shards[k].bin(f, i)
				b32, ok32 := shards32[k].bin(f, i)
				if b != b32 || ok != ok32 {
					t.Fatalf("shard %d feature %d row %d: bin %d/%v from float64, %d/%v from float32", k, f, i, b, ok, b32, ok32)
				}
			}
		}
	}
	e, err := NewEvalShard(d)
	if err != nil {
		t.Fatal(err)
	}
	e32, err := NewEvalShard(d32)
	if err != nil {
		t.Fatal(err)
	}
	for j := range e.cols {
		for i, v := range e.cols[j] {
			if w := e32.cols[j][i]; math.Float32bits(v) != math.Float32bits(w) && !(v != v && w != w) {
				t.Fatalf("eval feature %d row %d: %v from float64, %v from float32", j, i, v, w)
			}
		}
	}
	d32.Features32[2][7] = float32(math.Inf(1))
	d.Features[2][7] = math.Inf(1)
	_, _, err = Prepare(64, d.split(2))
	_, _, err32 := Prepare(64, d32.split(2))
	if err == nil || err32 == nil || err.Error() != err32.Error() {
		t.Fatalf("an infinite value: %v from float64, %v from float32", err, err32)
	}
	if _, err := NewShard(cuts, d32); err == nil || !strings.Contains(err.Error(), "feature 2, row 7") {
		t.Fatalf("binning an infinite value: %v", err)
	}
	if _, err := NewEvalShard(d32); err == nil || !strings.Contains(err.Error(), "feature 2, row 7") {
		t.Fatalf("an infinite value in an eval set: %v", err)
	}
}
