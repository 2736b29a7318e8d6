package flint_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/ml/store"
)

const (
	xgbFixtures = "ml/xgboost/testdata/"
	mlInputs    = "testdata/slt/data/ml/xgb_inputs.csv"
)

var inputColumns = []string{"f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7"}

// fixturePreds reads an XGBoost fixture's predictions: one row a line.
func fixturePreds(t *testing.T, name string) [][]float64 {
	t.Helper()
	b, err := os.ReadFile(xgbFixtures + name + ".pred")
	if err != nil {
		t.Fatal(err)
	}
	var out [][]float64
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var row []float64
		for _, f := range strings.Fields(l) {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				t.Fatal(err)
			}
			row = append(row, v)
		}
		out = append(out, row)
	}
	return out
}

// TestDataFramePredict scores XGBoost's multi:softprob fixture through the
// Go API and compares every row with XGBoost's own predictions.
func TestDataFramePredict(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s, err := flint.NewSession(ctx, flint.WithSlots(2), flint.WithModels(t.TempDir()), flint.WithAllocator(mem), flint.WithBatchSize(50))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateModel(ctx, "Tier", flint.ModelOptions{Type: "XGBoost", Path: xgbFixtures + "multi_softprob.json", FeatureColumns: inputColumns}); err != nil {
		t.Fatal(err)
	}
	ms, err := s.Models(ctx)
	if err != nil || len(ms) != 1 || ms[0].Name != "tier" || ms[0].NumOutputs != 4 || ms[0].NumClasses != 4 || strings.Join(ms[0].Features, ",") != strings.Join(inputColumns, ",") {
		t.Fatalf("models %+v, %v", ms, err)
	}
	df := s.ReadCSV(ctx, nil, mlInputs).Predict("tier").Select(flint.Col("id"), flint.Col("prediction"), flint.Col("predicted_label"))
	batches, err := df.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := fixturePreds(t, "multi_softprob")
	rows := 0
	for _, b := range batches {
		ids := b.Column(0).(*array.Int64)
		preds := b.Column(1).(*array.List)
		labels := b.Column(2).(*array.Int64)
		vals := preds.ListValues().(*array.Float64)
		for i := 0; i < int(b.NumRows()); i++ {
			w := want[ids.Value(i)-1]
			lo, hi := preds.ValueOffsets(i)
			if int(hi-lo) != len(w) {
				t.Fatalf("row %d: %d outputs, want %d", ids.Value(i), hi-lo, len(w))
			}
			best := 0
			for k := range w {
				if got := vals.Value(int(lo) + k); math.Abs(got-w[k]) > 1e-6 {
					t.Errorf("row %d output %d: %v, XGBoost says %v", ids.Value(i), k, got, w[k])
				}
				if w[k] > w[best] {
					best = k
				}
			}
			if labels.Value(i) != int64(best) {
				t.Errorf("row %d: label %d, want %d", ids.Value(i), labels.Value(i), best)
			}
			rows++
		}
		b.Release()
	}
	if rows != len(want) {
		t.Errorf("%d rows, want %d", rows, len(want))
	}

	// Errors name the model and the column.
	if err := s.ReadCSV(ctx, nil, mlInputs).Select(flint.Col("id")).Predict("tier").Err(); err == nil || !strings.Contains(err.Error(), "model tier: feature column f0 is missing") {
		t.Errorf("missing feature: %v", err)
	}
	if err := s.ReadCSV(ctx, nil, mlInputs).Predict("nope").Err(); err == nil || !strings.Contains(err.Error(), "unknown model nope") {
		t.Errorf("unknown model: %v", err)
	}
	if err := s.DropModel(ctx, "tier", false); err != nil {
		t.Fatal(err)
	}
	if ms, err := s.Models(ctx); err != nil || len(ms) != 0 {
		t.Errorf("models after drop: %v %v", ms, err)
	}
}

