package gbdt

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flint-engine/flint/ml/xgboost"
)

var updateFixtures = flag.Bool("update-fixtures", false, "rewrite testdata/flint_*.json (then run gen.py predict)")

// exportCases are the small models exported to testdata for XGBoost to
// load (TestWriteExportFixtures) and trained afresh by TestExportLoads.
var exportCases = []struct {
	name   string
	label  string
	params map[string]string
	eval   bool // train with the test set as eval set and early stopping
}{
	{"binary", "y_bin", map[string]string{"objective": Logistic, "num_boost_round": "8", "max_depth": "4"}, false},
	{"binary_early_stop", "y_bin", map[string]string{"objective": Logistic, "num_boost_round": "200", "max_depth": "3", "eta": "0.5", "early_stopping_rounds": "3"}, true},
	{"multiclass", "y_multi", map[string]string{"objective": Softprob, "num_class": "3", "num_boost_round": "5", "max_depth": "3", "alpha": "0.5", "subsample": "0.7", "colsample_bytree": "0.6"}, false},
	{"regression", "y_reg", map[string]string{"objective": SquaredError, "num_boost_round": "6", "max_depth": "5", "base_score": "2.25", "max_bin": "300"}, false},
}

var featureNames = []string{"age", "income", "score", "tenure", "visits", "ratio", "delta", "weight kg"}

// exportModel trains export case i on the training set.
func exportModel(t *testing.T, i int, train, test *table) *Booster {
	t.Helper()
	c := exportCases[i]
	p, err := ParseParams(c.params)
	if err != nil {
		t.Fatal(err)
	}
	shards, _, err := Prepare(p.MaxBin, train.partition(c.label, 2))
	if err != nil {
		t.Fatal(err)
	}
	var eval []*EvalShard
	if c.eval {
		e, err := NewEvalShard(test.partition(c.label, 1)[0])
		if err != nil {
			t.Fatal(err)
		}
		eval = append(eval, e)
	}
	b, _, err := Train(context.Background(), p, shards, eval)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetFeatureNames(featureNames); err != nil {
		t.Fatal(err)
	}
	return b
}

// predRows is how many test rows gen.py predicts with each exported model.
const predRows = 1000

func (tb *table) head(n int) [][]float64 {
	cols := make([][]float64, len(tb.features))
	for j, c := range tb.features {
		cols[j] = c[:min(n, len(c))]
	}
	return cols
}

