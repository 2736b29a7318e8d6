package xgboost

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fixtureCase is one model of testdata/cases.json, written by gen.py from
// what XGBoost reports about the model.
type fixtureCase struct {
	Name       string   `json:"name"`
	Objective  string   `json:"objective"`
	Booster    string   `json:"booster"`
	NumClasses int      `json:"num_classes"`
	NumOutputs int      `json:"num_outputs"`
	Features   []string `json:"features"`
}

func readCases(t testing.TB) []fixtureCase {
	t.Helper()
	data, err := os.ReadFile("testdata/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []fixtureCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f.Cases
}

// readInputs reads testdata/inputs.csv as feature columns; an empty field
// is missing (NaN).
func readInputs(t testing.TB) [][]float64 {
	t.Helper()
	data, err := os.ReadFile("testdata/inputs.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	ncols := len(strings.Split(lines[0], ","))
	cols := make([][]float64, ncols)
	for i, line := range lines[1:] {
		fields := strings.Split(line, ",")
		if len(fields) != ncols {
			t.Fatalf("inputs.csv line %d: %d fields, want %d", i+2, len(fields), ncols)
		}
		for j, f := range fields {
			v := math.NaN()
			if f != "" {
				if v, err = strconv.ParseFloat(f, 64); err != nil {
					t.Fatalf("inputs.csv line %d: %v", i+2, err)
				}
			}
			cols[j] = append(cols[j], v)
		}
	}
	return cols
}

// readPredictions reads XGBoost's predictions for a model, row-major.
func readPredictions(t testing.TB, name string) []float64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".pred"))
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, f := range strings.Fields(string(data)) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("%s.pred: %v", name, err)
		}
		out = append(out, v)
	}
	return out
}

// close reports whether got is within 1e-6 of want, absolutely or
// relatively.
func close(got, want float64) bool {
	d := math.Abs(got - want)
	return d <= 1e-6 || d <= 1e-6*math.Abs(want)
}

func TestPredictionsMatchXGBoost(t *testing.T) {
	cols := readInputs(t)
	n := len(cols[0])
	for _, c := range readCases(t) {
		want := readPredictions(t, c.Name)
		for _, ext := range []string{".json", ".ubj"} {
			t.Run(c.Name+ext, func(t *testing.T) {
				m, err := LoadFile(filepath.Join("testdata", c.Name+ext))
				if err != nil {
					t.Fatal(err)
				}
				if m.Library() != "xgboost" || m.Objective() != c.Objective || m.Booster() != c.Booster {
					t.Errorf("library %q objective %q booster %q, want xgboost %q %q", m.Library(), m.Objective(), m.Booster(), c.Objective, c.Booster)
				}
				if m.NumClasses() != c.NumClasses || m.NumOutputs() != c.NumOutputs {
					t.Errorf("NumClasses %d NumOutputs %d, want %d %d", m.NumClasses(), m.NumOutputs(), c.NumClasses, c.NumOutputs)
				}
				if !slices.Equal(m.Features(), c.Features) {
					t.Errorf("Features %q, want %q", m.Features(), c.Features)
				}
				if err := m.Check(len(cols)); err != nil {
					t.Fatal(err)
				}
				if len(want) != n*m.NumOutputs() {
					t.Fatalf("%d expected values for %d rows × %d outputs", len(want), n, m.NumOutputs())
				}
				got := make([]float64, len(want))
				m.Predict(cols, got)
				exact := 0
				for i := range got {
					if got[i] == want[i] {
						exact++
					}
					if !close(got[i], want[i]) {
						r := i / m.NumOutputs()
						t.Errorf("row %d output %d: got %v, XGBoost %v (row %v)", r, i%m.NumOutputs(), got[i], want[i], rowOf(cols, r))
					}
				}
				t.Logf("%s: %d of %d predictions equal XGBoost's bit for bit", t.Name(), exact, len(got))
			})
		}
	}
}

