package sqllogictest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The inputs of testdata/slt/ml.slt are the XGBoost and LightGBM test
// fixtures (ml/xgboost/testdata, ml/lightgbm/testdata: rows, and the
// predictions the libraries made for them), put into CSV tables that SQL
// can join: every row gets an id, and each model's expected outputs sit
// in columns e1, e2, .... Values are copied as the fixtures spell them.
// TestMLData checks that the files in testdata/slt/data/ml are exactly
// that; SLT_ML_DATA=1 writes them.

const (
	xgbDir = "../ml/xgboost/testdata"
	lgbDir = "../ml/lightgbm/testdata"
	mlData = "../testdata/slt/data/ml"
)

// xgbModels are the XGBoost fixtures ml.slt scores.
var xgbModels = []string{"binary_logistic", "binary_logitraw", "multi_softprob", "multi_softmax", "reg_squarederror"}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// mlDataFiles builds the files of testdata/slt/data/ml.
func mlDataFiles(t *testing.T) map[string][]byte {
	files := map[string][]byte{}
	table := func(header []string, rows [][]string) []byte {
		var b bytes.Buffer
		b.WriteString(strings.Join(header, ",") + "\n")
		for _, r := range rows {
			b.WriteString(strings.Join(r, ",") + "\n")
		}
		return b.Bytes()
	}
	id := func(i int) string { return fmt.Sprint(i + 1) }
	expected := func(n int) []string {
		h := []string{}
		for k := 1; k <= n; k++ {
			h = append(h, fmt.Sprintf("e%d", k))
		}
		return h
	}

	// XGBoost: the rows (empty fields are missing values, NULL in SQL),
	// then one table of expected outputs per model.
	in := readLines(t, filepath.Join(xgbDir, "inputs.csv"))
	var rows [][]string
	for i, l := range in[1:] {
		rows = append(rows, append([]string{id(i)}, strings.Split(l, ",")...))
	}
	files["xgb_inputs.csv"] = table(append([]string{"id"}, strings.Split(in[0], ",")...), rows)
	for _, m := range xgbModels {
		pred := readLines(t, filepath.Join(xgbDir, m+".pred"))
		if len(pred) != len(in)-1 {
			t.Fatalf("%s: %d predictions for %d rows", m, len(pred), len(in)-1)
		}
		rows = nil
		k := 0
		for i, l := range pred {
			f := strings.Fields(l)
			k = len(f)
			rows = append(rows, append([]string{id(i)}, f...))
		}
		files["xgb_"+m+".csv"] = table(append([]string{"id"}, expected(k)...), rows)
	}

	// LightGBM: features and expected outputs in one table. The binary
	// model names its features Column_0..Column_29 (LightGBM's default),
	// the multi-class one reads x1..x28 through feature_columns.
	feats := readLines(t, filepath.Join(lgbDir, "breast_cancer_test.tsv"))
	pred := readLines(t, filepath.Join(lgbDir, "lg_dart_breast_cancer_true_predictions.txt"))
	if len(feats) != len(pred) {
		t.Fatalf("breast cancer: %d rows, %d predictions", len(feats), len(pred))
	}
	rows = nil
	var header []string
	for i, l := range feats {
		f := strings.Split(l, "\t")
		if header == nil {
			header = []string{"id"}
			for j := range f {
				header = append(header, fmt.Sprintf("Column_%d", j))
			}
			header = append(header, "e1")
		}
		rows = append(rows, append(append([]string{id(i)}, f...), pred[i]))
	}
	files["lgb_breast_cancer.csv"] = table(header, rows)

	feats = readLines(t, filepath.Join(lgbDir, "multiclass_test.tsv"))
	pred = readLines(t, filepath.Join(lgbDir, "lgmulticlass_true_predictions.txt"))
	if len(feats) != len(pred) {
		t.Fatalf("multiclass: %d rows, %d predictions", len(feats), len(pred))
	}
	rows, header = nil, nil
	for i, l := range feats {
		f := strings.Split(l, "\t") // the label, then the features
		p := strings.Split(pred[i], "\t")
		if header == nil {
			header = []string{"id", "label"}
			for j := 1; j < len(f); j++ {
				header = append(header, fmt.Sprintf("x%d", j))
			}
			header = append(header, expected(len(p))...)
		}
		rows = append(rows, append(append([]string{id(i)}, f...), p...))
	}
	files["lgb_multiclass.csv"] = table(header, rows)

	// A model file cut in half, for CREATE MODEL's error.
	model, err := os.ReadFile(filepath.Join(lgbDir, "lg_dart_breast_cancer.model"))
	if err != nil {
		t.Fatal(err)
	}
	files["truncated.model"] = model[:len(model)/2]
	return files
}

func TestMLData(t *testing.T) {
	files := mlDataFiles(t)
	if os.Getenv("SLT_ML_DATA") != "" {
		if err := os.MkdirAll(mlData, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(mlData, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(mlData, name))
		if err != nil {
			t.Errorf("%v (SLT_ML_DATA=1 go test ./sqllogictest -run TestMLData writes it)", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s does not hold what the fixtures say; SLT_ML_DATA=1 go test ./sqllogictest -run TestMLData writes it again", name)
		}
	}
	entries, _ := os.ReadDir(mlData)
	for _, e := range entries {
		if _, ok := files[e.Name()]; !ok {
			t.Errorf("%s/%s is not made from the fixtures", mlData, e.Name())
		}
	}
}
