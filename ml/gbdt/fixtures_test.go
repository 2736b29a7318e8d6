package gbdt

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// table is a data set of testdata: feature columns and named label
// columns.
type table struct {
	features [][]float64
	labels   map[string][]float64
}

// readTable reads testdata/<name>.csv.gz, written by gen.py: features
// f0..f7 (an empty field is missing), then the label columns.
func readTable(t testing.TB, name string) *table {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Scan()
	header := strings.Split(sc.Text(), ",")
	tb := &table{labels: map[string][]float64{}}
	nf := 0
	for _, h := range header {
		if strings.HasPrefix(h, "f") {
			nf++
		}
	}
	tb.features = make([][]float64, nf)
	line := 1
	for sc.Scan() {
		line++
		fields := strings.Split(sc.Text(), ",")
		if len(fields) != len(header) {
			t.Fatalf("%s line %d: %d fields, want %d", name, line, len(fields), len(header))
		}
		for j, s := range fields {
			v := math.NaN()
			if s != "" {
				if v, err = strconv.ParseFloat(s, 64); err != nil {
					t.Fatalf("%s line %d: %v", name, line, err)
				}
			}
			if j < nf {
				tb.features[j] = append(tb.features[j], v)
			} else {
				tb.labels[header[j]] = append(tb.labels[header[j]], v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return tb
}

// partition splits the rows into n contiguous partitions.
func (tb *table) partition(label string, n int) []Data {
	rows := len(tb.labels[label])
	parts := make([]Data, n)
	for p := range parts {
		lo, hi := p*rows/n, (p+1)*rows/n
		d := Data{Label: tb.labels[label][lo:hi]}
		for _, col := range tb.features {
			d.Features = append(d.Features, col[lo:hi])
		}
		parts[p] = d
	}
	return parts
}

type fixtureCase struct {
	Name         string             `json:"name"`
	Objective    string             `json:"objective"`
	Label        string             `json:"label"`
	Rounds       int                `json:"rounds"`
	Params       map[string]any     `json:"params"`
	ClassWeights []float64          `json:"class_weights"`
	XGBoost      map[string]float64 `json:"xgboost"`
}

func readCases(t testing.TB) []fixtureCase {
	t.Helper()
	data, err := os.ReadFile("testdata/expected.json")
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

// params turns a case's XGBoost parameters into Params through Set, by
// XGBoost's names.
func (c *fixtureCase) params(t testing.TB) Params {
	t.Helper()
	kv := map[string]string{"objective": c.Objective, "num_boost_round": strconv.Itoa(c.Rounds)}
	for k, v := range c.Params {
		kv[k] = fmt.Sprint(v)
	}
	if c.ClassWeights != nil {
		kv["class_weights"] = fmt.Sprint(c.ClassWeights)
	}
	p, err := ParseParams(kv)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// auc is the area under the ROC curve of scores for 0/1 labels, ties
// counting half.
func auc(label, score []float64) float64 {
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case score[a] < score[b]:
			return -1
		case score[a] > score[b]:
			return 1
		}
		return 0
	})
	var pos, neg, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && score[idx[j]] == score[idx[i]] {
			j++
		}
		mid := float64(i+j+1) / 2 // average 1-based rank of the tie
		for _, k := range idx[i:j] {
			if label[k] == 1 {
				rankSum += mid
				pos++
			} else {
				neg++
			}
		}
		i = j
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// metrics computes the test-set metrics gen.py computes with sklearn.
func metrics(objective string, label, pred []float64, k int) map[string]float64 {
	const eps = 1e-15 // sklearn's log_loss clipping
	m := map[string]float64{}
	n := len(label)
	switch objective {
	case Logistic:
		var ll float64
		for i, y := range label {
			p := min(max(pred[i], eps), 1-eps)
			ll -= y*math.Log(p) + (1-y)*math.Log(1-p)
		}
		m["auc"] = auc(label, pred)
		m["logloss"] = ll / float64(n)
	case Softprob:
		var ll float64
		correct := 0
		for i, y := range label {
			row := pred[i*k : (i+1)*k]
			// sklearn renormalizes the clipped probabilities.
			var s float64
			for _, p := range row {
				s += min(max(p, eps), 1-eps)
			}
			ll -= math.Log(min(max(row[int(y)], eps), 1-eps) / s)
			best := 0
			for c, p := range row {
				if p > row[best] {
					best = c
				}
			}
			if best == int(y) {
				correct++
			}
		}
		m["mlogloss"] = ll / float64(n)
		m["accuracy"] = float64(correct) / float64(n)
	default:
		var se float64
		for i, y := range label {
			se += (pred[i] - y) * (pred[i] - y)
		}
		m["rmse"] = math.Sqrt(se / float64(n))
	}
	return m
}

// TestMatchesXGBoost trains every case of testdata/expected.json on the
// training set, split in 4 partitions, and checks the test-set metrics
// against those XGBoost 1.7.4's hist trainer reached with the same
// parameters: AUC within 0.005, log loss and RMSE within 2%.
func TestMatchesXGBoost(t *testing.T) {
	if testing.Short() {
		t.Skip("trains several models")
	}
	train := readTable(t, "train.csv.gz")
	test := readTable(t, "test.csv.gz")
	for _, c := range readCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			p := c.params(t)
			shards, _, err := Prepare(p.MaxBin, train.partition(c.Label, 4))
			if err != nil {
				t.Fatal(err)
			}
			b, info, err := Train(context.Background(), p, shards, nil)
			if err != nil {
				t.Fatal(err)
			}
			label := test.labels[c.Label]
			pred := make([]float64, len(label)*b.NumOutputs())
			b.Predict(test.features, pred)
			got := metrics(c.Objective, label, pred, b.NumOutputs())
			t.Logf("flint %v, xgboost %v; train %s %.4f after %d rounds in %v",
				got, c.XGBoost, info.Metric, info.Rounds[len(info.Rounds)-1].TrainLoss, len(info.Rounds), info.Elapsed)
			for name, want := range c.XGBoost {
				g := got[name]
				switch name {
				case "auc":
					if math.Abs(g-want) > 0.005 {
						t.Errorf("test AUC %.4f, XGBoost %.4f: more than 0.005 apart", g, want)
					}
				case "logloss", "mlogloss", "rmse":
					if math.Abs(g-want) > 0.02*want {
						t.Errorf("test %s %.4f, XGBoost %.4f: more than 2%% apart", name, g, want)
					}
				}
			}
		})
	}
}

type exactCase struct {
	fixtureCase
	Metric    string    `json:"metric"`
	TrainLoss []float64 `json:"train_loss"`
}

// TestExactlyXGBoost trains the exact cases of testdata/expected.json:
// features quantized to floor(4v)/4 have fewer distinct values than
// max_bin, so Flint's cut points are XGBoost's, and the trees must be
// XGBoost's too. The training loss after every round must equal XGBoost's
// to 1e-6 (relative): the same splits, default directions, leaf weights
// and gradients, round after round (regularization, max_delta_step and
// class weights included).
func TestExactlyXGBoost(t *testing.T) {
	data, err := os.ReadFile("testdata/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Exact []exactCase `json:"exact_cases"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	train := readTable(t, "train.csv.gz")
	quantized := &table{labels: train.labels}
	for _, col := range train.features {
		q := make([]float64, len(col))
		for i, v := range col {
			q[i] = math.Floor(v*4) / 4
		}
		quantized.features = append(quantized.features, q)
	}
	for _, c := range f.Exact {
		t.Run(c.Name, func(t *testing.T) {
			p := c.params(t)
			shards, _, err := Prepare(p.MaxBin, quantized.partition(c.Label, 3))
			if err != nil {
				t.Fatal(err)
			}
			_, info, err := Train(context.Background(), p, shards, nil)
			if err != nil {
				t.Fatal(err)
			}
			if info.Metric != c.Metric {
				t.Fatalf("metric %s, XGBoost's %s", info.Metric, c.Metric)
			}
			for i, want := range c.TrainLoss {
				got := info.Rounds[i].TrainLoss
				if math.Abs(got-want) > 1e-6*want {
					t.Errorf("round %d: training %s %.7f, XGBoost %.7f", i, c.Metric, got, want)
				}
			}
		})
	}
}