func rowOf(cols [][]float64, r int) []float64 {
	row := make([]float64, len(cols))
	for j := range cols {
		row[j] = cols[j][r]
	}
	return row
}

// TestPredictSlices scores the rows in pieces of awkward sizes, so that
// blocks start and end everywhere, and compares with one whole call.
func TestPredictSlices(t *testing.T) {
	cols := readInputs(t)
	n := len(cols[0])
	for _, name := range []string{"multi_softprob", "categorical", "dart_binary", "reg_multi_target"} {
		m, err := LoadFile("testdata/" + name + ".ubj")
		if err != nil {
			t.Fatal(err)
		}
		k := m.NumOutputs()
		whole := make([]float64, n*k)
		m.Predict(cols, whole)
		for _, size := range []int{1, 2, 3, 127, 128, 129, 300} {
			for start := 0; start < n; start += size {
				end := min(start+size, n)
				part := make([][]float64, len(cols))
				for j := range cols {
					part[j] = cols[j][start:end]
				}
				out := make([]float64, (end-start)*k)
				m.Predict(part, out)
				if !slices.Equal(out, whole[start*k:end*k]) {
					t.Fatalf("%s: rows %d..%d scored in pieces of %d differ from one call", name, start, end, size)
				}
			}
		}
		// No rows at all.
		empty := make([][]float64, len(cols))
		m.Predict(empty, nil)
	}
}

func TestPredictConcurrent(t *testing.T) {
	cols := readInputs(t)
	m, err := LoadFile("testdata/categorical.json")
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, len(cols[0]))
	m.Predict(cols, want)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				got := make([]float64, len(want))
				m.Predict(cols, got)
				if !slices.Equal(got, want) {
					t.Error("concurrent Predict differs")
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestCheckAndPredictColumnCount(t *testing.T) {
	m, err := LoadFile("testdata/binary_logistic.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Check(8); err != nil {
		t.Errorf("Check(8): %v", err)
	}
	for _, n := range []int{0, 7, 9} {
		err := m.Check(n)
		if err == nil || !strings.Contains(err.Error(), "8 features") {
			t.Errorf("Check(%d) = %v, want an error naming 8 features", n, err)
		}
	}
	mustPanic(t, "7 columns", func() { m.Predict(make([][]float64, 7), nil) })
	mustPanic(t, "ragged columns", func() {
		cols := make([][]float64, 8)
		for j := range cols {
			cols[j] = make([]float64, 3)
		}
		cols[5] = cols[5][:2]
		m.Predict(cols, make([]float64, 3))
	})
	mustPanic(t, "short output", func() {
		cols := make([][]float64, 8)
		for j := range cols {
			cols[j] = make([]float64, 3)
		}
		m.Predict(cols, make([]float64, 2))
	})
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: Predict did not panic", what)
		}
	}()
	f()
}

func TestModelString(t *testing.T) {
	m, err := LoadFile("testdata/dart_binary.ubj")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.String(), "xgboost dart binary:logistic: 12 trees, 8 features, xgboost 1.7.4"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if m.NumTrees() != 12 {
		t.Errorf("NumTrees() = %d", m.NumTrees())
	}
}

// TestWalkStrategies scores every fixture with every tree walked row by
// row, then with every tree walked in lock step, and compares both with
// XGBoost.
func TestWalkStrategies(t *testing.T) {
	cols := readInputs(t)
	for _, c := range readCases(t) {
		want := readPredictions(t, c.Name)
		m, err := LoadFile(filepath.Join("testdata", c.Name+".ubj"))
		if err != nil {
			t.Fatal(err)
		}
		for _, rowWise := range []bool{true, false} {
			for i := range m.trees {
				m.trees[i].rowWise = rowWise
			}
			got := make([]float64, len(want))
			m.Predict(cols, got)
			for i := range got {
				if !close(got[i], want[i]) {
					t.Fatalf("%s, row-wise %v: output %d is %v, XGBoost %v", c.Name, rowWise, i, got[i], want[i])
				}
			}
		}
	}
}

