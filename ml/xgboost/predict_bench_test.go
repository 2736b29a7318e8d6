package xgboost

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
)

// benchRows, benchFeatures, benchTrees and benchDepth are the shape of the
// scoring goal: 1M rows × 8 features through 60 trees of depth 6.
const (
	benchRows     = 1 << 20
	benchFeatures = 8
	benchTrees    = 60
	benchDepth    = 6
)

// syntheticModel writes a binary:logistic model of full trees with random
// splits in XGBoost's JSON format.
func syntheticModel(trees, depth, features int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	nodes := 1<<(depth+1) - 1
	inner := nodes / 2 // nodes 0..inner-1 split; the rest are leaves
	var ts []jsonTree
	for range trees {
		var t jsonTree
		for i := range nodes {
			l, r, cond := "-1", "-1", fmt.Sprint(float32(rng.NormFloat64()*0.1))
			if i < inner {
				l, r = fmt.Sprint(2*i+1), fmt.Sprint(2*i+2)
			}
			split := fmt.Sprint(rng.IntN(features))
			if i < inner {
				cond = fmt.Sprint(float32(rng.NormFloat64() * 0.8))
			}
			t.add(l, r, split, cond, fmt.Sprint(rng.IntN(2)))
		}
		ts = append(ts, t)
	}
	return modelJSON(features, ts)
}

// jsonTree is a tree's arrays as XGBoost's JSON model holds them, node by
// node.
type jsonTree struct{ left, right, split, cond, defaultLeft []string }

func (t *jsonTree) add(left, right, split, cond, defaultLeft string) {
	t.left, t.right = append(t.left, left), append(t.right, right)
	t.split, t.cond = append(t.split, split), append(t.cond, cond)
	t.defaultLeft = append(t.defaultLeft, defaultLeft)
}

// modelJSON writes a binary:logistic gbtree model of trees over features
// in XGBoost 1.7's JSON format.
func modelJSON(features int, trees []jsonTree) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"learner":{"feature_names":[],"gradient_booster":{"name":"gbtree","model":{`+
		`"gbtree_model_param":{"num_trees":"%d"},"tree_info":[%s],"trees":[`,
		len(trees), strings.TrimSuffix(strings.Repeat("0,", len(trees)), ","))
	list := func(s []string) string { return "[" + strings.Join(s, ",") + "]" }
	for i, t := range trees {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":%d,"tree_param":{"num_nodes":"%d"},"left_children":%s,"right_children":%s,`+
			`"split_indices":%s,"split_conditions":%s,"default_left":%s}`, i, len(t.left),
			list(t.left), list(t.right), list(t.split), list(t.cond), list(t.defaultLeft))
	}
	fmt.Fprintf(&b, `]}},"learner_model_param":{"base_score":"5E-1","num_class":"0","num_feature":"%d"},`+
		`"objective":{"name":"binary:logistic"}},"version":[1,7,4]}`, features)
	return []byte(b.String())
}

// benchData is rows × features of standard normal values, 5% missing.
func benchData(rows, features int) [][]float64 {
	rng := rand.New(rand.NewPCG(42, 2))
	cols := make([][]float64, features)
	for j := range cols {
		cols[j] = make([]float64, rows)
		for i := range cols[j] {
			if rng.Float64() < 0.05 {
				cols[j][i] = math.NaN()
			} else {
				cols[j][i] = rng.NormFloat64()
			}
		}
	}
	return cols
}

// benchModel is the synthetic model, or the model file named by
// FLINT_XGBOOST_BENCH_MODEL (for instance one trained by XGBoost on data of
// the same shape).
func benchModel(b *testing.B) *Model {
	if path := os.Getenv("FLINT_XGBOOST_BENCH_MODEL"); path != "" {
		m, err := LoadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		return m
	}
	m, err := Load(syntheticModel(benchTrees, benchDepth, benchFeatures, 1))
	if err != nil {
		b.Fatal(err)
	}
	return m
}

var benchOnce = sync.OnceValue(func() [][]float64 { return benchData(benchRows, benchFeatures) })

// BenchmarkPredict scores 1M rows × 8 features with 60 trees of depth 6 in
// one goroutine, in batches of 64K rows.
func BenchmarkPredict(b *testing.B) {
	m := benchModel(b)
	cols := benchOnce()
	out := make([]float64, benchRows)
	const batch = 1 << 16
	b.ResetTimer()
	for b.Loop() {
		predictBatches(m, cols, out, 0, benchRows, batch)
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkPredict2 scores the same rows with two goroutines, each taking
// every other batch, as two executor slots would.
func BenchmarkPredict2(b *testing.B) {
	m := benchModel(b)
	cols := benchOnce()
	out := make([]float64, benchRows)
	const batch = 1 << 16
	b.ResetTimer()
	for b.Loop() {
		var wg sync.WaitGroup
		for w := range 2 {
			wg.Go(func() {
				for start := w * batch; start < benchRows; start += 2 * batch {
					predictBatches(m, cols, out, start, min(start+batch, benchRows), batch)
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func predictBatches(m *Model, cols [][]float64, out []float64, from, to, batch int) {
	part := make([][]float64, len(cols))
	for start := from; start < to; start += batch {
		end := min(start+batch, to)
		for j := range cols {
			part[j] = cols[j][start:end]
		}
		m.Predict(part, out[start:end])
	}
}

func BenchmarkLoad(b *testing.B) {
	data := syntheticModel(benchTrees, benchDepth, benchFeatures, 1)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Load(data); err != nil {
			b.Fatal(err)
		}
	}
}
