package lightgbm

import (
	"math"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load. It must return a model or an
// error, never panic or hang; a model it returns must be scorable, and its
// arrays no larger than the input could describe.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"handmade_v4.txt", "lg_rf_iris.model", "lg_dart_breast_cancer.model"} {
		f.Add([]byte(readFixture(f, name)))
	}
	f.Add([]byte(stumps("multiclass num_class:3", 1, 2, 3)))
	f.Add([]byte(stumps("binary sigmoid:1", 0.5)))
	f.Add([]byte(syntheticModel(1, 2, 5, 3, "regression")))
	values := []float64{math.NaN(), 0, -0.5, 1, 3, 33, 1e10, math.Inf(-1), math.Inf(1), 1e-40, -7}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load(data)
		if err != nil {
			if m != nil {
				t.Fatal("model and error")
			}
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		size := len(m.nodes) + len(m.leafV) + len(m.cats) + len(m.linFeat) + len(m.features) + len(m.trees)
		if size > 2*len(data) {
			t.Fatalf("%d bytes of input made %d array entries", len(data), size)
		}
		nf := len(m.Features())
		cols := make([][]float64, nf)
		for j := range cols {
			cols[j] = make([]float64, len(values))
			for i := range values {
				cols[j][i] = values[(i+j)%len(values)]
			}
		}
		out := make([]float64, len(values)*m.NumOutputs())
		m.Predict(cols, out)
	})
}