// checkInvariants checks what walkSum's unchecked indexing relies on: each
// tree's nodes are contiguous, every split's children are nodes of the
// same tree, every feat names an existing feature copy, leaves point to
// themselves, and depth steps from the root end on a leaf.
func checkInvariants(t testing.TB, m *Model) {
	t.Helper()
	for k, tr := range m.trees {
		end := int32(len(m.nodes))
		if k+1 < len(m.trees) {
			end = m.trees[k+1].root
		}
		if tr.root < 0 || tr.root >= end {
			t.Fatalf("tree %d: root %d outside [0, %d)", k, tr.root, end)
		}
		for i := tr.root; i < end; i++ {
			nd := m.nodes[i]
			if nd.next == i {
				if nd.feat != 0 || !math.IsNaN(float64(nd.thresh)) {
					t.Fatalf("tree %d: leaf %d has feat %d threshold %v", k, i, nd.feat, nd.thresh)
				}
				continue
			}
			if nd.next <= i || nd.next+1 >= end {
				t.Fatalf("tree %d: node %d has children %d, %d outside (%d, %d)", k, i, nd.next, nd.next+1, i, end)
			}
			if int(nd.feat) >= 2*len(m.used) {
				t.Fatalf("tree %d: node %d reads copy %d of %d", k, i, nd.feat, 2*len(m.used))
			}
			if m.used[nd.feat>>1] >= int32(m.numFeature) {
				t.Fatalf("tree %d: node %d reads feature %d of %d", k, i, m.used[nd.feat>>1], m.numFeature)
			}
		}
		var descend func(i, d int32)
		descend = func(i, d int32) {
			if m.nodes[i].next == i {
				return
			}
			if d == tr.depth {
				t.Fatalf("tree %d: node %d is a split at depth %d", k, i, d)
			}
			descend(m.nodes[i].next, d+1)
			descend(m.nodes[i].next+1, d+1)
		}
		descend(tr.root, 0)
	}
}

func TestInvariants(t *testing.T) {
	for _, c := range readCases(t) {
		m, err := LoadFile(filepath.Join("testdata", c.Name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, m)
	}
}

// TestNewerLayouts rewrites fixtures the way XGBoost 2.x and 3.1 lay out
// the same model (iteration_indptr in the gbtree model, base_score as a
// list, one value per output group since 3.1) and expects the same
// predictions.
func TestNewerLayouts(t *testing.T) {
	cols := readInputs(t)
	for _, name := range []string{"multi_softprob", "dart_binary", "categorical", "reg_gamma"} {
		data, err := os.ReadFile(filepath.Join("testdata", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		// encoding/json knows no NaN, which XGBoost writes for the
		// threshold of a categorical split: carry it through as a string.
		data = bytes.ReplaceAll(data, []byte("NaN"), []byte(`"NaN!"`))
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		doc["version"] = []any{3, 1, 0}
		learner := doc["learner"].(map[string]any)
		param := learner["learner_model_param"].(map[string]any)
		groups := 1
		if n, _ := strconv.Atoi(param["num_class"].(string)); n > 1 {
			groups = n
		}
		param["base_score"] = "[" + strings.TrimSuffix(strings.Repeat(param["base_score"].(string)+",", groups), ",") + "]"
		booster := learner["gradient_booster"].(map[string]any)
		if booster["name"] == "dart" {
			booster = booster["gbtree"].(map[string]any)
		}
		model := booster["model"].(map[string]any)
		trees := len(model["trees"].([]any))
		indptr := []any{}
		for i := 0; i <= trees; i += groups {
			indptr = append(indptr, i)
		}
		model["iteration_indptr"] = indptr
		newer, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Load(bytes.ReplaceAll(newer, []byte(`"NaN!"`), []byte("NaN")))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := readPredictions(t, name)
		got := make([]float64, len(want))
		m.Predict(cols, got)
		for i := range got {
			if !close(got[i], want[i]) {
				t.Fatalf("%s: output %d is %v, XGBoost %v", name, i, got[i], want[i])
			}
		}
	}
}
