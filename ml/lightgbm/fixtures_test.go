package lightgbm

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The fixtures are LightGBM models with inputs and the predictions
// LightGBM itself made for them; testdata/README.md says where they come
// from.

// tolerance is how close a prediction must be to LightGBM's: absolute for
// values up to 1, relative above.
const tolerance = 1e-9

func close(got, want float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= tolerance*max(1, math.Abs(want))
}

// readTable reads a whitespace- or tab-separated matrix of numbers, one row
// a line, dropping the first skip columns.
func readTable(t testing.TB, name string, skip int) [][]float64 {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]float64
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		toks := strings.Fields(sc.Text())
		if len(toks) == 0 {
			continue
		}
		row := make([]float64, 0, len(toks))
		for _, tok := range toks[skip:] {
			v, err := strconv.ParseFloat(tok, 64)
			if err != nil {
				t.Fatalf("%s line %d: %v", name, len(rows)+1, err)
			}
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// readLibSVM reads "label index:value ..." lines into dense rows of nf
// features; absent features are 0.
func readLibSVM(t testing.TB, name string, nf int) [][]float64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]float64
	for line := range strings.Lines(string(data)) {
		toks := strings.Fields(line)
		if len(toks) == 0 {
			continue
		}
		row := make([]float64, nf)
		for _, tok := range toks[1:] {
			k, v, _ := strings.Cut(tok, ":")
			j, err1 := strconv.Atoi(k)
			x, err2 := strconv.ParseFloat(v, 64)
			if err1 != nil || err2 != nil || j >= nf {
				t.Fatalf("%s: bad entry %q", name, tok)
			}
			row[j] = x
		}
		rows = append(rows, row)
	}
	return rows
}

// columns turns rows into the column layout Predict takes.
func columns(rows [][]float64, nf int) [][]float64 {
	cols := make([][]float64, nf)
	for j := range cols {
		cols[j] = make([]float64, len(rows))
		for i, r := range rows {
			cols[j][i] = r[j]
		}
	}
	return cols
}

