package pipeline_test

import (
	"context"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/goleak"

	flint "github.com/flint-engine/flint"
	"github.com/flint-engine/flint/ml/pipeline"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The fixtures of testdata/slt/ml_model_transform.slt: raw training and
// test rows, an XGBoost model trained on the transformed training rows
// and its predictions for the transformed test rows, all made by
// data/ml_transform/gen.py from the transforms' definitions (XGBoost
// 1.7.4, pandas), not by Flint.
const fixtures = "../../testdata/slt/data/ml_transform/"

func expected(t *testing.T) map[int64]float64 {
	f, err := os.Open(fixtures + "expected.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]float64{}
	for _, r := range recs[1:] {
		id, _ := strconv.ParseInt(r[0], 10, 64)
		v, _ := strconv.ParseFloat(r[1], 64)
		out[id] = v
	}
	return out
}

// checkScores collects df (id, ..., prediction) and compares every
// prediction with XGBoost's.
func checkScores(t *testing.T, ctx context.Context, df *flint.DataFrame, want map[int64]float64) {
	t.Helper()
	batches, err := df.Select(flint.Col("id"), flint.Col("prediction")).Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, b := range batches {
		ids := b.Column(0).(*array.Int64)
		ps := b.Column(1).(*array.Float64)
		for i := 0; i < int(b.NumRows()); i++ {
			w, ok := want[ids.Value(i)]
			if !ok {
				t.Errorf("unexpected id %d", ids.Value(i))
				continue
			}
			if got := ps.Value(i); math.Abs(got-w) > 1e-6*math.Max(1, math.Abs(w)) {
				t.Errorf("id %d: prediction %v, XGBoost %v", ids.Value(i), got, w)
			}
			n++
		}
		b.Release()
	}
	if n != len(want) {
		t.Errorf("%d rows scored, want %d", n, len(want))
	}
}

func TestPipelineFitTransformSaveLoad(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s, err := flint.NewSession(ctx, flint.WithSlots(2), flint.WithPartitions(3), flint.WithModels(t.TempDir()), flint.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateModel(ctx, "scored", flint.ModelOptions{Type: "xgboost", Path: fixtures + "model.json"}); err != nil {
		t.Fatal(err)
	}
	train := s.ReadCSV(ctx, nil, fixtures+"train.csv")
	test := s.ReadCSV(ctx, nil, fixtures+"test.csv")

	p := pipeline.New(
		pipeline.Imputer("a", "a_i", "mean"),
		pipeline.StandardScaler("a_i", "a_s"),
		pipeline.MinMaxScaler("b", "b_mm"),
		pipeline.LabelEncoder("city", "city_idx"),
		pipeline.OneHotEncoder("city", "city_vec", pipeline.TopK(2)),
		pipeline.Bucketizer("b", "b_bucket", 0, 10),
		pipeline.Predict("scored"),
	)
	m, err := p.Fit(ctx, train)
	if err != nil {
		t.Fatal(err)
	}
	want := expected(t)
	checkScores(t, ctx, m.Transform(test), want)

	// Saved and loaded, the pipeline scores the same.
	path := filepath.Join(t.TempDir(), "p.json")
	if err := m.Save(ctx, path); err != nil {
		t.Fatal(err)
	}
	body, _ := os.ReadFile(path)
	for _, w := range []string{`"output": "city_vec"`, "ml.one_hot(", `"model": "scored"`} {
		if !strings.Contains(string(body), w) {
			t.Errorf("saved pipeline lacks %s:\n%s", w, body)
		}
	}
	loaded, err := pipeline.Load(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	checkScores(t, ctx, loaded.Transform(test), want)

	// The other columns: the one-hot of the two most frequent cities
	// (paris, lyon in the training rows) and the fixed buckets.
	batches, err := loaded.Transform(test).SelectExpr("city", "city_vec[1] AS p", "city_vec[2] AS l", "b", "b_bucket").Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		city := b.Column(0).(*array.String)
		p, l := b.Column(1).(*array.Float64), b.Column(2).(*array.Float64)
		bv, bb := b.Column(3).(*array.Float64), b.Column(4).(*array.Int64)
		for i := 0; i < int(b.NumRows()); i++ {
			wp, wl := 0.0, 0.0
			if city.IsValid(i) && city.Value(i) == "paris" {
				wp = 1
			}
			if city.IsValid(i) && city.Value(i) == "lyon" {
				wl = 1
			}
			if p.Value(i) != wp || l.Value(i) != wl {
				t.Errorf("city %q: one-hot [%v %v ...], want [%v %v ...]", city.Value(i), p.Value(i), l.Value(i), wp, wl)
			}
			wb := int64(0)
			if bv.Value(i) >= 0 {
				wb = 1
			}
			if bv.Value(i) >= 10 {
				wb = 2
			}
			if bb.Value(i) != wb {
				t.Errorf("b=%v: bucket %d, want %d", bv.Value(i), bb.Value(i), wb)
			}
		}
		b.Release()
	}
}

func TestLoadRejects(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"truncated":  `{"version": 1, "steps": [`,
		"version":    `{"version": 7, "steps": []}`,
		"empty step": `{"version": 1, "steps": [{}]}`,
		"unknown":    `{"version": 1, "steps": [], "x": 1}`,
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := pipeline.Load(ctx, p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want one naming the file", name, err)
		}
	}
	if _, err := pipeline.Load(ctx, filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file loaded")
	}
}

func TestFitErrors(t *testing.T) {
	ctx := context.Background()
	s, err := flint.NewSession(ctx, flint.WithSlots(1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	train := s.ReadCSV(ctx, nil, fixtures+"train.csv")
	for _, tc := range []struct {
		stage pipeline.Stage
		want  string
	}{
		{pipeline.StandardScaler("city", "x"), "ml.standard_scaler takes one numeric argument"},
		{pipeline.Imputer("a", "x", "mode"), "unknown strategy 'mode'"},
		{pipeline.MinMaxScaler("nope", "x"), "nope"},
		{pipeline.QuantileBucketizer("a", "x", 0), "the number of buckets must be"},
	} {
		_, err := pipeline.New(tc.stage).Fit(ctx, train)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one containing %q", err, tc.want)
		}
	}
}

// TestBoostedTrees fits a pipeline whose last stage trains a model on
// ml/gbdt's fixture rows with the options XGBoost 1.7.4 (hist) was
// trained with there; the test rows' AUC must be within 0.005 of
// XGBoost's (ml/gbdt/testdata/expected.json: 0.8169866652656181).
func TestBoostedTrees(t *testing.T) {
	ctx := context.Background()
	s, err := flint.NewSession(ctx, flint.WithSlots(2), flint.WithModels(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	train := s.ReadCSV(ctx, nil, "../gbdt/testdata/train.csv.gz")
	test := s.ReadCSV(ctx, nil, "../gbdt/testdata/test.csv.gz")
	p := pipeline.New(
		pipeline.Select("f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "y_bin"),
		pipeline.BoostedTrees("gb", map[string]string{"model_type": "boosted_tree_classifier", "input_label_cols": "y_bin",
			"max_iterations": "60", "early_stop": "false", "data_split_method": "no_split"}),
	)
	m, err := p.Fit(ctx, train)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Steps) != 2 || m.Steps[1].Model != "gb" {
		t.Fatalf("fitted steps %+v", m.Steps)
	}
	batches, err := m.Transform(test).Evaluate("gb").SelectExpr("roc_auc").Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	auc := batches[0].Column(0).(*array.Float64).Value(0)
	batches[0].Release()
	if math.Abs(auc-0.8169866652656181) > 0.005 {
		t.Errorf("test AUC %v, XGBoost's 0.8169866652656181", auc)
	}
}
