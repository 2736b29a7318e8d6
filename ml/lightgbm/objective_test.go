package lightgbm

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// stumps is a model whose trees are single leaves with the given values,
// one iteration of len(values) trees.
func stumps(objective string, values ...float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "tree\nversion=v3\nnum_class=%d\nnum_tree_per_iteration=%d\nlabel_index=0\nmax_feature_idx=0\n", len(values), len(values))
	if objective != "" {
		fmt.Fprintf(&b, "objective=%s\n", objective)
	}
	b.WriteString("feature_names=x\nfeature_infos=none\n\n")
	for i, v := range values {
		fmt.Fprintf(&b, "Tree=%d\nnum_leaves=1\nnum_cat=0\nleaf_value=%v\nshrinkage=1\n\n\n", i, v)
	}
	b.WriteString("end of trees\n")
	return b.String()
}

// TestObjectives checks each objective's ConvertOutput, as written in
// LightGBM's src/objective/*.hpp, on raw scores of single-leaf trees.
func TestObjectives(t *testing.T) {
	sigmoid := func(s, x float64) float64 { return 1 / (1 + math.Exp(-s*x)) }
	cases := []struct {
		objective string
		raw       []float64
		name      string
		classes   int
		want      []float64
	}{
		{"regression", []float64{-1.5}, "regression", 0, []float64{-1.5}},
		{"regression sqrt", []float64{-1.5}, "regression", 0, []float64{-2.25}},
		{"mse", []float64{2}, "regression", 0, []float64{2}},
		{"regression_l1", []float64{2}, "regression_l1", 0, []float64{2}},
		{"quantile sqrt", []float64{3}, "quantile", 0, []float64{9}},
		{"huber sqrt", []float64{3}, "huber", 0, []float64{3}}, // Huber drops sqrt
		{"fair", []float64{3}, "fair", 0, []float64{3}},
		{"mape", []float64{3}, "mape", 0, []float64{3}},
		{"poisson", []float64{0.5}, "poisson", 0, []float64{math.Exp(0.5)}},
		{"gamma", []float64{0.5}, "gamma", 0, []float64{math.Exp(0.5)}},
		{"tweedie", []float64{-0.5}, "tweedie", 0, []float64{math.Exp(-0.5)}},
		{"binary sigmoid:1", []float64{0.3}, "binary", 2, []float64{sigmoid(1, 0.3)}},
		{"binary sigmoid:2.5", []float64{0.3}, "binary", 2, []float64{sigmoid(2.5, 0.3)}},
		{"cross_entropy", []float64{0.3}, "cross_entropy", 0, []float64{sigmoid(1, 0.3)}},
		{"xentropy", []float64{0.3}, "cross_entropy", 0, []float64{sigmoid(1, 0.3)}},
		{"cross_entropy_lambda", []float64{0.3}, "cross_entropy_lambda", 0, []float64{math.Log1p(math.Exp(0.3))}},
		{"lambdarank", []float64{0.3}, "lambdarank", 0, []float64{0.3}},
		{"rank_xendcg", []float64{0.3}, "rank_xendcg", 0, []float64{0.3}},
		{"", []float64{0.3}, "custom", 0, []float64{0.3}},
		{"none", []float64{0.3, 0.1}, "custom", 0, []float64{0.3, 0.1}},
		{"multiclass num_class:3", []float64{1, 2, 3}, "multiclass", 3, softmaxRows([]float64{1, 2, 3}, 3)},
		{"softmax num_class:3", []float64{1, 2, 3}, "multiclass", 3, softmaxRows([]float64{1, 2, 3}, 3)},
		{"multiclassova num_class:2 sigmoid:0.5", []float64{1, -2}, "multiclassova", 2, []float64{sigmoid(0.5, 1), sigmoid(0.5, -2)}},
	}
	for _, c := range cases {
		m, err := Load([]byte(stumps(c.objective, c.raw...)))
		if err != nil {
			t.Errorf("%q: %v", c.objective, err)
			continue
		}
		if m.Objective() != c.name || m.NumClasses() != c.classes || m.NumOutputs() != len(c.raw) {
			t.Errorf("%q: objective %s, %d classes, %d outputs", c.objective, m.Objective(), m.NumClasses(), m.NumOutputs())
		}
		got := make([]float64, 2*len(c.raw))
		m.Predict([][]float64{{0, math.NaN()}}, got)
		for i := range got {
			if !close(got[i], c.want[i%len(c.raw)]) {
				t.Errorf("%q: output %d = %v, want %v", c.objective, i, got[i], c.want[i%len(c.raw)])
			}
		}
	}
}

// TestAverageOutput checks average_output over iterations of a multiclass
// model: each class's trees are averaged, then the softmax applies.
func TestAverageOutput(t *testing.T) {
	text := strings.Replace(stumps("multiclass num_class:2", 1, 2), "feature_names", "average_output\nfeature_names", 1)
	// A second iteration: two more trees.
	text = strings.Replace(text, "end of trees\n", "Tree=2\nnum_leaves=1\nnum_cat=0\nleaf_value=3\n\nTree=3\nnum_leaves=1\nnum_cat=0\nleaf_value=6\n\nend of trees\n", 1)
	m, err := Load([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float64, 2)
	m.Predict([][]float64{{0}}, got)
	want := softmaxRows([]float64{2, 4}, 2) // (1+3)/2, (2+6)/2
	if !close(got[0], want[0]) || !close(got[1], want[1]) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// TestLightgbmAtof checks the reproduction of Common::Atof on the shapes
// LightGBM writes (std::stringstream's default precision).
func TestLightgbmAtof(t *testing.T) {
	for s, want := range map[string]float64{
		"1": 1, "2.5": 2.5, "0.7": 0.7, "-3": -3, "1e-05": 1e-5, "1.5e+10": 1.5e10, "inf": 1e308,
	} {
		got, ok := lightgbmAtof(s)
		if !ok || got != want {
			t.Errorf("%q: %v %v, want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "x", "1x", ".", "e5", "1e", "--1"} {
		if _, ok := lightgbmAtof(s); ok {
			t.Errorf("%q parsed", s)
		}
	}
}