// TestWriteExportFixtures writes testdata/flint_<name>.json with
// -update-fixtures; gen.py predict then has XGBoost predict with them.
func TestWriteExportFixtures(t *testing.T) {
	if !*updateFixtures {
		t.Skip("run with -update-fixtures to rewrite testdata/flint_*.json")
	}
	train, test := readTable(t, "train.csv.gz"), readTable(t, "test.csv.gz")
	for i, c := range exportCases {
		b := exportModel(t, i, train, test)
		if err := os.WriteFile(filepath.Join("testdata", "flint_"+c.name+".json"), b.JSON(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestExportLoads exports freshly trained models and loads them with
// Flint's ml/xgboost: the loader must predict what the booster predicts,
// within 1e-6, on test rows with missing values.
func TestExportLoads(t *testing.T) {
	train, test := readTable(t, "train.csv.gz"), readTable(t, "test.csv.gz")
	for i, c := range exportCases {
		t.Run(c.name, func(t *testing.T) {
			b := exportModel(t, i, train, test)
			m, err := xgboost.Load(b.JSON())
			if err != nil {
				t.Fatal(err)
			}
			if m.Objective() != b.Objective() || m.NumClasses() != b.NumClasses() || m.NumOutputs() != b.NumOutputs() ||
				m.NumTrees() != len(b.Trees()) || strings.Join(m.Features(), ",") != strings.Join(featureNames, ",") {
				t.Fatalf("loaded %v (%s, %d classes, %d outputs, features %v), trained %s, %d classes, %d outputs, %d trees",
					m, m.Objective(), m.NumClasses(), m.NumOutputs(), m.Features(), b.Objective(), b.NumClasses(), b.NumOutputs(), len(b.Trees()))
			}
			want := make([]float64, len(test.features[0])*b.NumOutputs())
			got := make([]float64, len(want))
			b.Predict(test.features, want)
			m.Predict(test.features, got)
			for k := range want {
				if math.Abs(got[k]-want[k]) > 1e-6 {
					t.Fatalf("row %d output %d: ml/xgboost predicts %v, the booster %v", k/b.NumOutputs(), k%b.NumOutputs(), got[k], want[k])
				}
			}
			if c.eval && (b.BestIteration() < 0 || b.NumRounds() != b.BestIteration()+1 || b.NumRounds() >= 200) {
				t.Errorf("early stopping: best iteration %d, %d rounds kept", b.BestIteration(), b.NumRounds())
			}
		})
	}
}

// TestXGBoostLoadsExport checks the checked-in exported models against
// XGBoost 1.7.4's predictions for them (gen.py predict loaded each with
// xgb.Booster(model_file=...)): Flint's loader must agree within 1e-6, so
// the files are XGBoost models that mean what Flint meant.
func TestXGBoostLoadsExport(t *testing.T) {
	test := readTable(t, "test.csv.gz")
	cols := test.head(predRows)
	for _, c := range exportCases {
		t.Run(c.name, func(t *testing.T) {
			m, err := xgboost.LoadFile(filepath.Join("testdata", "flint_"+c.name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			want := readPred(t, filepath.Join("testdata", "flint_"+c.name+".pred"), m.NumOutputs())
			got := make([]float64, predRows*m.NumOutputs())
			m.Predict(cols, got)
			if len(want) != len(got) {
				t.Fatalf("%d predictions from XGBoost, %d from Flint", len(want), len(got))
			}
			for k := range want {
				if math.Abs(got[k]-want[k]) > 1e-6 {
					t.Fatalf("row %d output %d: Flint predicts %v, XGBoost %v", k/m.NumOutputs(), k%m.NumOutputs(), got[k], want[k])
				}
			}
		})
	}
}

func readPred(t *testing.T, path string, outputs int) []float64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		fields := strings.Fields(line)
		if len(fields) != outputs {
			t.Fatalf("%s line %d: %d values, want %d", path, i+1, len(fields), outputs)
		}
		for _, f := range fields {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				t.Fatalf("%s line %d: %v", path, i+1, err)
			}
			out = append(out, v)
		}
	}
	return out
}

// TestExportFormat checks the JSON's shape against a model XGBoost 1.7.4
// saved (ml/xgboost's fixture): the same keys at every level, and
// parameters as strings.
func TestExportFormat(t *testing.T) {
	ref, err := os.ReadFile("../xgboost/testdata/binary_logistic.json")
	if err != nil {
		t.Fatal(err)
	}
	train := readTable(t, "train.csv.gz")
	b := exportModel(t, 0, train, nil)
	var want, got any
	if err := json.Unmarshal(ref, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b.JSON(), &got); err != nil {
		t.Fatalf("export is not JSON: %v", err)
	}
	var walk func(path string, w, g any)
	walk = func(path string, w, g any) {
		switch w := w.(type) {
		case map[string]any:
			gm, ok := g.(map[string]any)
			if !ok {
				t.Errorf("%s: want an object, got %T", path, g)
				return
			}
			for k := range w {
				if path == ".learner.attributes" {
					continue // best_iteration only with early stopping
				}
				if _, ok := gm[k]; !ok {
					t.Errorf("%s: missing key %q", path, k)
				}
			}
			for k := range gm {
				if _, ok := w[k]; !ok {
					t.Errorf("%s: key %q that XGBoost does not write", path, k)
				}
			}
			for k, wv := range w {
				if gv, ok := gm[k]; ok {
					walk(path+"."+k, wv, gv)
				}
			}
		case []any:
			ga, ok := g.([]any)
			if !ok {
				t.Errorf("%s: want an array, got %T", path, g)
				return
			}
			if len(w) > 0 && len(ga) > 0 {
				walk(path+"[0]", w[0], ga[0])
			}
		case string:
			if _, ok := g.(string); !ok {
				t.Errorf("%s: want a string, got %T", path, g)
			}
		case float64:
			if _, ok := g.(float64); !ok {
				t.Errorf("%s: want a number, got %T", path, g)
			}
		}
	}
	walk("", want, got)
	// Floats carry an exponent, so that XGBoost's reader takes them for
	// floats, and read back as the same float32.
	for _, f := range []float32{0, -0.0, 0.5, 1, -2, 3e-7, 1.17549435e-38, math.MaxFloat32, 0.1, 12345.678} {
		s := formatFloat(f)
		if !strings.Contains(s, "E") {
			t.Errorf("formatFloat(%v) = %q: no exponent", f, s)
		}
		back, err := strconv.ParseFloat(s, 32)
		if err != nil || float32(back) != f || math.Signbit(float64(f)) != math.Signbit(back) {
			t.Errorf("formatFloat(%v) = %q reads back as %v", f, s, back)
		}
	}
	if !bytes.HasPrefix(b.JSON(), []byte(`{"learner":{"attributes":{},"feature_names":["age"`)) {
		t.Errorf("export starts %.60s", b.JSON())
	}
}