// TestPredictStageAndCache checks that scoring runs in the stage of its
// input (no exchange of its own) and that a process reads a model once
// however many tasks score with it.
func TestPredictStageAndCache(t *testing.T) {
	ctx := context.Background()
	s, err := flint.NewSession(ctx, flint.WithSlots(2), flint.WithPartitions(4), flint.WithModels(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateModel(ctx, "spend", flint.ModelOptions{Type: "xgboost", Path: xgbFixtures + "reg_squarederror.ubj", FeatureColumns: inputColumns}); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterTable(ctx, "xin", "csv", mlInputs, nil); err != nil {
		t.Fatal(err)
	}
	// The aggregate's hash exchange makes the scoring stage four tasks.
	const q = `SELECT count(*), sum(prediction) FROM ml.predict(MODEL spend, (
		SELECT id, min(f0) AS f0, min(f1) AS f1, min(f2) AS f2, min(f3) AS f3, min(f4) AS f4, min(f5) AS f5, min(f6) AS f6, min(f7) AS f7 FROM xin GROUP BY id))`
	plan, err := s.SQL(ctx, "EXPLAIN "+q).Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, b := range plan {
		for i := 0; i < int(b.NumRows()); i++ {
			text.WriteString(b.Column(0).(*array.String).Value(i) + "\n")
		}
		b.Release()
	}
	stages := text.String()[strings.Index(text.String(), "== Stages =="):]
	found := 0
	for _, st := range strings.Split(stages, "\nStage ")[1:] {
		if !strings.Contains(st, "Predict spend") {
			continue
		}
		found++
		// Predict sits right above the final aggregation of its input,
		// in the stage that reads the aggregate's exchange.
		if !strings.Contains(st, "tasks: 4") || !strings.Contains(st, "HashAggregate(final)") || strings.Index(st, "Predict") > strings.Index(st, "HashAggregate(final)") {
			t.Errorf("Predict is not in its input's stage:\n%s", stages)
		}
	}
	if found != 1 {
		t.Errorf("%d stages score, want 1:\n%s", found, stages)
	}

	before := store.Shared().Loads()
	for range 2 {
		b, err := s.SQL(ctx, q).Collect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := b[0].Column(0).(*array.Int64).Value(0); n != 432 {
			t.Errorf("%d rows scored, want 432", n)
		}
		for _, x := range b {
			x.Release()
		}
	}
	if loads := store.Shared().Loads() - before; loads != 1 {
		t.Errorf("the model was read %d times by 8 tasks, want once", loads)
	}
}

// expectedMetrics reads scikit-learn's metrics for a case of
// testdata/slt/data/ml_eval/expected.csv (gen_eval.py); NaN for NULL.
func expectedMetrics(t *testing.T, name string) map[string]float64 {
	t.Helper()
	b, err := os.ReadFile("testdata/slt/data/ml_eval/expected.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	header := strings.Split(lines[0], ",")
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if f[0] != name {
			continue
		}
		out := map[string]float64{}
		for i, h := range header[1:] {
			out[h] = math.NaN()
			if f[i+1] != "" {
				if out[h], err = strconv.ParseFloat(f[i+1], 64); err != nil {
					t.Fatal(err)
				}
			}
		}
		return out
	}
	t.Fatalf("no case %s in expected.csv", name)
	return nil
}

// TestDataFrameEvaluate evaluates XGBoost's multi:softprob fixture and a
// regressor through the Go API against scikit-learn's metrics, with the
// labels of testdata/slt/data/ml_eval; errors surface from Collect.
func TestDataFrameEvaluate(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s, err := flint.NewSession(ctx, flint.WithSlots(2), flint.WithPartitions(3), flint.WithModels(t.TempDir()), flint.WithAllocator(mem), flint.WithBatchSize(50))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for name, o := range map[string]flint.ModelOptions{
		"tier":  {Type: "xgboost", Path: xgbFixtures + "multi_softprob.json", FeatureColumns: inputColumns, LabelColumns: []string{"yc"}},
		"spend": {Type: "xgboost", Path: xgbFixtures + "reg_squarederror.json", FeatureColumns: inputColumns, LabelColumns: []string{"yr"}},
		"plain": {Type: "xgboost", Path: xgbFixtures + "reg_squarederror.json", FeatureColumns: inputColumns},
	} {
		if err := s.CreateModel(ctx, name, o); err != nil {
			t.Fatal(err)
		}
	}
	rows := s.ReadCSV(ctx, nil, mlInputs).JoinUsing(s.ReadCSV(ctx, nil, "testdata/slt/data/ml_eval/labels.csv"), []string{"id"}, "inner")

	for _, c := range []struct{ model, name string }{{"tier", "xgb_softprob"}, {"spend", "xgb_reg"}} {
		df := rows.Evaluate(c.model)
		want := expectedMetrics(t, c.name)
		batches, err := df.Collect(ctx)
		if err != nil {
			t.Fatalf("%s: %v", c.model, err)
		}
		if len(batches) != 1 || batches[0].NumRows() != 1 {
			t.Fatalf("%s: %d batches, want one row", c.model, len(batches))
		}
		b := batches[0]
		if int(b.NumCols()) != len(df.Columns()) {
			t.Fatalf("%s: %d columns, schema says %v", c.model, b.NumCols(), df.Columns())
		}
		for i, col := range df.Columns() {
			w, ok := want[col]
			if !ok || math.IsNaN(w) {
				t.Errorf("%s: unexpected column %s", c.model, col)
				continue
			}
			got := b.Column(i).(*array.Float64).Value(0)
			if math.Abs(got-w) > 1e-9 {
				t.Errorf("%s: %s = %v, scikit-learn says %v", c.model, col, got, w)
			}
		}
		b.Release()
	}

	for model, msg := range map[string]string{
		"plain": "model plain has no input_label_cols",
		"nope":  "unknown model nope",
	} {
		if _, err := rows.Evaluate(model).Collect(ctx); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("Evaluate(%s): error %v, want %q", model, err, msg)
		}
	}
	if _, err := s.ReadCSV(ctx, nil, mlInputs).Evaluate("spend").Collect(ctx); err == nil || !strings.Contains(err.Error(), "label column yr (input_label_cols) is missing") {
		t.Errorf("Evaluate without the label column: error %v", err)
	}
}

// TestExportModel exports a stored model, byte for byte the file given to
// CREATE MODEL (the library reads it as it wrote it), and re-imports it.
func TestExportModel(t *testing.T) {
	ctx := context.Background()
	s, err := flint.NewSession(ctx, flint.WithSlots(1), flint.WithModels(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	src := xgbFixtures + "binary_logistic.ubj"
	if err := s.CreateModel(ctx, "m", flint.ModelOptions{Type: "xgboost", Path: src}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "exported.ubj")
	if err := s.SQL(ctx, "EXPORT MODEL m TO '"+out+"'").Err(); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(src)
	got, err := os.ReadFile(out)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("exported file differs from the imported one (%d vs %d bytes, %v)", len(got), len(want), err)
	}
	if err := s.CreateModel(ctx, "again", flint.ModelOptions{Type: "xgboost", Path: out}); err != nil {
		t.Fatal(err)
	}
	if err := s.ExportModel(ctx, "missing", out); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("exporting a missing model: %v", err)
	}
}