func flatten(rows [][]float64) []float64 {
	var out []float64
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

func load(t testing.TB, name string) *Model {
	t.Helper()
	m, err := LoadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func compare(t *testing.T, what string, got, want []float64, width int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	bad := 0
	for i := range got {
		if !close(got[i], want[i]) {
			if bad < 5 {
				t.Errorf("%s: row %d output %d: got %.17g, want %.17g", what, i/width, i%width, got[i], want[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values differ", what, bad, len(got))
	}
}

func TestFixtures(t *testing.T) {
	cases := []struct {
		model, data, truth string
		skip               int    // leading data columns that are not features (labels)
		raw                bool   // truth holds raw scores
		version, objective string // expected header facts
		classes, outputs   int
		categorical        bool
	}{
		{model: "lg_dart_breast_cancer.model", data: "breast_cancer_test.tsv", truth: "lg_dart_breast_cancer_true_predictions.txt",
			version: "v2", objective: "binary", classes: 2, outputs: 1},
		{model: "lgmulticlass.model", data: "multiclass_test.tsv", truth: "lgmulticlass_true_predictions.txt", skip: 1,
			version: "v2", objective: "multiclass", classes: 5, outputs: 5},
		{model: "lgmulticlass.model", data: "multiclass_test.tsv", truth: "lgmulticlass_true_raw_predictions.txt", skip: 1, raw: true,
			version: "v2", objective: "multiclass", classes: 5, outputs: 5},
		{model: "lg_kddcup99.model", data: "kddcup99_test.tsv", truth: "lg_kddcup99_true_predictions.txt", raw: true,
			version: "v2", objective: "multiclass", classes: 13, outputs: 13, categorical: true},
		{model: "genlin_fmtp_gamma_AvgClaimAmount.model", data: "genlin_fmtp_gamma_AvgClaimAmount_features.tsv", truth: "genlin_fmtp_gamma_AvgClaimAmount_true_predictions.txt",
			version: "v3", objective: "gamma", classes: 0, outputs: 1, categorical: true},
		{model: "genlin_fmtp_poisson_Frequency.model", data: "genlin_fmtp_poisson_Frequency_features.tsv", truth: "genlin_fmtp_poisson_Frequency_true_predictions.txt",
			version: "v3", objective: "poisson", classes: 0, outputs: 1, categorical: true},
	}
	for _, c := range cases {
		t.Run(c.truth, func(t *testing.T) {
			m := load(t, c.model)
			if m.Version() != c.version || m.Objective() != c.objective || m.NumClasses() != c.classes || m.NumOutputs() != c.outputs || m.Library() != "lightgbm" {
				t.Fatalf("got version %s objective %s classes %d outputs %d library %s", m.Version(), m.Objective(), m.NumClasses(), m.NumOutputs(), m.Library())
			}
			if c.categorical && len(m.cats) == 0 {
				t.Fatalf("expected categorical splits")
			}
			nf := len(m.Features())
			rows := readTable(t, c.data, c.skip)
			want := flatten(readTable(t, c.truth, 0))
			cols := columns(rows, nf)
			got := make([]float64, len(rows)*c.outputs)
			if c.raw {
				m.predictRaw(cols, got)
			} else {
				m.Predict(cols, got)
			}
			compare(t, c.truth, got, want, c.outputs)
			if c.raw && c.objective == "multiclass" {
				// Predict is the softmax of the raw scores.
				m.Predict(cols, got)
				compare(t, "softmax of "+c.truth, got, softmaxRows(want, c.outputs), c.outputs)
			}
		})
	}
}

// softmaxRows is the textbook softmax of each row of width k.
func softmaxRows(raw []float64, k int) []float64 {
	out := make([]float64, len(raw))
	for i := 0; i < len(raw); i += k {
		sum := 0.0
		for j := range k {
			sum += math.Exp(raw[i+j])
		}
		for j := range k {
			out[i+j] = math.Exp(raw[i+j]) / sum
		}
	}
	return out
}

// TestRandomForest checks average_output. The fixture's predictions come
// from a LightGBM older than 2.2.3, whose random forest mode returned the
// averaged trees without the objective's transformation; LightGBM since
// (microsoft/LightGBM#1906) applies the sigmoid to that average, which is
// what Predict does.
func TestRandomForest(t *testing.T) {
	m := load(t, "lg_rf_iris.model")
	if !m.average || m.numIter != 30 || m.Objective() != "binary" {
		t.Fatalf("average %v, %d iterations, objective %s", m.average, m.numIter, m.Objective())
	}
	rows := readLibSVM(t, "iris_test.libsvm", 4)
	want := flatten(readTable(t, "lg_rf_iris_true_predictions.txt", 0))
	cols := columns(rows, 4)
	got := make([]float64, len(rows))
	m.predictRaw(cols, got)
	for i := range got {
		got[i] /= 30
	}
	compare(t, "average of the trees", got, want, 1)

	m.Predict(cols, got)
	for i := range want {
		want[i] = 1 / (1 + math.Exp(-want[i]))
	}
	compare(t, "sigmoid of the average", got, want, 1)
}

// TestPredictLeaf checks the walk alone against LightGBM's pred_leaf output
// for a v3 model.
func TestPredictLeaf(t *testing.T) {
	m := load(t, "lg_breast_cancer.txt")
	if m.Version() != "v3" || m.NumTrees() != 39 {
		t.Fatalf("version %s, %d trees", m.Version(), m.NumTrees())
	}
	rows := readTable(t, "lg_breast_cancer_data.txt", 0)
	want := flatten(readTable(t, "lg_breast_cancer_data_pred_leaves.txt", 0))
	got := m.predictLeaves(columns(rows, len(m.Features())))
	if len(got) != len(want) {
		t.Fatalf("%d leaves, want %d", len(got), len(want))
	}
	for i := range got {
		if float64(got[i]) != want[i] {
			t.Fatalf("row %d tree %d: leaf %d, want %v", i/39, i%39, got[i], want[i])
		}
	}
}
